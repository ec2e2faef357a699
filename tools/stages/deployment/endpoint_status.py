"""Reading endpoints: one endpoint's status, variants and cost, and the list of endpoints."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field

from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.explain import is_not_found
from tools.core.results import ToolResult
from tools.core.validators import SageMakerName
from tools.cost.estimates import usd
from tools.ledger.store import parse_time
from tools.stages.deployment.endpoint_config import config_hourly


def hours_since(value: Any, now: datetime | None = None) -> float | None:
    """Hours from an AWS timestamp to now (None when it cannot be read)."""
    start = parse_time(value)
    if start is None:
        return None
    return max(0.0, ((now or datetime.now(UTC)) - start).total_seconds() / 3600)


# --- sagemaker_describe_endpoint / sagemaker_list_endpoints ------------------------------------
class DescribeEndpointArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    endpoint_name: SageMakerName


def endpoint_summary(ctx: ToolContext, name: str) -> dict[str, Any]:
    sm = ctx.client("sagemaker")
    desc = sm.describe_endpoint(EndpointName=name)
    config: dict[str, Any] = {}
    try:
        config = sm.describe_endpoint_config(EndpointConfigName=desc["EndpointConfigName"])
    except ClientError as exc:
        if not is_not_found(exc):
            raise
    hourly, kind = config_hourly(config, ctx.region) if config else (None, "unknown")
    variants = []
    for variant in config.get("ProductionVariants", []):
        serverless = variant.get("ServerlessConfig")
        variants.append(
            {
                "variant": variant.get("VariantName"),
                "model": variant.get("ModelName"),
                "instance_type": variant.get("InstanceType")
                or (f"serverless {serverless['MemorySizeInMB']} MB" if serverless else None),
                "count": variant.get("InitialInstanceCount"),
                "weight": variant.get("InitialVariantWeight"),
            }
        )
    running = hours_since(desc.get("CreationTime"))
    capture = desc.get("DataCaptureConfig") or {}
    return {
        "name": name,
        "arn": desc.get("EndpointArn"),
        "status": desc.get("EndpointStatus"),
        "failure_reason": desc.get("FailureReason") or None,
        "config": desc.get("EndpointConfigName"),
        "type": kind,
        "variants": variants,
        "created": str(desc.get("CreationTime", ""))[:19],
        "hours_running": round(running, 2) if running is not None else None,
        "hourly_usd": hourly,
        "cost_so_far_usd": round(hourly * running, 4) if hourly and running is not None else None,
        "data_capture": bool(capture.get("EnableCapture")),
        "capture_s3_uri": capture.get("DestinationS3Uri"),
    }


@tool(
    name="sagemaker_describe_endpoint",
    stage="deployment",
    risk="read",
    operations=("sagemaker:DescribeEndpoint", "sagemaker:DescribeEndpointConfig"),
    phrases=("is the endpoint ready", "endpoint status", "describe the endpoint"),
)
def sagemaker_describe_endpoint(ctx: ToolContext, args: DescribeEndpointArgs) -> ToolResult:
    """Show an endpoint's status, variants, data capture, hours running and hourly cost."""
    info = endpoint_summary(ctx, args.endpoint_name)
    variants = "; ".join(
        f"{v['variant']}: {v['model']} on {v['count'] or ''}{' × ' if v['count'] else ''}{v['instance_type']}"
        for v in info["variants"]
    )
    cost = (
        f"{usd(info['hourly_usd'])}/h, about {usd(info['cost_so_far_usd'])} so far"
        if info["hourly_usd"]
        else "billed per use"
    )
    failure = f" Failure: {info['failure_reason']}." if info["failure_reason"] else ""
    text = (
        f"{info['name']}: {info['status']} ({info['type']}), running {info['hours_running']} h, "
        f"{cost}. Variants: {variants or '-'}. Data capture: "
        f"{'on → ' + str(info['capture_s3_uri']) if info['data_capture'] else 'off'}.{failure}"
    )
    return ToolResult(text, data=info)


class ListEndpointsArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Annotated[
        Literal["InService", "Creating", "Updating", "Failed", "OutOfService"] | None,
        Field(description="Only endpoints in this status"),
    ] = None
    max_results: Annotated[int, Field(ge=1, le=50)] = 20


@tool(
    name="sagemaker_list_endpoints",
    stage="deployment",
    risk="read",
    operations=(
        "sagemaker:ListEndpoints",
        "sagemaker:DescribeEndpoint",
        "sagemaker:DescribeEndpointConfig",
    ),
    phrases=(
        "list my endpoints",
        "what endpoints are running",
        "which endpoints cost money",
        "show deployed models",
    ),
)
def sagemaker_list_endpoints(ctx: ToolContext, args: ListEndpointsArgs) -> ToolResult:
    """List endpoints with how long each has run and what it costs per hour."""
    params: dict[str, Any] = {
        "SortBy": "CreationTime",
        "SortOrder": "Descending",
        "MaxResults": args.max_results,
    }
    if args.status:
        params["StatusEquals"] = args.status
    response = ctx.client("sagemaker").list_endpoints(**params)
    rows = []
    for summary in response.get("Endpoints", []):
        try:
            rows.append(endpoint_summary(ctx, summary["EndpointName"]))
        except ClientError as exc:
            if not is_not_found(exc):
                raise
    if not rows:
        return ToolResult("No endpoints.", data={"rows": []})
    hourly_total = sum(r["hourly_usd"] or 0 for r in rows if r["status"] == "InService")
    lines = [
        f"- {r['name']}: {r['status']}, {r['type']}, {r['hours_running']} h, "
        f"{usd(r['hourly_usd']) + '/h' if r['hourly_usd'] else 'per use'}"
        for r in rows
    ]
    more = " (more exist)" if response.get("NextToken") else ""
    text = (
        f"{len(rows)} endpoints{more}; running ones cost {usd(hourly_total)}/h "
        f"(${hourly_total * 24:,.2f}/day):\n" + "\n".join(lines)
    )
    return ToolResult(text, data={"rows": rows, "hourly_usd": round(hourly_total, 4)})
