"""AWS CloudTrail: who changed what (management events), newest first.

The sandbox (moto) has no CloudTrail event history; the tool says so there.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.errors import NotEmulated
from tools.core.results import ToolResult


# --- CloudTrail ------------------------------------------------------------------------------------
class LookupEventsArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resource_name: Annotated[str | None, Field(description="e.g. an endpoint or bucket name")] = (
        None
    )
    event_name: Annotated[str | None, Field(description="e.g. DeleteEndpoint")] = None
    username: Annotated[str | None, Field(description="IAM user or role session")] = None
    hours: Annotated[int, Field(ge=1, le=2160, description="Look back this many hours")] = 24
    max_results: Annotated[int, Field(ge=1, le=50)] = 20


@tool(
    name="cloudtrail_lookup_events",
    stage="monitoring",
    risk="read",
    operations=("cloudtrail:LookupEvents",),
    phrases=(
        "who deleted the endpoint",
        "audit api calls",
        "cloudtrail events",
        "who changed the model",
    ),
)
def cloudtrail_lookup_events(ctx: ToolContext, args: LookupEventsArgs) -> ToolResult:
    """Look up CloudTrail management events by resource name, event name, user and time window."""
    if ctx.aws.is_sandbox:
        raise NotEmulated(
            "CloudTrail event history (LookupEvents)",
            "sagecoach's own audit log (`sagecoach log`) shows every call made in this session.",
        )
    # LookupEvents takes one attribute; the others filter the results here.
    filters = [
        ("EventName", args.event_name),
        ("ResourceName", args.resource_name),
        ("Username", args.username),
    ]
    given = [(k, v) for k, v in filters if v]
    end = datetime.now(UTC)
    params: dict[str, Any] = {
        "StartTime": end - timedelta(hours=args.hours),
        "EndTime": end,
        "MaxResults": 50,
    }
    if given:
        params["LookupAttributes"] = [{"AttributeKey": given[0][0], "AttributeValue": given[0][1]}]
    trail = ctx.client("cloudtrail")
    rows: list[dict[str, Any]] = []
    pages = 0
    while len(rows) < args.max_results and pages < 5:
        response = trail.lookup_events(**params)
        pages += 1
        for event in response.get("Events", []):
            resources = [r.get("ResourceName", "") for r in event.get("Resources", [])]
            row = {
                "time": str(event.get("EventTime", ""))[:19],
                "event": event.get("EventName"),
                "source": event.get("EventSource"),
                "user": event.get("Username"),
                "resources": resources,
                "read_only": event.get("ReadOnly"),
            }
            try:
                detail = json.loads(event.get("CloudTrailEvent") or "{}")
                row["source_ip"] = detail.get("sourceIPAddress")
                row["error"] = detail.get("errorCode")
            except ValueError:
                pass
            if args.event_name and row["event"] != args.event_name:
                continue
            if args.resource_name and not any(args.resource_name in r for r in resources):
                continue
            if args.username and row["user"] != args.username:
                continue
            rows.append(row)
            if len(rows) >= args.max_results:
                break
        token = response.get("NextToken")
        if not token:
            break
        params["NextToken"] = token
    if not rows:
        return ToolResult(
            f"No matching CloudTrail events in the last {args.hours} h.", data={"rows": []}
        )
    lines = [
        f"- {r['time']} {r['event']} by {r['user'] or '?'}"
        f"{' on ' + ', '.join(r['resources'][:2]) if r['resources'] else ''}"
        f"{' (error ' + r['error'] + ')' if r.get('error') else ''}"
        for r in rows
    ]
    return ToolResult(
        f"{len(rows)} CloudTrail events, newest first:\n" + "\n".join(lines), data={"rows": rows}
    )
