"""Stage 7 — deployment: models, real-time / serverless / multi-model endpoints, batch
transform, and a Lambda + API Gateway proxy in front of an endpoint.

Endpoints bill every hour until deleted, so their estimates say $/hour and $/day and the
ledger keeps their hourly cost; `session_cleanup` removes them.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field, model_validator

from tools.base import CostEstimate, Resource, ToolContext, ToolError, ToolResult, tool, utc_now
from tools.jobs import wait_for_job
from tools.ledger import DELETED, parse_time
from tools.pricing import (
    check_instance_for,
    estimate_hourly_resource,
    estimate_instances,
    estimate_units,
    instance_hourly,
)
from tools.roles import RoleArnValue, resolve_role
from tools.validators import (
    InstanceType,
    LocalFile,
    S3PrefixUri,
    SageMakerName,
    derived_name,
    parse_s3_uri,
)

MAX_REALTIME_PAYLOAD = 6 * 1024 * 1024  # InvokeEndpoint limit (serverless: 4 MB)
SANDBOX_INSTANCE_HINT = (
    "The sandbox only emulates older instance families for endpoints; try ml.m5.large "
    "(against real AWS this instance type works)."
)
EndpointType = Literal["realtime", "serverless", "multi_model"]
ServerlessMemory = Literal[1024, 2048, 3072, 4096, 5120, 6144]
PayloadType = Literal["text/csv", "application/json"]


# --- small shared helpers -------------------------------------------------------------------
def usd(value: float | None) -> str:
    if value is None:
        return "unknown"
    if value == 0:
        return "$0"
    return f"${value:,.4f}" if value < 1 else f"${value:,.2f}"


def hours_since(value: Any, now: datetime | None = None) -> float | None:
    start = parse_time(value)
    if start is None:
        return None
    return max(0.0, ((now or datetime.now(UTC)) - start).total_seconds() / 3600)


def record_now(ctx: ToolContext, *resources: Resource) -> None:
    """Record at once, so a later failure in the same tool cannot orphan what was created."""
    if ctx.ledger is None:
        return
    for resource in resources:
        resource.region = resource.region or ctx.region
        ctx.ledger.record(resource, session_id=ctx.session_id)


def ledger_mark(ctx: ToolContext, kind: str, name: str, status: str = DELETED) -> None:
    mark = getattr(ctx.ledger, "mark", None)
    if callable(mark):
        try:
            mark(kind, name, status, region=ctx.region)
        except Exception:
            pass


def is_not_found(exc: Exception) -> bool:
    if not isinstance(exc, ClientError):
        return False
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    message = str(error.get("Message", "")).lower()
    return (
        code in ("ResourceNotFound", "ResourceNotFoundException", "NotFoundException")
        or "could not find" in message
        or "not found" in message
        or "does not exist" in message
    )


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%d%H%M%S")


def config_name_for(endpoint_name: str) -> str:
    return f"{endpoint_name[:44]}-cfg-{_stamp()}"


def _sandbox_instance_error(ctx: ToolContext, exc: Exception) -> None:
    """moto's endpoint-config enum predates ml.t3/g5/m6i: say so instead of a raw enum dump."""
    if ctx.aws.is_sandbox and isinstance(exc, ClientError):
        message = str(exc.response.get("Error", {}).get("Message", ""))
        if "instanceType" in message or "InstanceType" in message:
            raise ToolError(SANDBOX_INSTANCE_HINT, kind="invalid_request") from None


def variant_hourly(variant: dict[str, Any], region: str) -> float | None:
    """$/h of one production variant (None for serverless or unknown prices)."""
    if variant.get("ServerlessConfig") or variant.get("CurrentServerlessConfig"):
        return None
    instance = variant.get("InstanceType")
    if not instance:
        return None
    quote = instance_hourly(instance, "hosting", region)
    if quote is None:
        return None
    count = int(variant.get("InitialInstanceCount") or variant.get("CurrentInstanceCount") or 1)
    return round(quote.usd * count, 4)


def config_hourly(config: dict[str, Any], region: str) -> tuple[float | None, str]:
    """($/h, 'realtime'|'serverless') for an endpoint config description."""
    variants = config.get("ProductionVariants", [])
    if variants and all(v.get("ServerlessConfig") for v in variants):
        return None, "serverless"
    total = 0.0
    for variant in variants:
        hourly = variant_hourly(variant, region)
        if hourly is None:
            return None, "realtime"
        total += hourly
    return round(total, 4), "realtime"


# --- sagemaker_create_model --------------------------------------------------------------------
class CreateModelArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model_name: Annotated[
        SageMakerName | None, Field(description="default: <training job>-model")
    ] = None
    training_job_name: Annotated[
        SageMakerName | None,
        Field(description="Completed training job to take the image and artifact from"),
    ] = None
    model_package_arn: Annotated[
        str | None, Field(description="Model package (registry version) ARN instead")
    ] = None
    image_uri: Annotated[str | None, Field(description="Inference image URI (explicit form)")] = (
        None
    )
    model_data_url: Annotated[
        str | None,
        Field(description="s3:// model.tar.gz, or the artifacts prefix when mode is multi"),
    ] = None
    role_arn: Annotated[
        RoleArnValue | None,
        Field(description="Execution role; default: the training job's, else the session's"),
    ] = None
    mode: Annotated[
        Literal["single", "multi"], Field(description="multi: many artifacts under one prefix")
    ] = "single"
    environment: Annotated[
        dict[str, str] | None, Field(description="Container environment variables")
    ] = None

    @model_validator(mode="after")
    def _one_source(self) -> CreateModelArgs:
        sources = [
            self.training_job_name is not None,
            self.model_package_arn is not None,
            self.image_uri is not None,
        ]
        if sum(sources) != 1:
            raise ValueError(
                "give exactly one source: training_job_name, model_package_arn, "
                "or image_uri with model_data_url"
            )
        if self.model_name is None:
            if self.training_job_name is None:
                raise ValueError("model_name is needed when the model is not from a training job")
            self.model_name = derived_name(self.training_job_name, suffix="model")
        if self.model_package_arn and not self.model_package_arn.startswith("arn:"):
            raise ValueError("model_package_arn must be an ARN (arn:aws:sagemaker:...)")
        if self.image_uri is not None and not self.model_data_url and self.mode == "multi":
            raise ValueError("mode multi needs model_data_url: the S3 prefix of the artifacts")
        if self.model_data_url:
            parse_s3_uri(self.model_data_url)
            if self.mode == "multi" and not self.model_data_url.endswith("/"):
                raise ValueError(
                    "for a multi-model endpoint model_data_url is the S3 prefix ending in '/' "
                    "under which the model.tar.gz files live"
                )
        return self


