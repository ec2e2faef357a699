"""Stage 7, model deployment: create and update real-time, serverless and multi-model endpoints."""

from __future__ import annotations

from typing import Annotated, Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field, model_validator

from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.errors import ToolError
from tools.core.results import CostEstimate, Resource, ToolResult
from tools.core.validators import InstanceType, SageMakerName
from tools.cost.estimates import estimate_hourly_resource, usd
from tools.cost.prices import check_instance_for
from tools.ledger.recording import record_now
from tools.stages.deployment.endpoint_config import (
    CreateEndpointArgs,
    DataCapture,
    ServerlessMemory,
    build_endpoint_config_request,
    config_hourly,
    config_name_for,
    data_capture_config,
    is_serverless,
    raise_sandbox_instance_error,
    serverless_estimate,
)
from tools.stages.shared.jobs import wait_for_job


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
        raise_sandbox_instance_error(ctx, exc)
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
    data_capture: Annotated[
        DataCapture | None,
        Field(description="Start capturing requests/responses (Model Monitor needs them)"),
    ] = None
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
                self.data_capture,
            )
        ):
            raise ValueError(
                "nothing to change: give a model, instance type/count, memory or data_capture"
            )
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
        "enable data capture on the endpoint",
    ),
)
def sagemaker_update_endpoint(ctx: ToolContext, args: UpdateEndpointArgs) -> ToolResult:
    """Point an endpoint at a new model or instance size via a new endpoint config (blue/green)."""
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
    if args.data_capture and is_serverless(variants):
        raise ToolError(
            f"{args.endpoint_name} is a serverless endpoint, and serverless endpoints do not "
            "support data capture: deploy the model to a realtime endpoint with data_capture "
            "to monitor it",
            kind="invalid_arguments",
        )
    config_name = config_name_for(args.endpoint_name)
    request: dict[str, Any] = {
        "EndpointConfigName": config_name,
        "ProductionVariants": variants,
        "Tags": ctx.aws.tags(),
    }
    if args.data_capture:
        request["DataCaptureConfig"] = data_capture_config(args.data_capture)
    elif current.get("DataCaptureConfig"):
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
