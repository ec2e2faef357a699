"""SageMaker Experiments: create an experiment (and trial); list its runs with parameters and metrics.

Training jobs join an experiment through the training tool's experiment_name / trial_name.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.results import Resource, ToolResult
from tools.core.validators import SageMakerName


class CreateExperimentArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    experiment_name: Annotated[SageMakerName, Field(max_length=120)]
    description: Annotated[str, Field(max_length=3072)] = ""
    trial_name: Annotated[SageMakerName | None, Field(description="also create this trial")] = None


@tool(
    name="experiments_create_experiment",
    stage="training",
    risk="write",
    operations=("sagemaker:CreateExperiment", "sagemaker:CreateTrial"),
    phrases=(
        "create an experiment",
        "track my training runs",
        "group training jobs into an experiment",
    ),
)
def experiments_create_experiment(ctx: ToolContext, args: CreateExperimentArgs) -> ToolResult:
    """Create a SageMaker experiment (and optionally a trial) to group training runs; no charge."""
    sm = ctx.client("sagemaker")
    params: dict[str, Any] = {"ExperimentName": args.experiment_name, "Tags": ctx.aws.tags()}
    if args.description:
        params["Description"] = args.description
    arn = sm.create_experiment(**params)["ExperimentArn"]
    resources = [Resource("sagemaker_experiment", args.experiment_name, arn)]
    text = f"Created experiment {args.experiment_name}."
    if args.trial_name:
        trial_arn = sm.create_trial(
            TrialName=args.trial_name, ExperimentName=args.experiment_name, Tags=ctx.aws.tags()
        )["TrialArn"]
        resources.append(Resource("sagemaker_experiment_trial", args.trial_name, trial_arn))
        text += f" Created trial {args.trial_name} in it."
    text += " Pass experiment_name (and trial_name) to sagemaker_start_training_job to track runs."
    return ToolResult(text, {"experiment_arn": arn}, resources)


class ListRunsArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    experiment_name: Annotated[SageMakerName, Field(max_length=120)]
    max_results: Annotated[int, Field(ge=1, le=50)] = 20


def _metric_value(summary: dict[str, Any]) -> float | None:
    for key in ("Last", "Avg", "Max", "Min"):
        if summary.get(key) is not None:
            return float(summary[key])
    return None


@tool(
    name="experiments_list_runs",
    stage="training",
    risk="read",
    operations=(
        "sagemaker:ListTrials",
        "sagemaker:ListTrialComponents",
        "sagemaker:DescribeTrialComponent",
    ),
    phrases=(
        "list experiment runs",
        "show runs in my experiment",
        "compare runs of an experiment",
        "what did my experiment record",
    ),
)
def experiments_list_runs(ctx: ToolContext, args: ListRunsArgs) -> ToolResult:
    """Runs (trial components) of an experiment with their parameters and metrics."""
    sm = ctx.client("sagemaker")
    trials = sm.list_trials(ExperimentName=args.experiment_name).get("TrialSummaries", [])
    rows: list[dict[str, Any]] = []
    truncated = False
    for trial in trials:
        components = sm.list_trial_components(TrialName=trial["TrialName"]).get(
            "TrialComponentSummaries", []
        )
        for comp in components:
            if len(rows) >= args.max_results:
                truncated = True
                break
            desc = sm.describe_trial_component(TrialComponentName=comp["TrialComponentName"])
            params = {
                k: v.get("StringValue", v.get("NumberValue"))
                for k, v in (desc.get("Parameters") or {}).items()
            }
            metrics = {
                m["MetricName"]: _metric_value(m)
                for m in desc.get("Metrics", []) or []
                if m.get("MetricName")
            }
            rows.append(
                {
                    "trial": trial["TrialName"],
                    "run": comp["TrialComponentName"],
                    "status": (desc.get("Status") or {}).get("PrimaryStatus"),
                    "source": (desc.get("Source") or {}).get("SourceArn"),
                    "parameters": params,
                    "metrics": metrics,
                }
            )
    if not rows:
        return ToolResult(
            f"Experiment {args.experiment_name} has {len(trials)} trials and no recorded runs yet.",
            {"rows": [], "trials": [t["TrialName"] for t in trials]},
        )
    lines = [f"{len(rows)} runs in {args.experiment_name}:"]
    for r in rows:
        metric_text = ", ".join(
            f"{k}={v:g}" for k, v in list(r["metrics"].items())[:6] if v is not None
        )
        param_text = ", ".join(f"{k}={v}" for k, v in list(r["parameters"].items())[:6])
        lines.append(f"{r['trial']}/{r['run']}: {metric_text or 'no metrics'} [{param_text}]")
    if truncated:
        lines.append(f"(first {args.max_results} runs shown)")
    return ToolResult("\n".join(lines), {"rows": rows, "truncated": truncated})
