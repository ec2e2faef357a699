"""Stage 6, model evaluation: compare training jobs, SageMaker Clarify (bias and SHAP
explainability), and Model Monitor baselines. Clarify and baseline jobs are processing jobs with
the region's Clarify / model-monitor images; their analysis config is written to S3 as the SDK does.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from tools.algorithms import retrieve_image
from tools.base import CostEstimate, Resource, ToolContext, ToolError, ToolResult, tool
from tools.pricing import check_instance_for, estimate_instances
from tools.roles import OptionalRoleArn, require_role, with_role
from tools.training.jobs import (
    generated_name,
    summarize_training_job,
    training_metric_series,
)
from tools.validators import InstanceType, S3Uri, SageMakerName, parse_s3_uri

CONFIG_PATH = "/opt/ml/processing/input/config"
DATA_PATH = "/opt/ml/processing/input/data"
OUTPUT_PATH = "/opt/ml/processing/output"
BASELINE_INPUT = "/opt/ml/processing/input/baseline_dataset_input"


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
    if ctx.aws.is_sandbox:
        lines.append("Sandbox: final metrics are moto placeholders.")
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


# --- processing-job plumbing shared by Clarify and Model Monitor ------------------------


def check_processing_instance(value: str) -> str:
    return check_instance_for("processing", value)


ProcessingInstance = Annotated[InstanceType, AfterValidator(check_processing_instance)]


class ProcessingArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    job_name: SageMakerName | None = None
    instance_type: ProcessingInstance = "ml.m5.xlarge"
    instance_count: Annotated[int, Field(ge=1, le=20)] = 1
    volume_size_gb: Annotated[int, Field(ge=1, le=16384)] = 30
    max_runtime_s: Annotated[int, Field(ge=60, le=5 * 24 * 3600)] = 3600
    output_s3_uri: Annotated[
        S3Uri | None, Field(description="default: <data bucket>/sagecoach/...")
    ] = None
    role_arn: OptionalRoleArn = None


def _processing_request(
    args: ProcessingArgs,
    *,
    name: str,
    image: str,
    inputs: list[tuple[str, str, str]],
    output_name: str,
    output_uri: str,
    tags: list[dict],
    environment: dict[str, str] | None = None,
) -> dict[str, Any]:
    request: dict[str, Any] = {
        "ProcessingJobName": name,
        "ProcessingInputs": [
            {
                "InputName": input_name,
                "S3Input": {
                    "S3Uri": uri,
                    "LocalPath": local,
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                    "S3DataDistributionType": "FullyReplicated",
                },
            }
            for input_name, uri, local in inputs
        ],
        "ProcessingOutputConfig": {
            "Outputs": [
                {
                    "OutputName": output_name,
                    "S3Output": {
                        "S3Uri": output_uri,
                        "LocalPath": OUTPUT_PATH,
                        "S3UploadMode": "EndOfJob",
                    },
                }
            ]
        },
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceCount": args.instance_count,
                "InstanceType": args.instance_type,
                "VolumeSizeInGB": args.volume_size_gb,
            }
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": args.max_runtime_s},
        "AppSpecification": {"ImageUri": image},
        "RoleArn": require_role(args.role_arn, "SageMaker processing jobs"),
        "Tags": list(tags),
    }
    if environment:
        request["Environment"] = environment
    return request


def _read_header(ctx: ToolContext, uri: str) -> list[str]:
    bucket, key = parse_s3_uri(uri)
    if not key or key.endswith("/"):
        return []
    body = ctx.client("s3").get_object(Bucket=bucket, Key=key, Range="bytes=0-65535")["Body"]
    first = body.read().decode("utf-8", errors="replace").splitlines()[:1]
    return next(csv.reader(io.StringIO(first[0]))) if first else []


def _output_base(args: ProcessingArgs, data_uri: str, kind: str, name: str) -> str:
    if args.output_s3_uri:
        return args.output_s3_uri.rstrip("/") + f"/{name}"
    bucket, _ = parse_s3_uri(data_uri)
    return f"s3://{bucket}/sagecoach/{kind}/{name}"


def _put_json(ctx: ToolContext, uri: str, payload: dict[str, Any]) -> None:
    bucket, key = parse_s3_uri(uri)
    ctx.client("s3").put_object(
        Bucket=bucket,
        Key=key,
        Body=json.dumps(payload, indent=2).encode(),
        ContentType="application/json",
    )


def _combine(a: CostEstimate, b: CostEstimate | None, note: str) -> CostEstimate:
    if b is None:
        return a
    if not a.known or not b.known:
        return CostEstimate.unknown(f"{a.basis}; plus {b.basis}")
    return CostEstimate(
        round((a.low_usd or 0) + (b.low_usd or 0), 4),
        round((a.high_usd or 0) + (b.high_usd or 0), 4),
        f"{a.basis}; plus {b.basis} ({note})",
        a.source,
        a.price_date,
        notes=a.notes,
    )


# --- Clarify ----------------------------------------------------------------------------

Value = str | int | float


class ClarifyCommon(ProcessingArgs):
    data_s3_uri: Annotated[S3Uri, Field(description="CSV dataset with a header row")]
    label: Annotated[str, Field(min_length=1, description="label column")]
    model_name: Annotated[
        SageMakerName | None, Field(description="model Clarify calls (shadow endpoint)")
    ] = None
    model_instance_type: InstanceType = "ml.m5.xlarge"


class BiasArgs(ClarifyCommon):
    facet: Annotated[str, Field(min_length=1, description="sensitive column")]
    facet_values: Annotated[
        list[Value], Field(description="facet group values; empty = binary/threshold")
    ] = []
    positive_label_values: Annotated[list[Value], Field(min_length=1)] = [1]
    predicted_label: Annotated[
        str | None, Field(description="column with predictions (instead of a model)")
    ] = None
    stage: Literal["pre_training", "post_training", "both"] = "both"

    @model_validator(mode="after")
    def _post(self) -> BiasArgs:
        if self.stage != "pre_training" and not (self.model_name or self.predicted_label):
            raise ValueError(
                "post-training bias needs model_name or predicted_label (or set stage pre_training)"
            )
        return self


def _predictor(args: ClarifyCommon) -> dict[str, Any]:
    return {
        "model_name": args.model_name,
        "instance_type": args.model_instance_type,
        "initial_instance_count": 1,
        "content_type": "text/csv",
        "accept_type": "text/csv",
    }


def build_bias_config(args: BiasArgs, headers: list[str]) -> dict[str, Any]:
    methods: dict[str, Any] = {"report": {"name": "report", "title": "Bias report"}}
    if args.stage in ("pre_training", "both"):
        methods["pre_training_bias"] = {"methods": "all"}
    if args.stage in ("post_training", "both"):
        methods["post_training_bias"] = {"methods": "all"}
    facet: dict[str, Any] = {"name_or_index": args.facet}
    if args.facet_values:
        facet["value_or_threshold"] = list(args.facet_values)
    config: dict[str, Any] = {
        "dataset_type": "text/csv",
        "headers": headers,
        "label": args.label,
        "label_values_or_threshold": list(args.positive_label_values),
        "facet": [facet],
        "methods": methods,
    }
    if args.stage != "pre_training":
        if args.predicted_label:
            config["predicted_label"] = args.predicted_label
        else:
            config["predictor"] = _predictor(args)
    return config


def _check_columns(headers: list[str], columns: dict[str, str | None]) -> None:
    if not headers:
        return
    for role, column in columns.items():
        if column and column not in headers:
            raise ToolError(
                f"{role} column '{column}' is not in the dataset header ({', '.join(headers[:20])})",
                kind="invalid_arguments",
            )


def _shadow_estimate(args: ClarifyCommon, region: str) -> CostEstimate | None:
    if not args.model_name:
        return None
    return estimate_instances(
        args.model_instance_type, 1, args.max_runtime_s / 3600, "hosting", region
    )


def estimate_bias(args: BiasArgs, region: str) -> CostEstimate:
    base = estimate_instances(
        args.instance_type, args.instance_count, args.max_runtime_s / 3600, "processing", region
    )
    shadow = (
        _shadow_estimate(args, region)
        if args.stage != "pre_training" and not args.predicted_label
        else None
    )
    return _combine(base, shadow, "shadow endpoint for the model")


def _start_clarify(
    ctx: ToolContext, args: ClarifyCommon, config: dict[str, Any], kind: str, name: str
) -> tuple[dict[str, Any], str, str]:
    base = _output_base(args, args.data_s3_uri, "clarify", name)
    config_uri = f"{base}/config/analysis_config.json"
    result_uri = f"{base}/output"
    _put_json(ctx, config_uri, config)
    request = _processing_request(
        args,
        name=name,
        image=retrieve_image("clarify", ctx.region),
        inputs=[
            ("analysis_config", config_uri, CONFIG_PATH),
            ("dataset", args.data_s3_uri, DATA_PATH),
        ],
        output_name="analysis_result",
        output_uri=result_uri,
        tags=ctx.aws.tags(),
    )
    arn = ctx.client("sagemaker").create_processing_job(**request)["ProcessingJobArn"]
    return request, arn, result_uri


@tool(
    name="clarify_start_bias_job",
    stage="evaluation",
    risk="costly",
    operations=("s3:GetObject", "s3:PutObject", "sagemaker:CreateProcessingJob"),
    estimator=estimate_bias,
    phrases=(
        "check my data for bias",
        "is my model fair",
        "run a clarify bias report",
        "measure bias for a group",
    ),
)
def clarify_start_bias_job(ctx: ToolContext, args: BiasArgs) -> ToolResult:
    """Start a SageMaker Clarify bias analysis (pre- and/or post-training metrics for a facet) as a processing job."""
    args = with_role(ctx, args, "Clarify jobs")
    headers = _read_header(ctx, args.data_s3_uri)
    _check_columns(
        headers, {"label": args.label, "facet": args.facet, "predicted_label": args.predicted_label}
    )
    name = args.job_name or generated_name("sc-clarify-bias")
    config = build_bias_config(args, headers)
    request, arn, result_uri = _start_clarify(ctx, args, config, "bias", name)
    estimate = estimate_bias(args, ctx.region)
    text = (
        f"Started Clarify bias job {name} ({args.stage.replace('_', '-')} bias of '{args.label}' "
        f"by '{args.facet}'). Results (report.pdf, analysis.json) go to {result_uri}. "
        f"Cost: {estimate.summary()}."
    )
    return ToolResult(
        text,
        {"job_name": name, "arn": arn, "results": result_uri, "analysis_config": config},
        [Resource("sagemaker_processing_job", name, arn, extra={"request": request})],
    )


class ExplainArgs(ClarifyCommon):
    model_name: Annotated[SageMakerName, Field(description="model to explain")]
    baseline: Annotated[
        list[list[Value]] | S3Uri | None,
        Field(description="SHAP baseline rows (features only) or S3 URI; default: Clarify's"),
    ] = None
    num_samples: Annotated[int, Field(ge=1, le=10000)] = 100
    agg_method: Literal["mean_abs", "median", "mean_sq"] = "mean_abs"


def build_explainability_config(args: ExplainArgs, headers: list[str]) -> dict[str, Any]:
    shap: dict[str, Any] = {
        "num_samples": args.num_samples,
        "agg_method": args.agg_method,
        "use_logit": False,
        "save_local_shap_values": True,
    }
    if args.baseline is not None:
        shap["baseline"] = args.baseline
    return {
        "dataset_type": "text/csv",
        "headers": headers,
        "label": args.label,
        "methods": {"shap": shap, "report": {"name": "report", "title": "Explainability report"}},
        "predictor": _predictor(args),
    }


def estimate_explain(args: ExplainArgs, region: str) -> CostEstimate:
    base = estimate_instances(
        args.instance_type, args.instance_count, args.max_runtime_s / 3600, "processing", region
    )
    return _combine(base, _shadow_estimate(args, region), "shadow endpoint for the model")


@tool(
    name="clarify_start_explainability_job",
    stage="evaluation",
    risk="costly",
    operations=("s3:GetObject", "s3:PutObject", "sagemaker:CreateProcessingJob"),
    estimator=estimate_explain,
    phrases=(
        "explain my model",
        "feature importance with shap",
        "which features matter most",
        "run a clarify explainability report",
    ),
)
def clarify_start_explainability_job(ctx: ToolContext, args: ExplainArgs) -> ToolResult:
    """Start a SageMaker Clarify SHAP explainability analysis of a model as a processing job."""
    args = with_role(ctx, args, "Clarify jobs")
    headers = _read_header(ctx, args.data_s3_uri)
    _check_columns(headers, {"label": args.label})
    if isinstance(args.baseline, list) and headers:
        width = len(headers) - 1
        bad = [row for row in args.baseline if len(row) != width]
        if bad:
            raise ToolError(
                f"each baseline row needs {width} values (the features, without the label)",
                kind="invalid_arguments",
            )
    name = args.job_name or generated_name("sc-clarify-shap")
    config = build_explainability_config(args, headers)
    request, arn, result_uri = _start_clarify(ctx, args, config, "explainability", name)
    estimate = estimate_explain(args, ctx.region)
    text = (
        f"Started Clarify explainability job {name} for model {args.model_name} "
        f"(SHAP, {args.num_samples} samples). Results (report, global and local SHAP values) go "
        f"to {result_uri}. Cost: {estimate.summary()}."
    )
    return ToolResult(
        text,
        {"job_name": name, "arn": arn, "results": result_uri, "analysis_config": config},
        [Resource("sagemaker_processing_job", name, arn, extra={"request": request})],
    )


class BiasDefinitionArgs(ProcessingArgs):
    definition_name: SageMakerName
    endpoint_name: SageMakerName
    ground_truth_s3_uri: Annotated[S3Uri, Field(description="ground-truth labels prefix")]
    headers: Annotated[list[str], Field(min_length=2, description="dataset columns")]
    label: str
    facet: str
    facet_values: list[Value] = []
    positive_label_values: Annotated[list[Value], Field(min_length=1)] = [1]
    probability_threshold: Annotated[float | None, Field(ge=0, le=1)] = None

    @model_validator(mode="after")
    def _cols(self) -> BiasDefinitionArgs:
        for role, col in (("label", self.label), ("facet", self.facet)):
            if col not in self.headers:
                raise ValueError(f"{role} '{col}' is not in headers")
        return self


@tool(
    name="clarify_create_bias_job_definition",
    stage="evaluation",
    risk="write",
    operations=("s3:PutObject", "sagemaker:CreateModelBiasJobDefinition"),
    phrases=(
        "monitor bias of my endpoint",
        "create a bias monitoring definition",
        "set up clarify bias monitoring",
    ),
)
def clarify_create_bias_job_definition(ctx: ToolContext, args: BiasDefinitionArgs) -> ToolResult:
    """Create a model-bias job definition for monitoring an endpoint later (no charge until scheduled)."""
    args = with_role(ctx, args, "Clarify monitoring jobs")
    bucket, _ = parse_s3_uri(args.ground_truth_s3_uri)
    base = (
        args.output_s3_uri.rstrip("/")
        if args.output_s3_uri
        else f"s3://{bucket}/sagecoach/bias-monitor"
    ) + f"/{args.definition_name}"
    facet: dict[str, Any] = {"name_or_index": args.facet}
    if args.facet_values:
        facet["value_or_threshold"] = list(args.facet_values)
    config = {
        "dataset_type": "text/csv",
        "headers": list(args.headers),
        "label": args.label,
        "label_values_or_threshold": list(args.positive_label_values),
        "facet": [facet],
        "methods": {"post_training_bias": {"methods": "all"}},
    }
    config_uri = f"{base}/analysis_config.json"
    _put_json(ctx, config_uri, config)
    endpoint_input: dict[str, Any] = {
        "EndpointName": args.endpoint_name,
        "LocalPath": "/opt/ml/processing/input/endpoint",
        "S3InputMode": "File",
        "S3DataDistributionType": "FullyReplicated",
    }
    if args.probability_threshold is not None:
        endpoint_input["ProbabilityThresholdAttribute"] = args.probability_threshold
    request = {
        "JobDefinitionName": args.definition_name,
        "ModelBiasAppSpecification": {
            "ImageUri": retrieve_image("clarify", ctx.region),
            "ConfigUri": config_uri,
        },
        "ModelBiasJobInput": {
            "EndpointInput": endpoint_input,
            "GroundTruthS3Input": {"S3Uri": args.ground_truth_s3_uri},
        },
        "ModelBiasJobOutputConfig": {
            "MonitoringOutputs": [
                {
                    "S3Output": {
                        "S3Uri": f"{base}/reports",
                        "LocalPath": OUTPUT_PATH,
                        "S3UploadMode": "EndOfJob",
                    }
                }
            ]
        },
        "JobResources": {
            "ClusterConfig": {
                "InstanceCount": args.instance_count,
                "InstanceType": args.instance_type,
                "VolumeSizeInGB": args.volume_size_gb,
            }
        },
        "RoleArn": require_role(args.role_arn, "Clarify monitoring jobs"),
        "StoppingCondition": {"MaxRuntimeInSeconds": min(args.max_runtime_s, 3600)},
        "Tags": ctx.aws.tags(),
    }
    arn = ctx.client("sagemaker").create_model_bias_job_definition(**request)["JobDefinitionArn"]
    return ToolResult(
        f"Created bias job definition {args.definition_name} for endpoint {args.endpoint_name} "
        f"(analysis config {config_uri}). Schedule it with a monitoring schedule to run it.",
        {"definition_name": args.definition_name, "arn": arn, "analysis_config": config},
        [
            Resource(
                "sagemaker_model_bias_job_definition",
                args.definition_name,
                arn,
                extra={"request": request},
            )
        ],
    )


# --- Model Monitor baseline -------------------------------------------------------------


class BaselineArgs(ProcessingArgs):
    dataset_s3_uri: Annotated[S3Uri, Field(description="training/baseline CSV")]
    header: Annotated[bool, Field(description="CSV has a header row")] = True


def estimate_baseline(args: BaselineArgs, region: str) -> CostEstimate:
    return estimate_instances(
        args.instance_type, args.instance_count, args.max_runtime_s / 3600, "processing", region
    )


@tool(
    name="monitor_suggest_baseline",
    stage="evaluation",
    risk="costly",
    operations=("sagemaker:CreateProcessingJob",),
    estimator=estimate_baseline,
    phrases=(
        "suggest a baseline",
        "compute data statistics and constraints",
        "create a model monitor baseline",
        "baseline for data drift",
    ),
)
def monitor_suggest_baseline(ctx: ToolContext, args: BaselineArgs) -> ToolResult:
    """Compute statistics and constraints of a dataset with the Model Monitor analyzer (a processing job), the baseline for drift monitoring."""
    args = with_role(ctx, args, "Model Monitor baseline jobs")
    name = args.job_name or generated_name("sc-baseline")
    base = _output_base(args, args.dataset_s3_uri, "baselines", name)
    dataset_format = {"csv": {"header": args.header, "output_columns_position": "START"}}
    request = _processing_request(
        args,
        name=name,
        image=retrieve_image("model-monitor", ctx.region),
        inputs=[("baseline_dataset_input", args.dataset_s3_uri, BASELINE_INPUT)],
        output_name="monitoring_output",
        output_uri=base,
        tags=ctx.aws.tags(),
        environment={
            "dataset_format": json.dumps(dataset_format),
            "dataset_source": BASELINE_INPUT,
            "output_path": OUTPUT_PATH,
            "publish_cloudwatch_metrics": "Disabled",
        },
    )
    arn = ctx.client("sagemaker").create_processing_job(**request)["ProcessingJobArn"]
    estimate = estimate_baseline(args, ctx.region)
    return ToolResult(
        f"Started baseline job {name} on {args.dataset_s3_uri}. statistics.json and "
        f"constraints.json go to {base}/. Cost: {estimate.summary()}.",
        {
            "job_name": name,
            "arn": arn,
            "statistics": f"{base}/statistics.json",
            "constraints": f"{base}/constraints.json",
        },
        [Resource("sagemaker_processing_job", name, arn, extra={"request": request})],
    )


__all__ = ["build_bias_config", "build_explainability_config"]
