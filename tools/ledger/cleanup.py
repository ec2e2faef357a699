"""Tools over the resource ledger: what this session created, what it costs, and cleanup."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field

from tools.base import ToolContext, ToolError, ToolResult, tool
from tools.deployment import is_not_found, usd
from tools.ledger import ACTIVE, DELETED, FINISHED, STOPPED, LedgerEntry, ResourceLedger
from tools.validators import parse_s3_uri

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


def _ledger(ctx: ToolContext) -> ResourceLedger:
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


def _gone(exc: Exception) -> bool:
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
        if _gone(exc):
            ledger.mark_entry(entry.id, DELETED)
            outcome.update(result="already gone", ok=True)
        else:
            from tools.errors import explain_exception

            outcome.update(result=f"failed: {explain_exception(exc, ctx).message}", ok=False)
    return outcome


# --- session_list_resources ------------------------------------------------------------------
class ListResourcesArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    all_sessions: Annotated[bool, Field(description="Include earlier sessions' resources")] = False
    include_ended: Annotated[bool, Field(description="Also show deleted/finished ones")] = False
    refresh: Annotated[bool, Field(description="Check jobs/endpoints in AWS first")] = True


def refresh_statuses(ctx: ToolContext, ledger: ResourceLedger, entries: list[LedgerEntry]) -> int:
    """Mark jobs that ended and endpoints that are gone; returns how many changed (≤ 30 checks)."""
    changed = 0
    sm = ctx.client("sagemaker")
    checks = [
        e for e in entries if e.active and (e.kind in JOB_KINDS or e.kind == "sagemaker_endpoint")
    ]
    for entry in checks[:30]:
        try:
            if entry.kind == "sagemaker_endpoint":
                sm.describe_endpoint(EndpointName=entry.name)
                continue
            describe, param, status_key, end_key, _ = JOB_KINDS[entry.kind]
            desc = getattr(sm, describe)(**{param: entry.name})
        except Exception as exc:
            if _gone(exc):
                ledger.mark_entry(entry.id, DELETED)
                changed += 1
            continue
        status = str(desc.get(status_key, ""))
        if status and status not in RUNNING:
            end = desc.get(end_key) or desc.get("LastModifiedTime")
            when = (
                end.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
                if isinstance(end, datetime)
                else None
            )
            ledger.mark_entry(entry.id, STOPPED if status == "Stopped" else FINISHED, when=when)
            changed += 1
    return changed


@tool(
    name="session_list_resources",
    stage="general",
    risk="read",
    operations=("sagemaker:DescribeEndpoint", "sagemaker:DescribeTrainingJob"),
    phrases=(
        "what did you create",
        "what am I paying for",
        "list the resources of this session",
        "how much has this session cost",
        "what is still running",
    ),
)
def session_list_resources(ctx: ToolContext, args: ListResourcesArgs) -> ToolResult:
    """List what sagecoach created (this session by default), the cost so far and per hour, and what cleanup would do."""
    ledger = _ledger(ctx)
    session = None if args.all_sessions else ctx.session_id
    entries = ledger.entries(session_id=session)
    if args.refresh and entries and refresh_statuses(ctx, ledger, entries):
        entries = ledger.entries(session_id=session)
    now = datetime.now(UTC)
    shown = entries if args.include_ended else [e for e in entries if e.active]
    live = [e for e in entries if e.active]
    hourly = sum(e.hourly_usd or 0.0 for e in live)
    so_far = sum(e.cost_so_far(now) for e in entries)
    rows = [e.to_dict(now) for e in shown]
    plan = plan_cleanup(entries)
    scope = "all sessions" if args.all_sessions else "this session"
    if not entries:
        return ToolResult(
            f"Nothing created in {scope} yet.",
            data={"rows": [], "hourly_usd": 0.0, "cost_so_far_usd": 0.0, "plan": []},
        )
    lines = []
    for entry in shown[:40]:
        cost = (
            f", {usd(entry.hourly_usd)}/h, {usd(entry.cost_so_far(now))} so far"
            if entry.hourly_usd
            else ""
        )
        status = "" if entry.active else f" [{entry.status}]"
        lines.append(f"- {entry.kind} {entry.name}{status} ({entry.hours(now):.1f} h{cost})")
    more = f"\n… {len(shown) - 40} more" if len(shown) > 40 else ""
    plan_lines = [f"- {s.describe()}" for s in plan[:30]]
    saving = sum(s.saving_usd_per_hour for s in plan if s.action != "left alone")
    text = (
        f"{len(live)} of {len(entries)} resources from {scope} still exist; they cost "
        f"{usd(hourly)}/h now (${hourly * 24:,.2f}/day), about {usd(so_far)} so far.\n"
        + ("\n".join(lines) + more if lines else "(nothing live)")
    )
    if plan:
        text += (
            f"\nsession_cleanup would ({usd(saving)}/h saved):\n"
            + "\n".join(plan_lines)
            + ("\n…" if len(plan) > 30 else "")
        )
    if getattr(ledger, "load_error", None):
        text += f"\nWarning: {ledger.load_error}"
    return ToolResult(
        text,
        data={
            "rows": rows,
            "hourly_usd": round(hourly, 6),
            "cost_so_far_usd": round(so_far, 6),
            "plan": [
                {
                    "kind": s.entry.kind,
                    "name": s.entry.name,
                    "action": s.action,
                    "saving_usd_per_hour": s.saving_usd_per_hour,
                    "reason": s.reason,
                }
                for s in plan
            ],
        },
    )


# --- session_cleanup ---------------------------------------------------------------------------
class CleanupArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    include_buckets: Annotated[
        bool, Field(description="Also empty and delete buckets sagecoach created")
    ] = False
    all_sessions: Annotated[bool, Field(description="Also earlier sessions' resources")] = False
    names: Annotated[
        list[str] | None, Field(description="Only these resource names (default: all)")
    ] = None


@tool(
    name="session_cleanup",
    stage="general",
    risk="destructive",
    operations=(
        "sagemaker:DeleteEndpoint",
        "sagemaker:DeleteEndpointConfig",
        "sagemaker:DeleteModel",
        "sagemaker:StopTrainingJob",
        "sagemaker:StopProcessingJob",
        "sagemaker:StopTransformJob",
        "sagemaker:StopHyperParameterTuningJob",
        "sagemaker:DeletePipeline",
        "sagemaker:DeleteMonitoringSchedule",
        "cloudwatch:DeleteAlarms",
        "lambda:DeleteFunction",
        "apigateway:DeleteRestApi",
        "s3:DeleteBucket",
    ),
    phrases=(
        "clean up everything",
        "delete everything you created",
        "tear it all down",
        "stop paying for this session",
        "remove the resources",
    ),
)
def session_cleanup(ctx: ToolContext, args: CleanupArgs) -> ToolResult:
    """Delete endpoints, configs, models, alarms, APIs and pipelines this session created and stop its running jobs (buckets only if asked)."""
    ledger = _ledger(ctx)
    session = None if args.all_sessions else ctx.session_id
    plan = plan_cleanup(
        ledger.entries(session_id=session), include_buckets=args.include_buckets, names=args.names
    )
    if not plan:
        return ToolResult("Nothing to clean up.", data={"steps": [], "hourly_saving_usd": 0.0})
    outcomes = []
    for index, step in enumerate(plan, 1):
        ctx.check_cancelled()
        ctx.report(step.describe(), index - 1, len(plan), "steps")
        outcomes.append(run_step(ctx, ledger, step))
    ctx.report("cleanup done", len(plan), len(plan), "steps")
    saved = sum(
        o["saving_usd_per_hour"] for o in outcomes if o["ok"] and o["action"] != "left alone"
    )
    failed = [o for o in outcomes if not o["ok"]]
    lines = [f"- {o['kind']} {o['name']}: {o['result']}" for o in outcomes]
    head = (
        f"Cleanup ran {len(outcomes)} steps; {len(failed)} failed. "
        f"Saves {usd(saved)}/h (${saved * 24:,.2f}/day)."
    )
    if failed:
        head += " Retry session_cleanup or remove the failed ones in the console."
    return ToolResult(
        head + "\n" + "\n".join(lines),
        data={"steps": outcomes, "hourly_saving_usd": round(saved, 6), "failed": len(failed)},
    )
