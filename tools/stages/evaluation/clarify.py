"""SageMaker Clarify: pre- and post-training bias, SHAP explainability, and bias monitoring
job definitions, run as processing jobs with the region's Clarify image.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from tools.aws.roles import require_role, with_role
from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.errors import ToolError
from tools.core.results import CostEstimate, Resource, ToolResult
from tools.core.validators import InstanceType, S3Uri, SageMakerName, parse_s3_uri
from tools.cost.estimates import estimate_instances
from tools.stages.evaluation.analysis_jobs import (
    CONFIG_PATH,
    DATA_PATH,
    OUTPUT_PATH,
    ProcessingArgs,
    combine_estimates,
    output_base,
    processing_request,
    put_json,
    read_header,
)
from tools.stages.training.algorithms import retrieve_image
from tools.stages.training.training_request import generated_name

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
    return combine_estimates(base, shadow, "shadow endpoint for the model")


def _start_clarify(
    ctx: ToolContext, args: ClarifyCommon, config: dict[str, Any], kind: str, name: str
) -> tuple[dict[str, Any], str, str]:
    base = output_base(args, args.data_s3_uri, "clarify", name)
    config_uri = f"{base}/config/analysis_config.json"
    result_uri = f"{base}/output"
    put_json(ctx, config_uri, config)
    request = processing_request(
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
    headers = read_header(ctx, args.data_s3_uri)
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
    return combine_estimates(base, _shadow_estimate(args, region), "shadow endpoint for the model")


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
    headers = read_header(ctx, args.data_s3_uri)
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
    put_json(ctx, config_uri, config)
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
