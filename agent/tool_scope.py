"""Binds the model only the tools it is likely to need, under a schema-size budget.

Every tool's schema on every model call would cost tokens and dilute the choice; the model can
ask for more stages with `load_stage_tools`, and every tool stays executable.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from langchain.agents.middleware import AgentMiddleware

from tools.core.declaration import ToolSpec

LOAD_STAGE_TOOL = "load_stage_tools"
SCHEMA_BUDGET_CHARS = 22_000
_STOP = {"a", "an", "the", "to", "of", "and", "or", "for", "in", "on", "my", "me", "i", "it", "is",
         "with", "from", "new", "get", "list", "show", "run", "start", "create", "make", "what",
         "how", "can", "you", "please", "this", "that", "all", "data", "aws", "sagemaker", "job"}  # fmt: skip


def _words(text: str) -> set[str]:
    import re

    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 1 and w not in _STOP}


class ToolScopeMiddleware(AgentMiddleware):
    """Sends the model only the tools it is likely to need, under a schema-size budget.

    Always: general tools, tools already used in the thread, and `load_stage_tools`. Then whole
    stages in this order while they fit: stages the model asked for with `load_stage_tools`,
    stages matching the latest request's words, stages of tools used in the thread. Every tool
    stays executable; only what is bound to the model changes."""

    name = "sagecoach_tool_scope"

    def __init__(self, specs: list[ToolSpec], budget_chars: int = SCHEMA_BUDGET_CHARS) -> None:
        super().__init__()
        from langchain_core.tools import StructuredTool

        from tools.core.stages import STAGES

        self.budget = budget_chars
        self.specs = {s.name: s for s in specs}
        self.stage_ids = [sid for sid, _, _ in STAGES]
        self.keywords: dict[str, set[str]] = {
            sid: _words(f"{sid} {title}") for sid, _, title in STAGES
        }
        for spec in specs:
            if spec.stage in self.keywords:
                self.keywords[spec.stage] |= _words(
                    " ".join((spec.name.replace("_", " "), *spec.phrases))
                )
        self.sizes: dict[str, int] = {}

        def load_stage_tools(stages: list[str]) -> str:
            known = [s for s in stages if s in self.stage_ids]
            unknown = [s for s in stages if s not in self.stage_ids]
            lines = [
                f"{s}: {', '.join(t.name for t in specs if t.stage == s) or 'no tools'}"
                for s in known
            ]
            if unknown:
                lines.append(f"unknown stages {unknown}; stages are: {', '.join(self.stage_ids)}")
            return "Loaded for your next step. " + " | ".join(lines)

        self.tools = [
            StructuredTool.from_function(
                load_stage_tools,
                name=LOAD_STAGE_TOOL,
                description=(
                    "Make the tools of pipeline stages available (only some are loaded). "
                    f"Stages: {', '.join(self.stage_ids)}."
                ),
            )
        ]

    def _size(self, tool: Any) -> int:
        name = getattr(tool, "name", None) or str(tool)
        if name not in self.sizes:
            try:
                from langchain_aws.chat_models.bedrock_converse import _format_tools

                self.sizes[name] = len(json.dumps(_format_tools([tool])[0], separators=(",", ":")))
            except Exception:
                self.sizes[name] = 1000
        return self.sizes[name]

    def select(self, tools: list[Any], messages: list[Any]) -> list[Any]:
        by_name = {getattr(t, "name", ""): t for t in tools}
        if sum(self._size(t) for n, t in by_name.items() if n != LOAD_STAGE_TOOL) <= self.budget:
            return [t for t in tools if getattr(t, "name", "") != LOAD_STAGE_TOOL]
        keep: list[str] = [
            n for n in by_name if n == LOAD_STAGE_TOOL or self._stage(n) == "general"
        ]
        requested: list[str] = []
        used_stages: list[str] = []
        last_human = ""
        for message in reversed(messages):
            if message.type == "human" and not last_human:
                last_human = message.text
            for call in getattr(message, "tool_calls", None) or []:
                if call["name"] == LOAD_STAGE_TOOL:
                    requested += [s for s in call["args"].get("stages", []) if s not in requested]
                elif call["name"] in by_name and call["name"] not in keep:
                    keep.append(call["name"])
                    stage = self._stage(call["name"])
                    if stage and stage not in used_stages:
                        used_stages.append(stage)
        words = _words(last_human)
        scored = sorted(
            ((len(words & kw), sid) for sid, kw in self.keywords.items() if words & kw),
            key=lambda item: -item[0],
        )
        order = [*requested, *(sid for _, sid in scored), *used_stages]
        size = sum(self._size(by_name[n]) for n in keep)
        for stage in dict.fromkeys(order):
            names = [n for n in by_name if self._stage(n) == stage and n not in keep]
            extra = sum(self._size(by_name[n]) for n in names)
            if size + extra <= self.budget:
                keep += names
                size += extra
        return [t for t in tools if getattr(t, "name", "") in set(keep)]

    def _stage(self, name: str) -> str:
        spec = self.specs.get(name)
        return spec.stage if spec else ""

    def wrap_model_call(self, request: Any, handler: Callable[[Any], Any]) -> Any:
        return handler(request.override(tools=self.select(list(request.tools), request.messages)))

    async def awrap_model_call(self, request: Any, handler: Callable[[Any], Awaitable[Any]]) -> Any:
        return await handler(
            request.override(tools=self.select(list(request.tools), request.messages))
        )
