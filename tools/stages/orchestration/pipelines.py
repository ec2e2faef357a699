"""Stage 9 — orchestration: SageMaker Pipelines built from what the session already ran.

`pipelines_build_definition` turns the requests the stage tools sent (kept in the ledger as
`extra["request"]`) — or an explicit list of steps built with the same request builders —
into a pipeline definition (version 2020-12-01): one step per job, property references
(`{"Get": "Steps.X...."}`) where one step's output is the next one's input, DependsOn to keep
the session's order otherwise, and pipeline parameters for what a person would vary (input
S3 URIs, instance types). The definition is shown and saved before anything is created.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field, model_validator

from tools.base import CostEstimate, Resource, ToolContext, ToolError, ToolResult, tool
from tools.deployment import (
    CreateModelArgs,
    TransformJobArgs,
    build_create_model_request,
    build_transform_job_request,
    is_not_found,
    usd,
)
from tools.pricing import instance_hourly, table
from tools.roles import RoleArnValue, resolve_role, with_role
from tools.validators import LocalFile, SageMakerName

PIPELINE_VERSION = "2020-12-01"
MAX_DEFINITION_CHARS = 1_048_576  # CreatePipeline's PipelineDefinition limit
PipelineName = Annotated[str, Field(pattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$")]

# Ledger kind → (pipeline step type, the request's name key, the base step name).
STEP_KINDS: dict[str, tuple[str, str | None, str]] = {
    "sagemaker_processing_job": ("Processing", "ProcessingJobName", "Preprocess"),
    "sagemaker_training_job": ("Training", "TrainingJobName", "Train"),
    "sagemaker_tuning_job": ("Tuning", "HyperParameterTuningJobName", "Tune"),
    "sagemaker_model": ("Model", "ModelName", "CreateModel"),
    "sagemaker_transform_job": ("Transform", "TransformJobName", "BatchTransform"),
    "sagemaker_model_package": ("RegisterModel", None, "RegisterModel"),
}
STEP_TYPE_WORDS = {
    "processing": "sagemaker_processing_job",
    "training": "sagemaker_training_job",
    "tuning": "sagemaker_tuning_job",
    "model": "sagemaker_model",
    "transform": "sagemaker_transform_job",
    "register_model": "sagemaker_model_package",
}
JOB_STATUS = {
    "sagemaker_processing_job": (
        "describe_processing_job",
        "ProcessingJobName",
        "ProcessingJobStatus",
    ),
    "sagemaker_training_job": ("describe_training_job", "TrainingJobName", "TrainingJobStatus"),
    "sagemaker_tuning_job": (
        "describe_hyper_parameter_tuning_job",
        "HyperParameterTuningJobName",
        "HyperParameterTuningJobStatus",
    ),
    "sagemaker_transform_job": ("describe_transform_job", "TransformJobName", "TransformJobStatus"),
}

# Definitions built or created in this process, by pipeline name (for estimates).
_DEFINITIONS: dict[str, dict[str, Any]] = {}


def remember_definition(name: str, definition: dict[str, Any]) -> None:
    _DEFINITIONS[name] = definition


def known_definition(name: str) -> dict[str, Any] | None:
    return _DEFINITIONS.get(name)


@dataclass
class StepDraft:
    """A step before assembly: its kind, the request the tool sent (or would send), a name."""

    kind: str
    request: dict[str, Any]
    name: str = ""
    source: str = ""  # the job/model name in the session, or "explicit"


@dataclass
class _Output:
    uri: str
    get: dict[str, Any]
    step: str


@dataclass
class _Params:
    items: list[dict[str, Any]] = field(default_factory=list)
    by_value: dict[tuple[str, str], str] = field(default_factory=dict)

    def use(self, base: str, value: str) -> dict[str, str]:
        key = (base, value)
        if key not in self.by_value:
            taken = {p["Name"] for p in self.items}
            name, n = base, 2
            while name in taken:
                name, n = f"{base}{n}", n + 1
            self.items.append({"Name": name, "Type": "String", "DefaultValue": value})
            self.by_value[key] = name
        return {"Get": f"Parameters.{self.by_value[key]}"}


def _camel(text: str) -> str:
    parts = re.split(r"[^A-Za-z0-9]+", text)
    return "".join(p[:1].upper() + p[1:] for p in parts if p) or "Input"


def _norm(uri: str) -> str:
    return uri.rstrip("/")


def step_arguments(kind: str, request: dict[str, Any]) -> dict[str, Any]:
    """The request minus what a pipeline sets itself (the job/model name, ExperimentConfig)."""
    args = copy.deepcopy(request)
    name_key = STEP_KINDS[kind][1]
    if name_key:
        args.pop(name_key, None)
    args.pop("ExperimentConfig", None)
    return args


def _outputs_of(draft: StepDraft) -> list[_Output]:
    """What later steps may consume from this step, as property references."""
    req, name = draft.request, draft.name
    out: list[_Output] = []
    if draft.kind == "sagemaker_processing_job":
        for output in req.get("ProcessingOutputConfig", {}).get("Outputs", []):
            uri = output.get("S3Output", {}).get("S3Uri")
            if uri:
                path = (
                    f"Steps.{name}.ProcessingOutputConfig.Outputs['{output['OutputName']}']"
                    ".S3Output.S3Uri"
                )
                out.append(_Output(uri, {"Get": path}, name))
    elif draft.kind == "sagemaker_training_job":
        base = req.get("OutputDataConfig", {}).get("S3OutputPath", "")
        if base:
            artifact = f"{_norm(base)}/{req.get('TrainingJobName')}/output/model.tar.gz"
            out.append(
                _Output(artifact, {"Get": f"Steps.{name}.ModelArtifacts.S3ModelArtifacts"}, name)
            )
    elif draft.kind == "sagemaker_model":
        model_name = req.get("ModelName")
        if model_name:
            out.append(_Output(model_name, {"Get": f"Steps.{name}.ModelName"}, name))
    return out


def _tuning_artifact(draft: StepDraft, value: str) -> dict[str, Any] | None:
    """A model artifact of the tuning job's best training job → a Join over its property."""
    base = (
        draft.request.get("TrainingJobDefinition", {})
        .get("OutputDataConfig", {})
        .get("S3OutputPath")
    )
    if (
        not base
        or not value.startswith(_norm(base) + "/")
        or not value.endswith("/output/model.tar.gz")
    ):
        return None
    return {
        "Std:Join": {
            "On": "/",
            "Values": [
                _norm(base),
                {"Get": f"Steps.{draft.name}.BestTrainingJob.TrainingJobName"},
                "output/model.tar.gz",
            ],
        }
    }