def build_create_model_request(
    *,
    model_name: str,
    role_arn: str,
    tags: list[dict[str, str]],
    image_uri: str | None = None,
    model_data_url: Any = None,
    model_package_arn: str | None = None,
    mode: str = "single",
    environment: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The CreateModel request (also the Arguments of a pipeline Model step, minus ModelName)."""
    container: dict[str, Any]
    if model_package_arn:
        container = {"ModelPackageName": model_package_arn}
    else:
        container = {"Image": image_uri}
        if model_data_url:
            container["ModelDataUrl"] = model_data_url
        if mode == "multi":
            container["Mode"] = "MultiModel"
    if environment:
        container["Environment"] = dict(environment)
    return {
        "ModelName": model_name,
        "PrimaryContainer": container,
        "ExecutionRoleArn": role_arn,
        "Tags": list(tags),
    }


def resolve_create_model_request(ctx: ToolContext, args: CreateModelArgs) -> dict[str, Any]:
    """Fill image, artifact and role from a training job when one is named; else the role is the
    given one or the session's (resolved before any AWS call)."""
    image, data, role = args.image_uri, args.model_data_url, args.role_arn
    if not args.training_job_name:
        role = resolve_role(ctx, role, "SageMaker models")
    else:
        job = ctx.client("sagemaker").describe_training_job(TrainingJobName=args.training_job_name)
        status = job.get("TrainingJobStatus")
        if status != "Completed":
            raise ToolError(
                f"training job {args.training_job_name} is {status}; a model needs a completed job"
            )
        image = image or job["AlgorithmSpecification"].get("TrainingImage")
        data = data or job.get("ModelArtifacts", {}).get("S3ModelArtifacts")
        role = role or job.get("RoleArn") or resolve_role(ctx, None, "SageMaker models")
        if not image:
            raise ToolError(
                f"training job {args.training_job_name} used an algorithm resource, not an image; "
                "pass image_uri and model_data_url"
            )
    return build_create_model_request(
        model_name=args.model_name,
        role_arn=str(role),
        tags=ctx.aws.tags(),
        image_uri=image,
        model_data_url=data,
        model_package_arn=args.model_package_arn,
        mode=args.mode,
        environment=args.environment,
    )


@tool(
    name="sagemaker_create_model",
    stage="deployment",
    risk="write",
    operations=("sagemaker:CreateModel", "sagemaker:DescribeTrainingJob"),
    phrases=(
        "create a model from the training job",
        "register the trained model for hosting",
        "make a sagemaker model",
        "prepare the model for deployment",
    ),
)
def sagemaker_create_model(ctx: ToolContext, args: CreateModelArgs) -> ToolResult:
    """Create a SageMaker model from a training job, a model package, or an image + model data URI."""
    request = resolve_create_model_request(ctx, args)
    response = ctx.client("sagemaker").create_model(**request)
    arn = response["ModelArn"]
    source = (
        f"training job {args.training_job_name}"
        if args.training_job_name
        else (args.model_package_arn or args.image_uri)
    )
    container = request["PrimaryContainer"]
    text = (
        f"Created model {args.model_name} from {source}"
        f"{' (multi-model)' if args.mode == 'multi' else ''}. "
        f"Artifact: {container.get('ModelDataUrl', container.get('ModelPackageName', '-'))}. "
        "Deploy it with sagemaker_create_endpoint or run sagemaker_start_transform_job."
    )
    return ToolResult(
        text,
        data={"model_name": args.model_name, "model_arn": arn, "container": container},
        resources=[
            Resource(
                "sagemaker_model",
                args.model_name,
                arn,
                extra={"request": request, "training_job": args.training_job_name},
            )
        ],
    )


# --- sagemaker_list_models ---------------------------------------------------------------------
class ListModelsArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name_contains: Annotated[str | None, Field(description="Filter by name substring")] = None
    max_results: Annotated[int, Field(ge=1, le=100)] = 20


@tool(
    name="sagemaker_list_models",
    stage="deployment",
    risk="read",
    operations=("sagemaker:ListModels",),
    phrases=("list my models", "which models do I have", "show sagemaker models"),
)
def sagemaker_list_models(ctx: ToolContext, args: ListModelsArgs) -> ToolResult:
    """List SageMaker models, newest first."""
    params: dict[str, Any] = {
        "SortBy": "CreationTime",
        "SortOrder": "Descending",
        "MaxResults": args.max_results,
    }
    if args.name_contains:
        params["NameContains"] = args.name_contains
    response = ctx.client("sagemaker").list_models(**params)
    rows = [
        {
            "name": m["ModelName"],
            "arn": m["ModelArn"],
            "created": str(m.get("CreationTime", ""))[:19],
        }
        for m in response.get("Models", [])
    ]
    if not rows:
        return ToolResult("No models found.", data={"rows": []})
    more = " (more exist; narrow with name_contains)" if response.get("NextToken") else ""
    lines = [f"- {r['name']} (created {r['created']})" for r in rows]
    return ToolResult(f"{len(rows)} models{more}:\n" + "\n".join(lines), data={"rows": rows})


# --- sagemaker_create_endpoint -------------------------------------------------------------------
class ExtraVariant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model_name: SageMakerName
    variant_name: SageMakerName
    weight: Annotated[float, Field(ge=0, le=1000)] = 1.0
    instance_type: InstanceType = "ml.m5.large"
    instance_count: Annotated[int, Field(ge=1, le=20)] = 1


class DataCapture(BaseModel):
    model_config = ConfigDict(extra="forbid")

    destination_s3_uri: Annotated[S3PrefixUri, Field(description="Where captured data goes")]
    sampling_percent: Annotated[int, Field(ge=1, le=100)] = 100


class CreateEndpointArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    endpoint_name: Annotated[SageMakerName | None, Field(description="default: <model>-ep")] = None
    model_name: SageMakerName
    endpoint_type: Annotated[
        EndpointType, Field(description="realtime, serverless or multi_model")
    ] = "realtime"
    instance_type: Annotated[InstanceType, Field(description="Hosting instance type")] = (
        "ml.m5.large"
    )
    instance_count: Annotated[int, Field(ge=1, le=20)] = 1
    weight: Annotated[float, Field(ge=0, le=1000, description="Main variant weight")] = 1.0
    extra_variants: Annotated[
        list[ExtraVariant] | None, Field(description="More variants for A/B traffic split")
    ] = None
    memory_size_mb: Annotated[ServerlessMemory, Field(description="Serverless memory")] = 2048
    max_concurrency: Annotated[int, Field(ge=1, le=200, description="Serverless concurrency")] = 5
    data_capture: Annotated[
        DataCapture | None, Field(description="Capture requests/responses (Model Monitor)")
    ] = None
    wait_minutes: Annotated[int, Field(ge=0, le=60, description="Wait for InService")] = 20

    @model_validator(mode="after")
    def _check(self) -> CreateEndpointArgs:
        if self.endpoint_name is None:
            self.endpoint_name = derived_name(self.model_name, suffix="ep")
        if self.endpoint_type == "serverless":
            if self.extra_variants:
                raise ValueError("serverless endpoints take one variant; drop extra_variants")
            if self.data_capture:
                raise ValueError(
                    "serverless endpoints do not support data capture; use a realtime endpoint "
                    "to monitor with Model Monitor"
                )
        else:
            check_instance_for("hosting", self.instance_type)
            for variant in self.extra_variants or []:
                check_instance_for("hosting", variant.instance_type)
        if self.endpoint_type == "multi_model" and self.extra_variants:
            raise ValueError("a multi-model endpoint has one variant; drop extra_variants")
        return self


def build_endpoint_config_request(
    args: CreateEndpointArgs, *, config_name: str, tags: list[dict[str, str]]
) -> dict[str, Any]:
    if args.endpoint_type == "serverless":
        variants: list[dict[str, Any]] = [
            {
                "VariantName": "AllTraffic",
                "ModelName": args.model_name,
                "ServerlessConfig": {
                    "MemorySizeInMB": args.memory_size_mb,
                    "MaxConcurrency": args.max_concurrency,
                },
            }
        ]
    else:
        variants = [
            {
                "VariantName": "AllTraffic" if not args.extra_variants else "Primary",
                "ModelName": args.model_name,
                "InstanceType": args.instance_type,
                "InitialInstanceCount": args.instance_count,
                "InitialVariantWeight": args.weight,
            }
        ]
        for extra in args.extra_variants or []:
            variants.append(
                {
                    "VariantName": extra.variant_name,
                    "ModelName": extra.model_name,
                    "InstanceType": extra.instance_type,
                    "InitialInstanceCount": extra.instance_count,
                    "InitialVariantWeight": extra.weight,
                }
            )
    request: dict[str, Any] = {
        "EndpointConfigName": config_name,
        "ProductionVariants": variants,
        "Tags": list(tags),
    }
    if args.data_capture:
        request["DataCaptureConfig"] = {
            "EnableCapture": True,
            "InitialSamplingPercentage": args.data_capture.sampling_percent,
            "DestinationS3Uri": args.data_capture.destination_s3_uri,
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
            "CaptureContentTypeHeader": {
                "CsvContentTypes": ["text/csv"],
                "JsonContentTypes": ["application/json"],
            },
        }
    return request


def serverless_estimate(memory_mb: int, max_concurrency: int, region: str) -> CostEstimate:
    gb = memory_mb / 1024
    busy_hour_gbs = gb * 3600 * max_concurrency
    base = estimate_units(
        "serverless_gb_second",
        0.0,
        busy_hour_gbs,
        region,
        f"{gb:g} GB × up to {max_concurrency} concurrent × 3600 s (one fully busy hour)",
    )
    if not base.known:
        return base
    per_gbs = (base.high_usd or 0.0) / busy_hour_gbs if busy_hour_gbs else 0.0
    per_request = per_gbs * gb  # a 1-second invocation
    processed = estimate_units("serverless_gb_processed", 1, 1, region, "1 GB")
    notes = (
        f"idle costs nothing; a 1-second request costs about {usd(per_request)} "
        f"({usd(per_gbs)} per GB-second × {gb:g} GB)",
        f"plus {usd(processed.high_usd)} per GB of data in and out",
    )
    return replace(base, notes=notes)


def estimate_create_endpoint(args: CreateEndpointArgs, region: str) -> CostEstimate:
    if args.endpoint_type == "serverless":
        return serverless_estimate(args.memory_size_mb, args.max_concurrency, region)
    parts = [estimate_hourly_resource(args.instance_type, args.instance_count, region)]
    parts += [
        estimate_hourly_resource(v.instance_type, v.instance_count, region)
        for v in args.extra_variants or []
    ]
    if len(parts) == 1:
        return parts[0]
    if not all(p.known for p in parts):
        return CostEstimate.unknown("one of the variants has no known hosting price")
    hourly = sum(p.hourly_usd or 0.0 for p in parts)
    return CostEstimate(
        round(hourly, 4),
        round(hourly * 24, 4),
        f"{len(parts)} variants = {usd(hourly)}/h, ${hourly * 24:,.2f}/day, "
        f"${hourly * 720:,.0f}/month; shown: first hour to first day",
        parts[0].source,
        parts[0].price_date,
        hourly_usd=round(hourly, 4),
        notes=("runs until deleted",),
    )


@tool(
    name="sagemaker_create_endpoint",
    stage="deployment",
    risk="costly",
    estimator=estimate_create_endpoint,
    operations=(
        "sagemaker:CreateEndpointConfig",
        "sagemaker:CreateEndpoint",
        "sagemaker:DescribeEndpoint",
        "sagemaker:DescribeModel",
    ),
    phrases=(
        "deploy the model",
        "create an endpoint",
        "deploy to a serverless endpoint",
        "host the model for real-time inference",
        "multi-model endpoint",
        "put the model behind an endpoint",
    ),
)
def sagemaker_create_endpoint(ctx: ToolContext, args: CreateEndpointArgs) -> ToolResult:
    """Deploy a model to a real-time, serverless or multi-model endpoint; bills hourly until deleted."""
    sm = ctx.client("sagemaker")
    if args.endpoint_type == "multi_model":
        model = sm.describe_model(ModelName=args.model_name)
        container = model.get("PrimaryContainer") or (model.get("Containers") or [{}])[0]
        if container.get("Mode") != "MultiModel":
            raise ToolError(
                f"model {args.model_name} is not a multi-model model; create one with "
                "sagemaker_create_model mode='multi' and an S3 prefix of artifacts"
            )
    config_name = config_name_for(args.endpoint_name)
    config_request = build_endpoint_config_request(
        args, config_name=config_name, tags=ctx.aws.tags()
    )
    try:
        config = sm.create_endpoint_config(**config_request)
    except ClientError as exc:
        _sandbox_instance_error(ctx, exc)
        raise
    config_res = Resource(
        "sagemaker_endpoint_config",
        config_name,
        config["EndpointConfigArn"],
        extra={"endpoint": args.endpoint_name, "request": config_request},
    )
    record_now(ctx, config_res)
    estimate = estimate_create_endpoint(args, ctx.region)
    hourly = estimate.hourly_usd if args.endpoint_type != "serverless" else None
    endpoint = sm.create_endpoint(
        EndpointName=args.endpoint_name, EndpointConfigName=config_name, Tags=ctx.aws.tags()
    )
    endpoint_res = Resource(
        "sagemaker_endpoint",
        args.endpoint_name,
        endpoint["EndpointArn"],
        hourly_usd=hourly,
        extra={
            "config": config_name,
            "type": args.endpoint_type,
            "model": args.model_name,
            "data_capture": bool(args.data_capture),
        },
    )
    record_now(ctx, endpoint_res)
    status = "Creating"
    if args.wait_minutes:
        ctx.report(f"endpoint {args.endpoint_name}: creating (can take 5–10 minutes)")
        outcome = wait_for_job(
            ctx, "endpoint", args.endpoint_name, timeout_s=args.wait_minutes * 60
        )
        status = outcome.status
        if status == "Failed":
            reason = outcome.description.get("FailureReason", "no reason given")
            raise ToolError(
                f"endpoint {args.endpoint_name} failed: {reason}. It is recorded in the ledger; "
                "delete it with sagemaker_delete_endpoint."
            )
    cost = (
        f"bills {usd(hourly)}/h (${(hourly or 0) * 24:,.2f}/day) until deleted"
        if hourly
        else (
            "bills per request (idle costs nothing)" if args.endpoint_type == "serverless" else ""
        )
    )
    waiting = (
        "" if status == "InService" else f" Still {status}; check with sagemaker_describe_endpoint."
    )
    text = (
        f"Endpoint {args.endpoint_name} ({args.endpoint_type}, model {args.model_name}) is {status}; "
        f"{cost}.{waiting} Invoke it with sagemaker_invoke_endpoint; delete it with "
        "sagemaker_delete_endpoint when done."
    )
    return ToolResult(
        text,
        data={
            "endpoint_name": args.endpoint_name,
            "endpoint_arn": endpoint["EndpointArn"],
            "config_name": config_name,
            "status": status,
            "hourly_usd": hourly,
            "endpoint_type": args.endpoint_type,
        },
        resources=[config_res, endpoint_res],
    )


# --- sagemaker_update_endpoint -----------------------------------------------------------------
class UpdateEndpointArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    endpoint_name: SageMakerName
    model_name: Annotated[SageMakerName | None, Field(description="New model to serve")] = None
    instance_type: Annotated[InstanceType | None, Field(description="New instance type")] = None
    instance_count: Annotated[int | None, Field(ge=1, le=20, description="New count")] = None
    memory_size_mb: Annotated[ServerlessMemory | None, Field(description="Serverless memory")] = (
        None
    )
    max_concurrency: Annotated[int | None, Field(ge=1, le=200)] = None
    wait_minutes: Annotated[int, Field(ge=0, le=60)] = 20

    @model_validator(mode="after")
    def _something(self) -> UpdateEndpointArgs:
        if not any(
            v is not None
            for v in (
                self.model_name,
                self.instance_type,
                self.instance_count,
                self.memory_size_mb,
                self.max_concurrency,
            )
        ):
            raise ValueError("nothing to change: give a model, instance type/count or memory")
        if self.instance_type:
            check_instance_for("hosting", self.instance_type)
        return self


def estimate_update_endpoint(args: UpdateEndpointArgs, region: str) -> CostEstimate:
    if args.memory_size_mb or args.max_concurrency:
        return serverless_estimate(args.memory_size_mb or 2048, args.max_concurrency or 5, region)
    if args.instance_type:
        return estimate_hourly_resource(args.instance_type, args.instance_count or 1, region)
    return CostEstimate.unknown(
        "keeps the current instances; the hourly cost stays what it is now",
        notes=("a blue/green update runs old and new instances side by side for a few minutes",),
    )


@tool(
    name="sagemaker_update_endpoint",
    stage="deployment",
    risk="costly",
    estimator=estimate_update_endpoint,
    operations=(
        "sagemaker:DescribeEndpoint",
        "sagemaker:DescribeEndpointConfig",
        "sagemaker:CreateEndpointConfig",
        "sagemaker:UpdateEndpoint",
    ),
    phrases=(
        "update the endpoint",
        "switch the endpoint to the new model",
        "resize the endpoint",
        "change the endpoint instance type",
    ),
)
def sagemaker_update_endpoint(ctx: ToolContext, args: UpdateEndpointArgs) -> ToolResult:
    """Point an endpoint at a new model or instance size via a new endpoint config (blue/green)."""
    if ctx.aws.is_sandbox:
        from tools.base import NotEmulated

        raise NotEmulated(
            "UpdateEndpoint",
            "In the sandbox, delete the endpoint and create it again with the new settings.",
        )
    sm = ctx.client("sagemaker")
    endpoint = sm.describe_endpoint(EndpointName=args.endpoint_name)
    current = sm.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    variants = []
    for variant in current.get("ProductionVariants", []):
        new = {
            k: v
            for k, v in variant.items()
            if k
            in (
                "VariantName",
                "ModelName",
                "InstanceType",
                "InitialInstanceCount",
                "InitialVariantWeight",
                "ServerlessConfig",
            )
        }
        if args.model_name:
            new["ModelName"] = args.model_name
        if "ServerlessConfig" in new:
            cfg = dict(new["ServerlessConfig"])
            if args.memory_size_mb:
                cfg["MemorySizeInMB"] = args.memory_size_mb
            if args.max_concurrency:
                cfg["MaxConcurrency"] = args.max_concurrency
            new["ServerlessConfig"] = cfg
        else:
            if args.instance_type:
                new["InstanceType"] = args.instance_type
            if args.instance_count:
                new["InitialInstanceCount"] = args.instance_count
        variants.append(new)
    config_name = config_name_for(args.endpoint_name)
    request: dict[str, Any] = {
        "EndpointConfigName": config_name,
        "ProductionVariants": variants,
        "Tags": ctx.aws.tags(),
    }
    if current.get("DataCaptureConfig"):
        request["DataCaptureConfig"] = current["DataCaptureConfig"]
    config = sm.create_endpoint_config(**request)
    config_res = Resource(
        "sagemaker_endpoint_config",
        config_name,
        config["EndpointConfigArn"],
        extra={"endpoint": args.endpoint_name, "request": request},
    )
    record_now(ctx, config_res)
    sm.update_endpoint(EndpointName=args.endpoint_name, EndpointConfigName=config_name)
    hourly, kind = config_hourly(request, ctx.region)
    status = "Updating"
    if args.wait_minutes:
        outcome = wait_for_job(
            ctx, "endpoint", args.endpoint_name, timeout_s=args.wait_minutes * 60
        )
        status = outcome.status
        if status == "Failed":
            raise ToolError(
                f"update of {args.endpoint_name} failed: "
                f"{outcome.description.get('FailureReason', 'no reason given')}"
            )
    endpoint_res = Resource(
        "sagemaker_endpoint",
        args.endpoint_name,
        endpoint["EndpointArn"],
        hourly_usd=hourly,
        extra={"config": config_name, "type": kind},
    )
    return ToolResult(
        f"Endpoint {args.endpoint_name} now uses config {config_name} ({status}); "
        f"{f'{usd(hourly)}/h' if hourly else 'billed per use'}. "
        f"The old config {endpoint['EndpointConfigName']} was kept.",
        data={
            "endpoint_name": args.endpoint_name,
            "config_name": config_name,
            "previous_config": endpoint["EndpointConfigName"],
            "status": status,
            "hourly_usd": hourly,
        },
        resources=[config_res, endpoint_res],
    )


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


# --- sagemaker_delete_endpoint -----------------------------------------------------------------
class DeleteEndpointArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    endpoint_name: SageMakerName
    keep_config: Annotated[bool, Field(description="Keep its endpoint config")] = False


def created_by_sagecoach(ctx: ToolContext, arn: str | None) -> bool:
    if not arn:
        return False
    try:
        tags = ctx.client("sagemaker").list_tags(ResourceArn=arn).get("Tags", [])
    except ClientError:
        return False
    return any(t.get("Key") == "CreatedBy" and t.get("Value") == "sagecoach" for t in tags)


def delete_endpoint_and_config(
    ctx: ToolContext, name: str, *, delete_config: bool = True
) -> tuple[list[str], float | None]:
    """Delete the endpoint (and its config when sagecoach made it); returns the steps done."""
    sm = ctx.client("sagemaker")
    info = endpoint_summary(ctx, name)
    steps = []
    sm.delete_endpoint(EndpointName=name)
    ledger_mark(ctx, "sagemaker_endpoint", name)
    steps.append(f"deleted endpoint {name}")
    config = info.get("config")
    if delete_config and config:
        try:
            arn = sm.describe_endpoint_config(EndpointConfigName=config)["EndpointConfigArn"]
        except ClientError as exc:
            if not is_not_found(exc):
                raise
            arn = None
        if arn and created_by_sagecoach(ctx, arn):
            sm.delete_endpoint_config(EndpointConfigName=config)
            ledger_mark(ctx, "sagemaker_endpoint_config", config)
            steps.append(f"deleted endpoint config {config}")
        elif arn:
            steps.append(f"kept endpoint config {config} (not created by sagecoach)")
    return steps, info.get("hourly_usd")


@tool(
    name="sagemaker_delete_endpoint",
    stage="deployment",
    risk="destructive",
    operations=(
        "sagemaker:DescribeEndpoint",
        "sagemaker:DeleteEndpoint",
        "sagemaker:DeleteEndpointConfig",
        "sagemaker:ListTags",
    ),
    phrases=(
        "delete the endpoint",
        "stop paying for the endpoint",
        "tear down the endpoint",
        "undeploy the model",
    ),
)
def sagemaker_delete_endpoint(ctx: ToolContext, args: DeleteEndpointArgs) -> ToolResult:
    """Delete an endpoint, and its endpoint config when sagecoach created it; stops hourly billing."""
    steps, hourly = delete_endpoint_and_config(
        ctx, args.endpoint_name, delete_config=not args.keep_config
    )
    saving = f" Saves {usd(hourly)}/h." if hourly else ""
    return ToolResult(
        "; ".join(steps).capitalize() + "." + saving,
        data={"steps": steps, "hourly_saving_usd": hourly},
    )


# --- sagemaker_invoke_endpoint -----------------------------------------------------------------
class InvokeEndpointArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    endpoint_name: SageMakerName
    payload: Annotated[str | None, Field(description="CSV rows or JSON text to send")] = None
    payload_file: Annotated[LocalFile | None, Field(description="Local file to send instead")] = (
        None
    )
    content_type: Annotated[PayloadType, Field(description="Payload format")] = "text/csv"
    accept: Annotated[str | None, Field(description="Response format wanted")] = None
    target_model: Annotated[
        str | None, Field(description="Multi-model: artifact path under the prefix")
    ] = None
    target_variant: Annotated[str | None, Field(description="Send to this variant")] = None

    @model_validator(mode="after")
    def _payload(self) -> InvokeEndpointArgs:
        if (self.payload is None) == (self.payload_file is None):
            raise ValueError("give either payload or payload_file")
        size = (
            len(self.payload.encode())
            if self.payload is not None
            else Path(str(self.payload_file)).stat().st_size
        )
        if size > MAX_REALTIME_PAYLOAD:
            raise ValueError(
                f"payload is {size / 1e6:.1f} MB; an endpoint takes at most 6 MB per request "
                "(use sagemaker_start_transform_job for large files)"
            )
        if self.content_type == "application/json" and self.payload is not None:
            try:
                json.loads(self.payload)
            except ValueError as exc:
                raise ValueError(f"payload is not valid JSON: {exc}") from None
        return self

    def body(self) -> bytes:
        if self.payload is not None:
            return self.payload.encode()
        return Path(str(self.payload_file)).read_bytes()


def estimate_invoke(args: InvokeEndpointArgs, region: str) -> CostEstimate:
    size = (
        len(args.payload.encode())
        if args.payload is not None
        else Path(str(args.payload_file)).stat().st_size
    )
    gb = size / 1024**3
    base = estimate_units(
        "serverless_gb_processed",
        gb,
        gb * 2,
        region,
        f"{size:,} bytes in (and about as much out)",
    )
    return replace(
        base,
        notes=(
            "instance endpoints also bill per hour while they exist; serverless ones bill "
            "per GB-second of the request",
        ),
    )


def decode_prediction(body: bytes, content_type: str) -> dict[str, Any]:
    text = body.decode("utf-8", errors="replace")
    result: dict[str, Any] = {"body": text[:20000], "truncated": len(text) > 20000}
    stripped = text.strip()
    if "json" in content_type or stripped[:1] in ("{", "["):
        try:
            result["json"] = json.loads(stripped)
            return result
        except ValueError:
            pass
    rows = [line for line in stripped.splitlines() if line.strip()]
    if rows:
        result["predictions"] = [
            [cell.strip() for cell in line.split(",")] if "," in line else line.strip()
            for line in rows[:1000]
        ]
    return result


@tool(
    name="sagemaker_invoke_endpoint",
    stage="deployment",
    risk="billable_read",
    estimator=estimate_invoke,
    operations=("sagemaker-runtime:InvokeEndpoint",),
    phrases=(
        "invoke the endpoint",
        "get a prediction",
        "test the endpoint",
        "send a request to the model",
        "score this row",
    ),
)
def sagemaker_invoke_endpoint(ctx: ToolContext, args: InvokeEndpointArgs) -> ToolResult:
    """Send a CSV or JSON payload (text or local file) to an endpoint and show the decoded response."""
    params: dict[str, Any] = {
        "EndpointName": args.endpoint_name,
        "Body": args.body(),
        "ContentType": args.content_type,
    }
    if args.accept:
        params["Accept"] = args.accept
    if args.target_model:
        params["TargetModel"] = args.target_model
    if args.target_variant:
        params["TargetVariant"] = args.target_variant
    response = ctx.client("sagemaker-runtime").invoke_endpoint(**params)
    body = response["Body"].read()
    content_type = str(response.get("ContentType", ""))
    decoded = decode_prediction(body, content_type)
    shown = decoded["body"]
    if len(shown) > 1500:
        shown = shown[:1500] + f" … ({len(decoded['body']):,} characters in all)"
    variant = response.get("InvokedProductionVariant")
    text = (
        f"{args.endpoint_name} answered ({content_type or 'no content type'}"
        f"{', variant ' + variant if variant else ''}):\n{shown}"
    )
    if ctx.aws.is_sandbox:
        text += "\n(sandbox: the response is canned, not a real prediction)"
    data = {**decoded, "content_type": content_type, "invoked_variant": variant}
    return ToolResult(text, data=data)


# --- batch transform -----------------------------------------------------------------------------
class TransformJobArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    job_name: Annotated[
        SageMakerName | None, Field(description="default: <model>-batch-<id of input and output>")
    ] = None
    model_name: SageMakerName
    input_s3_uri: Annotated[S3PrefixUri, Field(description="S3 prefix (or file) to score")]
    output_s3_uri: Annotated[S3PrefixUri, Field(description="Where predictions go")]
    content_type: Annotated[
        Literal["text/csv", "application/json", "application/jsonlines"],
        Field(description="Input format"),
    ] = "text/csv"
    split_type: Annotated[
        Literal["None", "Line", "RecordIO", "TFRecord"], Field(description="How to split input")
    ] = "Line"
    assemble_with: Annotated[Literal["None", "Line"], Field(description="Join outputs by")] = "Line"
    strategy: Annotated[Literal["SingleRecord", "MultiRecord"], Field(description="Batching")] = (
        "MultiRecord"
    )
    max_payload_mb: Annotated[int, Field(ge=0, le=100)] = 6
    join_input: Annotated[bool, Field(description="Append predictions to input rows")] = False
    instance_type: InstanceType = "ml.m5.large"
    instance_count: Annotated[int, Field(ge=1, le=20)] = 1
    max_hours: Annotated[
        float, Field(gt=0, le=72, description="Expected hours, for the estimate")
    ] = 1.0
    wait: Annotated[bool, Field(description="Wait for it to finish")] = True

    @model_validator(mode="after")
    def _check(self) -> TransformJobArgs:
        if self.job_name is None:
            import hashlib

            what = hashlib.sha1(f"{self.input_s3_uri}|{self.output_s3_uri}".encode()).hexdigest()
            self.job_name = derived_name(self.model_name, "batch", suffix=what[:6])
        check_instance_for("transform", self.instance_type)
        return self


def build_transform_job_request(
    args: TransformJobArgs, *, region: str, tags: list[dict[str, str]]
) -> dict[str, Any]:
    """The CreateTransformJob request (pipeline Transform steps use it without the name)."""
    del region  # same shape in every region
    request: dict[str, Any] = {
        "TransformJobName": args.job_name,
        "ModelName": args.model_name,
        "BatchStrategy": args.strategy,
        "MaxPayloadInMB": args.max_payload_mb,
        "TransformInput": {
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": args.input_s3_uri}},
            "ContentType": args.content_type,
            "SplitType": args.split_type,
        },
        "TransformOutput": {"S3OutputPath": args.output_s3_uri, "AssembleWith": args.assemble_with},
        "TransformResources": {
            "InstanceType": args.instance_type,
            "InstanceCount": args.instance_count,
        },
        "Tags": list(tags),
    }
    if args.join_input:
        request["DataProcessing"] = {"JoinSource": "Input"}
    return request


def estimate_transform(args: TransformJobArgs, region: str) -> CostEstimate:
    return estimate_instances(
        args.instance_type, args.instance_count, args.max_hours, "transform", region
    )


@tool(
    name="sagemaker_start_transform_job",
    stage="deployment",
    risk="costly",
    estimator=estimate_transform,
    operations=("sagemaker:CreateTransformJob", "sagemaker:DescribeTransformJob"),
    phrases=(
        "batch transform",
        "score a whole dataset",
        "run batch predictions",
        "predict on a file in s3",
        "offline inference",
    ),
)
def sagemaker_start_transform_job(ctx: ToolContext, args: TransformJobArgs) -> ToolResult:
    """Run batch predictions over an S3 prefix with a model and write them to an S3 path."""
    request = build_transform_job_request(args, region=ctx.region, tags=ctx.aws.tags())
    response = ctx.client("sagemaker").create_transform_job(**request)
    arn = response["TransformJobArn"]
    quote = instance_hourly(args.instance_type, "transform", ctx.region)
    resource = Resource(
        "sagemaker_transform_job",
        args.job_name,
        arn,
        hourly_usd=round(quote.usd * args.instance_count, 4) if quote else None,
        extra={"request": request},
    )
    record_now(ctx, resource)
    status = "InProgress"
    desc: dict[str, Any] = {}
    if args.wait:
        outcome = wait_for_job(ctx, "transform", args.job_name, timeout_s=args.max_hours * 3600)
        status, desc = outcome.status, outcome.description
        if status in ("Completed", "Failed", "Stopped"):
            ledger_mark(ctx, "sagemaker_transform_job", args.job_name, "finished")
        if status == "Failed":
            raise ToolError(
                f"transform job {args.job_name} failed: {desc.get('FailureReason', 'no reason')}"
            )
    text = (
        f"Transform job {args.job_name} is {status}; predictions go to {args.output_s3_uri} "
        f"(one .out file per input file)."
    )
    if status == "InProgress":
        text += " Check it with sagemaker_describe_transform_job."
    return ToolResult(
        text,
        data={"job_name": args.job_name, "job_arn": arn, "status": status, "request": request},
        resources=[resource],
    )


class DescribeTransformArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    job_name: SageMakerName


@tool(
    name="sagemaker_describe_transform_job",
    stage="deployment",
    risk="read",
    operations=("sagemaker:DescribeTransformJob",),
    phrases=("is the batch transform done", "transform job status"),
)
def sagemaker_describe_transform_job(ctx: ToolContext, args: DescribeTransformArgs) -> ToolResult:
    """Show a batch transform job's status, input, output and timing."""
    desc = ctx.client("sagemaker").describe_transform_job(TransformJobName=args.job_name)
    start, end = (
        parse_time(desc.get("TransformStartTime")),
        parse_time(desc.get("TransformEndTime")),
    )
    minutes = round((end - start).total_seconds() / 60, 1) if start and end else None
    data = {
        "job_name": args.job_name,
        "status": desc.get("TransformJobStatus"),
        "failure_reason": desc.get("FailureReason") or None,
        "model": desc.get("ModelName"),
        "input": desc.get("TransformInput", {})
        .get("DataSource", {})
        .get("S3DataSource", {})
        .get("S3Uri"),
        "output": desc.get("TransformOutput", {}).get("S3OutputPath"),
        "instance_type": desc.get("TransformResources", {}).get("InstanceType"),
        "instance_count": desc.get("TransformResources", {}).get("InstanceCount"),
        "minutes": minutes,
    }
    failure = f" Failure: {data['failure_reason']}." if data["failure_reason"] else ""
    text = (
        f"{args.job_name}: {data['status']}; model {data['model']}; {data['input']} → "
        f"{data['output']}; {data['instance_count']} × {data['instance_type']}"
        f"{f'; took {minutes} min' if minutes is not None else ''}.{failure}"
    )
    return ToolResult(text, data=data)


# --- Lambda proxy + API Gateway ----------------------------------------------------------------
LAMBDA_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

PROXY_HANDLER = '''"""Calls a SageMaker endpoint; written by sagecoach."""
import base64
import json
import os

import boto3

RUNTIME = boto3.client("sagemaker-runtime")
ENDPOINT = os.environ["ENDPOINT_NAME"]
CONTENT_TYPE = os.environ.get("CONTENT_TYPE", "text/csv")


def handler(event, context):
    body = event.get("body", event) if isinstance(event, dict) else event
    if isinstance(event, dict) and event.get("isBase64Encoded"):
        body = base64.b64decode(body)
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    try:
        response = RUNTIME.invoke_endpoint(
            EndpointName=ENDPOINT, ContentType=CONTENT_TYPE, Body=body or b""
        )
    except Exception as exc:  # the caller gets a readable error, not a stack trace
        return {"statusCode": 502, "body": json.dumps({"error": str(exc)})}
    return {
        "statusCode": 200,
        "headers": {"Content-Type": response.get("ContentType", "text/plain")},
        "body": response["Body"].read().decode("utf-8", "replace"),
    }
'''


def proxy_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo("handler.py", date_time=(2020, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        archive.writestr(info, PROXY_HANDLER)
    return buffer.getvalue()


class LambdaProxyArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    function_name: str
    endpoint_name: Annotated[SageMakerName, Field(description="Endpoint it calls")]
    role_arn: Annotated[
        RoleArnValue | None,
        Field(description="role allowed sagemaker:InvokeEndpoint; default: the session's role"),
    ] = None
    content_type: PayloadType = "text/csv"
    memory_mb: Annotated[int, Field(ge=128, le=3008)] = 256
    timeout_s: Annotated[int, Field(ge=3, le=900)] = 30

    @model_validator(mode="after")
    def _name(self) -> LambdaProxyArgs:
        if not LAMBDA_NAME.match(self.function_name):
            raise ValueError(
                f"'{self.function_name}' is not a Lambda name: 1-64 letters, digits, - or _"
            )
        return self


@tool(
    name="lambda_create_endpoint_proxy",
    stage="deployment",
    risk="write",
    operations=("lambda:CreateFunction",),
    phrases=(
        "put a lambda in front of the endpoint",
        "lambda that calls the endpoint",
        "serverless function for predictions",
    ),
)
def lambda_create_endpoint_proxy(ctx: ToolContext, args: LambdaProxyArgs) -> ToolResult:
    """Create a small Lambda function (Python) that forwards requests to an endpoint."""
    role = resolve_role(ctx, args.role_arn, "Lambda functions")
    code = proxy_zip()
    response = ctx.client("lambda").create_function(
        FunctionName=args.function_name,
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": code},
        Description=f"sagecoach proxy to SageMaker endpoint {args.endpoint_name}",
        Timeout=args.timeout_s,
        MemorySize=args.memory_mb,
        Environment={
            "Variables": {"ENDPOINT_NAME": args.endpoint_name, "CONTENT_TYPE": args.content_type}
        },
        Tags=ctx.aws.tag_map(),
    )
    arn = response["FunctionArn"]
    text = (
        f"Created Lambda {args.function_name} (python3.12) that calls endpoint {args.endpoint_name}. "
        "Put an HTTPS API in front of it with apigateway_create_rest_api."
    )
    return ToolResult(
        text,
        data={
            "function_name": args.function_name,
            "function_arn": arn,
            "state": response.get("State"),
            "code_sha256": response.get("CodeSha256"),
            "handler_source": PROXY_HANDLER,
        },
        resources=[
            Resource(
                "lambda_function",
                args.function_name,
                arn,
                extra={"endpoint": args.endpoint_name},
            )
        ],
    )


class RestApiArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    api_name: Annotated[str, Field(min_length=1, max_length=128)]
    function_name: Annotated[str, Field(description="Lambda function to integrate")]
    stage_name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_]{1,128}$")] = "prod"
    path: Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,64}$", description="Resource path")] = (
        "predict"
    )


