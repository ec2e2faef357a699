"""Deleting an endpoint and the config sagecoach created for it."""

from __future__ import annotations

from typing import Annotated

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field

from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.explain import is_not_found
from tools.core.results import ToolResult
from tools.core.validators import SageMakerName
from tools.cost.estimates import usd
from tools.ledger.recording import ledger_mark
from tools.stages.deployment.endpoint_status import endpoint_summary


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