def _link(value: str, earlier: list[StepDraft], outputs: list[_Output]) -> tuple[Any, str | None]:
    """Replace a string that is an earlier step's output with a property reference."""
    for output in reversed(outputs):
        if value == output.uri or _norm(value) == _norm(output.uri):
            return copy.deepcopy(output.get), output.step
        if output.uri.startswith("s3://") and value.startswith(_norm(output.uri) + "/"):
            rest = value[len(_norm(output.uri)) + 1 :]
            return {
                "Std:Join": {"On": "/", "Values": [copy.deepcopy(output.get), rest]}
            }, output.step
    for draft in reversed(earlier):
        if draft.kind == "sagemaker_tuning_job":
            joined = _tuning_artifact(draft, value)
            if joined is not None:
                return joined, draft.name
    return value, None


def _external_inputs(kind: str, args: dict[str, Any]) -> list[tuple[list[Any], str]]:
    """(path into args, parameter base name) for data inputs a person would vary."""
    found: list[tuple[list[Any], str]] = []
    if kind == "sagemaker_processing_job":
        for i, item in enumerate(args.get("ProcessingInputs", [])):
            if item.get("InputName") != "code" and "S3Input" in item:
                found.append(
                    (
                        ["ProcessingInputs", i, "S3Input", "S3Uri"],
                        f"{_camel(item['InputName'])}DataUri",
                    )
                )
    elif kind in ("sagemaker_training_job", "sagemaker_tuning_job"):
        root = ["TrainingJobDefinition"] if kind == "sagemaker_tuning_job" else []
        container = args.get("TrainingJobDefinition", {}) if root else args
        for i, channel in enumerate(container.get("InputDataConfig", [])):
            if "S3DataSource" in channel.get("DataSource", {}):
                found.append(
                    (
                        [*root, "InputDataConfig", i, "DataSource", "S3DataSource", "S3Uri"],
                        f"{_camel(channel['ChannelName'])}DataUri",
                    )
                )
    elif kind == "sagemaker_transform_job":
        found.append(
            (["TransformInput", "DataSource", "S3DataSource", "S3Uri"], "TransformInputUri")
        )
    return found


