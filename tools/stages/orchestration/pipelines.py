"""Stage 9 — orchestration: SageMaker Pipelines built from what the session already ran.

`pipelines_build_definition` turns the requests the stage tools sent (kept in the ledger as
`extra["request"]`) — or an explicit list of steps built with the same request builders —
into a pipeline definition (version 2020-12-01): one step per job, property references
(`{"Get": "Steps.X...."}`) where one step's output is the next one's input, DependsOn to keep
the session's order otherwise, and pipeline parameters for what a person would vary (input
S3 URIs, instance types). The definition is shown and saved before anything is created.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Annotated, Any, Literal

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field, model_validator

from tools.aws.roles import RoleArnValue, resolve_role
from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.errors import ToolError
from tools.core.explain import is_not_found
from tools.core.results import CostEstimate, Resource, ToolResult
from tools.core.validators import LocalFile
from tools.cost.estimates import usd
from tools.cost.prices import instance_hourly, table
from tools.stages.orchestration.definition import (
    MAX_DEFINITION_CHARS,
    assemble_definition,
    known_definition,
    remember_definition,
    validate_definition,
)
from tools.stages.orchestration.drafts import (
    StepSpec,
    definitions_dir,
    draft_from_spec,
    drafts_from_session,
)

PipelineName = Annotated[str, Field(pattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$")]


# --- pipelines_build_definition ------------------------------------------------------------------
class BuildDefinitionArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pipeline_name: Annotated[PipelineName, Field(description="Name the pipeline will get")]
    source: Annotated[
        Literal["session", "steps"], Field(description="session: what ran; steps: the list given")
    ] = "session"
    steps: Annotated[list[StepSpec] | None, Field(description="Explicit steps, in order")] = None
    names: Annotated[list[str] | None, Field(description="Session: only these job/model names")] = (
        None
    )
    parameterize: Annotated[bool, Field(description="Make inputs/instance types parameters")] = True

    @model_validator(mode="after")
    def _steps(self) -> BuildDefinitionArgs:
        if self.source == "steps" and not self.steps:
            raise ValueError("source 'steps' needs a non-empty steps list")
        if self.source == "session" and self.steps:
            raise ValueError("steps are only read with source 'steps'")
        return self


@tool(
    name="pipelines_build_definition",
    stage="orchestration",
    risk="read",
    operations=("sagemaker:DescribeTrainingJob", "sagemaker:DescribeProcessingJob"),
    phrases=(
        "turn this into a pipeline",
        "automate what we just did",
        "build a sagemaker pipeline",
        "export the workflow as a pipeline",
        "pipeline definition",
    ),
)
def pipelines_build_definition(ctx: ToolContext, args: BuildDefinitionArgs) -> ToolResult:
    """Assemble a SageMaker Pipelines definition from this session's successful steps or a given list; shown and saved, nothing created."""
    skipped: list[str] = []
    if args.source == "session":
        drafts, skipped = drafts_from_session(ctx, args.names)
        if not drafts:
            raise ToolError(
                "No completed processing, training, tuning, model or transform steps were found "
                "in this session" + (f" (skipped: {', '.join(skipped)})" if skipped else "") + "."
            )
    else:
        drafts = []
        for spec in args.steps or []:
            drafts.append(draft_from_spec(ctx, spec, drafts))
    definition, notes = assemble_definition(drafts, parameterize=args.parameterize)
    problems = validate_definition(definition)
    if problems:
        raise ToolError("The assembled definition is not valid: " + "; ".join(problems))
    text_json = json.dumps(definition, indent=1, default=str)
    if len(text_json) > MAX_DEFINITION_CHARS:
        raise ToolError(
            f"The definition is {len(text_json):,} characters; SageMaker takes at most "
            f"{MAX_DEFINITION_CHARS:,}. Build it from fewer steps."
        )
    remember_definition(args.pipeline_name, definition)
    path = None
    folder = definitions_dir(ctx)
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{args.pipeline_name}.json"
        path.write_text(text_json)
    lines = [
        f"{i}. {n['name']} ({n['type']}"
        + (f", from {n['source']}" if n["source"] and n["source"] != "explicit" else "")
        + (f"; after {', '.join(n['depends_on'])}" if n["depends_on"] else "")
        + ")"
        for i, n in enumerate(notes, 1)
    ]
    params = ", ".join(f"{p['Name']}={p['DefaultValue']}" for p in definition["Parameters"])
    shown = (
        text_json if len(text_json) <= 2500 else text_json[:2500] + "\n… (cut; full JSON in data)"
    )
    text = (
        f"Pipeline definition for {args.pipeline_name}: {len(notes)} steps\n"
        + "\n".join(lines)
        + f"\nParameters: {params or 'none'}"
        + (f"\nSkipped (not completed): {', '.join(skipped)}" if skipped else "")
        + (f"\nSaved to {path}" if path else "")
        + "\nReview it, then create it with pipelines_create_pipeline.\n"
        + shown
    )
    return ToolResult(
        text,
        data={
            "definition": definition,
            "steps": notes,
            "parameters": definition["Parameters"],
            "path": str(path) if path else None,
            "skipped": skipped,
        },
    )


