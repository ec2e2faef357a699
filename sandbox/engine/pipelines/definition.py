"""Pipeline definitions (version 2020-12-01) checked as CreatePipeline / UpdatePipeline check
them: JSON with Version, Parameters and Steps; unique step names; known step types; DependsOn
and `Get` references that name steps and parameters of the pipeline; no dependency cycle.

A step's dependencies are its DependsOn plus every step its arguments read (`Steps.X...`);
steps inside a Condition step's IfSteps/ElseSteps depend on the condition.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

VERSIONS = ("2020-12-01",)
STEP_TYPES = ("Processing", "Training", "Tuning", "Model", "CreateModel", "Transform",
              "RegisterModel", "Condition", "Fail", "ClarifyCheck", "QualityCheck", "Lambda",
              "Callback", "EMR", "AutoML", "Notebook", "EMRServerless")  # fmt: skip
EXECUTION_VARIABLES = ("PipelineExecutionId", "PipelineExecutionArn", "StartDateTime",
                       "CurrentDateTime", "PipelineName", "PipelineArn")  # fmt: skip
PARAMETER_TYPES = ("String", "Integer", "Float", "Boolean")
_STEP_NAME = re.compile(r"^[A-Za-z0-9\-_]{1,64}$")


class DefinitionError(ValueError):
    """What makes a definition one SageMaker would refuse (the ValidationException message)."""


@dataclass
class Step:
    name: str
    kind: str
    arguments: dict[str, Any]
    raw: dict[str, Any]
    depends_on: set[str] = field(default_factory=set)
    branch_of: str | None = None  # the Condition step whose IfSteps/ElseSteps hold this step


@dataclass
class Definition:
    parameters: dict[str, dict[str, Any]]
    steps: dict[str, Step]  # in definition order, branch steps included

    def order(self) -> list[str]:
        return list(self.steps)


def references(node: Any) -> list[str]:
    """Every `Get` path in a piece of a definition (inside Std:Join, Std:JsonGet, ...)."""
    found: list[str] = []
    if isinstance(node, dict):
        get = node.get("Get")
        if isinstance(get, str):
            found.append(get)
        for key, value in node.items():
            if key in ("IfSteps", "ElseSteps"):
                continue
            found.extend(references(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(references(value))
    return found


def _collect(
    raw_steps: Any, into: dict[str, Step], problems: list[str], branch: str | None
) -> None:
    if not isinstance(raw_steps, list):
        problems.append("Steps must be a list of steps")
        return
    for raw in raw_steps:
        if not isinstance(raw, dict):
            problems.append("each step must be a JSON object")
            continue
        name, kind = raw.get("Name"), raw.get("Type")
        if not isinstance(name, str) or not _STEP_NAME.match(name):
            problems.append(f"step name {name!r} must be 1-64 letters, digits, '-' or '_'")
            continue
        if name in into:
            problems.append(f"step names must be unique: '{name}' is used twice")
            continue
        if kind not in STEP_TYPES:
            problems.append(
                f"step '{name}' has an unknown type {kind!r} (one of: {', '.join(STEP_TYPES)})"
            )
            continue
        arguments = raw.get("Arguments") or {}
        if not isinstance(arguments, dict):
            problems.append(f"step '{name}': Arguments must be a JSON object")
            continue
        step = Step(name, kind, arguments, raw, branch_of=branch)
        into[name] = step
        if kind == "Condition":
            for key in ("IfSteps", "ElseSteps"):
                _collect(arguments.get(key) or [], into, problems, name)


def parse(text: str | dict[str, Any]) -> Definition:
    """The definition, or DefinitionError with every problem found."""
    if isinstance(text, str):
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise DefinitionError(
                f"Unable to parse pipeline definition: it is not JSON ({exc})."
            ) from None
    else:
        document = text
    if not isinstance(document, dict):
        raise DefinitionError("Unable to parse pipeline definition: it must be a JSON object.")
    problems: list[str] = []
    if document.get("Version") not in VERSIONS:
        problems.append(f"Version must be {VERSIONS[0]} (got {document.get('Version')!r})")
    parameters: dict[str, dict[str, Any]] = {}
    for item in document.get("Parameters") or []:
        name = item.get("Name") if isinstance(item, dict) else None
        if not name:
            problems.append("every parameter needs a Name")
            continue
        if item.get("Type", "String") not in PARAMETER_TYPES:
            problems.append(f"parameter {name}: Type must be one of {', '.join(PARAMETER_TYPES)}")
        if name in parameters:
            problems.append(f"parameter names must be unique: '{name}' is declared twice")
        parameters[name] = item
    steps: dict[str, Step] = {}
    if not document.get("Steps"):
        problems.append("the definition has no steps")
    else:
        _collect(document["Steps"], steps, problems, None)
    for step in steps.values():
        for dependency in step.raw.get("DependsOn") or []:
            if dependency not in steps:
                problems.append(
                    f"step '{step.name}' depends on '{dependency}', which is not a step of this pipeline"
                )
            else:
                step.depends_on.add(dependency)
        if step.branch_of:
            step.depends_on.add(step.branch_of)
        where = (
            step.arguments
            if step.kind != "Condition"
            else {"Conditions": step.arguments.get("Conditions")}
        )
        for path in references(where) + references(step.raw.get("PropertyFiles") or []):
            head, _, rest = path.partition(".")
            target = rest.split(".", 1)[0].split("[", 1)[0]
            if head == "Parameters" and target not in parameters:
                problems.append(
                    f"step '{step.name}' uses parameter '{target}', which is not declared in Parameters"
                )
            elif head == "Steps":
                if target not in steps:
                    problems.append(
                        f"step '{step.name}' reads '{path}', but there is no step named '{target}'"
                    )
                elif target == step.name:
                    problems.append(f"step '{step.name}' reads its own property '{path}'")
                else:
                    step.depends_on.add(target)
            elif head == "Execution" and target not in EXECUTION_VARIABLES:
                problems.append(f"step '{step.name}' uses unknown execution variable '{target}'")
            elif head not in ("Parameters", "Steps", "Execution"):
                problems.append(
                    f"step '{step.name}' has a Get reference '{path}' that is not Parameters.*, Steps.* or Execution.*"
                )
    cycle = find_cycle(steps)
    if cycle:
        problems.append("the steps depend on each other in a cycle: " + " -> ".join(cycle))
    if problems:
        raise DefinitionError("Unable to parse pipeline definition. " + "; ".join(problems) + ".")
    return Definition(parameters, steps)


def find_cycle(steps: dict[str, Step]) -> list[str] | None:
    """A dependency cycle as a path A -> B -> A, or None."""
    colour: dict[str, int] = {}
    trail: list[str] = []

    def visit(name: str) -> list[str] | None:
        colour[name] = 1
        trail.append(name)
        for dependency in sorted(steps[name].depends_on):
            if dependency not in steps:
                continue
            if colour.get(dependency) == 1:
                return [*trail[trail.index(dependency) :], dependency]
            if colour.get(dependency) is None:
                found = visit(dependency)
                if found:
                    return found
        trail.pop()
        colour[name] = 2
        return None

    for name in steps:
        if colour.get(name) is None:
            found = visit(name)
            if found:
                return list(reversed(found))
    return None


def resolve_parameters(
    definition: Definition, given: list[dict[str, Any]] | None
) -> dict[str, Any]:
    """Parameter values for an execution: defaults overridden by StartPipelineExecution's, typed."""
    values: dict[str, Any] = {}
    supplied = {p.get("Name"): p.get("Value") for p in given or []}
    unknown = sorted(set(supplied) - set(definition.parameters))
    if unknown:
        raise DefinitionError(
            f"Pipeline parameter(s) {', '.join(unknown)} are not declared in the pipeline "
            f"definition (it declares: {', '.join(definition.parameters) or 'none'})."
        )
    for name, item in definition.parameters.items():
        raw = supplied.get(name, item.get("DefaultValue"))
        if raw is None:
            raise DefinitionError(
                f"Pipeline parameter {name} has no default value and was not given a value."
            )
        kind = item.get("Type", "String")
        try:
            if kind == "Integer":
                values[name] = int(raw)
            elif kind == "Float":
                values[name] = float(raw)
            elif kind == "Boolean":
                values[name] = raw if isinstance(raw, bool) else str(raw).lower() == "true"
            else:
                values[name] = str(raw)
        except (TypeError, ValueError):
            raise DefinitionError(
                f"Value '{raw}' of parameter {name} is not a valid {kind}."
            ) from None
        allowed = item.get("EnumValues")
        if allowed and str(values[name]) not in [str(a) for a in allowed]:
            raise DefinitionError(f"Value '{raw}' of parameter {name} is not one of {allowed}.")
    return values
