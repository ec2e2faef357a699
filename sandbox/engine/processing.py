"""Processing jobs: the user's script runs against the /opt/ml/processing/... paths of its
ProcessingInputs/Outputs (downloaded before, uploaded after: EndOfJob), for the scikit-learn,
XGBoost and plain Python images (a `python`/`python3` entry point). The job goes InProgress →
Completed / Failed / Stopped; its output goes to /aws/sagemaker/ProcessingJobs."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from moto.core.utils import utcnow

from sandbox.engine import script_mode
from sandbox.engine.core import Engine
from sandbox.engine.cwlogs import PROCESSING_LOG_GROUP, JobLog
from sandbox.engine.dispatch import HOOKS, ApiError, Call, Reply
from sandbox.engine.jobs import JobInterrupted, RunningJob, fmt_failure, tail_text
from sandbox.engine.pathmap import VIRTUAL_ROOT

KIND = "processing"
_PYTHONS = ("python", "python3", "/usr/bin/python3", "/usr/local/bin/python", "/usr/bin/python",
            "/usr/local/bin/python3", "/opt/conda/bin/python", "/miniconda3/bin/python")  # fmt: skip


class _ClientError(Exception):
    pass


#: SageMaker's own processing images the sandbox runs itself (Clarify, the Model Monitor
#: analyzer), by ECR repository name: `build(engine, job, request) -> (command, env)`. A builder
#: may raise ValueError (a ClientError for the job). A command `[WARM, "<module>"]` runs
#: `<module>.main([job dir])` in the engine's warm container process (numpy, pandas and xgboost
#: already imported) with `env` added to its environment. Such a container reports a failure by
#: writing `output/failure` in the job directory ("ClientError: ..." or "AlgorithmError: ...").
BUILTIN_CONTAINERS: dict[str, Callable[..., tuple[list[str], dict[str, str]]]] = {}
WARM = "<warm container>"


def image_repository(uri: str) -> str:
    """`<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>` → `<repo>`."""
    return uri.rsplit("/", 1)[-1].split("@", 1)[0].split(":", 1)[0]


def local_path(root: Path, virtual: str) -> Path:
    """Where a container path (/opt/ml/processing/...) lives in the job directory."""
    if virtual == VIRTUAL_ROOT or virtual.startswith(VIRTUAL_ROOT + "/"):
        return root / virtual[len(VIRTUAL_ROOT) :].lstrip("/")
    raise _ClientError(f"LocalPath {virtual} must be under /opt/ml/processing/")


def _end(
    fake: Any, status: str, reason: str | None = None, exit_message: str | None = None
) -> None:
    now = utcnow()
    fake.processing_job_status = status
    fake.processing_end_time = now
    fake.last_modified_time = now
    if reason:
        fake.failure_reason = reason
    if exit_message:
        fake.exit_message = exit_message[-1024:]


@HOOKS.before("sagemaker", "CreateProcessingJob")
def check_create(engine: Engine, call: Call) -> Reply | None:
    name = call.params.get("ProcessingJobName", "")
    backend = engine.sagemaker(call.region, call.account)
    if name in backend.processing_jobs:
        raise ApiError(
            "ResourceInUse",
            "Processing job names must be unique within an AWS account and region, and a "
            f"processing job with this name already exists ({backend.processing_jobs[name].arn})",
        )
    return None


@HOOKS.after("sagemaker", "CreateProcessingJob")
def start_processing(engine: Engine, call: Call, response: dict[str, Any]) -> None:
    name = call.params["ProcessingJobName"]
    fake = engine.sagemaker(call.region, call.account).processing_jobs[name]
    fake.processing_job_status = "InProgress"
    fake.processing_end_time = None
    fake.processing_start_time = None
    fake.failure_reason = None
    fake.exit_message = None
    fake.environment = call.params.get("Environment") or None
    stopping = call.params.get("StoppingCondition") or {}
    job = RunningJob(
        kind=KIND,
        name=name,
        region=call.region,
        account=call.account,
        workdir=engine.job_dir(KIND, name),
        max_runtime_s=float(stopping.get("MaxRuntimeInSeconds") or 86400),
    )
    request = dict(call.params)
    engine.jobs.start(job, lambda running: run_processing(engine, running, request, fake))


@HOOKS.before("sagemaker", "StopProcessingJob")
def stop_processing(engine: Engine, call: Call) -> Reply:
    name = call.params.get("ProcessingJobName", "")
    fake = engine.sagemaker(call.region, call.account).processing_jobs.get(name)
    if fake is None:
        raise ApiError("ValidationException", f"Could not find processing job '{name}'.")
    if fake.processing_job_status != "InProgress":
        raise ApiError(
            "ValidationException",
            f"The request was rejected because the processing job is in status "
            f"{fake.processing_job_status}.",
        )
    fake.processing_job_status = "Stopping"
    if not engine.jobs.stop(KIND, call.region, name):
        _end(fake, "Stopped")
    return Reply({})


def run_processing(engine: Engine, job: RunningJob, request: dict[str, Any], fake: Any) -> None:
    log: JobLog | None = None
    try:
        with engine.jobs.slot(job):
            job.check()
            fake.processing_start_time = utcnow()
            s3 = engine.s3(job.region)
            root = job.workdir
            _download_inputs(s3, request, root)
            outputs = _prepare_outputs(request, root)
            job.check()
            command, env = _command(engine, job, request)
            log = engine.job_log(PROCESSING_LOG_GROUP, job.name, job.region)
            if command[:1] == [WARM]:
                spec = {"job_dir": str(root), "module": command[1], "env": env}
                code = job.run_process([], env={}, cwd=root, on_line=log.write,
                                       stdin_text=json.dumps(spec) + "\n",
                                       process=engine.warm.take())  # fmt: skip
            else:
                code = job.run_process(command, env=env, cwd=root, on_line=log.write)
            log.flush()
            if code != 0:
                errors = [line for line in log.tail(60) if "Error" in line or "error" in line]
                failure = root / "output" / "failure"
                reason = failure.read_text().strip() if failure.exists() else ""
                _end(
                    fake,
                    "Failed",
                    fmt_failure(*reason.split(": ", 1))
                    if ": " in reason
                    else "AlgorithmError: See job logs for more information",
                    tail_text(errors[-5:] or log.tail(5)),
                )
                return
            for uri, path in outputs:
                s3.upload_dir(path, uri)
            _end(fake, "Completed")
    except JobInterrupted as stop:
        if log is not None:
            log.flush()
        if stop.reason == "timeout":
            _end(fake, "Stopped", exit_message="The job reached its MaxRuntimeInSeconds.")
        else:
            _end(fake, "Stopped")
    except (_ClientError, script_mode.ScriptSetupError) as exc:
        _end(fake, "Failed", fmt_failure("ClientError", str(exc)))
    except Exception as exc:
        if log is not None:
            log.error(f"sandbox engine error: {exc}")
            log.flush()
        _end(fake, "Failed", fmt_failure("InternalServerError", f"sandbox engine: {exc}"))


def _download_inputs(s3: Any, request: dict[str, Any], root: Path) -> None:
    for item in request.get("ProcessingInputs") or []:
        source = item.get("S3Input")
        if source is None:
            raise _ClientError(
                f"Input '{item.get('InputName')}': the sandbox reads S3 inputs only "
                "(DatasetDefinition inputs from Athena or Redshift are not emulated)."
            )
        uri = source["S3Uri"]
        target = local_path(root, source.get("LocalPath", ""))
        if source.get("S3DataType", "S3Prefix") != "S3Prefix":
            raise _ClientError(f"Input '{item.get('InputName')}': ManifestFile is not emulated.")
        objects = s3.list_prefix(uri)
        if not objects:
            raise _ClientError(
                f'No S3 objects found under S3 URL "{uri}" given in input '
                f"'{item.get('InputName')}'. Check that the objects exist under that prefix."
            )
        single = len(objects) == 1 and objects[0].key == uri.split("/", 3)[-1]
        if single:  # an S3Uri naming one object: the file keeps its name in LocalPath
            target.mkdir(parents=True, exist_ok=True)
            bucket = uri[5:].split("/", 1)[0]
            s3.s3.download_file(bucket, objects[0].key, str(target / Path(objects[0].key).name))
        else:
            s3.download_prefix(uri, target)
    config = root / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "processingjobconfig.json").write_text(json.dumps(request, default=str))
    (config / "resourceconfig.json").write_text(
        json.dumps({"current_host": "algo-1", "hosts": ["algo-1"]})
    )


def _prepare_outputs(request: dict[str, Any], root: Path) -> list[tuple[str, Path]]:
    outputs = []
    for item in (request.get("ProcessingOutputConfig") or {}).get("Outputs") or []:
        target = item.get("S3Output")
        if target is None:
            continue  # FeatureStoreOutput: not emulated, nothing to upload
        path = local_path(root, target.get("LocalPath", ""))
        path.mkdir(parents=True, exist_ok=True)
        outputs.append((target["S3Uri"], path))
    return outputs


def _command(
    engine: Engine, job: RunningJob, request: dict[str, Any]
) -> tuple[list[str], dict[str, str]]:
    app = request.get("AppSpecification") or {}
    entry = list(app.get("ContainerEntrypoint") or [])
    args = [str(a) for a in app.get("ContainerArguments") or []]
    builtin = BUILTIN_CONTAINERS.get(image_repository(app.get("ImageUri", "")))
    if builtin is not None and not entry:
        try:
            return builtin(engine, job, request)
        except ValueError as exc:
            raise _ClientError(str(exc)) from None
    if not entry:
        raise _ClientError(
            f"The sandbox cannot run image {app.get('ImageUri')} without a ContainerEntrypoint: "
            "it runs Python scripts (e.g. ['python3', '/opt/ml/processing/input/code/x.py'])."
        )
    if Path(entry[0]).name not in {Path(p).name for p in _PYTHONS}:
        raise _ClientError(
            f"The sandbox runs Python entry points only (python3 <script>); {entry[0]} in image "
            f"{app.get('ImageUri')} cannot run here. Run this job on AWS."
        )
    rest = entry[1:] + args
    flags = []
    while rest and rest[0].startswith("-") and rest[0] != "-":
        flags.append(rest.pop(0))
    if not rest:
        raise _ClientError("The ContainerEntrypoint names no script to run.")
    script = rest.pop(0)
    real_script = (
        local_path(job.workdir, script) if script.startswith(VIRTUAL_ROOT) else Path(script)
    )
    if not real_script.is_file():
        raise _ClientError(f"The script {script} is not in the job's inputs.")
    env = script_mode.base_env(job.workdir)
    env.update(script_mode.sandbox_aws_env(engine._require_endpoint(), job.region))
    env.update({str(k): str(v) for k, v in (request.get("Environment") or {}).items()})
    command = [sys.executable, *[f for f in flags if f in ("-u", "-B", "-O")],
               "-m", "sandbox.engine.pathmap", str(job.workdir), str(real_script), *rest]  # fmt: skip
    return command, env


def recover(engine: Engine) -> None:
    """Processing jobs that were running when the sandbox stopped end as Failed."""
    from moto.backends import get_backend

    from sandbox.engine.training import INTERRUPTED

    for _, _, backend in get_backend("sagemaker").iter_backends():
        for fake in list(backend.processing_jobs.values()):
            if fake.processing_job_status in ("InProgress", "Stopping"):
                _end(fake, "Failed", INTERRUPTED)