# --- pipelines_create_pipeline ------------------------------------------------------------------
class CreatePipelineArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pipeline_name: PipelineName
    role_arn: Annotated[
        RoleArnValue | None, Field(description="Role the pipeline runs as; default: the session's")
    ] = None
    definition_file: Annotated[
        LocalFile | None, Field(description="Default: the one pipelines_build_definition saved")
    ] = None
    description: Annotated[str, Field(max_length=3072)] = ""


def load_definition(ctx: ToolContext | None, name: str, path: str | None) -> dict[str, Any] | None:
    if path:
        return json.loads(Path(path).read_text())
    if ctx is not None:
        folder = definitions_dir(ctx)
        if folder is not None and (folder / f"{name}.json").is_file():
            return json.loads((folder / f"{name}.json").read_text())
    return known_definition(name)


@tool(
    name="pipelines_create_pipeline",
    stage="orchestration",
    risk="write",
    operations=(
        "sagemaker:DescribePipeline",
        "sagemaker:CreatePipeline",
        "sagemaker:UpdatePipeline",
    ),
    phrases=("create the pipeline", "save the pipeline in sagemaker", "update the pipeline"),
)
def pipelines_create_pipeline(ctx: ToolContext, args: CreatePipelineArgs) -> ToolResult:
    """Create (or update) a SageMaker pipeline from a definition built by pipelines_build_definition."""
    role = resolve_role(ctx, args.role_arn, "SageMaker pipelines")
    definition = load_definition(ctx, args.pipeline_name, args.definition_file)
    if definition is None:
        raise ToolError(
            f"No definition for {args.pipeline_name}; build one first with pipelines_build_definition."
        )
    problems = validate_definition(definition)
    if problems:
        raise ToolError("The definition is not valid: " + "; ".join(problems))
    from tools.stages.orchestration.drafts import upload_step_code

    upload_step_code(ctx, definition)
    body = json.dumps(definition, default=str)
    sm = ctx.client("sagemaker")
    try:
        existing = sm.describe_pipeline(PipelineName=args.pipeline_name)
    except ClientError as exc:
        if not is_not_found(exc):
            raise
        existing = None
    if existing:
        params: dict[str, Any] = {
            "PipelineName": args.pipeline_name,
            "PipelineDefinition": body,
            "RoleArn": role,
        }
        if args.description:
            params["PipelineDescription"] = args.description
        arn = sm.update_pipeline(**params)["PipelineArn"]
        action = "Updated"
    else:
        params = {
            "PipelineName": args.pipeline_name,
            "PipelineDefinition": body,
            "RoleArn": role,
            "ClientRequestToken": uuid.uuid4().hex,
            "Tags": ctx.aws.tags(),
        }
        if args.description:
            params["PipelineDescription"] = args.description
        arn = sm.create_pipeline(**params)["PipelineArn"]
        action = "Created"
    remember_definition(args.pipeline_name, definition)
    steps = [s["Name"] for s in definition["Steps"]]
    text = (
        f"{action} pipeline {args.pipeline_name} with {len(steps)} steps ({', '.join(steps)}). "
        "Start it with pipelines_start_execution."
    )
    return ToolResult(
        text,
        data={"pipeline_name": args.pipeline_name, "pipeline_arn": arn, "action": action.lower()},
        resources=[Resource("sagemaker_pipeline", args.pipeline_name, arn, extra={"steps": steps})],
    )


# --- pipelines_start_execution ----------------------------------------------------------------
class StartExecutionArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pipeline_name: PipelineName
    parameters: Annotated[
        dict[str, str] | None, Field(description="Override parameter values by name")
    ] = None
    display_name: Annotated[str | None, Field(pattern=r"^[A-Za-z0-9](-*[A-Za-z0-9]){0,81}$")] = None
    definition_file: Annotated[LocalFile | None, Field(description="For the estimate")] = None


def _resolve(value: Any, params: dict[str, str]) -> Any:
    if isinstance(value, dict) and isinstance(value.get("Get"), str):
        ref = value["Get"]
        if ref.startswith("Parameters."):
            return params.get(ref.split(".", 1)[1])
    return value


