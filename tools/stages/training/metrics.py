"""A training job's metrics: final values plus their series for the chart — per iteration from
SageMaker Metrics (BatchGetMetrics, what the console's training curves use), else the CloudWatch
time series."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.results import ToolResult
from tools.core.validators import SageMakerName
from tools.stages.training.training_request import METRICS_NAMESPACE


class MetricsArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    job_name: SageMakerName
    metric_names: Annotated[list[str], Field(description="default: all recorded")] = []
    period_s: Annotated[int, Field(ge=1, le=3600)] = 60


def training_metric_series(
    ctx: ToolContext, job_name: str, desc: dict[str, Any], names: list[str], period_s: int
) -> dict[str, list[list[float]]]:
    """CloudWatch series for a job's metrics: {"metric": [[seconds since start, value], ...]}."""
    cw = ctx.client("cloudwatch")
    dims = [{"Name": "Host", "Value": "algo-1"}, {"Name": "TrainingJobName", "Value": job_name}]
    if not names:
        found: list[str] = []
        listed = cw.list_metrics(
            Namespace=METRICS_NAMESPACE,
            Dimensions=[{"Name": "TrainingJobName", "Value": job_name}],
        )
        for metric in listed.get("Metrics", []):
            if metric["MetricName"] not in found:
                found.append(metric["MetricName"])
        names = found
        dims_by_name = {m["MetricName"]: m.get("Dimensions", []) for m in listed.get("Metrics", [])}
    else:
        dims_by_name = {}
    names = names[:10]
    if not names:
        return {}
    start = desc.get("TrainingStartTime") or desc.get("CreationTime") or datetime.now(UTC)
    end = desc.get("TrainingEndTime") or datetime.now(UTC)
    queries = [
        {
            "Id": f"m{i}",
            "Label": name,
            "MetricStat": {
                "Metric": {
                    "Namespace": METRICS_NAMESPACE,
                    "MetricName": name,
                    "Dimensions": dims_by_name.get(name) or dims,
                },
                "Period": period_s,
                "Stat": "Average",
            },
            "ReturnData": True,
        }
        for i, name in enumerate(names)
    ]
    data = cw.get_metric_data(
        MetricDataQueries=queries,
        StartTime=start - timedelta(minutes=10),
        EndTime=end + timedelta(minutes=10),
        ScanBy="TimestampAscending",
    )
    series: dict[str, list[list[float]]] = {}
    for result in data.get("MetricDataResults", []):
        label = result.get("Label") or result["Id"]
        points = sorted(zip(result.get("Timestamps", []), result.get("Values", []), strict=False))
        if points:
            series[label] = [
                [round((ts - start).total_seconds(), 1), float(value)] for ts, value in points
            ]
    return series


def iteration_series(
    ctx: ToolContext, desc: dict[str, Any], names: list[str]
) -> dict[str, list[list[float]]]:
    """{"metric": [[iteration, value], ...]} from SageMaker Metrics; {} when it has none."""
    arn = desc.get("TrainingJobArn")
    if not arn or not names:
        return {}
    queries = [
        {"MetricName": name, "ResourceArn": arn, "MetricStat": "Avg",
         "Period": "IterationNumber", "XAxisType": "IterationNumber"}
        for name in names[:10]
    ]  # fmt: skip
    try:
        results = ctx.client("sagemaker-metrics").batch_get_metrics(MetricQueries=queries)
    except Exception:  # an account or region without the service: CloudWatch still answers
        return {}
    series: dict[str, list[list[float]]] = {}
    for name, result in zip(names, results.get("MetricQueryResults", []), strict=False):
        xs, values = result.get("XAxisValues") or [], result.get("MetricValues") or []
        if result.get("Status") == "Complete" and values:
            series[name] = [[float(x), float(v)] for x, v in zip(xs, values, strict=False)]
    return series


@tool(
    name="sagemaker_get_training_metrics",
    stage="training",
    risk="read",
    operations=(
        "sagemaker:DescribeTrainingJob",
        "sagemaker:BatchGetMetrics",
        "cloudwatch:ListMetrics",
        "cloudwatch:GetMetricData",
    ),
    phrases=(
        "show training metrics",
        "plot the training loss",
        "how did validation auc change",
        "training curves",
    ),
)
def sagemaker_get_training_metrics(ctx: ToolContext, args: MetricsArgs) -> ToolResult:
    """Final metrics of a training job plus its metric series (per iteration, else CloudWatch over time), for plotting."""
    desc = ctx.client("sagemaker").describe_training_job(TrainingJobName=args.job_name)
    final = {m["MetricName"]: m.get("Value") for m in desc.get("FinalMetricDataList", []) or []}
    names = list(args.metric_names) or list(final)
    series = iteration_series(ctx, desc, names)
    x_axis = "iteration"
    if not series:
        series = training_metric_series(
            ctx, args.job_name, desc, list(args.metric_names), args.period_s
        )
        x_axis = "seconds since the start"
    lines = [f"Training job {args.job_name} ({desc.get('TrainingJobStatus')})."]
    if final:
        lines.append("Final: " + ", ".join(f"{k}={v:g}" for k, v in list(final.items())[:12]))
    if series:
        for name, points in list(series.items())[:10]:
            first, last = points[0][1], points[-1][1]
            lines.append(f"{name}: {len(points)} points by {x_axis}, {first:g} → {last:g}")
    else:
        lines.append(
            "No metric time series in CloudWatch yet (they appear a few minutes into training)."
        )
    return ToolResult(
        "\n".join(lines),
        {"job_name": args.job_name, "metrics": final, "series": series, "x_axis": x_axis},
    )
