"""The JSONPath subset SageMaker batch transform's DataProcessing filters use: `$`, member
access (`$.features`, `$.a.b`, `$['a','b']`), indexes and index lists (`$[0]`, `$[0,-1]`),
and slices (`$[1:]`, `$[:-1]`, `$[2:5]`). A CSV record is filtered as the JSON array of its
cells."""

from __future__ import annotations

import re
from typing import Any

_TOKEN = re.compile(r"\.([A-Za-z_][\w-]*)|\[([^\]]*)\]")


class JsonPathError(ValueError):
    pass


def select(path: str, data: Any) -> Any:
    path = (path or "$").strip()
    if not path.startswith("$"):
        raise JsonPathError(f"A JSONPath starts with $: {path}")
    position, value = 1, data
    while position < len(path):
        found = _TOKEN.match(path, position)
        if not found:
            raise JsonPathError(f"Unsupported JSONPath {path} (at '{path[position:]}')")
        position = found.end()
        if found.group(1) is not None:
            value = _member(value, found.group(1), path)
        else:
            value = _bracket(value, found.group(2).strip(), path)
    return value


def _member(value: Any, key: str, path: str) -> Any:
    if not isinstance(value, dict) or key not in value:
        raise JsonPathError(f"{path}: no member '{key}' in the record")
    return value[key]


def _bracket(value: Any, inside: str, path: str) -> Any:
    if ":" in inside:
        if not isinstance(value, list):
            raise JsonPathError(f"{path}: a slice needs an array")
        start, _, stop = inside.partition(":")
        return value[int(start) if start.strip() else None : int(stop) if stop.strip() else None]
    parts = [p.strip() for p in inside.split(",") if p.strip()]
    if parts and all(p[0] in "'\"" for p in parts):
        keys = [p[1:-1] for p in parts]
        if len(keys) == 1:
            return _member(value, keys[0], path)
        if not isinstance(value, dict):
            raise JsonPathError(f"{path}: member names need an object")
        return {k: value[k] for k in keys if k in value}
    if parts == ["*"]:
        return list(value.values()) if isinstance(value, dict) else list(value)
    try:
        indexes = [int(p) for p in parts]
    except ValueError:
        raise JsonPathError(f"Unsupported JSONPath {path}") from None
    if not isinstance(value, list):
        raise JsonPathError(f"{path}: an index needs an array")
    try:
        picked = [value[i] for i in indexes]
    except IndexError:
        raise JsonPathError(
            f"{path}: index out of range for a record of {len(value)} values"
        ) from None
    return picked[0] if len(picked) == 1 and "," not in inside else picked
