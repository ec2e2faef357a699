"""Cleaning up what a session created: the plan (dependents first) and one step at a time.

Each kind of resource has a delete or stop handler; a resource already gone counts as cleaned.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from tools.core.context import ToolContext
from tools.core.errors import ToolError
from tools.core.explain import is_not_found
from tools.core.validators import parse_s3_uri
from tools.cost.estimates import usd
from tools.ledger.store import ACTIVE, DELETED, FINISHED, STOPPED, LedgerEntry, ResourceLedger

# Job kinds: (describe method, name parameter, status key, end-time key, stop method).
JOB_KINDS: dict[str, tuple[str, str, str, str, str]] = {
    "sagemaker_training_job": (
        "describe_training_job",
        "TrainingJobName",
        "TrainingJobStatus",
        "TrainingEndTime",
        "stop_training_job",
    ),
    "sagemaker_processing_job": (
        "describe_processing_job",
        "ProcessingJobName",
        "ProcessingJobStatus",
        "ProcessingEndTime",
        "stop_processing_job",
    ),
    "sagemaker_tuning_job": (
        "describe_hyper_parameter_tuning_job",
        "HyperParameterTuningJobName",
        "HyperParameterTuningJobStatus",
        "HyperParameterTuningEndTime",
        "stop_hyper_parameter_tuning_job",
    ),
    "sagemaker_transform_job": (
        "describe_transform_job",
        "TransformJobName",
        "TransformJobStatus",
        "TransformEndTime",
        "stop_transform_job",
    ),
    "sagemaker_autopilot_job": (
        "describe_auto_ml_job_v2",
        "AutoMLJobName",
        "AutoMLJobStatus",
        "EndTime",
        "stop_auto_ml_job",
    ),
}
JOB_KINDS["sagemaker_automl_job"] = JOB_KINDS["sagemaker_autopilot_job"]
JOB_KINDS["sagemaker_hyperparameter_tuning_job"] = JOB_KINDS["sagemaker_tuning_job"]
RUNNING = {"InProgress", "Stopping", "Executing", "Starting"}

# The order cleanup works in: front doors first, then what they call, then what is underneath.
CLEANUP_ORDER = (
    "apigateway_rest_api",
    "lambda_function",
    "sagemaker_monitoring_schedule",
    "sagemaker_model_quality_job_definition",
    "cloudwatch_alarm",
    "sagemaker_endpoint",
    "sagemaker_endpoint_config",
    "sagemaker_model",
    *JOB_KINDS,
    "sagemaker_pipeline_execution",
    "sagemaker_pipeline",
    "kinesis_stream",
    "firehose_delivery_stream",
    "s3_bucket",
)


@dataclass
class CleanupStep:
    entry: LedgerEntry
    action: str  # "delete", "stop if running", "left alone"
    saving_usd_per_hour: float
    reason: str = ""

    def describe(self) -> str:
        saving = f" (saves {usd(self.saving_usd_per_hour)}/h)" if self.saving_usd_per_hour else ""
        why = f" — {self.reason}" if self.reason else ""
        return f"{self.action} {self.entry.kind} {self.entry.name}{saving}{why}"


def ledger_of(ctx: ToolContext) -> ResourceLedger:
    ledger = ctx.ledger
    if ledger is None or not hasattr(ledger, "entries"):
        raise ToolError(
            "This session has no resource ledger, so sagecoach cannot list what it created. "
            "Use sagemaker_list_endpoints to see running endpoints."
        )
    return ledger  # type: ignore[return-value]


def plan_cleanup(
    entries: list[LedgerEntry], *, include_buckets: bool = False, names: list[str] | None = None
) -> list[CleanupStep]:
    """What session_cleanup would do with these (live) entries, in order."""
    wanted = set(names or [])
    steps: list[CleanupStep] = []
    order = {kind: i for i, kind in enumerate(CLEANUP_ORDER)}
    live = [e for e in entries if e.status == ACTIVE and (not wanted or e.name in wanted)]
    for entry in sorted(live, key=lambda e: (order.get(e.kind, len(order)), e.created_at)):
        hourly = entry.hourly_usd or 0.0
        if entry.kind in JOB_KINDS or entry.kind == "sagemaker_pipeline_execution":
            steps.append(CleanupStep(entry, "stop if running", hourly))
        elif entry.kind == "s3_bucket":
            if include_buckets:
                steps.append(CleanupStep(entry, "empty and delete", 0.0))
            else:
                steps.append(
                    CleanupStep(entry, "left alone", 0.0, "buckets kept unless include_buckets")
                )
        elif entry.kind in HANDLERS:
            steps.append(CleanupStep(entry, "delete", hourly))
        else:
            steps.append(
                CleanupStep(
                    entry, "left alone", 0.0, "sagecoach does not remove this kind; use the console"
                )
            )
    return steps


# --- deleting one resource -------------------------------------------------------------------
def _delete_rest_api(ctx: ToolContext, entry: LedgerEntry) -> str:
    api_id = entry.extra.get("id") or (entry.arn or "").rsplit("/", 1)[-1]
    ctx.client("apigateway").delete_rest_api(restApiId=api_id)
    return "deleted"


def _delete_lambda(ctx: ToolContext, entry: LedgerEntry) -> str:
    ctx.client("lambda").delete_function(FunctionName=entry.name)
    return "deleted"


def _delete_schedule(ctx: ToolContext, entry: LedgerEntry) -> str:
    ctx.client("sagemaker").delete_monitoring_schedule(MonitoringScheduleName=entry.name)
    return "deleted"


def _delete_mq_definition(ctx: ToolContext, entry: LedgerEntry) -> str:
    ctx.client("sagemaker").delete_model_quality_job_definition(JobDefinitionName=entry.name)
    return "deleted"


def _delete_alarm(ctx: ToolContext, entry: LedgerEntry) -> str:
    cw = ctx.client("cloudwatch")
    if not cw.describe_alarms(AlarmNames=[entry.name]).get("MetricAlarms"):
        return "already gone"
    cw.delete_alarms(AlarmNames=[entry.name])
    return "deleted"


def _delete_endpoint(ctx: ToolContext, entry: LedgerEntry) -> str:
    ctx.client("sagemaker").delete_endpoint(EndpointName=entry.name)
    return "deleted"


def _delete_endpoint_config(ctx: ToolContext, entry: LedgerEntry) -> str:
    ctx.client("sagemaker").delete_endpoint_config(EndpointConfigName=entry.name)
    return "deleted"


def _delete_model(ctx: ToolContext, entry: LedgerEntry) -> str:
    ctx.client("sagemaker").delete_model(ModelName=entry.name)
    return "deleted"


def _delete_pipeline(ctx: ToolContext, entry: LedgerEntry) -> str:
    ctx.client("sagemaker").delete_pipeline(
        PipelineName=entry.name, ClientRequestToken=uuid.uuid4().hex
    )
    return "deleted"


def _delete_stream(ctx: ToolContext, entry: LedgerEntry) -> str:
    ctx.client("kinesis").delete_stream(StreamName=entry.name, EnforceConsumerDeletion=True)
    return "deleted"


def _delete_firehose(ctx: ToolContext, entry: LedgerEntry) -> str:
    ctx.client("firehose").delete_delivery_stream(DeliveryStreamName=entry.name)
    return "deleted"


def _delete_bucket(ctx: ToolContext, entry: LedgerEntry) -> str:
    s3 = ctx.client("s3")
    bucket = entry.name
    if bucket.startswith("s3://"):
        bucket = parse_s3_uri(bucket)[0]
    removed = 0
    paginator = s3.get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=bucket):
        objects = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        for start in range(0, len(objects), 1000):
            chunk = objects[start : start + 1000]
            s3.delete_objects(Bucket=bucket, Delete={"Objects": chunk, "Quiet": True})
            removed += len(chunk)
    s3.delete_bucket(Bucket=bucket)
    return f"emptied ({removed} objects) and deleted"


def _stop_job(ctx: ToolContext, entry: LedgerEntry) -> tuple[str, str]:
    describe, param, status_key, _end_key, stop = JOB_KINDS[entry.kind]
    sm = ctx.client("sagemaker")
    desc = getattr(sm, describe)(**{param: entry.name})
    status = str(desc.get(status_key, ""))
    if status in RUNNING:
        getattr(sm, stop)(**{param: entry.name})
        return "stopped", STOPPED
    return f"already {status.lower() or 'ended'}", FINISHED


def _stop_pipeline_execution(ctx: ToolContext, entry: LedgerEntry) -> tuple[str, str]:
    sm = ctx.client("sagemaker")
    arn = entry.arn or entry.name
    desc = sm.describe_pipeline_execution(PipelineExecutionArn=arn)
    status = str(desc.get("PipelineExecutionStatus", ""))
    if status in RUNNING:
        sm.stop_pipeline_execution(PipelineExecutionArn=arn, ClientRequestToken=uuid.uuid4().hex)
        return "stopping", STOPPED
    return f"already {status.lower() or 'ended'}", FINISHED


HANDLERS: dict[str, Callable[[ToolContext, LedgerEntry], str]] = {
    "apigateway_rest_api": _delete_rest_api,
    "lambda_function": _delete_lambda,
    "sagemaker_monitoring_schedule": _delete_schedule,
    "sagemaker_model_quality_job_definition": _delete_mq_definition,
    "cloudwatch_alarm": _delete_alarm,
    "sagemaker_endpoint": _delete_endpoint,
    "sagemaker_endpoint_config": _delete_endpoint_config,
    "sagemaker_model": _delete_model,
    "sagemaker_pipeline": _delete_pipeline,
    "kinesis_stream": _delete_stream,
    "firehose_delivery_stream": _delete_firehose,
    "s3_bucket": _delete_bucket,
}


def already_gone(exc: Exception) -> bool:
    if is_not_found(exc):
        return True
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        return code in ("NoSuchBucket", "NotFoundException", "ResourceNotFoundException")
    return False


def run_step(ctx: ToolContext, ledger: ResourceLedger, step: CleanupStep) -> dict[str, Any]:
    entry = step.entry
    outcome: dict[str, Any] = {
        "kind": entry.kind,
        "name": entry.name,
        "action": step.action,
        "saving_usd_per_hour": step.saving_usd_per_hour,
    }
    if step.action == "left alone":
        outcome.update(result="left alone", ok=True, reason=step.reason)
        return outcome
    try:
        if step.action == "stop if running":
            if entry.kind == "sagemaker_pipeline_execution":
                result, status = _stop_pipeline_execution(ctx, entry)
            else:
                result, status = _stop_job(ctx, entry)
        else:
            result, status = HANDLERS[entry.kind](ctx, entry), DELETED
            if result == "already gone":
                status = DELETED
        ledger.mark_entry(entry.id, status)
        outcome.update(result=result, ok=True)
    except Exception as exc:
        if already_gone(exc):
            ledger.mark_entry(entry.id, DELETED)
            outcome.update(result="already gone", ok=True)
        else:
            from tools.core.explain import explain_exception

            outcome.update(result=f"failed: {explain_exception(exc, ctx).message}", ok=False)
    return outcome
