"""Model Monitor schedules and their executions, with the violations each run found."""

from __future__ import annotations

import json
from typing import Annotated, Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field

from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.errors import NotEmulated
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
    if ctx.aws.is_sandbox:
        raise NotEmulated("Model Monitor schedules (ListMonitoringSchedules)")
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
    if ctx.aws.is_sandbox:
        raise NotEmulated("Model Monitor executions (ListMonitoringExecutions)")
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
    return ToolResult(
        f"{len(rows)} runs of {args.schedule_name}, {flagged} with violations:\n"
        + "\n".join(lines),
        data={"rows": rows},
    )
