"""Comparing training jobs side by side: final metrics, hyperparameters, time and cost."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.errors import ToolError
from tools.core.results import ToolResult
from tools.core.validators import SageMakerName
from tools.stages.training.jobs import summarize_training_job
from tools.stages.training.metrics import training_metric_series

# --- compare ----------------------------------------------------------------------------


class CompareArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    job_names: Annotated[list[SageMakerName], Field(min_length=2, max_length=10)]
    sort_by: Annotated[str | None, Field(description="metric; default: first shared")] = None
    descending: Annotated[bool, Field(description="higher is better")] = True
    include_curves: Annotated[bool, Field(description="CloudWatch series too")] = True


@tool(
    name="sagemaker_compare_training_jobs",
    stage="evaluation",
    risk="read",
    operations=(
        "sagemaker:DescribeTrainingJob",
        "cloudwatch:ListMetrics",
        "cloudwatch:GetMetricData",
    ),
    phrases=(
        "compare training jobs",
        "which model is better",
        "compare my runs side by side",
        "rank jobs by validation auc",
    ),
)
def sagemaker_compare_training_jobs(ctx: ToolContext, args: CompareArgs) -> ToolResult:
    """A table of training jobs' hyperparameters and final metrics, sorted by a metric, with series to plot."""
    sm = ctx.client("sagemaker")
    infos: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for name in dict.fromkeys(args.job_names):
        desc = sm.describe_training_job(TrainingJobName=name)
        infos.append((summarize_training_job(desc), desc))
    metric_names: list[str] = []
    for info, _ in infos:
        for metric in info["metrics"]:
            if metric not in metric_names:
                metric_names.append(metric)
    # Default: the metric most jobs report, validation metrics first.
    ranked = sorted(
        metric_names,
        key=lambda m: (
            -sum(m in i["metrics"] for i, _ in infos),
            not m.startswith("validation:"),
            metric_names.index(m),
        ),
    )
    sort_by = args.sort_by or (ranked[0] if ranked else None)
    if args.sort_by and args.sort_by not in metric_names:
        raise ToolError(
            f"no job reports '{args.sort_by}' (metrics: {', '.join(metric_names) or 'none'})",
            kind="invalid_arguments",
        )

    def key(item: tuple[dict[str, Any], dict[str, Any]]) -> tuple[int, float]:
        value = item[0]["metrics"].get(sort_by) if sort_by else None
        if value is None:
            return (1, 0.0)
        return (0, -float(value) if args.descending else float(value))

    infos.sort(key=key)
    rows = []
    for info, _ in infos:
        rows.append(
            {
                "job": info["name"],
                "status": info["status"],
                "instance": f"{info['instance_count']}×{info['instance_type']}",
                "billable_s": info["billable_seconds"],
                **{
                    f"hp:{k}": v
                    for k, v in info["hyperparameters"].items()
                    if not k.startswith("sagemaker_")
                },
                **{f"metric:{k}": v for k, v in info["metrics"].items()},
            }
        )
    bars = {
        metric: [
            [i, float(info["metrics"][metric])]
            for i, (info, _) in enumerate(infos)
            if metric in info["metrics"]
        ]
        for metric in metric_names[:10]
    }
    series: dict[str, list[list[float]]] = {}
    if args.include_curves:
        for info, desc in infos[:5]:
            for metric, points in training_metric_series(ctx, info["name"], desc, [], 60).items():
                series[f"{info['name']}:{metric}"] = points
    # The text differs only in the hyperparameters that differ, to stay short.
    hp_keys = sorted({k for r in rows for k in r if k.startswith("hp:")})
    varying = [k for k in hp_keys if len({str(r.get(k)) for r in rows}) > 1]
    lines = [f"{len(rows)} jobs sorted by {sort_by or 'nothing (no metric shared)'}:"]
    for rank, row in enumerate(rows, 1):
        metrics = ", ".join(
            f"{m}={row[f'metric:{m}']:g}" for m in metric_names[:5] if f"metric:{m}" in row
        )
        params = ", ".join(f"{k[3:]}={row.get(k)}" for k in varying[:6])
        lines.append(
            f"{rank}. {row['job']} ({row['status']}): {metrics or 'no metrics'}; {params or 'same hyperparameters'}"
        )
    return ToolResult(
        "\n".join(lines),
        {
            "rows": rows,
            "sort_by": sort_by,
            "metrics": metric_names,
            "varying_hyperparameters": [k[3:] for k in varying],
            "bars": bars,
            "series": series,
        },
    )