@tool(
    name="apigateway_create_rest_api",
    stage="deployment",
    risk="write",
    operations=(
        "apigateway:CreateRestApi",
        "apigateway:CreateResource",
        "apigateway:PutMethod",
        "apigateway:PutIntegration",
        "apigateway:CreateDeployment",
        "lambda:AddPermission",
        "lambda:GetFunction",
    ),
    phrases=(
        "create a rest api for the model",
        "expose the endpoint over https",
        "api gateway in front of the lambda",
        "give me a url for predictions",
    ),
)
def apigateway_create_rest_api(ctx: ToolContext, args: RestApiArgs) -> ToolResult:
    """Create a REST API with one POST method integrated with a Lambda, deployed to a stage."""
    lam = ctx.client("lambda")
    function_arn = lam.get_function(FunctionName=args.function_name)["Configuration"]["FunctionArn"]
    account = function_arn.split(":")[4]
    gateway = ctx.client("apigateway")
    api = gateway.create_rest_api(
        name=args.api_name,
        description=f"sagecoach: POST /{args.path} → Lambda {args.function_name}",
        endpointConfiguration={"types": ["REGIONAL"]},
        tags=ctx.aws.tag_map(),
    )
    api_id = api["id"]
    resource = Resource(
        "apigateway_rest_api",
        args.api_name,
        f"arn:aws:apigateway:{ctx.region}::/restapis/{api_id}",
        extra={"id": api_id, "function": args.function_name},
    )
    record_now(ctx, resource)
    root = api.get("rootResourceId") or next(
        item["id"]
        for item in gateway.get_resources(restApiId=api_id)["items"]
        if item.get("path") == "/"
    )
    child = gateway.create_resource(restApiId=api_id, parentId=root, pathPart=args.path)
    gateway.put_method(
        restApiId=api_id, resourceId=child["id"], httpMethod="POST", authorizationType="NONE"
    )
    gateway.put_integration(
        restApiId=api_id,
        resourceId=child["id"],
        httpMethod="POST",
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=f"arn:aws:apigateway:{ctx.region}:lambda:path/2015-03-31/functions/{function_arn}/invocations",
    )
    lam.add_permission(
        FunctionName=args.function_name,
        StatementId=f"sagecoach-apigw-{api_id}",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:{ctx.region}:{account}:{api_id}/*/POST/{args.path}",
    )
    gateway.create_deployment(restApiId=api_id, stageName=args.stage_name)
    url = f"https://{api_id}.execute-api.{ctx.region}.amazonaws.com/{args.stage_name}/{args.path}"
    text = (
        f"REST API {args.api_name} ({api_id}) is deployed: POST {url} → Lambda {args.function_name}. "
        "It has no authorization; add an API key or IAM auth before sharing it."
    )
    if ctx.aws.is_sandbox:
        text += " (sandbox: the URL is not served.)"
    return ToolResult(
        text,
        data={"api_id": api_id, "invoke_url": url, "stage": args.stage_name, "created": utc_now()},
        resources=[resource],
    )
