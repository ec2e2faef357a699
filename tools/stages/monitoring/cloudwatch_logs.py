"""CloudWatch Logs of SageMaker jobs and endpoints: the latest events of a log group."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field

from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.explain import is_not_found
from tools.core.results import ToolResult
from tools.core.validators import SageMakerName

# --- CloudWatch Logs ------------------------------------------------------------------------------
LOG_GROUPS = {
    "training_job": "/aws/sagemaker/TrainingJobs",
    "processing_job": "/aws/sagemaker/ProcessingJobs",
    "transform_job": "/aws/sagemaker/TransformJobs",
}


class LogEventsArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: Annotated[
        Literal["training_job", "processing_job", "transform_job", "endpoint"],
        Field(description="What wrote the log"),
    ]
    name: Annotated[SageMakerName, Field(description="Job or endpoint name")]
    lines: Annotated[int, Field(ge=1, le=500, description="Most recent lines to show")] = 50
    contains: Annotated[str | None, Field(description="Only lines containing this text")] = None


@tool(
    name="cloudwatch_get_log_events",
    stage="monitoring",
    risk="read",
    operations=("logs:DescribeLogStreams", "logs:GetLogEvents", "logs:FilterLogEvents"),
    phrases=(
        "show the training logs",
        "why did the job fail logs",
        "endpoint logs",
        "tail the log",
    ),
)
def cloudwatch_get_log_events(ctx: ToolContext, args: LogEventsArgs) -> ToolResult:
    """Show the most recent log lines of a training/processing/transform job or an endpoint."""
    logs = ctx.client("logs")
    if args.source == "endpoint":
        group, prefix = f"/aws/sagemaker/Endpoints/{args.name}", None
    else:
        group, prefix = LOG_GROUPS[args.source], f"{args.name}/"
    params: dict[str, Any] = {"logGroupName": group}
    if prefix:
        params["logStreamNamePrefix"] = prefix
    try:
        streams = logs.describe_log_streams(**params).get("logStreams", [])
    except ClientError as exc:
        if is_not_found(exc) or "ResourceNotFound" in str(exc):
            streams = []
        else:
            raise
    if not streams:
        return ToolResult(
            f"No logs yet for {args.source.replace('_', ' ')} {args.name} (looked in {group}).",
            data={"events": [], "group": group},
        )
    streams.sort(key=lambda s: s.get("lastEventTimestamp") or s.get("creationTime") or 0)
    streams = streams[-5:]
    names = [s["logStreamName"] for s in streams]
    events: list[dict[str, Any]] = []
    if args.contains:
        response = logs.filter_log_events(
            logGroupName=group,
            logStreamNames=names,
            filterPattern=json.dumps(args.contains),
            limit=max(args.lines * 4, 100),
        )
        for event in response.get("events", []):
            events.append({**event, "stream": event.get("logStreamName", "")})
    else:
        for stream in names:
            response = logs.get_log_events(
                logGroupName=group, logStreamName=stream, limit=args.lines, startFromHead=False
            )
            events.extend({**e, "stream": stream} for e in response.get("events", []))
    events.sort(key=lambda e: e.get("timestamp", 0))
    events = events[-args.lines :]
    many = len({e["stream"] for e in events}) > 1
    rendered = []
    for event in events:
        stamp = datetime.fromtimestamp(event.get("timestamp", 0) / 1000, UTC).strftime("%H:%M:%S")
        tag = f"[{event['stream'].split('/')[-1]}] " if many else ""
        rendered.append(f"{stamp} {tag}{str(event.get('message', '')).rstrip()}")
    body = "\n".join(rendered)
    cut = ""
    if len(body) > 6000:
        body = "…" + body[-6000:]
        cut = " (older lines cut)"
    rows = [
        {"timestamp": e.get("timestamp"), "stream": e["stream"], "message": e.get("message", "")}
        for e in events
    ]
    return ToolResult(
        f"Last {len(events)} log lines of {args.name}{cut}:\n{body}",
        data={"events": rows, "group": group, "streams": names},
    )
