"""Model Monitor schedules and their executions, with the violations each run found."""

from __future__ import annotations

import json
from typing import Annotated, Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field

from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.errors import ToolError
from tools.core.results import ToolResult
from tools.core.validators import SageMakerName, parse_s3_uri


# --- monitor_list_schedules / monitor_list_executions ------------------------------------------
class ListSchedulesArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    endpoint_name: Annotated[SageMakerName | None, Field(description="Only this endpoint")] = None
    max_results: Annotated[int, Field(ge=1, le=100)] = 20


@tool(
    name="monitor_list_schedules",
    stage="monitoring",
    risk="read",
    operations=("sagemaker:ListMonitoringSchedules",),
    phrases=("list monitoring schedules", "what is monitoring my endpoint"),
)
def monitor_list_schedules(ctx: ToolContext, args: ListSchedulesArgs) -> ToolResult:
    """List Model Monitor schedules with their type, status and last run."""
    params: dict[str, Any] = {"MaxResults": args.max_results, "SortBy": "CreationTime"}
    if args.endpoint_name:
        params["EndpointName"] = args.endpoint_name
    response = ctx.client("sagemaker").list_monitoring_schedules(**params)
    rows = [
        {
            "name": s.get("MonitoringScheduleName"),
            "endpoint": s.get("EndpointName"),
            "type": s.get("MonitoringType"),
            "status": s.get("MonitoringScheduleStatus"),
            "created": str(s.get("CreationTime", ""))[:19],
        }
        for s in response.get("MonitoringScheduleSummaries", [])
    ]
    if not rows:
        return ToolResult("No monitoring schedules.", data={"rows": []})
    lines = [f"- {r['name']}: {r['type']} on {r['endpoint']}, {r['status']}" for r in rows]
    return ToolResult(f"{len(rows)} schedules:\n" + "\n".join(lines), data={"rows": rows})


class ListExecutionsArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schedule_name: SageMakerName
    max_results: Annotated[int, Field(ge=1, le=50)] = 10


def violations_of(ctx: ToolContext, processing_job_arn: str, limit: int = 10) -> list[dict]:
    """The constraint_violations.json a monitoring run wrote, read from its output in S3."""
    job_name = processing_job_arn.rsplit("/", 1)[-1]
    job = ctx.client("sagemaker").describe_processing_job(ProcessingJobName=job_name)
    outputs = job.get("ProcessingOutputConfig", {}).get("Outputs", [])
    if not outputs:
        return []
    uri = (
        outputs[0].get("S3Output", {}).get("S3Uri", "").rstrip("/") + "/constraint_violations.json"
    )
    bucket, key = parse_s3_uri(uri)
    try:
        body = ctx.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError:
        return []
    found = json.loads(body or b"{}").get("violations", [])
    return [
        {
            "feature": v.get("feature_name") or v.get("metric_name"),
            "check": v.get("constraint_check_type"),
            "description": str(v.get("description", ""))[:200],
        }
        for v in found[:limit]
    ]


@tool(
    name="monitor_list_executions",
    stage="monitoring",
    risk="read",
    operations=(
        "sagemaker:ListMonitoringExecutions",
        "sagemaker:DescribeProcessingJob",
        "s3:GetObject",
    ),
    phrases=(
        "did the monitor find drift",
        "monitoring results",
        "show monitoring violations",
        "list monitoring runs",
    ),
)
def monitor_list_executions(ctx: ToolContext, args: ListExecutionsArgs) -> ToolResult:
    """List recent runs of a monitoring schedule, with the violations each found."""
    response = ctx.client("sagemaker").list_monitoring_executions(
        MonitoringScheduleName=args.schedule_name,
        SortBy="ScheduledTime",
        SortOrder="Descending",
        MaxResults=args.max_results,
    )
    rows = []
    fetched = 0
    for summary in response.get("MonitoringExecutionSummaries", []):
        row: dict[str, Any] = {
            "scheduled": str(summary.get("ScheduledTime", ""))[:19],
            "status": summary.get("MonitoringExecutionStatus"),
            "failure_reason": summary.get("FailureReason") or None,
            "processing_job_arn": summary.get("ProcessingJobArn"),
            "violations": [],
        }
        if row["status"] == "CompletedWithViolations" and row["processing_job_arn"] and fetched < 3:
            fetched += 1
            row["violations"] = violations_of(ctx, row["processing_job_arn"])
        rows.append(row)
    if not rows:
        return ToolResult(
            f"{args.schedule_name} has not run yet (schedules start at the next hour).",
            data={"rows": []},
        )
    lines = []
    for row in rows:
        line = f"- {row['scheduled']}: {row['status']}"
        if row["failure_reason"]:
            line += f" ({row['failure_reason'][:120]})"
        for v in row["violations"][:5]:
            line += f"\n    {v['feature']}: {v['check']} — {v['description']}"
        lines.append(line)
    flagged = sum(1 for r in rows if r["status"] == "CompletedWithViolations")
    table = [
        {"scheduled": r["scheduled"], "status": r["status"], "feature": v["feature"],
         "check": v["check"], "description": v["description"]}
        for r in rows for v in r["violations"]
    ] or [{k: r[k] for k in ("scheduled", "status", "failure_reason")} for r in rows]  # fmt: skip
    latest = rows[0]
    found = "; ".join(f"{v['feature']} {v['check']}" for v in latest["violations"][:4])
    return ToolResult(
        f"{len(rows)} runs of {args.schedule_name}, {flagged} with violations; the latest "
        f"{latest['status']}" + (f" ({found})" if found else "") + ":\n" + "\n".join(lines),
        data={"rows": table, "runs": rows},
    )


# --- monitor_run_now (the sandbox's) ----------------------------------------------------------
class RunNowArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schedule_name: SageMakerName


RUN_PATH = "/_sagecoach/monitoring/run"


@tool(
    name="monitor_run_now",
    stage="monitoring",
    risk="write",
    operations=("sagemaker:CreateProcessingJob",),
    phrases=("run the monitor now", "check for drift now", "run the monitoring schedule now"),
)
def monitor_run_now(ctx: ToolContext, args: RunNowArgs) -> ToolResult:
    """Sandbox only: run a monitoring schedule now over the last hour of captured traffic (AWS runs it on its cron)."""
    if not ctx.aws.is_sandbox or not ctx.aws.sandbox_endpoint:
        raise ToolError(
            "AWS runs monitoring schedules on their cron only (at the hour they fire); there is "
            "no run-now call. For a one-off check create a schedule with ScheduleExpression NOW."
        )
    if ctx.aws.read_only:
        raise ToolError(
            "read-only mode: running a monitoring schedule starts a processing job",
            kind="read_only",
        )
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        ctx.aws.sandbox_endpoint.rstrip("/") + RUN_PATH,
        data=json.dumps(
            {"MonitoringScheduleName": args.schedule_name, "Region": ctx.region}
        ).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            execution = json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        detail = json.loads(exc.read() or b"{}").get("message", str(exc))
        raise ToolError(f"the sandbox could not run {args.schedule_name}: {detail}") from None
    status = execution.get("MonitoringExecutionStatus")
    text = (
        f"Started a run of {args.schedule_name} over the last hour of captured traffic: {status}."
    )
    if execution.get("FailureReason"):
        text = f"The run of {args.schedule_name} {status}: {execution['FailureReason']}"
    else:
        text += " Its result shows in monitor_list_executions in a few seconds."
    return ToolResult(text, {"schedule_name": args.schedule_name, "status": status,
                             "processing_job_arn": execution.get("ProcessingJobArn")})  # fmt: skip
