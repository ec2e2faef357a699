"""sagecoach's own id for every tool call the model asks for.

Approvals, pending requests and audit records are keyed by call id, and the model's ids may
repeat within a turn or across turns. Input that is not a JSON object (the model's
invalid_tool_calls) becomes a call the approval gate answers with a clear error; it would
otherwise vanish.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from langchain.agents.middleware import AgentMiddleware
from langchain_core.messages import AIMessage

INVALID_INPUT = "__sagecoach_invalid_input__"


def invalid_input_message(name: str, raw: dict[str, Any]) -> str:
    got = str(raw.get(INVALID_INPUT, ""))[:200]
    return (
        f"The input for {name} was not a JSON object of named arguments (got: {got or 'nothing'}"
        f"{'; ' + str(raw.get('why')) if raw.get('why') else ''}). Nothing ran. Call {name} "
        'again with an object such as {"name": "value"}, following its schema.'
    )


def new_call_id() -> str:
    """sagecoach's id for a tool call (Bedrock allows [a-zA-Z0-9_-]{1,64})."""
    return "sc_" + uuid.uuid4().hex[:24]


def own_call_ids(message: AIMessage) -> AIMessage:
    """The message with every tool call under a fresh sagecoach id; input that is not a JSON
    object (the model's invalid_tool_calls) becomes a call the gate answers with an error."""
    calls: list[dict[str, Any]] = []
    model_ids: list[Any] = []
    for call in message.tool_calls:
        model_ids.append(call.get("id"))
        args = call.get("args")
        if not isinstance(args, dict):
            args = {INVALID_INPUT: json.dumps(args, default=str), "why": "not an object"}
        calls.append(
            {"name": call.get("name") or "", "args": args, "id": new_call_id(), "type": "tool_call"}
        )
    for bad in message.invalid_tool_calls or []:
        model_ids.append(bad.get("id"))
        calls.append(
            {
                "name": bad.get("name") or "unnamed_tool",
                "args": {
                    INVALID_INPUT: str(bad.get("args") or ""),
                    "why": str(bad.get("error") or ""),
                },
                "id": new_call_id(),
                "type": "tool_call",
            }
        )
    if not calls:
        return message
    content: Any = message.content
    if isinstance(content, list):  # tool-use blocks are rebuilt from tool_calls, with our ids
        content = [
            b
            for b in content
            if not (isinstance(b, dict) and b.get("type") in ("tool_use", "tool_call"))
        ]
    metadata = {**message.response_metadata, "sagecoach_model_call_ids": model_ids}
    return message.model_copy(
        update={
            "tool_calls": calls,
            "invalid_tool_calls": [],
            "content": content,
            "response_metadata": metadata,
        }
    )


def _with_own_ids(response: Any) -> Any:
    if isinstance(response, AIMessage):
        return own_call_ids(response)
    result = getattr(response, "result", None)
    if isinstance(result, list) and dataclasses.is_dataclass(response):
        fixed = [own_call_ids(m) if isinstance(m, AIMessage) else m for m in result]
        return dataclasses.replace(response, result=fixed)
    return response


class CallIdsMiddleware(AgentMiddleware):
    """Every tool call gets sagecoach's own id before anything is asked or run."""

    name = "sagecoach_call_ids"

    def wrap_model_call(self, request: Any, handler: Callable[[Any], Any]) -> Any:
        return _with_own_ids(handler(request))

    async def awrap_model_call(self, request: Any, handler: Callable[[Any], Awaitable[Any]]) -> Any:
        return _with_own_ids(await handler(request))
