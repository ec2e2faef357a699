"""Pipeline executions: list them, and describe one with its steps' statuses."""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.results import ToolResult
from tools.stages.orchestration.definition import references
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
            outcome = (metadata.get("Condition") or {}).get("Outcome")
            steps.append(
                {
                    "name": step.get("StepName"),
                    "status": step.get("StepStatus"),
                    "started": str(step.get("StartTime", ""))[:19],
                    "ended": str(step.get("EndTime", ""))[:19],
                    "failure_reason": step.get("FailureReason") or None,
                    "job_arn": job,
                    "outcome": outcome,
                }
            )
        token = page.get("NextToken")
        if not token:
            break
    graph = _graph(sm, arn)
    by_name = {s["name"]: s for s in steps}
    rows = [
        {
            "step": name,
            "type": node["type"],
            "after": ", ".join(node["after"]),
            "status": by_name.get(name, {}).get("status") or "not run",
            "job": (by_name.get(name, {}).get("job_arn") or "").rsplit("/", 1)[-1],
            "detail": by_name.get(name, {}).get("failure_reason")
            or (
                f"outcome {by_name[name]['outcome']}"
                if by_name.get(name, {}).get("outcome")
                else ""
            ),
        }
        for name, node in graph.items()
    ] or [
        {"step": s["name"], "status": s["status"], "detail": s["failure_reason"] or ""}
        for s in steps
    ]
    status = desc.get("PipelineExecutionStatus")
    failure = desc.get("FailureReason") or ""
    lines = [
        f"- {r['step']}"
        + (
            f" ({r['type']}{', after ' + r['after'] if r.get('after') else ''})"
            if r.get("type")
            else ""
        )
        + f": {r['status']}"
        + (f" — {r['detail']}" if r.get("detail") else "")
        for r in rows
    ]
    summary = ", ".join(f"{r['step']} {r['status']}" for r in rows)
    text = (
        f"Execution {arn.rsplit('/', 1)[-1]}: {status}"
        + (f" ({failure})" if failure and failure != "None" else "")
        + (f" — {summary}" if summary else "")
        + "."
        + ("\n" + "\n".join(lines) if lines else "")
    )
    return ToolResult(
        text,
        data={
            "execution_arn": arn,
            "status": status,
            "failure_reason": failure or None,
            "steps": steps,
            "rows": rows,
        },
    )


def _graph(sm: Any, arn: str) -> dict[str, dict[str, Any]]:
    """Step name → its type and the steps it runs after, from the execution's definition."""
    try:
        text = sm.describe_pipeline_definition_for_execution(PipelineExecutionArn=arn)[
            "PipelineDefinition"
        ]
        definition = json.loads(text)
    except Exception:  # an older execution, or a definition that is not JSON: no graph
        return {}
    graph: dict[str, dict[str, Any]] = {}

    def add(steps: list[dict[str, Any]], branch_of: str | None) -> None:
        for step in steps:
            name = step.get("Name")
            arguments = step.get("Arguments") or {}
            after = set(step.get("DependsOn") or [])
            where = (
                {"Conditions": arguments.get("Conditions")}
                if step.get("Type") == "Condition"
                else arguments
            )
            for ref in references(where):
                if ref.startswith("Steps."):
                    after.add(ref.split(".")[1].split("[")[0])
            if branch_of:
                after.add(branch_of)
            graph[name] = {"type": step.get("Type"), "after": sorted(after - {name})}
            if step.get("Type") == "Condition":
                add(arguments.get("IfSteps") or [], name)
                add(arguments.get("ElseSteps") or [], name)

    add(definition.get("Steps") or [], None)
    return graph
