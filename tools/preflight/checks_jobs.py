"""Runs of things defined earlier: a pipeline's steps read S3 objects that must exist (a
processing step's code, a training step's channels), and a Glue job run's workers fit the job's
command and do not silently replace what the job was created with."""

from __future__ import annotations

import json
from typing import Any

from tools.preflight.needs import Needs
from tools.preflight.probe import Probe, error_code
from tools.preflight.report import CheckResult, failed, passed, skipped, warned

# Glue worker types by job command (AWS Glue API, WorkerType): G.025X is for streaming jobs
# only, Z.2X for Ray jobs only; Python shell jobs take MaxCapacity, not workers.
GLUE_WORKERS: dict[str, tuple[str, ...]] = {
    "glueetl": ("G.1X", "G.2X", "G.4X", "G.8X", "G.12X", "G.16X", "R.1X", "R.2X", "R.4X", "R.8X"),
    "gluestreaming": ("G.025X", "G.1X", "G.2X", "G.4X", "G.8X"),
    "glueray": ("Z.2X",),
    "pythonshell": (),
}


def _s3_inputs(step: dict[str, Any]) -> list[tuple[str, str]]:
    """(what, s3 uri) a step reads, where the URI is a plain string (not a pipeline expression)."""
    args = step.get("Arguments") or {}
    found = []
    for item in args.get("ProcessingInputs", []) or []:
        uri = (item.get("S3Input") or {}).get("S3Uri")
        if isinstance(uri, str):
            found.append((f"{step.get('Name')} input {item.get('InputName')}", uri))
    for channel in args.get("InputDataConfig", []) or []:
        uri = (channel.get("DataSource") or {}).get("S3DataSource", {}).get("S3Uri")
        if isinstance(uri, str):
            found.append((f"{step.get('Name')} channel {channel.get('ChannelName')}", uri))
    return found


def check_pipeline(probe: Probe, needs: Needs) -> list[CheckResult]:
    name = needs.pipeline_name
    if not name:
        return []
    subject = f"pipeline {name}"
    try:
        desc = probe.client("sagemaker").describe_pipeline(PipelineName=name)
    except Exception as exc:
        if error_code(exc) in ("ResourceNotFound", "ValidationException"):
            return [
                failed(
                    "pipeline.exists",
                    f"there is no pipeline named {name}",
                    "create it first (pipelines_create_pipeline) or fix pipeline_name",
                    subject,
                )
            ]
        return [skipped("pipeline.inputs", f"could not describe ({error_code(exc)})", subject)]
    try:
        definition = json.loads(desc.get("PipelineDefinition") or "{}")
    except ValueError:
        return [skipped("pipeline.inputs", "the definition is not JSON", subject)]
    out: list[CheckResult] = []
    missing = []
    for step in definition.get("Steps", []) or []:
        for what, uri in _s3_inputs(step):
            try:
                objects = probe.listing(uri)
            except Exception as exc:
                out.append(
                    skipped("pipeline.inputs", f"could not list {uri} ({error_code(exc)})", subject)
                )
                continue
            if not objects:
                missing.append(f"{what} ({uri})")
    if missing:
        out.append(
            failed(
                "pipeline.inputs",
                f"steps would read what is not in S3: {'; '.join(missing[:4])}",
                "upload the step's code or data (or rebuild the definition from a session that "
                "ran the steps), then start it again",
                subject,
            )
        )
    elif not out:
        out.append(passed("pipeline.inputs", "every S3 input the steps name is there", subject))
    return out


def check_glue_run(probe: Probe, needs: Needs) -> list[CheckResult]:
    run = needs.glue_run
    if not run:
        return []
    name = str(run["job_name"])
    subject = f"Glue job {name}"
    try:
        job = probe.client("glue").get_job(JobName=name)["Job"]
    except Exception as exc:
        if error_code(exc) == "EntityNotFoundException":
            return [
                failed(
                    "glue.job",
                    f"there is no Glue job named {name}",
                    "create it first (glue_create_job)",
                    subject,
                )
            ]
        return [skipped("glue.job", f"could not read the job ({error_code(exc)})", subject)]
    out: list[CheckResult] = []
    command = str((job.get("Command") or {}).get("Name", "glueetl"))
    worker = run.get("worker_type") or job.get("WorkerType")
    allowed = GLUE_WORKERS.get(command)
    if worker and allowed is not None and worker not in allowed:
        out.append(
            failed(
                "glue.workers",
                f"a {command} job cannot run on {worker} workers",
                f"use one of {', '.join(allowed) or 'no worker type (MaxCapacity)'}",
                subject,
            )
        )
    configured = (job.get("WorkerType"), job.get("NumberOfWorkers"))
    asked = (run.get("worker_type"), run.get("number_of_workers"))
    changed = (asked[0] and asked[0] != configured[0]) or (asked[1] and asked[1] != configured[1])
    if configured[0] and changed:
        out.append(
            warned(
                "glue.workers",
                f"this run asks for {asked[1]} × {asked[0]}; the job was created with "
                f"{configured[1]} × {configured[0]}",
                "leave worker settings out to run as the job was defined, or confirm the change",
                subject,
            )
        )
    script = (job.get("Command") or {}).get("ScriptLocation")
    if isinstance(script, str) and script.startswith("s3://"):
        try:
            exists = probe.object_exists(script)
        except Exception as exc:
            out.append(skipped("glue.script", f"could not look ({error_code(exc)})", subject))
        else:
            if not exists:
                out.append(
                    failed(
                        "glue.script",
                        f"the job's script {script} does not exist",
                        "upload the script (glue_create_job uploads a local one)",
                        subject,
                    )
                )
    if not any(c.status == "fail" for c in out):
        out.append(passed("glue.job", f"{command} job, script in place", subject))
    return out
