"""What argument filling found for one tool call, and the check against the tool's own
schema that turns rejected values and cross-field rules into questions naming the field."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from agent.offline.toolinfo import ToolInfo


@dataclass
class Extraction:
    """The arguments found for one call, what is still missing or rejected, and where each came
    from (the planner asks, explains and remembers from these)."""

    args: dict[str, Any] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    used: set[str] = field(default_factory=set)  # entity kinds used ("s3", "file", "name" ...)
    from_context: list[str] = field(default_factory=list)
    invalid: list[tuple[str, str]] = field(default_factory=list)  # (field, message)
    notes: list[str] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)  # why a field is needed (tool's words)


def validate_and_trim(info: ToolInfo, ex: Extraction) -> Extraction:
    """Drop extracted values the tool rejects (reporting why), so the question names the field."""
    for _ in range(4):
        problems = info.validate(ex.args)
        bad = [(fld, typ, msg) for fld, typ, msg in problems if fld in ex.args and typ != "missing"]
        if not bad:
            break
        for fld, _typ, msg in bad:
            ex.invalid.append((fld, msg))
            ex.args.pop(fld, None)
    problems = info.validate(ex.args)
    missing = [fld for fld, typ, _ in problems if typ == "missing" and fld]
    # A rule across fields ("a role ARN is needed outside the sandbox"): ask for the field it names.
    for fld, typ, msg in problems:
        if fld or typ == "missing":
            continue
        low = msg.lower()
        positions = []
        for name in info.fields:
            if name in ex.args:
                continue
            for form in (name, name.removesuffix("_arn").replace("_", " ")):
                m = re.search(
                    rf"\b{re.escape(form)}\b (is required|is needed|must be (given|set))|"
                    rf"\b(needs?|give|name|set) (a |an |the )?{re.escape(form)}\b",
                    low,
                )
                if m:
                    positions.append((m.start(), name))
                    break
        if positions:
            missing.append(min(positions)[1])
            ex.reasons[min(positions)[1]] = msg
        else:
            ex.invalid.append(("arguments", msg))
    ex.missing = sorted(
        set(ex.missing) | set(missing),
        key=lambda n: list(info.fields).index(n) if n in info.fields else 99,
    )
    ex.missing = [m for m in ex.missing if m not in ex.args]
    return ex
