"""The pipeline functions an execution resolves before a step runs: `{"Get": ...}` on
parameters, execution variables and earlier steps' properties, `Std:Join`, `Std:JsonGet` on a
processing step's property file, and the Condition step's conditions."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

_TOKEN = re.compile(r"\.?([A-Za-z0-9_]+)|\[(?:'([^']*)'|\"([^\"]*)\"|(\d+))\]")


class ResolveError(Exception):
    """A reference that cannot be resolved at run time (the step fails with this)."""


def property_path(path: str) -> list[str | int]:
    """`A.B['x'].C[0]` → ["A", "B", "x", "C", 0]."""
    parts: list[str | int] = []
    position = 0
    while position < len(path):
        found = _TOKEN.match(path, position)
        if not found:
            raise ResolveError(f"cannot read property path '{path}'")
        name, quoted, double, index = found.groups()
        if name is not None:
            parts.append(name)
        elif index is not None:
            parts.append(int(index))
        else:
            parts.append(quoted if quoted is not None else double)
        position = found.end()
    return parts


def walk(document: Any, parts: list[str | int], where: str) -> Any:
    """Follow a property path into a Describe* answer; a list is indexed by position or by the
    `...Name` field of its items (Outputs['train'], FinalMetricDataList['validation:auc'])."""
    node = document
    for part in parts:
        if isinstance(node, list):
            if isinstance(part, int):
                if part >= len(node):
                    raise ResolveError(f"{where}: index {part} is out of range")
                node = node[part]
                continue
            match = next(
                (item for item in node if isinstance(item, dict)
                 and any(k.endswith("Name") and v == part for k, v in item.items())),
                None,
            )  # fmt: skip
            if match is None:
                raise ResolveError(f"{where}: no item named '{part}'")
            node = match
        elif isinstance(node, dict):
            if part not in node:
                raise ResolveError(f"{where}: the step's properties have no '{part}'")
            node = node[part]
        else:
            raise ResolveError(f"{where}: cannot read '{part}' of a value")
    return node


class Resolver:
    """Resolves expressions with the execution's parameters, variables and step properties."""

    def __init__(
        self,
        parameters: dict[str, Any],
        variables: dict[str, Any],
        properties: Callable[[str], dict[str, Any]],
        read_json: Callable[[str, str], Any],
    ) -> None:
        self.parameters = parameters
        self.variables = variables
        self.properties = properties  # step name → its properties (Describe* answer)
        self.read_json = read_json  # (step name, property file name) → parsed JSON

    def get(self, path: str) -> Any:
        head, _, rest = path.partition(".")
        if head == "Parameters":
            if rest not in self.parameters:
                raise ResolveError(f"parameter '{rest}' has no value")
            return self.parameters[rest]
        if head == "Execution":
            return self.variables[rest]
        if head == "Steps":
            step, _, tail = rest.partition(".")
            return walk(self.properties(step), property_path(tail), f"Steps.{step}")
        raise ResolveError(f"unknown reference '{path}'")

    def value(self, node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"Get"} and isinstance(node["Get"], str):
                return self.get(node["Get"])
            if set(node) == {"Std:Join"}:
                spec = node["Std:Join"]
                return str(spec.get("On", "")).join(
                    _text(self.value(v)) for v in spec.get("Values", [])
                )
            if set(node) == {"Std:JsonGet"}:
                spec = node["Std:JsonGet"]
                source = spec.get("PropertyFile")
                if isinstance(source, dict) and isinstance(source.get("Get"), str):
                    _, step, _, name = source["Get"].split(".", 3)
                    document = self.read_json(step, name)
                else:
                    document = self.read_json("", _text(self.value(source)))
                return json_path(document, str(spec.get("Path", "")))
            return {k: self.value(v) for k, v in node.items()}
        if isinstance(node, list):
            return [self.value(v) for v in node]
        return node

    def condition(self, spec: dict[str, Any]) -> bool:
        kind = spec.get("Type")
        if kind == "Not":
            return not self.condition(spec["Condition"])
        if kind == "Or":
            return any(self.condition(c) for c in spec.get("Conditions", []))
        if kind == "In":
            query = self.value(spec.get("QueryValue"))
            return any(_same(query, self.value(v)) for v in spec.get("Values", []))
        left, right = self.value(spec.get("LeftValue")), self.value(spec.get("RightValue"))
        if kind == "Equals":
            return _same(left, right)
        try:
            a, b = float(left), float(right)
        except (TypeError, ValueError):
            raise ResolveError(
                f"condition {kind} compares non-numbers {left!r} and {right!r}"
            ) from None
        return {"GreaterThan": a > b, "GreaterThanOrEqualTo": a >= b, "LessThan": a < b,
                "LessThanOrEqualTo": a <= b}.get(str(kind), False)  # fmt: skip


def _same(a: Any, b: Any) -> bool:
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return str(a) == str(b)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def json_path(document: Any, path: str) -> Any:
    """A JsonGet path: `metrics.auc.value`, `a[0].b`."""
    try:
        return walk(document, property_path(path), f"JsonGet '{path}'")
    except ResolveError:
        raise ResolveError(
            f"JsonGet: the path '{path}' is not in the property file ({json.dumps(document)[:200]})"
        ) from None
