"""A SageMaker Pipelines definition (version 2020-12-01) assembled from step drafts.

One step per job, property references (`{"Get": "Steps.X...."}`) where one step's output
is the next one's input, DependsOn to keep the session's order otherwise, and pipeline
parameters for what a person would vary (input S3 URIs, instance types).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

PIPELINE_VERSION = "2020-12-01"
MAX_DEFINITION_CHARS = 1_048_576  # CreatePipeline's PipelineDefinition limit

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


def norm_key(uri: str) -> str:
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
            artifact = f"{norm_key(base)}/{req.get('TrainingJobName')}/output/model.tar.gz"
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
        or not value.startswith(norm_key(base) + "/")
        or not value.endswith("/output/model.tar.gz")
    ):
        return None
    return {
        "Std:Join": {
            "On": "/",
            "Values": [
                norm_key(base),
                {"Get": f"Steps.{draft.name}.BestTrainingJob.TrainingJobName"},
                "output/model.tar.gz",
            ],
        }
    }


def _link(value: str, earlier: list[StepDraft], outputs: list[_Output]) -> tuple[Any, str | None]:
    """Replace a string that is an earlier step's output with a property reference."""
    for output in reversed(outputs):
        if value == output.uri or norm_key(value) == norm_key(output.uri):
            return copy.deepcopy(output.get), output.step
        if output.uri.startswith("s3://") and value.startswith(norm_key(output.uri) + "/"):
            rest = value[len(norm_key(output.uri)) + 1 :]
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
        for ref in references(step.get("Arguments", {})):
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


def references(node: Any) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        if "Get" in node and isinstance(node["Get"], str):
            found.append(node["Get"])
        for value in node.values():
            found.extend(references(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(references(value))
    return found