def estimate_pipeline(
    definition: dict[str, Any], overrides: dict[str, str], region: str
) -> CostEstimate:
    """Sum of each step's bound: instance × count × max runtime × price (× jobs for tuning)."""
    params = {p["Name"]: str(p.get("DefaultValue", "")) for p in definition.get("Parameters", [])}
    params.update(overrides)
    total_high = 0.0
    total_low = 0.0
    parts: list[str] = []
    notes: list[str] = []
    unknown: list[str] = []
    for step in definition.get("Steps", []):
        args, kind, name = step.get("Arguments", {}), step.get("Type"), step.get("Name")
        if kind == "Processing":
            cfg = args.get("ProcessingResources", {}).get("ClusterConfig", {})
            component, jobs = "processing", 1
            hours = args.get("StoppingCondition", {}).get("MaxRuntimeInSeconds", 86400) / 3600
        elif kind == "Training":
            cfg = args.get("ResourceConfig", {})
            component, jobs = "training", 1
            hours = args.get("StoppingCondition", {}).get("MaxRuntimeInSeconds", 86400) / 3600
        elif kind == "Tuning":
            definition_ = args.get("TrainingJobDefinition", {})
            cfg = definition_.get("ResourceConfig", {})
            component = "training"
            limits = args.get("HyperParameterTuningJobConfig", {}).get("ResourceLimits", {})
            jobs = int(limits.get("MaxNumberOfTrainingJobs") or 0)
            if not jobs:
                unknown.append(f"{name} (grid: job count not bounded here)")
                continue
            hours = (
                definition_.get("StoppingCondition", {}).get("MaxRuntimeInSeconds", 86400) / 3600
            )
        elif kind == "Transform":
            cfg = args.get("TransformResources", {})
            component, jobs, hours = "transform", 1, 1.0
            notes.append(f"{name}: batch transform has no time limit; 1 h assumed")
        else:
            continue
        instance = _resolve(cfg.get("InstanceType"), params)
        count = int(cfg.get("InstanceCount") or 1)
        quote = instance_hourly(str(instance), component, region) if instance else None  # type: ignore[arg-type]
        if quote is None:
            unknown.append(f"{name} ({instance})")
            continue
        high = quote.usd * count * hours * jobs
        total_high += high
        total_low += quote.usd * count * min(hours, 0.1) * jobs
        parts.append(
            f"{name}: {f'{jobs} jobs × ' if jobs > 1 else ''}{count} × {instance} × "
            f"≤{hours:g} h = {usd(high)}"
        )
    if unknown and not parts:
        return CostEstimate.unknown("no price for: " + ", ".join(unknown))
    if unknown:
        notes.append("not priced: " + ", ".join(unknown))
    return CostEstimate(
        round(total_low, 4),
        round(total_high, 4),
        "sum of step bounds — " + "; ".join(parts),
        f"bundled price table ({region})",
        table().price_date,
        notes=tuple(notes),
    )


def _estimate_start(args: StartExecutionArgs, region: str) -> CostEstimate:
    definition = load_definition(None, args.pipeline_name, args.definition_file)
    if definition is None:
        return CostEstimate.unknown(
            "the pipeline's definition is not known here; its steps bill like the jobs they start",
            notes=("pass definition_file (saved by pipelines_build_definition) for a figure",),
        )
    return estimate_pipeline(definition, args.parameters or {}, region)


@tool(
    name="pipelines_start_execution",
    stage="orchestration",
    risk="costly",
    estimator=_estimate_start,
    operations=("sagemaker:StartPipelineExecution",),
    phrases=("run the pipeline", "start the pipeline", "execute the pipeline"),
)
def pipelines_start_execution(ctx: ToolContext, args: StartExecutionArgs) -> ToolResult:
    """Start a pipeline execution, optionally overriding parameters; its steps bill as their jobs do."""
    definition = load_definition(ctx, args.pipeline_name, args.definition_file)
    overrides = args.parameters or {}
    if definition is not None and overrides:
        declared = {p["Name"] for p in definition.get("Parameters", [])}
        unknown = sorted(set(overrides) - declared)
        if unknown:
            raise ToolError(
                f"unknown pipeline parameter(s) {', '.join(unknown)}; the pipeline has "
                f"{', '.join(sorted(declared)) or 'no parameters'}"
            )
    params: dict[str, Any] = {
        "PipelineName": args.pipeline_name,
        "ClientRequestToken": uuid.uuid4().hex,
    }
    if overrides:
        params["PipelineParameters"] = [{"Name": k, "Value": v} for k, v in overrides.items()]
    if args.display_name:
        params["PipelineExecutionDisplayName"] = args.display_name
    sm = ctx.client("sagemaker")
    arn = sm.start_pipeline_execution(**params)["PipelineExecutionArn"]
    status = sm.describe_pipeline_execution(PipelineExecutionArn=arn).get("PipelineExecutionStatus")
    text = (
        f"Started pipeline {args.pipeline_name}: execution {arn.rsplit('/', 1)[-1]} is {status}. "
        "Follow it with pipelines_describe_execution."
    )
    return ToolResult(
        text,
        data={"execution_arn": arn, "status": status, "parameters": overrides},
        resources=[
            Resource(
                "sagemaker_pipeline_execution",
                arn.rsplit("/", 1)[-1],
                arn,
                extra={"pipeline": args.pipeline_name},
            )
        ],
    )
