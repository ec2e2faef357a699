"""A call's outcome as an MCP CallToolResult: the tool's short text for the model, and the
same structured content (status, rows, resources, estimate) on every result, error or not."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from mcp import types

if TYPE_CHECKING:
    from agent.tool_session import CallOutcome


def _jsonable(value: Any) -> Any:
    """Tool data may hold datetimes or Decimals; structured content must be plain JSON."""
    return json.loads(json.dumps(value, default=str))


def structured(outcome: CallOutcome, **extra: Any) -> dict[str, Any]:
    content: dict[str, Any] = {
        "tool": outcome.name,
        "call_id": outcome.call_id,
        "status": outcome.status,
        "decision": outcome.decision,
        "data": _jsonable(outcome.data),
        "resources": _jsonable(outcome.resources),
        "estimate": _jsonable(outcome.estimate),
        "error_kind": outcome.error_kind,
    }
    content.update({k: v for k, v in extra.items() if v is not None})
    return content


def outcome_result(
    outcome: CallOutcome, *, text: str | None = None, **extra: Any
) -> types.CallToolResult:
    """Success, or a tool error the model can read (refused, rejected, failed, cancelled)."""
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text if text is not None else outcome.text)],
        structured_content=structured(outcome, **extra),
        is_error=not outcome.ok,
    )


def error_result(
    name: str, call_id: str, message: str, *, kind: str = "error"
) -> types.CallToolResult:
    """A failure outside any tool run (the session could not start, an internal error)."""
    from agent.tool_session import CallOutcome

    outcome = CallOutcome(call_id=call_id, name=name, status="error", text=message, error_kind=kind)
    return outcome_result(outcome)
