"""SageMaker training jobs: start, describe, list and stop."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tools.aws.roles import with_role
from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.errors import ToolError
from tools.core.results import Resource, ToolResult
from tools.core.validators import SageMakerName
from tools.stages.shared.jobs import newest_first_params
from tools.stages.training.algorithms import ALGORITHMS
from tools.stages.training.training_request import (
    StartTrainingArgs,
    algorithm_label,
    build_training_job_request,
    ensure_experiment,
    estimate_training,
    hourly_rate,
)

# --- tools ------------------------------------------------------------------------------


@tool(
    name="sagemaker_start_training_job",
    stage="training",
    risk="costly",
    operations=(
        "sagemaker:CreateTrainingJob",
        "sagemaker:CreateExperiment",
        "sagemaker:CreateTrial",
        "sagemaker:DescribeTrainingJob",
    ),
    estimator=estimate_training,
    phrases=(
        "train a model",
        "start a training job",
        "train xgboost on my data",
        "fit a linear learner",
        "run my sklearn script on sagemaker",
        "train with spot instances",
    ),
)
def sagemaker_start_training_job(ctx: ToolContext, args: StartTrainingArgs) -> ToolResult:
    """Start a SageMaker training job: built-in algorithm (xgboost, linear-learner, kmeans, randomcutforest), sklearn script or custom image; bills per second up to max_runtime_s."""
    args = with_role(ctx, args, "SageMaker training jobs")
    try:
        request = build_training_job_request(args, region=ctx.region, tags=ctx.aws.tags())
    except ValueError as exc:
        raise ToolError(str(exc), kind="invalid_arguments") from None
    name = request["TrainingJobName"]
    resources: list[Resource] = []
    if args.experiment_name:
        resources += ensure_experiment(ctx, args.experiment_name, args.trial_name)
    ctx.report(f"creating training job {name}")
    arn = ctx.client("sagemaker").create_training_job(**request)["TrainingJobArn"]
    estimate = estimate_training(args, ctx.region)
    resources.append(
        Resource(
            "sagemaker_training_job",
            name,
            arn,
            hourly_usd=hourly_rate(args.instance_type, args.instance_count, ctx.region),
            extra={"request": request, "estimate": estimate.to_dict()},
        )
    )
    lines = [
        f"Started training job {name}: {algorithm_label(args)} on {args.instance_count} × "
        f"{args.instance_type}{' (spot)' if args.use_spot else ''}, stops after "
        f"{args.max_runtime_s // 60} min at most. Cost bound: {estimate.summary()}.",
        f"Output: {request['OutputDataConfig']['S3OutputPath']}{name}/output/model.tar.gz",
    ]
    algo = ALGORITHMS.get(args.algorithm)
    if algo and algo.notes:
        lines.append(f"Note: {algo.notes}")
    data: dict[str, Any] = {"job_name": name, "arn": arn, "request": request}
    if args.wait:
        from tools.stages.shared.jobs import wait_for_job

        outcome = wait_for_job(ctx, "training", name, timeout_s=args.max_runtime_s + 900)
        data["status"] = outcome.status
        lines.append(
            f"Status: {outcome.status}"
            + (" (still running when the wait ended)" if outcome.timed_out else "")
        )
    else:
        lines.append("Check it with sagemaker_describe_training_job.")
    return ToolResult("\n".join(lines), data, resources)


class JobNameArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    job_name: SageMakerName


def timestamp_text(value: Any) -> str:
    return value.isoformat(timespec="seconds") if isinstance(value, datetime) else str(value or "")


def summarize_training_job(desc: dict[str, Any]) -> dict[str, Any]:
    """The fields a person looks at, from a DescribeTrainingJob response."""
    resource = desc.get("ResourceConfig", {})
    metrics = {m["MetricName"]: m.get("Value") for m in desc.get("FinalMetricDataList", []) or []}
    return {
        "name": desc.get("TrainingJobName"),
        "status": desc.get("TrainingJobStatus"),
        "secondary_status": desc.get("SecondaryStatus"),
        "failure_reason": desc.get("FailureReason"),
        "image": (desc.get("AlgorithmSpecification") or {}).get("TrainingImage"),
        "instance_type": resource.get("InstanceType"),
        "instance_count": resource.get("InstanceCount"),
        "spot": bool(desc.get("EnableManagedSpotTraining")),
        "billable_seconds": desc.get("BillableTimeInSeconds"),
        "training_seconds": desc.get("TrainingTimeInSeconds"),
        "created": timestamp_text(desc.get("CreationTime")),
        "started": timestamp_text(desc.get("TrainingStartTime")),
        "ended": timestamp_text(desc.get("TrainingEndTime")),
        "artifact": (desc.get("ModelArtifacts") or {}).get("S3ModelArtifacts"),
        "hyperparameters": desc.get("HyperParameters") or {},
        "metrics": metrics,
        "history": [
            {
                "status": t.get("Status"),
                "start": timestamp_text(t.get("StartTime")),
                "end": timestamp_text(t.get("EndTime")),
                "message": t.get("StatusMessage", ""),
            }
            for t in desc.get("SecondaryStatusTransitions", []) or []
        ],
    }


@tool(
    name="sagemaker_describe_training_job",
    stage="training",
    risk="read",
    operations=("sagemaker:DescribeTrainingJob",),
    phrases=(
        "how is my training job doing",
        "has training finished",
        "describe the training job",
        "training job status",
        "where is the model artifact",
        "why did training fail",
    ),
)
def sagemaker_describe_training_job(ctx: ToolContext, args: JobNameArgs) -> ToolResult:
    """Status, status history, billable seconds, final metrics, artifact and failure reason of a training job."""
    desc = ctx.client("sagemaker").describe_training_job(TrainingJobName=args.job_name)
    info = summarize_training_job(desc)
    lines = [f"Training job {info['name']}: {info['status']} ({info['secondary_status']})."]
    if info["failure_reason"]:
        lines.append(f"Failure: {info['failure_reason']}")
    lines.append(
        f"{info['instance_count']} × {info['instance_type']}{' spot' if info['spot'] else ''}; "
        f"billable {info['billable_seconds'] if info['billable_seconds'] is not None else 'n/a'} s."
    )
    if info["metrics"]:
        lines.append(
            "Final metrics: "
            + ", ".join(f"{k}={v:g}" for k, v in list(info["metrics"].items())[:12])
        )
    if info["artifact"]:
        lines.append(f"Model artifact: {info['artifact']}")
    history = info["history"][-5:]
    if history:
        lines.append("History: " + " → ".join(h["status"] for h in history))
    return ToolResult("\n".join(lines), info)


class ListTrainingArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name_contains: str | None = None
    status: Literal["InProgress", "Completed", "Failed", "Stopping", "Stopped"] | None = None
    created_after: Annotated[datetime | None, Field(description="ISO date/time")] = None
    max_results: Annotated[int, Field(ge=1, le=100)] = 20


@tool(
    name="sagemaker_list_training_jobs",
    stage="training",
    risk="read",
    operations=("sagemaker:ListTrainingJobs",),
    phrases=(
        "list my training jobs",
        "show recent training jobs",
        "which training jobs failed",
        "find training jobs named churn",
    ),
)
def sagemaker_list_training_jobs(ctx: ToolContext, args: ListTrainingArgs) -> ToolResult:
    """List training jobs, newest first (filters: name contains, status, created after)."""
    params = newest_first_params(
        args.max_results, args.name_contains, args.status, args.created_after
    )
    page = ctx.client("sagemaker").list_training_jobs(**params)
    rows = [
        {
            "name": s["TrainingJobName"],
            "status": s.get("TrainingJobStatus"),
            "created": timestamp_text(s.get("CreationTime")),
            "ended": timestamp_text(s.get("TrainingEndTime")),
        }
        for s in page.get("TrainingJobSummaries", [])
    ][: args.max_results]
    more = bool(page.get("NextToken"))
    if not rows:
        return ToolResult("No training jobs match.", {"rows": [], "truncated": False})
    text = "\n".join(f"{r['name']}  {r['status']}  {r['created']}" for r in rows)
    if more:
        text += f"\n(first {len(rows)} shown; more exist: narrow the filters)"
    return ToolResult(f"{len(rows)} training jobs:\n{text}", {"rows": rows, "truncated": more})


@tool(
    name="sagemaker_stop_training_job",
    stage="training",
    risk="destructive",
    operations=("sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob"),
    phrases=("stop the training job", "cancel training", "kill my training job"),
)
def sagemaker_stop_training_job(ctx: ToolContext, args: JobNameArgs) -> ToolResult:
    """Stop a running training job (billing stops; the model artifact may be incomplete)."""
    sm = ctx.client("sagemaker")
    status = sm.describe_training_job(TrainingJobName=args.job_name)["TrainingJobStatus"]
    if status not in ("InProgress",):
        return ToolResult(
            f"Training job {args.job_name} is {status}; nothing to stop.",
            {"job_name": args.job_name, "status": status, "stopped": False},
        )
    sm.stop_training_job(TrainingJobName=args.job_name)
    return ToolResult(
        f"Stop requested for training job {args.job_name}; it moves to Stopping, then Stopped.",
        {"job_name": args.job_name, "status": "Stopping", "stopped": True},
    )
