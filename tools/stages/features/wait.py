"""Waiting for any SageMaker job (training, processing, tuning, transform) to finish."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.results import ToolResult
from tools.stages.shared.jobs import JOB_APIS, wait_for_job
from tools.stages.shared.listing import Strict

# ================================================================== the waiter


class WaitArgs(BaseModel):
    model_config = Strict
    kind: Literal[tuple(JOB_APIS)]  # type: ignore[valid-type]
    name: Annotated[str, Field(min_length=1, description="job name (pipeline_execution: its ARN)")]
    timeout_s: Annotated[int, Field(ge=1, le=86_400)] = 3600


@tool(
    name="sagemaker_wait_for_job",
    stage="general",
    risk="read",
    operations=("sagemaker:Describe*",),
    phrases=("wait for the job", "wait until training finishes", "is it done yet", "poll the job"),
)
def sagemaker_wait_for_job(ctx: ToolContext, args: WaitArgs) -> ToolResult:
    """Wait for a SageMaker job, endpoint or pipeline execution to finish, up to a timeout."""
    outcome = wait_for_job(ctx, args.kind, args.name, timeout_s=args.timeout_s)
    desc = outcome.description
    failure = desc.get("FailureReason")
    data = {
        "kind": args.kind,
        "name": args.name,
        "status": outcome.status,
        "waited_s": round(outcome.waited_s, 1),
        "timed_out": outcome.timed_out,
        "failure": failure,
    }
    if outcome.timed_out:
        text = f"{args.kind} {args.name} is still {outcome.status} after {args.timeout_s} s; it keeps running (and billing). Wait again or stop it."
    else:
        text = f"{args.kind} {args.name} finished: {outcome.status} after {outcome.waited_s:.0f} s of waiting."
    if failure:
        text += f" Failure: {failure}"
    return ToolResult(text, data)
