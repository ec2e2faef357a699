"""SageMaker Autopilot (AutoML v2) for tabular data: start, describe, list candidates."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from tools.aws.roles import OptionalRoleArn, require_role, with_role
from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.errors import ToolError
from tools.core.results import CostEstimate, Resource, ToolResult
from tools.core.validators import S3Uri, check_sagemaker_name, parse_s3_uri
from tools.cost.prices import instance_hourly
from tools.stages.training.training_request import default_output_uri, generated_name


def check_short_name(name: str) -> str:
    """Autopilot job names: SageMaker naming rules, at most 32 characters."""
    check_sagemaker_name(name)
    if len(name) > 32:
        raise ValueError(f"'{name}' is {len(name)} characters; this job name allows at most 32")
    return name


ProblemType = Literal["BinaryClassification", "MulticlassClassification", "Regression"]
AutopilotMetric = Literal[
    "Accuracy", "BalancedAccuracy", "AUC", "F1", "F1macro", "Precision", "PrecisionMacro",
    "Recall", "RecallMacro", "MSE", "RMSE", "MAE", "R2",
]  # fmt: skip
# Tabular objectives by problem type (LogLoss is reported, never an objective).
OBJECTIVES: dict[str, tuple[str, ...]] = {
    "BinaryClassification": ("Accuracy", "AUC", "BalancedAccuracy", "F1", "Precision", "Recall"),
    "MulticlassClassification": (
        "Accuracy", "BalancedAccuracy", "F1macro", "PrecisionMacro", "RecallMacro",
    ),
    "Regression": ("MAE", "MSE", "R2", "RMSE"),
}  # fmt: skip
# Autopilot picks its own instances; the estimate assumes this many of these at once.
ASSUMED_INSTANCES = ("ml.m5.xlarge", "ml.m5.4xlarge")
ASSUMED_PARALLEL = 4


class StartAutopilotArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data_s3_uri: Annotated[S3Uri, Field(description="CSV with a header row")]
    target_column: Annotated[str, Field(min_length=1)]
    job_name: Annotated[str, AfterValidator(check_short_name)] | None = None
    problem_type: ProblemType | None = None
    objective_metric: AutopilotMetric | None = None
    max_candidates: Annotated[int, Field(ge=1, le=750)] = 10
    max_runtime_per_job_s: Annotated[int, Field(ge=600, le=259200)] = 1800
    max_total_runtime_s: Annotated[int, Field(ge=3600, le=2592000)] = 14400
    mode: Literal["AUTO", "ENSEMBLING", "HYPERPARAMETER_TUNING"] = "AUTO"
    output_s3_uri: S3Uri | None = None
    role_arn: OptionalRoleArn = None

    @model_validator(mode="after")
    def _objective(self) -> StartAutopilotArgs:
        if self.objective_metric is None:
            return self
        if self.problem_type is None:
            raise ValueError(
                "objective_metric needs problem_type (AWS refuses an objective without one): "
                "BinaryClassification, MulticlassClassification or Regression"
            )
        if self.objective_metric not in OBJECTIVES[self.problem_type]:
            raise ValueError(
                f"{self.objective_metric} is not an objective for {self.problem_type} "
                f"(use one of {', '.join(OBJECTIVES[self.problem_type])})"
            )
        return self


def estimate_autopilot(args: StartAutopilotArgs, region: str) -> CostEstimate:
    hours = args.max_total_runtime_s / 3600
    low_q = instance_hourly(ASSUMED_INSTANCES[0], "training", region)
    high_q = instance_hourly(ASSUMED_INSTANCES[1], "training", region)
    if low_q is None or high_q is None:
        return CostEstimate.unknown(f"Autopilot for up to {hours:g} h; no price for {region}")
    low = low_q.usd * min(hours, 1.0)
    high = high_q.usd * ASSUMED_PARALLEL * hours
    return CostEstimate(
        round(low, 4),
        round(high, 4),
        f"Autopilot has no fee of its own; its jobs bill as training/processing. Assumed 1 × "
        f"{ASSUMED_INSTANCES[0]} for 1 h up to {ASSUMED_PARALLEL} × {ASSUMED_INSTANCES[1]} × "
        f"{hours:g} h (max_total_runtime_s)",
        low_q.source,
        low_q.price_date,
        notes=("Autopilot chooses the instance types itself", "a deployed endpoint bills extra"),
    )


def _csv_header_and_values(ctx: ToolContext, uri: str, column: str) -> tuple[list[str], list[str]]:
    """The header and up to ~2,000 sample values of one column, from the first 256 KB."""
    bucket, key = parse_s3_uri(uri)
    if not key or key.endswith("/"):
        return [], []
    body = ctx.client("s3").get_object(Bucket=bucket, Key=key, Range="bytes=0-262143")["Body"]
    text = body.read().decode("utf-8", errors="replace")
    lines = text.splitlines()
    if len(text) >= 262144 and lines:
        lines = lines[:-1]  # the last line may be cut
    rows = list(csv.reader(io.StringIO("\n".join(lines))))
    if not rows:
        return [], []
    header = rows[0]
    if column not in header:
        return header, []
    index = header.index(column)
    return header, [r[index] for r in rows[1:] if len(r) > index and r[index] != ""]


def guess_problem_type(values: list[str]) -> ProblemType:
    distinct = set(values)
    numeric = all(_is_number(v) for v in distinct)
    if len(distinct) <= 2:
        return "BinaryClassification"
    if not numeric or (len(distinct) <= 20 and all(float(v).is_integer() for v in distinct)):
        return "MulticlassClassification"
    return "Regression"


def _is_number(value: str) -> bool:
    try:
        float(value)
        return True
    except ValueError:
        return False


def build_autopilot_request(
    args: StartAutopilotArgs, problem_type: str | None, *, tags: list[dict]
) -> dict[str, Any]:
    role = require_role(args.role_arn, "Autopilot jobs")
    name = args.job_name or generated_name("sc-automl", max_len=32)
    tabular: dict[str, Any] = {
        "TargetAttributeName": args.target_column,
        "CompletionCriteria": {
            "MaxCandidates": args.max_candidates,
            "MaxRuntimePerTrainingJobInSeconds": args.max_runtime_per_job_s,
            "MaxAutoMLJobRuntimeInSeconds": args.max_total_runtime_s,
        },
        "Mode": args.mode,
    }
    if problem_type:
        tabular["ProblemType"] = problem_type
    request: dict[str, Any] = {
        "AutoMLJobName": name,
        "AutoMLJobInputDataConfig": [
            {
                "ChannelType": "training",
                "ContentType": "text/csv;header=present",
                "CompressionType": "None",
                "DataSource": {
                    "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": args.data_s3_uri}
                },
            }
        ],
        "OutputDataConfig": {
            "S3OutputPath": args.output_s3_uri
            or default_output_uri(args.data_s3_uri) + "autopilot/"
        },
        "AutoMLProblemTypeConfig": {"TabularJobConfig": tabular},
        "RoleArn": role,
        "Tags": list(tags),
    }
    if args.objective_metric:
        request["AutoMLJobObjective"] = {"MetricName": args.objective_metric}
    return request


@tool(
    name="autopilot_start_job",
    stage="training",
    risk="costly",
    operations=("s3:GetObject", "sagemaker:CreateAutoMLJobV2"),
    estimator=estimate_autopilot,
    phrases=(
        "use autopilot",
        "automl on my csv",
        "find the best model automatically",
        "start an automl job",
        "let sagemaker pick the algorithm",
    ),
)
def autopilot_start_job(ctx: ToolContext, args: StartAutopilotArgs) -> ToolResult:
    """Start an Autopilot (AutoML v2) job on a tabular CSV: it tries algorithms and tunes them; candidates bill as training jobs."""
    args = with_role(ctx, args, "Autopilot jobs")
    header, values = _csv_header_and_values(ctx, args.data_s3_uri, args.target_column)
    if header and args.target_column not in header:
        raise ToolError(
            f"target column '{args.target_column}' is not in the CSV header "
            f"({', '.join(header[:20])})",
            kind="invalid_arguments",
        )
    problem_type = args.problem_type
    notes: list[str] = []
    if problem_type is None and values:
        # Autopilot infers the problem type from the target; say what the data suggests.
        notes.append(
            f"Autopilot infers the problem type from '{args.target_column}' "
            f"({len(set(values))} distinct values in the first rows: it looks like "
            f"{guess_problem_type(values)})."
        )
    request = build_autopilot_request(args, problem_type, tags=ctx.aws.tags())
    name = request["AutoMLJobName"]
    arn = ctx.client("sagemaker").create_auto_ml_job_v2(**request)["AutoMLJobArn"]
    estimate = estimate_autopilot(args, ctx.region)
    lines = [
        f"Started Autopilot job {name} on {args.data_s3_uri} (target '{args.target_column}', "
        f"{problem_type or 'problem type inferred by Autopilot'}, up to {args.max_candidates} "
        f"candidates, {args.max_total_runtime_s // 3600} h at most). Cost: {estimate.summary()}.",
        *notes,
        "Follow it with autopilot_describe_job; autopilot_list_candidates ranks the candidates.",
    ]
    if ctx.aws.is_sandbox:
        lines.append(
            "Sandbox: Autopilot trains a handful of real candidates (XGBoost settings and Linear "
            "Learner, at most 4) on a split of the data."
        )
    return ToolResult(
        "\n".join(lines),
        {"job_name": name, "arn": arn, "problem_type": problem_type, "request": request},
        [Resource("sagemaker_automl_job", name, arn, extra={"request": request})],
    )


class AutopilotNameArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    job_name: Annotated[str, AfterValidator(check_short_name)]


@tool(
    name="autopilot_describe_job",
    stage="training",
    risk="read",
    operations=("sagemaker:DescribeAutoMLJobV2",),
    phrases=("how is autopilot doing", "autopilot status", "best autopilot candidate"),
)
def autopilot_describe_job(ctx: ToolContext, args: AutopilotNameArgs) -> ToolResult:
    """Status of an Autopilot job and its best candidate with the objective metric."""
    desc = ctx.client("sagemaker").describe_auto_ml_job_v2(AutoMLJobName=args.job_name)
    best = desc.get("BestCandidate") or {}
    metric = best.get("FinalAutoMLJobObjectiveMetric") or {}
    resolved = desc.get("ResolvedAttributes") or {}
    tabular = (resolved.get("AutoMLProblemTypeResolvedAttributes") or {}).get(
        "TabularResolvedAttributes"
    ) or {}
    config = (desc.get("AutoMLProblemTypeConfig") or {}).get("TabularJobConfig") or {}
    objective = (resolved.get("AutoMLJobObjective") or desc.get("AutoMLJobObjective") or {}).get(
        "MetricName"
    )
    candidate_metrics = (best.get("CandidateProperties") or {}).get("CandidateMetrics") or []
    containers = best.get("InferenceContainers") or []
    info = {
        "name": desc.get("AutoMLJobName"),
        "status": desc.get("AutoMLJobStatus"),
        "secondary_status": desc.get("AutoMLJobSecondaryStatus"),
        "problem_type": tabular.get("ProblemType") or config.get("ProblemType"),
        "objective": objective,
        "failure_reason": desc.get("FailureReason"),
        "best_candidate": best.get("CandidateName"),
        "best_metric": {"name": metric.get("MetricName"), "value": metric.get("Value")}
        if metric
        else None,
        "metrics": {m["MetricName"]: round(float(m["Value"]), 4) for m in candidate_metrics},
        "inference_images": [c.get("Image") for c in containers],
    }
    lines = [
        f"Autopilot job {info['name']}: {info['status']} ({info['secondary_status']}), "
        f"problem {info['problem_type'] or 'not resolved yet'}, objective "
        f"{info['objective'] or 'not resolved yet'}."
    ]
    if info["failure_reason"]:
        lines.append(f"Failure: {info['failure_reason']}")
    if info["best_candidate"]:
        lines.append(
            f"Best candidate: {info['best_candidate']}"
            + (f" ({metric.get('MetricName')}={metric.get('Value'):.4g})" if metric else "")
        )
        others = ", ".join(f"{k} {v}" for k, v in info["metrics"].items() if k != objective)
        if others:
            lines.append(f"Its validation metrics: {others}.")
        lines.append(
            "Deploy it with autopilot_create_model, then sagemaker_create_endpoint; "
            "autopilot_list_candidates shows the ranking."
        )
    elif info["status"] == "InProgress":
        lines.append("No candidate has finished yet; ask again in a moment.")
    return ToolResult("\n".join(lines), info)


class CandidatesArgs(AutopilotNameArgs):
    max_results: Annotated[int, Field(ge=1, le=100)] = 10
    status: Literal["Completed", "InProgress", "Failed", "Stopped", "Stopping"] | None = None


@tool(
    name="autopilot_list_candidates",
    stage="training",
    risk="read",
    operations=("sagemaker:ListCandidatesForAutoMLJob",),
    phrases=("list autopilot candidates", "compare autopilot models", "autopilot leaderboard"),
)
def autopilot_list_candidates(ctx: ToolContext, args: CandidatesArgs) -> ToolResult:
    """Autopilot candidates ranked by the objective metric (a leaderboard)."""
    params: dict[str, Any] = {
        "AutoMLJobName": args.job_name,
        "SortBy": "FinalObjectiveMetricValue",
        "MaxResults": args.max_results,
    }
    if args.status:
        params["StatusEquals"] = args.status
    page = ctx.client("sagemaker").list_candidates_for_auto_ml_job(**params)
    rows = []
    for cand in page.get("Candidates", [])[: args.max_results]:
        metric = cand.get("FinalAutoMLJobObjectiveMetric") or {}
        others = (cand.get("CandidateProperties") or {}).get("CandidateMetrics") or []
        rows.append(
            {
                "candidate": cand.get("CandidateName"),
                "status": cand.get("CandidateStatus"),
                "metric": metric.get("MetricName"),
                "value": metric.get("Value"),
                "steps": len(cand.get("CandidateSteps", []) or []),
                **{
                    m["MetricName"]: round(float(m["Value"]), 4)
                    for m in others
                    if m.get("MetricName") != metric.get("MetricName")
                },
            }
        )
    if not rows:
        return ToolResult(f"No candidates yet for {args.job_name}.", {"rows": []})
    text = "\n".join(
        f"{i + 1}. {r['candidate']}  {r['status']}  {r['metric']}="
        + (f"{r['value']:.4g}" if isinstance(r["value"], (int, float)) else str(r["value"]))
        for i, r in enumerate(rows)
    )
    more = "\n(more candidates exist)" if page.get("NextToken") else ""
    return ToolResult(
        f"{len(rows)} candidates of {args.job_name}:\n{text}{more}",
        {"rows": rows, "truncated": bool(page.get("NextToken"))},
    )
