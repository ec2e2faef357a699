"""What creating and updating an endpoint share: the endpoint config request, its hourly price,
and the sandbox's instance-type hint.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field, model_validator

from tools.core.context import ToolContext
from tools.core.errors import ToolError
from tools.core.results import CostEstimate
from tools.core.validators import InstanceType, S3PrefixUri, SageMakerName, derived_name
from tools.cost.estimates import estimate_units, usd
from tools.cost.prices import check_instance_for, instance_hourly

SANDBOX_INSTANCE_HINT = (
    "The sandbox only emulates older instance families for endpoints; try ml.m5.large "
    "(against real AWS this instance type works)."
)
EndpointType = Literal["realtime", "serverless", "multi_model"]
ServerlessMemory = Literal[1024, 2048, 3072, 4096, 5120, 6144]


def timestamp_suffix() -> str:
    return datetime.now(UTC).strftime("%Y%m%d%H%M%S")


def config_name_for(endpoint_name: str) -> str:
    return f"{endpoint_name[:44]}-cfg-{timestamp_suffix()}"


def raise_sandbox_instance_error(ctx: ToolContext, exc: Exception) -> None:
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


def is_serverless(variants: list[dict[str, Any]]) -> bool:
    """An endpoint config's production variants are serverless (it takes only one)."""
    return bool(variants) and all(v.get("ServerlessConfig") for v in variants)


def config_hourly(config: dict[str, Any], region: str) -> tuple[float | None, str]:
    """($/h, 'realtime'|'serverless') for an endpoint config description."""
    variants = config.get("ProductionVariants", [])
    if is_serverless(variants):
        return None, "serverless"
    total = 0.0
    for variant in variants:
        hourly = variant_hourly(variant, region)
        if hourly is None:
            return None, "realtime"
        total += hourly
    return round(total, 4), "realtime"


# --- the endpoint config request (create and update share it) ----------------------------------
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
        request["DataCaptureConfig"] = data_capture_config(args.data_capture)
    return request


def data_capture_config(capture: DataCapture) -> dict[str, Any]:
    """The endpoint config's DataCaptureConfig: requests and responses, CSV and JSON bodies
    recorded as text (what Model Monitor reads)."""
    return {
        "EnableCapture": True,
        "InitialSamplingPercentage": capture.sampling_percent,
        "DestinationS3Uri": capture.destination_s3_uri,
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        "CaptureContentTypeHeader": {
            "CsvContentTypes": ["text/csv"],
            "JsonContentTypes": ["application/json"],
        },
    }


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
