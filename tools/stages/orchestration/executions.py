"""Pipeline executions: list them, and describe one with its steps' statuses."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.results import ToolResult
from tools.stages.orchestration.pipelines import PipelineName


# --- executions ----------------------------------------------------------------------------------
class ListExecutionsArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pipeline_name: PipelineName
    max_results: Annotated[int, Field(ge=1, le=100)] = 20


@tool(
    name="pipelines_list_executions",
    stage="orchestration",
    risk="read",
    operations=("sagemaker:ListPipelineExecutions",),
    phrases=("pipeline runs", "list pipeline executions", "did the pipeline succeed"),
)
def pipelines_list_executions(ctx: ToolContext, args: ListExecutionsArgs) -> ToolResult:
    """List a pipeline's executions, newest first, with their status."""
    response = ctx.client("sagemaker").list_pipeline_executions(
        PipelineName=args.pipeline_name,
        SortBy="CreationTime",
        SortOrder="Descending",
        MaxResults=args.max_results,
    )
    rows = [
        {
            "arn": s["PipelineExecutionArn"],
            "id": s["PipelineExecutionArn"].rsplit("/", 1)[-1],
            "status": s.get("PipelineExecutionStatus"),
            "started": str(s.get("StartTime", ""))[:19],
            "display_name": s.get("PipelineExecutionDisplayName"),
        }
        for s in response.get("PipelineExecutionSummaries", [])
    ]
    if not rows:
        return ToolResult(f"{args.pipeline_name} has not run yet.", data={"rows": []})
    lines = [f"- {r['id']}: {r['status']} (started {r['started']})" for r in rows]
    return ToolResult(
        f"{len(rows)} executions of {args.pipeline_name}:\n" + "\n".join(lines), data={"rows": rows}
    )


class DescribeExecutionArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    execution_arn: Annotated[
        str | None, Field(description="Execution ARN; default: the pipeline's latest")
    ] = None
    pipeline_name: PipelineName | None = None

    @model_validator(mode="after")
    def _one(self) -> DescribeExecutionArgs:
        if not self.execution_arn and not self.pipeline_name:
            raise ValueError("give execution_arn or pipeline_name")
        if self.execution_arn and ":pipeline/" not in self.execution_arn:
            raise ValueError("execution_arn must be a pipeline execution ARN")
        return self


@tool(
    name="pipelines_describe_execution",
    stage="orchestration",
    risk="read",
    operations=("sagemaker:DescribePipelineExecution", "sagemaker:ListPipelineExecutionSteps"),
    phrases=("pipeline step status", "which pipeline step failed", "describe the pipeline run"),
)
def pipelines_describe_execution(ctx: ToolContext, args: DescribeExecutionArgs) -> ToolResult:
    """Show a pipeline execution's status and each step's status (failure reasons included)."""
    sm = ctx.client("sagemaker")
    arn = args.execution_arn
    if not arn:
        latest = sm.list_pipeline_executions(
            PipelineName=args.pipeline_name,
            SortBy="CreationTime",
            SortOrder="Descending",
            MaxResults=1,
        ).get("PipelineExecutionSummaries", [])
        if not latest:
            return ToolResult(f"{args.pipeline_name} has not run yet.", data={"steps": []})
        arn = latest[0]["PipelineExecutionArn"]
    desc = sm.describe_pipeline_execution(PipelineExecutionArn=arn)
    steps: list[dict[str, Any]] = []
    note = ""
    if ctx.aws.is_sandbox:
        note = " Step details are not emulated in the sandbox (its executions run no steps)."
    else:
        token = None
        while True:
            params: dict[str, Any] = {"PipelineExecutionArn": arn, "SortOrder": "Ascending"}
            if token:
                params["NextToken"] = token
            page = sm.list_pipeline_execution_steps(**params)
            for step in page.get("PipelineExecutionSteps", []):
                metadata = step.get("Metadata", {})
                job = next(
                    (v.get("Arn") for v in metadata.values() if isinstance(v, dict) and "Arn" in v),
                    None,
                )
                steps.append(
                    {
                        "name": step.get("StepName"),
                        "status": step.get("StepStatus"),
                        "started": str(step.get("StartTime", ""))[:19],
                        "ended": str(step.get("EndTime", ""))[:19],
                        "failure_reason": step.get("FailureReason") or None,
                        "job_arn": job,
                    }
                )
            token = page.get("NextToken")
            if not token:
                break
    status = desc.get("PipelineExecutionStatus")
    failure = desc.get("FailureReason") or ""
    lines = [
        f"- {s['name']}: {s['status']}"
        + (f" — {s['failure_reason']}" if s["failure_reason"] else "")
        for s in steps
    ]
    text = (
        f"Execution {arn.rsplit('/', 1)[-1]}: {status}"
        + (f" ({failure})" if failure and failure != "None" else "")
        + "."
        + note
        + ("\n" + "\n".join(lines) if lines else "")
    )
    return ToolResult(
        text,
        data={
            "execution_arn": arn,
            "status": status,
            "failure_reason": failure or None,
            "steps": steps,
        },
    )
