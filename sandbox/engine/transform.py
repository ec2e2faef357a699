"""Batch transform jobs run for real: InProgress → Completed / Failed / Stopped on a worker
thread. The model's container starts (as for an endpoint, with SAGEMAKER_BATCH set), every
object under the input prefix is read, split, filtered and sent in requests as the job's
SplitType, BatchStrategy, MaxPayloadInMB and DataProcessing say (`transform_data.py`), and the
answers are written to `<S3OutputPath>/<object>.out`. The log goes to
`/aws/sagemaker/TransformJobs`, streams `<job>/<instance>-<epoch>` (the container) and
`.../data-log` (one line per object, and what went wrong with it)."""

from __future__ import annotations

import gzip
import secrets
import time
from datetime import UTC, datetime
from typing import Any

from moto.core.utils import utcnow

from sandbox.engine.core import Engine
from sandbox.engine.cwlogs import TRANSFORM_LOG_GROUP, JobLog
from sandbox.engine.dispatch import HOOKS, ApiError, Call, Reply
from sandbox.engine.endpoints import serving, start_variant
from sandbox.engine.jobs import JobInterrupted, RunningJob, fmt_failure
from sandbox.engine.jsonpath import JsonPathError
from sandbox.engine.model_data import ModelSetupError, container_of
from sandbox.engine.s3io import split_uri
from sandbox.engine.transform_data import (
    Processing,
    TransformDataError,
    batches,
    filter_input,
    join_and_filter,
    records,
    split_outputs,
)

KIND = "transform"


class _JobFailed(Exception):
    """The job fails with this FailureReason."""


@HOOKS.before("sagemaker", "CreateTransformJob")
def check_create(engine: Engine, call: Call) -> Reply | None:
    backend = engine.sagemaker(call.region, call.account)
    name = call.params.get("TransformJobName", "")
    if name in backend.transform_jobs:
        raise ApiError("ResourceInUse", f"Job name must be unique within an AWS account and "
                       f"region, and a job with this name already exists ({backend.transform_jobs[name].arn})")  # fmt: skip
    model = call.params.get("ModelName", "")
    if model not in backend._models:
        raise ApiError("ValidationException", f'Could not find model "{model}".')
    source = ((call.params.get("TransformInput") or {}).get("DataSource") or {}).get(
        "S3DataSource"
    ) or {}
    uri = str(source.get("S3Uri", ""))
    try:
        split_uri(uri)
    except ValueError as exc:
        raise ApiError("ValidationException", str(exc)) from None
    if not engine.s3(call.region).list_prefix(uri):
        raise ApiError("ValidationException", f'No S3 objects found under S3 URL "{uri}" given in '
                       "input data source. Please ensure that the bucket exists in the selected "
                       "region, and that objects exist under that S3 prefix.")  # fmt: skip
    return None


@HOOKS.after("sagemaker", "CreateTransformJob")
def start_transform(engine: Engine, call: Call, response: dict[str, Any]) -> None:
    name = call.params["TransformJobName"]
    fake = engine.sagemaker(call.region, call.account).transform_jobs[name]
    fake.transform_job_status = "InProgress"
    fake.transform_start_time = None
    fake.transform_end_time = None
    fake.failure_reason = None
    job = RunningJob(kind=KIND, name=name, region=call.region, account=call.account,
                     workdir=engine.job_dir(KIND, name), max_runtime_s=None)  # fmt: skip
    request = dict(call.params)
    engine.jobs.start(job, lambda running: run_transform(engine, running, request, fake))


@HOOKS.before("sagemaker", "StopTransformJob")
def stop_transform(engine: Engine, call: Call) -> Reply:
    name = call.params.get("TransformJobName", "")
    fake = engine.sagemaker(call.region, call.account).transform_jobs.get(name)
    if fake is None:
        raise ApiError("ValidationException", f"Could not find job to update with name {name}")
    if fake.transform_job_status == "InProgress":
        fake.transform_job_status = "Stopping"
        if not engine.jobs.stop(KIND, call.region, name):
            _end(fake, "Stopped")
    return Reply({})


def _end(fake: Any, status: str, reason: str | None = None) -> None:
    fake.transform_job_status = status
    fake.transform_end_time = utcnow()
    fake.last_modified_time = utcnow()
    if reason:
        fake.failure_reason = reason


def processing_of(request: dict[str, Any]) -> Processing:
    source = request.get("TransformInput") or {}
    output = request.get("TransformOutput") or {}
    data = request.get("DataProcessing") or {}
    split = str(source.get("SplitType") or "None")
    max_mb = int(request.get("MaxPayloadInMB") or 6) or 6
    return Processing(
        content_type=str(source.get("ContentType") or "text/csv"),
        accept=str(output.get("Accept") or ""),
        split=split,
        strategy=str(request.get("BatchStrategy") or ("MultiRecord" if split != "None" else "SingleRecord")),
        max_payload=max_mb * 1024 * 1024,
        assemble=str(output.get("AssembleWith") or "None"),
        input_filter=str(data.get("InputFilter") or "$"),
        output_filter=str(data.get("OutputFilter") or "$"),
        join=data.get("JoinSource") == "Input",
    )  # fmt: skip


