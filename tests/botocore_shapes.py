"""Check a request against botocore's service model offline: required members, unknown members,
enums, patterns, string lengths, list sizes and number ranges (botocore's own validator checks
only types, required members and minimums)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import botocore.session


@lru_cache(maxsize=32)
def service_model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


@lru_cache(maxsize=512)
def _pattern(text: str) -> re.Pattern[str] | None:
    try:
        return re.compile(text)
    except re.error:  # a Java-only construct: not checkable here
        return None


def problems(service: str, operation: str, params: dict[str, Any]) -> list[str]:
    model = service_model(service).operation_model(operation)
    found: list[str] = []
    _walk(model.input_shape, params, operation, found)
    return found


def _walk(shape: Any, value: Any, path: str, found: list[str]) -> None:
    kind = shape.type_name
    if (isinstance(value, dict) and value.get("Get")) or (
        isinstance(value, dict) and "Std:Join" in value
    ):
        return  # a pipeline expression, resolved at run time
    if kind == "structure":
        if not isinstance(value, dict):
            found.append(f"{path}: expected an object, got {type(value).__name__}")
            return
        for name in shape.required_members:
            if name not in value:
                found.append(f"{path}.{name}: required")
        for name, member in value.items():
            if name not in shape.members:
                found.append(f"{path}.{name}: not a member of {shape.name}")
                continue
            _walk(shape.members[name], member, f"{path}.{name}", found)
    elif kind == "list":
        if not isinstance(value, list):
            found.append(f"{path}: expected a list")
            return
        _bounds(shape, len(value), path, found, "items")
        for i, item in enumerate(value):
            _walk(shape.member, item, f"{path}[{i}]", found)
    elif kind == "map":
        if not isinstance(value, dict):
            found.append(f"{path}: expected a map")
            return
        _bounds(shape, len(value), path, found, "entries")
        for key, item in value.items():
            _walk(shape.key, key, f"{path}.<key {key}>", found)
            _walk(shape.value, item, f"{path}.{key}", found)
    elif kind == "string":
        if not isinstance(value, str):
            found.append(f"{path}: expected a string, got {type(value).__name__}")
            return
        if shape.enum and value not in shape.enum:
            found.append(f"{path}: {value!r} is not one of {shape.enum}")
        _bounds(shape, len(value), path, found, "characters")
        pattern = shape.metadata.get("pattern")
        compiled = _pattern(pattern) if pattern else None
        if compiled is not None and not compiled.fullmatch(value):  # AWS anchors them
            found.append(f"{path}: {value!r} does not match {pattern}")
    elif kind in ("integer", "long", "float", "double"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            found.append(f"{path}: expected a number")
            return
        _bounds(shape, value, path, found, "")
    elif kind == "boolean" and not isinstance(value, bool):
        found.append(f"{path}: expected a boolean")


def _bounds(shape: Any, size: float, path: str, found: list[str], unit: str) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and size < low:
        found.append(f"{path}: {size} {unit} is under the minimum {low}".replace("  ", " "))
    if high is not None and size > high:
        found.append(f"{path}: {size} {unit} is over the maximum {high}".replace("  ", " "))