def _instance_paths(kind: str) -> list[tuple[list[Any], str]]:
    return {
        "sagemaker_processing_job": [
            (["ProcessingResources", "ClusterConfig", "InstanceType"], "ProcessingInstanceType")
        ],
        "sagemaker_training_job": [(["ResourceConfig", "InstanceType"], "TrainingInstanceType")],
        "sagemaker_tuning_job": [
            (["TrainingJobDefinition", "ResourceConfig", "InstanceType"], "TrainingInstanceType")
        ],
        "sagemaker_transform_job": [
            (["TransformResources", "InstanceType"], "TransformInstanceType")
        ],
    }.get(kind, [])


def _get_path(data: Any, path: list[Any]) -> Any:
    for key in path:
        try:
            data = data[key]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _set_path(data: Any, path: list[Any], value: Any) -> None:
    for key in path[:-1]:
        data = data[key]
    data[path[-1]] = value


def _walk_strings(node: Any, fn: Any) -> Any:
    if isinstance(node, dict):
        if set(node) <= {"Get", "Std:Join"}:  # already a pipeline function
            return node
        return {k: _walk_strings(v, fn) for k, v in node.items()}
    if isinstance(node, list):
        return [_walk_strings(v, fn) for v in node]
    if isinstance(node, str):
        return fn(node)
    return node


def name_steps(drafts: list[StepDraft]) -> None:
    used: dict[str, int] = {}
    for draft in drafts:
        base = draft.name or STEP_KINDS[draft.kind][2]
        base = re.sub(r"[^A-Za-z0-9_-]", "-", base)[:60]
        used[base] = used.get(base, 0) + 1
        draft.name = base if used[base] == 1 else f"{base}-{used[base]}"