def run_transform(engine: Engine, job: RunningJob, request: dict[str, Any], fake: Any) -> None:
    stream = f"{job.name}/i-0{secrets.token_hex(8)}-{int(time.time())}"
    log: JobLog | None = None
    data_log: JobLog | None = None
    model = None
    # The job's logs are written before its final status shows: a client that sees Failed and
    # reads the log at once finds the reason there.
    outcome: tuple[str, str | None] = ("Failed", None)
    try:
        with engine.jobs.slot(job):
            job.check()
            fake.transform_start_time = utcnow()
            endpoint = engine._require_endpoint()
            log = JobLog(endpoint, job.region, TRANSFORM_LOG_GROUP, stream)
            data_log = JobLog(endpoint, job.region, TRANSFORM_LOG_GROUP, f"{stream}/data-log")
            backend = engine.sagemaker(job.region, job.account)
            spec = container_of(backend._models[request["ModelName"]])
            spec.environment.update(
                {str(k): str(v) for k, v in (request.get("Environment") or {}).items()}
            )
            model = start_variant(engine, serving(engine).hosts, spec, job.workdir, job.region,
                                  log, "AllTraffic", batch=True)  # fmt: skip
            _transform_objects(engine, job, request, model, data_log)
            outcome = ("Completed", None)
    except JobInterrupted:
        outcome = ("Stopped", None)
    except ModelSetupError as exc:
        outcome = ("Failed", fmt_failure("ClientError", str(exc)))
    except _JobFailed as exc:
        outcome = ("Failed", str(exc))
    except Exception as exc:  # the engine's own failure ends this job alone
        if log is not None:
            log.error(f"sandbox engine error: {exc}")
        outcome = ("Failed", fmt_failure("InternalServerError", f"sandbox engine: {exc}"))
    finally:
        if model is not None:
            model.unload()
        for sink in (log, data_log):
            if sink is not None:
                try:
                    sink.flush()
                except Exception:
                    pass
        _end(fake, *outcome)


def _data_line(data_log: JobLog, text: str) -> None:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
    data_log.write(f"{stamp}:[sagemaker logs]: {text}")


def _transform_objects(engine: Engine, job: RunningJob, request: dict[str, Any], model: Any,
                       data_log: JobLog) -> None:  # fmt: skip
    p = processing_of(request)
    source = request["TransformInput"]["DataSource"]["S3DataSource"]
    uri = str(source["S3Uri"])
    bucket, prefix = split_uri(uri)
    out_base = str(request["TransformOutput"]["S3OutputPath"]).rstrip("/")
    s3 = engine.s3(job.region)
    gzipped = (request["TransformInput"].get("CompressionType") or "None") == "Gzip"
    for obj in s3.list_prefix(uri):
        if obj.key.endswith("/"):
            continue
        job.check()
        where = f"{bucket}/{obj.key}"
        data = s3.get_bytes(f"s3://{bucket}/{obj.key}")
        if gzipped:
            data = gzip.decompress(data)
        try:
            output = _transform_object(data, p, model, job)
        except _ModelRefused as refused:
            kind = "ClientError" if refused.status < 500 else "AlgorithmError"
            _data_line(data_log, f"{where}: {kind}: {refused.status}")
            _data_line(data_log, f"{where}: Message:")
            for line in refused.message.splitlines() or [""]:
                _data_line(data_log, f"{where}: {line}")
            raise _JobFailed(f"{kind}: See job logs for more information") from None
        except (TransformDataError, JsonPathError) as exc:
            _data_line(data_log, f"{where}: ClientError: {exc}")
            raise _JobFailed(fmt_failure("ClientError", str(exc))) from None
        relative = (
            obj.key[len(prefix) :].lstrip("/") if obj.key != prefix else obj.key.rsplit("/", 1)[-1]
        )
        s3.put_bytes(f"{out_base}/{relative}.out", output)
        _data_line(data_log, f"{where}: Completed ({len(output)} bytes)")


class _ModelRefused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _transform_object(data: bytes, p: Processing, model: Any, job: RunningJob) -> bytes:
    sources = records(data, p.split)
    filtered = [filter_input(r, p) for r in sources]
    outputs: list[bytes] = []
    raw_parts: list[bytes] = []
    index = 0
    for batch in batches(filtered, p):
        job.check()
        reply = model.invoke(b"\n".join(batch), p.content_type, p.accept or None)
        if reply.status >= 400:
            raise _ModelRefused(reply.status, reply.body.decode("utf-8", "replace"))
        raw_parts.append(reply.body)
        needs_split = p.join or p.output_filter not in ("", "$") or p.assemble == "Line"
        if needs_split:
            parts = split_outputs(reply.body, reply.content_type, len(batch))
            if parts is None:
                if p.join or p.output_filter not in ("", "$"):
                    raise TransformDataError(
                        f"The model answered {len(batch)} records with output that cannot be "
                        "split into one result per record, so it cannot be joined or filtered."
                    )
                parts = [reply.body.rstrip(b"\n")]
            for part in parts:
                source = sources[index] if index < len(sources) else b""
                outputs.append(join_and_filter(source, part, p, reply.content_type))
                index += 1
    if p.assemble == "Line":
        return b"".join(o + b"\n" for o in outputs)
    if outputs:
        return b"".join(outputs)
    return b"".join(raw_parts)


def recover(engine: Engine) -> None:
    """Transform jobs that were running when the sandbox stopped end as Failed."""
    from moto.backends import get_backend

    from sandbox.engine.training import INTERRUPTED

    for _, _, backend in get_backend("sagemaker").iter_backends():
        for fake in list(backend.transform_jobs.values()):
            if fake.transform_job_status in ("InProgress", "Stopping"):
                _end(fake, "Failed", INTERRUPTED)
