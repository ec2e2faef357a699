"""Questions a person can answer: the missing value in plain words, with what exists.

    "To train a model I need the training data: which S3 location? For example
     s3://churn-data/raw/churn.csv or s3://sagecoach-demo/churn/churn.csv."

Never a field dump ("I need arguments (arguments)") and never pydantic's text as is.
"""

from __future__ import annotations

import re
from typing import Any

from agent.offline.memory import Memory, field_kind, tool_object
from agent.offline.toolinfo import FieldInfo, ToolInfo

# Pydantic's wording -> a person's ("Input should be greater than or equal to 5").
_PYDANTIC = (
    (re.compile(r"(?i)^input should be greater than or equal to (.+)$"), r"must be at least \1"),
    (re.compile(r"(?i)^input should be less than or equal to (.+)$"), r"must be at most \1"),
    (re.compile(r"(?i)^input should be greater than (.+)$"), r"must be more than \1"),
    (re.compile(r"(?i)^input should be less than (.+)$"), r"must be less than \1"),
    (re.compile(r"(?i)^input should be (.+)$"), r"must be \1"),
    (re.compile(r"(?i)^list should have at least (\d+) items?.*$"), r"needs at least \1 values"),
    (re.compile(r"(?i)^list should have at most (\d+) items?.*$"), r"takes at most \1 values"),
    (re.compile(r"(?i)^string should have at least (\d+) characters?$"), r"needs \1+ characters"),
    (
        re.compile(r"(?i)^string should have at most (\d+) characters?$"),
        r"takes at most \1 characters",
    ),
    (re.compile(r"(?i)^string should match pattern .*$"), "has characters it does not allow"),
    (re.compile(r"(?i)^field required$"), "is needed"),
    (re.compile(r"(?i)^extra inputs are not permitted$"), "is not something this step takes"),
)


def plain_error(message: str) -> str:
    text = message.strip().removeprefix("Value error, ").removeprefix("Assertion failed, ")
    for pattern, repl in _PYDANTIC:
        if pattern.match(text):
            return pattern.sub(repl, text)
    return text


def field_label(info: ToolInfo, f: FieldInfo) -> str:
    """'the training data', 'the endpoint', 'a name for the new model'."""
    kind = field_kind(info.name, f.name)
    desc = f.description.strip().rstrip(".")
    words = f.name.replace("_", " ").replace(" s3 uri", "").replace(" uri", "").strip()
    if _is_s3(f):
        what = desc if desc and len(desc) <= 50 else words
        return f"{what} (an S3 location, s3://bucket/prefix)"
    if _creates(info, kind):
        return f"a name for the new {kind.replace('_', ' ')}"
    if desc and len(desc) <= 60 and desc.lower() != words:
        lead = desc[0].lower() if desc[1:2].islower() else desc[0]
        return f"{words} ({lead + desc[1:]})"
    return words


def _is_s3(f: FieldInfo) -> bool:
    n, d = f.name.lower(), f.description.lower()
    return "s3" in n or n.endswith(("_uri", "_uris")) or "s3://" in d


def _creates(info: ToolInfo, kind: str) -> bool:
    obj = tool_object(info.name)
    verb = any(f"_{v}_" in f"_{info.name}_" for v in ("create", "start", "submit", "put"))
    return verb and bool(obj) and (kind == obj or obj.startswith(kind) or kind.endswith(obj))


def options_for(
    info: ToolInfo, f: FieldInfo, memory: Memory, lookup: Any = None, limit: int = 4
) -> list[str]:
    """Values that exist: from the conversation first, then the account."""
    kind = field_kind(info.name, f.name)
    if _creates(info, kind) and not _is_s3(f):
        return []
    seen: list[str] = []

    def add(value: Any) -> None:
        if isinstance(value, str) and value and value not in seen:
            seen.append(value)

    if _is_s3(f):
        for k, v in reversed(memory.items):
            if k.startswith("s3") and isinstance(v, str):
                add(v)
        buckets = [v for k, v in reversed(memory.items) if k == "bucket"]
        if lookup is not None:
            buckets += lookup.names("bucket")
        for b in buckets:
            add(f"s3://{b}/")
    else:
        for k, v in reversed(memory.items):
            if k == kind or k.endswith("_" + kind):
                add(v)
        if lookup is not None:
            for name in lookup.names(kind):
                add(name)
    return seen[:limit]


def _or(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]


def ask_text(
    info: ToolInfo,
    missing: list[str],
    invalid: list[tuple[str, str]],
    memory: Memory,
    lookup: Any = None,
    reasons: dict[str, str] | None = None,
) -> str:
    """One short paragraph: what is wrong, what is needed, and what could be used."""
    reasons = reasons or {}
    action = info.phrases[0] if info.phrases else info.name.replace("_", " ")
    lines: list[str] = []
    for name, message in invalid:
        f = info.fields.get(name)
        plain = plain_error(message)
        if f is None:  # a rule across fields ("give exactly one of s3_uri or glue_table")
            lines.append(_upper(plain.rstrip(".")) + ".")
            continue
        default = (
            f" (the default is {f.default})" if f.has_default and f.default is not None else ""
        )
        lines.append(f"{_upper(field_label(info, f))} {plain.rstrip('.')}{default}.")
    asks: list[str] = []
    for name in missing[:3]:
        f = info.fields.get(name)
        if f is None:
            continue
        label = field_label(info, f)
        if name in reasons:
            label += f" — {plain_error(reasons[name]).rstrip('.')}"
        options = options_for(info, f, memory, lookup)
        if f.enum:
            options = [str(v) for v in f.enum][:6]
        if options:
            label += f"; for example {_or(options)}"
        asks.append(label)
    if asks:
        # a phrase that is itself a question ("how is my training job doing") is not an action
        lead = (
            "For that"
            if re.match(r"(?i)(how|what|which|is|are|did|does|who|when)\b", action)
            else f"To {action}"
        )
        lines.append(f"{lead} I need {'; and '.join(asks)}. What should I use?")
    elif invalid:
        lines.append("What should I use instead?")
    return "\n".join(lines)


def _upper(text: str) -> str:
    return text[:1].upper() + text[1:]