def assemble_definition(
    drafts: list[StepDraft], *, parameterize: bool = True
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(definition, per-step notes): steps in order, references, DependsOn and parameters."""
    name_steps(drafts)
    params = _Params()
    steps: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    outputs: list[_Output] = []
    for index, draft in enumerate(drafts):
        step_type = STEP_KINDS[draft.kind][0]
        args = step_arguments(draft.kind, draft.request)
        refs: set[str] = set()

        def link(value: str, _refs: set[str] = refs, _i: int = index) -> Any:
            new, ref = _link(value, drafts[:_i], outputs)
            if ref:
                _refs.add(ref)
            return new

        args = _walk_strings(args, link)
        if parameterize:
            for path, base in _external_inputs(draft.kind, args):
                value = _get_path(args, path)
                if isinstance(value, str):
                    # The first data input of the pipeline is "InputDataUri".
                    use_base = "InputDataUri" if not params.items else base
                    existing = next(
                        (n for (b, v), n in params.by_value.items() if v == value and "Uri" in b),
                        None,
                    )
                    if existing:
                        _set_path(args, path, {"Get": f"Parameters.{existing}"})
                    else:
                        _set_path(args, path, params.use(use_base, value))
            for path, base in _instance_paths(draft.kind):
                value = _get_path(args, path)
                if isinstance(value, str):
                    _set_path(args, path, params.use(base, value))
        step: dict[str, Any] = {"Name": draft.name, "Type": step_type, "Arguments": args}
        depends = sorted(refs)
        if not refs and index > 0:
            step["DependsOn"] = [drafts[index - 1].name]
            depends = [drafts[index - 1].name]
        steps.append(step)
        notes.append(
            {
                "name": draft.name,
                "type": step_type,
                "source": draft.source,
                "depends_on": depends,
                "references": sorted(refs),
            }
        )
        outputs.extend(_outputs_of(draft))
    definition = {
        "Version": PIPELINE_VERSION,
        "Metadata": {},
        "Parameters": params.items,
        "Steps": steps,
    }
    return definition, notes


def validate_definition(definition: dict[str, Any]) -> list[str]:
    """Structural checks SageMaker would make (moto accepts anything, so we check here)."""
    problems: list[str] = []
    if definition.get("Version") != PIPELINE_VERSION:
        problems.append(f"Version must be {PIPELINE_VERSION}")
    steps = definition.get("Steps")
    if not isinstance(steps, list) or not steps:
        return [*problems, "the definition has no steps"]
    names = [s.get("Name") for s in steps]
    for name in names:
        if not isinstance(name, str) or not re.match(r"^[A-Za-z0-9_-]{1,64}$", name):
            problems.append(f"step name {name!r} must be 1-64 letters, digits, - or _")
    if len(set(names)) != len(names):
        problems.append("step names must be unique")
    params = {p.get("Name") for p in definition.get("Parameters", [])}
    valid_types = {"Processing", "Training", "Tuning", "Model", "Transform", "RegisterModel"}
    seen: set[str] = set()
    for step in steps:
        if step.get("Type") not in valid_types:
            problems.append(f"step {step.get('Name')}: unsupported type {step.get('Type')!r}")
        for dep in step.get("DependsOn", []):
            if dep not in seen:
                problems.append(f"step {step.get('Name')} depends on {dep}, which is not before it")
        for ref in _references(step.get("Arguments", {})):
            head, _, rest = ref.partition(".")
            target = rest.split(".", 1)[0]
            if head == "Parameters" and target not in params:
                problems.append(f"step {step.get('Name')} uses unknown parameter {target}")
            elif head == "Steps" and target not in seen:
                problems.append(
                    f"step {step.get('Name')} reads step {target}, which is not before it"
                )
        seen.add(step.get("Name"))
    return problems


def _references(node: Any) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        if "Get" in node and isinstance(node["Get"], str):
            found.append(node["Get"])
        for value in node.values():
            found.extend(_references(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_references(value))
    return found


# --- builders for explicit steps -------------------------------------------------------------
class RegisterModelArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model_package_group_name: Annotated[SageMakerName, Field(description="Registry group")]
    training_job_name: SageMakerName | None = None
    image_uri: str | None = None
    model_data_url: str | None = None
    approval_status: Literal["PendingManualApproval", "Approved", "Rejected"] = (
        "PendingManualApproval"
    )
    content_types: list[str] = ["text/csv"]
    response_types: list[str] = ["text/csv"]
    inference_instance_types: list[str] = ["ml.m5.large"]
    transform_instance_types: list[str] = ["ml.m5.large"]
    description: str = ""

    @model_validator(mode="after")
    def _source(self) -> RegisterModelArgs:
        if self.training_job_name is None and not (self.image_uri and self.model_data_url):
            raise ValueError("give training_job_name, or image_uri and model_data_url")
        return self


def build_register_model_request(
    *, group: str, image: str, model_data_url: str, args: RegisterModelArgs
) -> dict[str, Any]:
    """The CreateModelPackage request a RegisterModel step carries."""
    request: dict[str, Any] = {
        "ModelPackageGroupName": group,
        "InferenceSpecification": {
            "Containers": [{"Image": image, "ModelDataUrl": model_data_url}],
            "SupportedContentTypes": list(args.content_types),
            "SupportedResponseMIMETypes": list(args.response_types),
            "SupportedRealtimeInferenceInstanceTypes": list(args.inference_instance_types),
            "SupportedTransformInstanceTypes": list(args.transform_instance_types),
        },
        "ModelApprovalStatus": args.approval_status,
    }
    if args.description:
        request["ModelPackageDescription"] = args.description
    return request


class StepSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Annotated[
        Literal["processing", "training", "tuning", "model", "transform", "register_model"],
        Field(description="Step kind"),
    ]
    args: Annotated[dict[str, Any], Field(description="The same arguments the stage tool takes")]
    name: Annotated[str | None, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")] = None


def _training_by_job(drafts: list[StepDraft], job: str) -> StepDraft | None:
    return next(
        (
            d
            for d in drafts
            if d.kind == "sagemaker_training_job" and d.request.get("TrainingJobName") == job
        ),
        None,
    )


def draft_from_spec(ctx: ToolContext, spec: StepSpec, earlier: list[StepDraft]) -> StepDraft:
    """Build the request for one explicit step with the stage tool's own request builder."""
    from pydantic import ValidationError

    kind = STEP_TYPE_WORDS[spec.type]
    tags = ctx.aws.tags()
    try:
        if spec.type == "processing":
            from tools.features import (
                ProcessingJobArgs,
                build_processing_job_request,
                default_code_uri,
                processing_job_name,
            )

            pargs = with_role(ctx, ProcessingJobArgs.model_validate(spec.args))
            name = processing_job_name(pargs)
            pargs = pargs.model_copy(update={"job_name": name})
            request = build_processing_job_request(
                pargs, region=ctx.region, tags=tags, code_uri=default_code_uri(pargs, name)
            )
        elif spec.type == "training":
            from tools.training.jobs import StartTrainingArgs, build_training_job_request

            request = build_training_job_request(
                with_role(ctx, StartTrainingArgs.model_validate(spec.args)),
                region=ctx.region,
                tags=tags,
            )
        elif spec.type == "tuning":
            from tools.tuning import StartTuningArgs, build_tuning_job_request

            request = build_tuning_job_request(
                with_role(ctx, StartTuningArgs.model_validate(spec.args)),
                region=ctx.region,
                tags=tags,
            )
        elif spec.type == "model":
            margs = CreateModelArgs.model_validate(spec.args)
            image, data, role = margs.image_uri, margs.model_data_url, margs.role_arn
            if margs.training_job_name:
                train = _training_by_job(earlier, margs.training_job_name)
                if train is None:
                    raise ToolError(
                        f"model step: training job {margs.training_job_name} is not a training "
                        "step earlier in this list; name one, or give image_uri and model_data_url"
                    )
                image = image or train.request["AlgorithmSpecification"]["TrainingImage"]
                out = _norm(train.request["OutputDataConfig"]["S3OutputPath"])
                data = data or f"{out}/{margs.training_job_name}/output/model.tar.gz"
                role = role or train.request["RoleArn"]
            request = build_create_model_request(
                model_name=margs.model_name,
                role_arn=role or resolve_role(ctx, None, "SageMaker models"),
                tags=tags,
                image_uri=image,
                model_data_url=data,
                model_package_arn=margs.model_package_arn,
                mode=margs.mode,
                environment=margs.environment,
            )
        elif spec.type == "transform":
            request = build_transform_job_request(
                TransformJobArgs.model_validate(spec.args), region=ctx.region, tags=tags
            )
        else:
            rargs = RegisterModelArgs.model_validate(spec.args)
            image, data = rargs.image_uri, rargs.model_data_url
            if rargs.training_job_name:
                train = _training_by_job(earlier, rargs.training_job_name)
                if train is None:
                    raise ToolError(
                        f"register_model step: {rargs.training_job_name} is not an earlier training step"
                    )
                image = image or train.request["AlgorithmSpecification"]["TrainingImage"]
                out = _norm(train.request["OutputDataConfig"]["S3OutputPath"])
                data = data or f"{out}/{rargs.training_job_name}/output/model.tar.gz"
            request = build_register_model_request(
                group=rargs.model_package_group_name,
                image=str(image),
                model_data_url=str(data),
                args=rargs,
            )
    except ValidationError as exc:
        from tools.base import format_validation_error

        raise ToolError(
            format_validation_error(f"the {spec.type} step", exc), kind="invalid_arguments"
        ) from None
    except ValueError as exc:
        raise ToolError(f"{spec.type} step: {exc}", kind="invalid_arguments") from None
    return StepDraft(kind, request, spec.name or "", "explicit")


def drafts_from_session(
    ctx: ToolContext, names: list[str] | None
) -> tuple[list[StepDraft], list[str]]:
    """The session's successful jobs and models (with their requests), oldest first."""
    ledger = ctx.ledger
    if ledger is None or not hasattr(ledger, "entries"):
        raise ToolError(
            "This session has no resource ledger to build from; pass an explicit list of steps."
        )
    entries = [
        e
        for e in ledger.entries(session_id=ctx.session_id, kinds=STEP_KINDS)  # type: ignore[attr-defined]
        if isinstance(e.extra.get("request"), dict) and (not names or e.name in names)
    ]
    skipped: list[str] = []
    drafts: list[StepDraft] = []
    sm = ctx.client("sagemaker")
    for entry in entries:
        if entry.kind in JOB_STATUS:
            describe, param, key = JOB_STATUS[entry.kind]
            try:
                status = getattr(sm, describe)(**{param: entry.name}).get(key)
            except ClientError as exc:
                if not is_not_found(exc):
                    raise
                status = "gone"
            if status != "Completed":
                skipped.append(f"{entry.name} ({status})")
                continue
        drafts.append(StepDraft(entry.kind, entry.extra["request"], "", entry.name))
    return drafts, skipped


def definitions_dir(ctx: ToolContext) -> Path | None:
    return (ctx.state_dir / "pipelines") if ctx.state_dir else None


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
    if ctx.aws.is_sandbox:
        text += " (sandbox: executions succeed at once and run no steps.)"
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
