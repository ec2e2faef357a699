"""`/tool NAME key=value ...`: call any tool directly, validated first.

`direct_call(planner, messages, request)` takes the Planner (its tools and ranking).
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from langchain_core.messages import BaseMessage

from agent.offline.extract import Extraction, validate_and_trim
from agent.offline.plan import Plan


def direct_call(self: Any, messages: list[BaseMessage], request: str) -> Plan:
    try:
        parts = shlex.split(request)
    except ValueError as exc:
        return Plan(f"Could not read that command: {exc}.", meta={"kind": "answer"})
    if len(parts) < 2:
        names = ", ".join(sorted(self.by_name))
        return Plan(f"Usage: /tool NAME key=value ... Tools: {names}", meta={"kind": "answer"})
    name = parts[1]
    info = self.by_name.get(name)
    if info is None:
        close = [c.tool.name for c in self.ranker.rank(name.replace("_", " "), limit=3)]
        return Plan(
            f"There is no tool named {name}. Did you mean {', '.join(close) or 'one from `sagecoach tools`'}?",
            meta={"kind": "ask", "pending": {}},
        )
    args: dict[str, Any] = {}
    for item in parts[2:]:
        key, sep, value = item.partition("=")
        if not sep:
            return Plan(
                f"'{item}' is not key=value. Arguments of {name}: {', '.join(info.fields)}.",
                meta={"kind": "answer"},
            )
        args[key.strip()] = _parse_value(value)
    ex = validate_and_trim(info, Extraction(args=dict(args)))
    problems = info.validate(args)
    if problems:
        details = "; ".join(f"{f or 'arguments'}: {m}" for f, _, m in problems)
        return Plan(
            f"{name} would reject these arguments — {details}. Arguments: {', '.join(info.fields)}.",
            meta={
                "kind": "ask",
                "pending": {"tool": name, "args": ex.args, "missing": ex.missing, "rest": []},
            },
        )
    return self._call(messages, info, args, "")


def _parse_value(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value
