"""Stage 5, hyperparameter tuning: SageMaker Automatic Model Tuning (start, describe, list, stop).

`build_tuning_job_request` is the pure request builder the Pipelines tool reuses.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from tools.aws.roles import with_role
from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.errors import ToolError
from tools.core.results import CostEstimate, Resource, ToolResult
from tools.core.validators import check_sagemaker_name
from tools.cost.estimates import estimate_instances
from tools.stages.shared.jobs import newest_first_params
from tools.stages.training.algorithms import ALGORITHMS, Metric, default_objective, get_algorithm
from tools.stages.training.training_request import (
    TrainingDefinition,
    check_typed_hyperparameters,
    generated_name,
    static_hyperparameters,
    training_parts,
)


def check_short_name(name: str) -> str:
    """Tuning and Autopilot job names: SageMaker naming rules, at most 32 characters."""
    check_sagemaker_name(name)
    if len(name) > 32:
        raise ValueError(f"'{name}' is {len(name)} characters; this job name allows at most 32")
    return name


TuningName = Annotated[str, AfterValidator(check_short_name), Field(description="1-32 chars")]


class ParamRange(BaseModel):
    """One hyperparameter range: continuous/integer take min+max, categorical takes values."""

    model_config = ConfigDict(extra="forbid")
    name: str
    type: Literal["continuous", "integer", "categorical"] = "continuous"
    min: float | None = None
    max: float | None = None
    values: Annotated[list[str] | None, Field(max_length=30)] = None
    scaling: Literal["Auto", "Linear", "Logarithmic", "ReverseLogarithmic"] = "Auto"

    @model_validator(mode="after")
    def _shape(self) -> ParamRange:
        if self.type == "categorical":
            if not self.values or self.min is not None or self.max is not None:
                raise ValueError(f"range {self.name}: categorical takes values only")
            return self
        if self.min is None or self.max is None or self.values:
            raise ValueError(f"range {self.name}: {self.type} takes min and max")
        if self.type == "integer":
            if not (float(self.min).is_integer() and float(self.max).is_integer()):
                raise ValueError(f"range {self.name}: integer bounds must be whole numbers")
            if self.scaling == "ReverseLogarithmic":
                raise ValueError(f"range {self.name}: integer ranges cannot scale reverse-log")
        if self.min >= self.max:
            raise ValueError(f"range {self.name}: min must be below max")
        if self.scaling == "Logarithmic" and self.min <= 0:
            raise ValueError(f"range {self.name}: logarithmic scaling needs min > 0")
        if self.scaling == "ReverseLogarithmic" and not (self.min >= 0 and self.max < 1):
            raise ValueError(f"range {self.name}: reverse-logarithmic needs 0 <= min < max < 1")
        return self

    def probes(self) -> list[Any]:
        if self.type == "categorical":
            return list(self.values or [])
        if self.type == "integer":
            return [int(self.min or 0), int(self.max or 0)]
        return [self.min, self.max]


class StartTuningArgs(TrainingDefinition):
    job_name: TuningName | None = None
    ranges: Annotated[list[ParamRange], Field(min_length=1, max_length=30)]
    objective_metric: Annotated[str | None, Field(description="default: per algorithm")] = None
    objective_type: Literal["Maximize", "Minimize"] | None = None
    strategy: Literal["Bayesian", "Random", "Hyperband", "Grid"] = "Bayesian"
    max_jobs: Annotated[int, Field(ge=1, le=750)] = 10
    max_parallel_jobs: Annotated[int, Field(ge=1, le=100)] = 2
    early_stopping: Literal["Off", "Auto"] = "Off"

    @model_validator(mode="after")
    def _tuning(self) -> StartTuningArgs:
        names = [r.name for r in self.ranges]
        if len(set(names)) != len(names):
            raise ValueError("each hyperparameter may have only one range")
        if self.max_parallel_jobs > self.max_jobs:
            raise ValueError(
                f"max_parallel_jobs ({self.max_parallel_jobs}) may not exceed max_jobs ({self.max_jobs})"
            )
        if self.strategy == "Grid" and any(r.type != "categorical" for r in self.ranges):
            raise ValueError("Grid search takes categorical ranges only")
        if self.strategy == "Hyperband" and self.early_stopping != "Off":
            raise ValueError("Hyperband has its own early stopping; set early_stopping Off")
        self._check_against_algorithm()
        self._resolve_objective()
        return self

    def _check_against_algorithm(self) -> None:
        algo = ALGORITHMS.get(self.algorithm)
        if algo is None or algo.typed is None:
            return
        fields = {f.alias or n for n, f in algo.typed.model_fields.items()} | set(
            algo.typed.model_fields
        )
        for r in self.ranges:
            if r.name not in fields:
                raise ValueError(f"range {r.name}: not a {algo.title} hyperparameter")
            for probe in r.probes():
                try:
                    check_typed_hyperparameters(
                        algo.typed, algo.title, {**self.hyperparameters, r.name: probe}
                    )
                except ValueError as exc:
                    raise ValueError(f"range {r.name} value {probe}: {exc}") from None

    def _resolve_objective(self) -> None:
        algo = ALGORITHMS.get(self.algorithm)
        if algo is not None and algo.metrics:
            if self.objective_metric is None:
                metric = default_objective(self.algorithm, static_hyperparameters(self))
                assert metric is not None
            else:
                metric = algo.metric(self.objective_metric)
                if metric is None:
                    raise ValueError(
                        f"{algo.title} does not emit '{self.objective_metric}' "
                        f"(tunable: {', '.join(m.name for m in algo.metrics)})"
                    )
            if self.objective_type and self.objective_type != metric.direction:
                raise ValueError(
                    f"{metric.name} should be {metric.direction}d, not {self.objective_type}d"
                )
            channel = metric.name.split(":", 1)[0]
            if channel == "validation" and not self.validation_s3_uri:
                raise ValueError(f"objective {metric.name} needs validation_s3_uri")
            if channel == "test" and not self.test_s3_uri:
                raise ValueError(f"objective {metric.name} needs test_s3_uri")
            self.objective_metric, self.objective_type = metric.name, metric.direction
            return
        if not self.objective_metric or not self.objective_type:
            raise ValueError(
                "give objective_metric and objective_type (Maximize/Minimize) for this algorithm"
            )
        if self.objective_metric not in {m.name for m in self.metric_definitions}:
            raise ValueError(
                f"objective {self.objective_metric} must be one of metric_definitions "
                "(name + regex the job's log prints)"
            )

    @property
    def total_jobs(self) -> int:
        if self.strategy == "Grid":
            combos = math.prod(len(r.values or []) for r in self.ranges)
            return min(combos, self.max_jobs)
        return self.max_jobs


def _ranges(args: StartTuningArgs) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {
        "ContinuousParameterRanges": [],
        "IntegerParameterRanges": [],
        "CategoricalParameterRanges": [],
    }
    for r in args.ranges:
        if r.type == "continuous":
            out["ContinuousParameterRanges"].append(
                {
                    "Name": r.name,
                    "MinValue": f"{r.min:g}",
                    "MaxValue": f"{r.max:g}",
                    "ScalingType": r.scaling,
                }
            )
        elif r.type == "integer":
            out["IntegerParameterRanges"].append(
                {
                    "Name": r.name,
                    "MinValue": str(int(r.min or 0)),
                    "MaxValue": str(int(r.max or 0)),
                    "ScalingType": r.scaling,
                }
            )
        else:
            out["CategoricalParameterRanges"].append(
                {"Name": r.name, "Values": list(r.values or [])}
            )
    return out


def build_tuning_job_request(
    args: StartTuningArgs, *, region: str, tags: list[dict]
) -> dict[str, Any]:
    """The CreateHyperParameterTuningJob request for these arguments (no AWS call)."""
    name = args.job_name or generated_name("sc-hpo", max_len=32)
    tuned = {r.name for r in args.ranges}
    static = {k: v for k, v in static_hyperparameters(args).items() if k not in tuned}
    definition: dict[str, Any] = {"StaticHyperParameters": static, **training_parts(args, region)}
    config: dict[str, Any] = {
        "Strategy": args.strategy,
        "HyperParameterTuningJobObjective": {
            "Type": args.objective_type,
            "MetricName": args.objective_metric,
        },
        "ResourceLimits": {"MaxParallelTrainingJobs": args.max_parallel_jobs},
        "ParameterRanges": _ranges(args),
        "TrainingJobEarlyStoppingType": args.early_stopping,
    }
    if args.strategy != "Grid":  # Grid runs every combination; AWS takes no job count there
        config["ResourceLimits"]["MaxNumberOfTrainingJobs"] = args.max_jobs
    return {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobConfig": config,
        "TrainingJobDefinition": definition,
        "Tags": list(tags),
    }


def estimate_tuning(args: StartTuningArgs, region: str) -> CostEstimate:
    jobs = args.total_jobs
    est = estimate_instances(
        args.instance_type,
        args.instance_count,
        args.max_hours,
        "training",
        region,
        spot=args.use_spot,
        jobs=jobs,
    )
    waves = math.ceil(jobs / args.max_parallel_jobs)
    note = (
        f"{args.max_parallel_jobs} jobs run at once (parallelism caps speed, not cost); "
        f"wall clock up to ~{waves * args.max_hours:g} h"
    )
    return dataclasses.replace(est, notes=(*est.notes, note))


@tool(
    name="sagemaker_start_tuning_job",
    stage="tuning",
    risk="costly",
    operations=("sagemaker:CreateHyperParameterTuningJob",),
    estimator=estimate_tuning,
    phrases=(
        "tune hyperparameters",
        "start a tuning job",
        "find the best learning rate",
        "hyperparameter search",
        "bayesian optimisation of my model",
    ),
)
def sagemaker_start_tuning_job(ctx: ToolContext, args: StartTuningArgs) -> ToolResult:
    """Start Automatic Model Tuning: runs up to max_jobs training jobs over the ranges and keeps the best by the objective metric."""
    args = with_role(ctx, args, "SageMaker tuning jobs")
    try:
        request = build_tuning_job_request(args, region=ctx.region, tags=ctx.aws.tags())
    except ValueError as exc:
        raise ToolError(str(exc), kind="invalid_arguments") from None
    name = request["HyperParameterTuningJobName"]
    arn = ctx.client("sagemaker").create_hyper_parameter_tuning_job(**request)[
        "HyperParameterTuningJobArn"
    ]
    estimate = estimate_tuning(args, ctx.region)
    label = get_algorithm(args.algorithm).title if args.algorithm in ALGORITHMS else "custom image"
    text = (
        f"Started tuning job {name}: {label}, {args.strategy} over "
        f"{', '.join(r.name for r in args.ranges)}, {args.objective_type.lower() if args.objective_type else ''} "
        f"{args.objective_metric}; {args.total_jobs} jobs, {args.max_parallel_jobs} at a time. "
        f"Cost bound: {estimate.summary()}. Follow it with sagemaker_describe_tuning_job."
    )
    if ctx.aws.is_sandbox:
        text += (
            " Sandbox: its training jobs run here for real (as many at once as the sandbox has "
            "container slots)."
        )
    return ToolResult(
        text,
        {"job_name": name, "arn": arn, "request": request},
        [
            Resource(
                "sagemaker_tuning_job",
                name,
                arn,
                extra={"request": request, "estimate": estimate.to_dict()},
            )
        ],
    )


class TuningNameArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    job_name: TuningName


def _ts(value: Any) -> str:
    return value.isoformat(timespec="seconds") if isinstance(value, datetime) else str(value or "")


@tool(
    name="sagemaker_describe_tuning_job",
    stage="tuning",
    risk="read",
    operations=("sagemaker:DescribeHyperParameterTuningJob",),
    phrases=(
        "how is my tuning job doing",
        "best training job of the tuning job",
        "which hyperparameters won",
        "tuning job status",
    ),
)
def sagemaker_describe_tuning_job(ctx: ToolContext, args: TuningNameArgs) -> ToolResult:
    """Status, job counts by state, and the best training job with its objective value and hyperparameters."""
    desc = ctx.client("sagemaker").describe_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=args.job_name
    )
    best = desc.get("BestTrainingJob") or {}
    objective = best.get("FinalHyperParameterTuningJobObjectiveMetric") or {}
    config = desc.get("HyperParameterTuningJobConfig") or {}
    counters = desc.get("TrainingJobStatusCounters") or {}
    info = {
        "name": desc.get("HyperParameterTuningJobName"),
        "status": desc.get("HyperParameterTuningJobStatus"),
        "strategy": config.get("Strategy"),
        "objective": config.get("HyperParameterTuningJobObjective"),
        "counts": counters,
        "objective_counts": desc.get("ObjectiveStatusCounters") or {},
        "failure_reason": desc.get("FailureReason") or None,
        "best_job": best.get("TrainingJobName"),
        "best_value": objective.get("Value"),
        "best_metric": objective.get("MetricName"),
        "best_hyperparameters": best.get("TunedHyperParameters") or {},
        "ended": _ts(desc.get("HyperParameterTuningEndTime")),
    }
    count_text = ", ".join(f"{k} {v}" for k, v in counters.items() if v)
    lines = [f"Tuning job {info['name']}: {info['status']} ({count_text or 'no jobs yet'})."]
    if info["failure_reason"]:
        lines.append(f"Failure: {info['failure_reason']}")
    if info["best_job"]:
        params = ", ".join(f"{k}={v}" for k, v in info["best_hyperparameters"].items())
        lines.append(
            f"Best: {info['best_job']} with {info['best_metric']}={info['best_value']} [{params}]"
        )
    return ToolResult("\n".join(lines), info)


class ListTuningArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name_contains: str | None = None
    status: Literal["Completed", "InProgress", "Failed", "Stopped", "Stopping"] | None = None
    max_results: Annotated[int, Field(ge=1, le=100)] = 20


@tool(
    name="sagemaker_list_tuning_jobs",
    stage="tuning",
    risk="read",
    operations=("sagemaker:ListHyperParameterTuningJobs",),
    phrases=("list tuning jobs", "show my hyperparameter tuning jobs", "recent tuning jobs"),
)
def sagemaker_list_tuning_jobs(ctx: ToolContext, args: ListTuningArgs) -> ToolResult:
    """List hyperparameter tuning jobs, newest first, with job counts."""
    params = newest_first_params(args.max_results, args.name_contains, args.status)
    page = ctx.client("sagemaker").list_hyper_parameter_tuning_jobs(**params)
    rows = [
        {
            "name": s["HyperParameterTuningJobName"],
            "status": s.get("HyperParameterTuningJobStatus"),
            "strategy": s.get("Strategy"),
            "completed": (s.get("TrainingJobStatusCounters") or {}).get("Completed"),
            "created": _ts(s.get("CreationTime")),
        }
        for s in page.get("HyperParameterTuningJobSummaries", [])
    ][: args.max_results]
    if not rows:
        return ToolResult("No tuning jobs match.", {"rows": []})
    text = "\n".join(
        f"{r['name']}  {r['status']}  {r['strategy']}  {r['completed']} done" for r in rows
    )
    if page.get("NextToken"):
        text += f"\n(first {len(rows)} shown)"
    return ToolResult(f"{len(rows)} tuning jobs:\n{text}", {"rows": rows})


@tool(
    name="sagemaker_stop_tuning_job",
    stage="tuning",
    risk="destructive",
    operations=(
        "sagemaker:DescribeHyperParameterTuningJob",
        "sagemaker:StopHyperParameterTuningJob",
    ),
    phrases=("stop the tuning job", "cancel hyperparameter tuning"),
)
def sagemaker_stop_tuning_job(ctx: ToolContext, args: TuningNameArgs) -> ToolResult:
    """Stop a running tuning job and its running training jobs."""
    sm = ctx.client("sagemaker")
    status = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=args.job_name)[
        "HyperParameterTuningJobStatus"
    ]
    if status != "InProgress":
        return ToolResult(
            f"Tuning job {args.job_name} is {status}; nothing to stop.",
            {"job_name": args.job_name, "status": status, "stopped": False},
        )
    sm.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=args.job_name)
    return ToolResult(
        f"Stop requested for tuning job {args.job_name}; its running training jobs stop too.",
        {"job_name": args.job_name, "status": "Stopping", "stopped": True},
    )


__all__ = ["Metric", "StartTuningArgs", "build_tuning_job_request", "estimate_tuning"]
