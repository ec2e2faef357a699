"""CloudWatch metrics of an endpoint: invocations, errors, latency and instance use over time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.results import ToolResult
from tools.core.validators import SageMakerName

# --- CloudWatch metrics ---------------------------------------------------------------------------
EndpointMetric = Literal[
    "Invocations",
    "Invocation4XXErrors",
    "Invocation5XXErrors",
    "ModelLatency",
    "OverheadLatency",
    "InvocationsPerInstance",
    "CPUUtilization",
    "MemoryUtilization",
    "DiskUtilization",
    "GPUUtilization",
]
COUNT_METRICS = {
    "Invocations",
    "Invocation4XXErrors",
    "Invocation5XXErrors",
    "InvocationsPerInstance",
}
LATENCY_METRICS = {"ModelLatency", "OverheadLatency"}  # microseconds in CloudWatch
INSTANCE_METRICS = {"CPUUtilization", "MemoryUtilization", "DiskUtilization", "GPUUtilization"}
DEFAULT_METRICS: tuple[str, ...] = (
    "Invocations",
    "ModelLatency",
    "Invocation4XXErrors",
    "Invocation5XXErrors",
    "CPUUtilization",
    "MemoryUtilization",
)


def metric_namespace(metric: str) -> str:
    return "/aws/sagemaker/Endpoints" if metric in INSTANCE_METRICS else "AWS/SageMaker"


def metric_unit(metric: str) -> str:
    if metric in LATENCY_METRICS:
        return "ms"
    if metric in INSTANCE_METRICS:
        return "%"
    return "count"


class EndpointMetricsArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    endpoint_name: SageMakerName
    variant_name: Annotated[str, Field(description="Production variant")] = "AllTraffic"
    metrics: Annotated[
        list[EndpointMetric] | None,
        Field(description="Default: traffic, latency, errors, CPU/memory"),
    ] = None
    minutes: Annotated[int, Field(ge=5, le=20160, description="Window ending now")] = 60
    latency_stat: Annotated[
        Literal["Average", "Maximum", "p50", "p90", "p99"], Field(description="Latency statistic")
    ] = "Average"


def period_for(minutes: int) -> int:
    if minutes <= 180:
        return 60
    if minutes <= 1440:
        return 300
    return 3600


@tool(
    name="cloudwatch_get_endpoint_metrics",
    stage="monitoring",
    risk="read",
    operations=("cloudwatch:GetMetricData",),
    phrases=(
        "show endpoint metrics",
        "show invocations for the endpoint",
        "endpoint latency over the last hour",
        "is the endpoint erroring",
        "plot the endpoint traffic",
        "cpu and memory of the endpoint",
    ),
)
def cloudwatch_get_endpoint_metrics(ctx: ToolContext, args: EndpointMetricsArgs) -> ToolResult:
    """Get an endpoint's invocations, latency, 4XX/5XX errors and CPU/memory over a time window."""
    metrics = list(dict.fromkeys(args.metrics or DEFAULT_METRICS))
    period = period_for(args.minutes)
    end = datetime.now(UTC)
    start = end - timedelta(minutes=args.minutes)
    latency_stat = args.latency_stat
    notes = []
    if ctx.aws.is_sandbox and latency_stat.startswith("p"):
        notes.append("the sandbox cannot compute percentiles; latency shows the Average")
        latency_stat = "Average"
    queries = []
    for index, metric in enumerate(metrics):
        if metric in COUNT_METRICS:
            stat = "Sum"
        elif metric in LATENCY_METRICS:
            stat = latency_stat
        else:
            stat = "Average"
        dims = [{"Name": "EndpointName", "Value": args.endpoint_name}]
        dims.append({"Name": "VariantName", "Value": args.variant_name})
        queries.append(
            {
                "Id": f"m{index}",
                "Label": metric,
                "MetricStat": {
                    "Metric": {
                        "Namespace": metric_namespace(metric),
                        "MetricName": metric,
                        "Dimensions": dims,
                    },
                    "Period": period,
                    "Stat": stat,
                },
                "ReturnData": True,
            }
        )
    cw = ctx.client("cloudwatch")
    results: list[dict[str, Any]] = []
    token = None
    while True:
        params: dict[str, Any] = {
            "MetricDataQueries": queries,
            "StartTime": start,
            "EndTime": end,
            "ScanBy": "TimestampAscending",
        }
        if token:
            params["NextToken"] = token
        page = cw.get_metric_data(**params)
        results.extend(page.get("MetricDataResults", []))
        token = page.get("NextToken")
        if not token:
            break
    by_id = {q["Id"]: q["Label"] for q in queries}
    series: dict[str, list[list[float]]] = {m: [] for m in metrics}
    for result in results:
        metric = by_id.get(result.get("Id", ""), result.get("Label", ""))
        scale = 0.001 if metric in LATENCY_METRICS else 1.0
        for ts, value in zip(result.get("Timestamps", []), result.get("Values", []), strict=False):
            series.setdefault(metric, []).append([ts.timestamp(), round(value * scale, 4)])
    summary: dict[str, dict[str, Any]] = {}
    lines = []
    for metric in metrics:
        points = sorted(series.get(metric, []))
        series[metric] = points
        values = [v for _, v in points]
        unit = metric_unit(metric)
        if not values:
            summary[metric] = {"points": 0, "unit": unit}
            continue
        if metric in COUNT_METRICS:
            info = {"total": round(sum(values), 2), "max": max(values)}
            lines.append(f"{metric}: {info['total']:g} total (peak {info['max']:g}/{period}s)")
        else:
            info = {"avg": round(sum(values) / len(values), 3), "max": max(values)}
            lines.append(f"{metric}: avg {info['avg']:g} {unit}, max {info['max']:g} {unit}")
        summary[metric] = {"points": len(values), "unit": unit, **info}
    window = f"last {args.minutes} min, {period}s periods"
    if not lines:
        text = (
            f"No datapoints for {args.endpoint_name} in the {window}. The endpoint may have had no "
            "traffic yet"
            + (
                " (the sandbox puts each invocation's metrics about a second after it)."
                if ctx.aws.is_sandbox
                else "."
            )
        )
    else:
        text = f"{args.endpoint_name}/{args.variant_name}, {window}:\n" + "\n".join(lines)
    if notes:
        text += "\nNote: " + "; ".join(notes)
    return ToolResult(
        text,
        data={
            "series": series,
            "summary": summary,
            "period": period,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "units": {m: metric_unit(m) for m in metrics},
        },
    )
