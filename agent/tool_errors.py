"""Error results for the model, and any exception from a tool turned into one.

Every refusal, invalid call and crash reaches the model as a ToolMessage with status "error"
whose artifact tells the front end the finer status (denied, rejected, dry_run, error), so
the approval gate and the last line of defence around the tools answer in one shape.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from langchain.agents.middleware import AgentMiddleware
from langchain_core.messages import ToolMessage
from langgraph.errors import GraphBubbleUp

from tools.core.results import CostEstimate

if TYPE_CHECKING:
    from agent.session_core import SessionCore


def error_message(
    tool_call: dict[str, Any],
    content: str,
    status: str,
    *,
    estimate: CostEstimate | None = None,
    error_kind: str = "",
    decision: str = "",
) -> ToolMessage:
    """An error result for the model; the artifact tells the UI the finer status."""
    return ToolMessage(
        content=content,
        tool_call_id=tool_call["id"],
        name=tool_call["name"],
        status="error",
        artifact={
            "sagecoach_status": status,
            "estimate": estimate.to_dict() if estimate else None,
            "error_kind": error_kind or status,
            "decision": decision,
        },
    )


class ToolErrorsMiddleware(AgentMiddleware):
    """Any exception escaping a tool becomes a readable error result (AWS errors explained)."""

    name = "sagecoach_tool_errors"

    def __init__(self, core: SessionCore) -> None:
        super().__init__()
        self.core = core

    def _explain(self, request: Any, exc: Exception) -> ToolMessage:
        from tools.core.explain import explain_exception

        spec = self.core.specs.get(request.tool_call["name"])
        err = explain_exception(exc, None, spec)
        return error_message(request.tool_call, err.message, "error", error_kind=err.kind)

    def wrap_tool_call(self, request: Any, handler: Callable[[Any], Any]) -> Any:
        try:
            return handler(request)
        except GraphBubbleUp:
            raise
        except Exception as exc:
            return self._explain(request, exc)

    async def awrap_tool_call(self, request: Any, handler: Callable[[Any], Awaitable[Any]]) -> Any:
        try:
            return await handler(request)
        except GraphBubbleUp:
            raise
        except Exception as exc:
            return self._explain(request, exc)
