"""Invoking an endpoint: a CSV or JSON payload in, the prediction decoded for a person."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.results import CostEstimate, ToolResult
from tools.core.validators import LocalFile, SageMakerName
from tools.cost.estimates import estimate_units

MAX_REALTIME_PAYLOAD = 6 * 1024 * 1024  # InvokeEndpoint limit (serverless: 4 MB)
PayloadType = Literal["text/csv", "application/json"]


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
    from tools.dataprep.manifest import encode_payload

    body, encoded = encode_payload(ctx.aws, args.endpoint_name, args.body(), args.content_type)
    params: dict[str, Any] = {
        "EndpointName": args.endpoint_name,
        "Body": body,
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
    if encoded:
        text = f"Sent {encoded}.\n{text}"
    if ctx.aws.is_sandbox:
        text += "\n(sandbox: the response is canned, not a real prediction)"
    data = {**decoded, "content_type": content_type, "invoked_variant": variant, "encoded": encoded}
    return ToolResult(text, data=data)
