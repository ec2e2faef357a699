"""What one planning step returns: text for the person, at most one tool call, and notes
the planner reads back from the conversation later (META_KEY)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Plan:
    text: str
    tool_call: dict[str, Any] | None = None
    meta: dict[str, Any] = field(default_factory=dict)
