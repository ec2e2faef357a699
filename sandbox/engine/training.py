"""Training jobs as SageMaker runs them: CreateTrainingJob is checked as AWS checks it, then the
job goes Starting → Downloading → Training → Uploading → Completed (or Failed / Stopped) on a
worker thread: channels are downloaded from sandbox S3 into the job's /opt/ml, the container
runs (a built-in algorithm, or the user's script in script mode), its output becomes the log
stream, metric regexes become metrics, /opt/ml/model becomes model.tar.gz."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from moto.core.utils import utcnow

from sandbox.engine import metrics_api, script_mode
from sandbox.engine.core import Engine
from sandbox.engine.cwlogs import (
    TRAINING_LOG_GROUP,
    JobLog,
    MetricCollector,
    compile_definitions,
)
from sandbox.engine.dispatch import HOOKS, ApiError, Call, Reply
from sandbox.engine.images import Image, metric_definitions, resolve
from sandbox.engine.jobs import JobInterrupted, RunningJob, fmt_failure
from sandbox.engine.s3io import split_uri, tar_gz_dir

KIND = "training"
#: Each running job's metric values as they appear in its log, by (region, job name): what
#: hyperparameter tuning's early stopping watches.
LIVE_METRICS: dict[tuple[str, str], MetricCollector] = {}
_MESSAGES = {
    "Starting": "Launching requested ML instances",
    "Downloading": "Downloading input data",
    "Training": "Training image download completed. Training in progress.",
    "Uploading": "Uploading generated training model",
    "Completed": "Training job completed",
    "Failed": "Training job failed",
    "Stopping": "Stopping the training job",
    "Stopped": "Training job stopped",
    "MaxRuntimeExceeded": "Training job stopped: it reached its MaxRuntimeInSeconds",
}


# --- state on moto's object ------------------------------------------------------------------
def transition(fake: Any, status: str, message: str | None = None) -> None:
    """Move to a secondary status (closing the previous one), as DescribeTrainingJob shows it."""
    now = utcnow()
    history = list(getattr(fake, "secondary_status_transitions", None) or [])
    if history and "EndTime" not in history[-1]:
        history[-1] = {**history[-1], "EndTime": now}
    entry: dict[str, Any] = {"Status": status, "StartTime": now,
                             "StatusMessage": message or _MESSAGES.get(status, status)}  # fmt: skip
    if status in ("Completed", "Failed", "Stopped", "MaxRuntimeExceeded"):
        entry["EndTime"] = now
    history.append(entry)
    fake.secondary_status_transitions = history
    fake.secondary_status = status
    fake.last_modified_time = now


def update_message(fake: Any, message: str) -> None:
    history = list(fake.secondary_status_transitions or [])
    if history:
        history[-1] = {**history[-1], "StatusMessage": message}
        fake.secondary_status_transitions = history
        fake.last_modified_time = utcnow()


def _finish(fake: Any, status: str, secondary: str, reason: str | None = None) -> None:
    now = utcnow()
    fake.training_job_status = status
    if fake.training_start_time is not None:
        fake.training_end_time = now
        seconds = max(1, round((now - fake.training_start_time).total_seconds()))
        fake.training_time_in_seconds = seconds
        fake.billable_time_in_seconds = seconds
    if reason:
        fake.failure_reason = reason
    transition(fake, secondary)


# --- hooks -------------------------------------------------------------------------------
@HOOKS.before("sagemaker", "CreateTrainingJob")
def check_create(engine: Engine, call: Call) -> Reply | None:
    """What CreateTrainingJob refuses on AWS: a reused name, channels with no S3 objects."""
    name = call.params.get("TrainingJobName", "")
    backend = engine.sagemaker(call.region, call.account)
    if name in backend.training_jobs:
        arn = backend.training_jobs[name].arn
        raise ApiError(
            "ResourceInUse",
            "Training job names must be unique within an AWS account and region, and a "
            f"training job with this name already exists ({arn})",
        )
    for definition in (call.params.get("AlgorithmSpecification") or {}).get(
        "MetricDefinitions"
    ) or []:
        try:
            re.compile(definition.get("Regex", ""))
        except re.error as exc:
            raise ApiError(
                "ValidationException",
                f"Metric definition '{definition.get('Name')}' has an invalid regex: {exc}",
            ) from None
    s3 = engine.s3(call.region)
    for channel in call.params.get("InputDataConfig") or []:
        source = (channel.get("DataSource") or {}).get("S3DataSource")
        if not source:
            continue
        uri = source.get("S3Uri", "")
        try:
            bucket, _ = split_uri(uri)
        except ValueError as exc:
            raise ApiError("ValidationException", str(exc)) from None
        if not s3.list_prefix(uri):
            raise ApiError(
                "ValidationException",
                f'No S3 objects found under S3 URL "{uri}" given in input data source. Please '
                f"ensure that the bucket exists in the selected region ({call.region}), that "
                f'objects exist under that S3 prefix, and that the role "{call.params.get("RoleArn")}"'
                f' has "s3:ListBucket" permissions on bucket "{bucket}".',
            )
    return None


@HOOKS.after("sagemaker", "CreateTrainingJob")
def start_training(engine: Engine, call: Call, response: dict[str, Any]) -> None:
    name = call.params["TrainingJobName"]
    fake = engine.sagemaker(call.region, call.account).training_jobs[name]
    spec = call.params.get("AlgorithmSpecification") or {}
    # moto replaces MetricDefinitions with a placeholder; keep what the caller sent.
    fake.algorithm_specification = dict(spec)
    fake.environment = call.params.get("Environment") or None
    fake.training_job_status = "InProgress"
    fake.secondary_status_transitions = []
    fake.training_start_time = None
    fake.training_end_time = None
    fake.final_metric_data_list = None
    fake.model_artifacts = None
    fake.failure_reason = None
    transition(fake, "Starting", "Starting the training job")
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
    engine.jobs.start(job, lambda running: run_training(engine, running, request, fake))


@HOOKS.before("sagemaker", "StopTrainingJob")
def stop_training(engine: Engine, call: Call) -> Reply:
    name = call.params.get("TrainingJobName", "")
    backend = engine.sagemaker(call.region, call.account)
    fake = backend.training_jobs.get(name)
    if fake is None:
        raise ApiError("ValidationException", f"Requested resource not found: training job {name}")
    if fake.training_job_status != "InProgress":
        raise ApiError(
            "ValidationException",
            f"The request was rejected because the training job is in status "
            f"{fake.training_job_status}.",
        )
    fake.training_job_status = "Stopping"
    transition(fake, "Stopping")
    if not engine.jobs.stop(KIND, call.region, name):
        _finish(fake, "Stopped", "Stopped")
    return Reply({})


# --- the job ---------------------------------------------------------------------------------
def run_training(engine: Engine, job: RunningJob, request: dict[str, Any], fake: Any) -> None:
    """The platform's part of a training job, on the job's own thread."""
    log: JobLog | None = None
    image = resolve((request.get("AlgorithmSpecification") or {}).get("TrainingImage", ""))
    try:
        with engine.jobs.slot(job):
            job.check()
            update_message(fake, "Preparing the instances for training")
            transition(fake, "Downloading")
            fake.training_start_time = utcnow()
            s3 = engine.s3(job.region)
            _download_channels(s3, request, job.workdir)
            job.check()
            transition(fake, "Training", "Downloading the training image")
            log = engine.job_log(TRAINING_LOG_GROUP, job.name, job.region)
            definitions = list(metric_definitions(image))
            definitions += (request.get("AlgorithmSpecification") or {}).get(
                "MetricDefinitions"
            ) or []
            metrics = MetricCollector(compile_definitions(definitions))
            LIVE_METRICS[(job.region, job.name)] = metrics

            def on_line(line: str) -> None:
                assert log is not None
                log.write(line)
                metrics.feed(line.replace("\t", "#011"))

            update_message(fake, _MESSAGES["Training"])
            exit_code = _run_container(engine, job, request, image, on_line, log)
            log.flush()
            if metrics.series:
                fake.final_metric_data_list = metrics.final()
                metrics.publish(engine._require_endpoint(), job.region, job.name)
                metrics_api.record_job(engine, fake.arn, metrics)
            if exit_code != 0:
                _finish(fake, "Failed", "Failed", _failure_reason(job.workdir, log, exit_code))
                return
            job.check()
            transition(fake, "Uploading")
            fake.model_artifacts = {"S3ModelArtifacts": _upload_outputs(s3, request, job)}
            _finish(fake, "Completed", "Completed")
    except JobInterrupted as stop:
        if log is not None:
            log.flush()
        _upload_after_stop(engine, request, job, fake)
        if stop.reason == "timeout":
            _finish(fake, "Stopped", "MaxRuntimeExceeded")
        else:
            _finish(fake, "Stopped", "Stopped")
    except (_ClientError, script_mode.ScriptSetupError) as exc:
        _finish(fake, "Failed", "Failed", fmt_failure("ClientError", str(exc)))
    except Exception as exc:  # the engine's own failure ends this job alone
        if log is not None:
            log.error(f"sandbox engine error: {exc}")
            log.flush()
        _finish(
            fake, "Failed", "Failed", fmt_failure("InternalServerError", f"sandbox engine: {exc}")
        )
    finally:
        LIVE_METRICS.pop((job.region, job.name), None)


class _ClientError(Exception):
    """A platform-side failure the user can fix (SageMaker reports these as ClientError)."""


def _download_channels(s3: Any, request: dict[str, Any], root: Path) -> None:
    config: dict[str, Any] = {}
    for channel in request.get("InputDataConfig") or []:
        name = channel["ChannelName"]
        source = (channel.get("DataSource") or {}).get("S3DataSource") or {}
        if source.get("S3DataType", "S3Prefix") != "S3Prefix":
            raise _ClientError(
                f"Channel '{name}': the sandbox reads S3Prefix channels only "
                f"({source.get('S3DataType')} is not emulated)."
            )
        s3.download_prefix(source["S3Uri"], root / "input" / "data" / name)
        config[name] = {
            "ContentType": channel.get("ContentType"),
            "TrainingInputMode": channel.get("InputMode")
            or (request.get("AlgorithmSpecification") or {}).get("TrainingInputMode", "File"),
            "S3DistributionType": source.get("S3DataDistributionType", "FullyReplicated"),
            "RecordWrapperType": channel.get("RecordWrapperType", "None"),
        }
    cfg = root / "input" / "config"
    cfg.mkdir(parents=True, exist_ok=True)
    (cfg / "inputdataconfig.json").write_text(json.dumps(config))
    (cfg / "hyperparameters.json").write_text(json.dumps(request.get("HyperParameters") or {}))
    resources = request.get("ResourceConfig") or {}
    (cfg / "resourceconfig.json").write_text(
        json.dumps(
            {
                "current_host": "algo-1",
                "hosts": ["algo-1"],
                "current_instance_type": resources.get("InstanceType", "ml.m5.large"),
                "network_interface_name": "eth0",
            }
        )
    )
    checkpoint = request.get("CheckpointConfig") or {}
    if checkpoint.get("S3Uri"):
        local = root / "checkpoints"
        s3.download_prefix(checkpoint["S3Uri"], local)
        (cfg / "checkpointconfig.json").write_text(json.dumps({"LocalPath": str(local)}))
    for sub in ("model", "output/data", "output/intermediate"):
        (root / sub).mkdir(parents=True, exist_ok=True)


def _run_container(
    engine: Engine,
    job: RunningJob,
    request: dict[str, Any],
    image: Image,
    on_line: Any,
    log: JobLog,
) -> int:
    hyperparameters = request.get("HyperParameters") or {}
    if "sagemaker_program" in hyperparameters or image.family == "sklearn":
        command, env, cwd = script_mode.prepare_training(engine, job, request, on_line)
        code = job.run_process(command, env=env, cwd=cwd, on_line=on_line)
        if code != 0:
            script_mode.write_failure(job.workdir, command, code, log.tail(80))
        return code
    if not image.builtin:
        raise _ClientError(
            f"The sandbox cannot run the container image {image.uri}: it runs SageMaker's "
            "built-in XGBoost, Linear Learner, K-Means and Random Cut Forest, and scikit-learn "
            "(or XGBoost) script mode, without Docker. Run this image on AWS."
        )
    process = engine.warm.take()
    spec = {"job_dir": str(job.workdir), "algorithm": image.family,
            "version": image.version, "job_name": job.name}  # fmt: skip
    return job.run_process(
        [], env={}, cwd=job.workdir, on_line=on_line,
        stdin_text=json.dumps(spec) + "\n", process=process,
    )  # fmt: skip


def _failure_reason(root: Path, log: JobLog, exit_code: int) -> str:
    failure = root / "output" / "failure"
    text = failure.read_text(errors="replace").strip() if failure.exists() else ""
    if not text:
        tail = "\n".join(log.tail(5))
        text = f"Please see job logs for more information. Exit code {exit_code}.\n{tail}".strip()
    if text.startswith(("ClientError:", "AlgorithmError:")):
        return fmt_failure(*text.split(": ", 1))
    return fmt_failure("AlgorithmError", text)


def _upload_outputs(s3: Any, request: dict[str, Any], job: RunningJob) -> str:
    base = (request.get("OutputDataConfig") or {}).get("S3OutputPath", "").rstrip("/")
    prefix = f"{base}/{job.name}/output"
    archive = tar_gz_dir(job.workdir / "model", job.workdir / "upload" / "model.tar.gz")
    s3.upload_file(archive, f"{prefix}/model.tar.gz")
    data_dir = job.workdir / "output" / "data"
    if data_dir.exists() and any(data_dir.iterdir()):
        output = tar_gz_dir(data_dir, job.workdir / "upload" / "output.tar.gz")
        s3.upload_file(output, f"{prefix}/output.tar.gz")
    checkpoint = request.get("CheckpointConfig") or {}
    if checkpoint.get("S3Uri") and (job.workdir / "checkpoints").exists():
        s3.upload_dir(job.workdir / "checkpoints", checkpoint["S3Uri"])
    return f"{prefix}/model.tar.gz"


def _upload_after_stop(engine: Engine, request: dict[str, Any], job: RunningJob, fake: Any) -> None:
    """A stopped job keeps what it saved: the model directory (if any) and its checkpoints."""
    try:
        s3 = engine.s3(job.region)
        model_dir = job.workdir / "model"
        if model_dir.exists() and any(model_dir.iterdir()):
            transition(fake, "Uploading")
            fake.model_artifacts = {"S3ModelArtifacts": _upload_outputs(s3, request, job)}
        else:
            checkpoint = request.get("CheckpointConfig") or {}
            if checkpoint.get("S3Uri") and (job.workdir / "checkpoints").exists():
                s3.upload_dir(job.workdir / "checkpoints", checkpoint["S3Uri"])
    except Exception:
        pass


INTERRUPTED = (
    "InternalServerError: The sandbox stopped while this job was running, so it ended here. "
    "Start it again."
)


def recover(engine: Engine) -> None:
    """Training jobs that were running when the sandbox stopped end as Failed."""
    from moto.backends import get_backend

    for _, _, backend in get_backend("sagemaker").iter_backends():
        for fake in list(backend.training_jobs.values()):
            if fake.training_job_status in ("InProgress", "Stopping"):
                _finish(fake, "Failed", "Failed", INTERRUPTED)
