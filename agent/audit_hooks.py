"""The audit log's `model_call` and `tool_call` records, written around the model and tools.

It sits inside the approval gate, so its tool_call records are for calls that ran; the gate
records the calls it refused itself.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from langchain.agents.middleware import AgentMiddleware
from langchain_core.messages import AIMessage, ToolMessage
from langgraph.errors import GraphBubbleUp

if TYPE_CHECKING:
    from agent.session_core import SessionCore


def prompt_digest(request: Any) -> dict[str, Any]:
    """Size and SHA-256 of what the model was sent: enough to prove which prompt it was
    without a copy of the conversation in every record."""

    parts = [
        {
            "type": getattr(m, "type", ""),
            "content": getattr(m, "content", ""),
            "tool_calls": getattr(m, "tool_calls", None),
        }
        for m in getattr(request, "messages", None) or []
    ]
    system = getattr(request, "system_prompt", None) or ""
    raw = json.dumps({"system": system, "messages": parts}, default=str).encode()
    return {"prompt_bytes": len(raw), "prompt_sha256": hashlib.sha256(raw).hexdigest()}


class AuditMiddleware(AgentMiddleware):
    """model_call and tool_call audit records (tool calls that actually ran)."""

    name = "sagecoach_audit"

    def __init__(self, core: SessionCore) -> None:
        super().__init__()
        self.core = core

    def _model_record(self, request: Any, started: float, response: Any, error: str = "") -> None:
        message = None
        if response is not None:
            results = getattr(response, "result", None) or (
                [response] if isinstance(response, AIMessage) else []
            )
            message = next((m for m in results if isinstance(m, AIMessage)), None)
        usage = dict(getattr(message, "usage_metadata", None) or {})
        details = usage.get("input_token_details") or {}
        meta = getattr(message, "response_metadata", None) or {}
        self.core.audit(
            "model_call",
            {
                "model": self.core.model_id,
                "input_tokens": usage.get("input_tokens", 0),
                "output_tokens": usage.get("output_tokens", 0),
                "cached_tokens": details.get("cache_read", 0),
                "cache_write_tokens": details.get("cache_creation", 0),
                "latency_ms": round((time.perf_counter() - started) * 1000, 2),
                "stop_reason": meta.get("stopReason") or meta.get("stop_reason") or "",
                "tool_calls": [c["name"] for c in getattr(message, "tool_calls", []) or []],
                "n_messages": len(request.messages),
                **prompt_digest(request),
                "error": error,
            },
        )

    def wrap_model_call(self, request: Any, handler: Callable[[Any], Any]) -> Any:
        started = time.perf_counter()
        try:
            response = handler(request)
        except GraphBubbleUp:
            raise
        except Exception as exc:
            self._model_record(request, started, None, error=f"{type(exc).__name__}: {exc}")
            raise
        self._model_record(request, started, response)
        return response

    async def awrap_model_call(self, request: Any, handler: Callable[[Any], Awaitable[Any]]) -> Any:
        started = time.perf_counter()
        try:
            response = await handler(request)
        except GraphBubbleUp:
            raise
        except Exception as exc:
            self._model_record(request, started, None, error=f"{type(exc).__name__}: {exc}")
            raise
        self._model_record(request, started, response)
        return response

    def _tool_record(self, request: Any, started: float, result: Any) -> None:
        call = request.tool_call
        spec = self.core.specs.get(call["name"])
        status, error, resources = "success", "", []
        if isinstance(result, ToolMessage):
            artifact = result.artifact if isinstance(result.artifact, dict) else {}
            resources = artifact.get("resources") or []
            if result.status == "error":
                status = artifact.get("sagecoach_status") or "error"
                error = result.content if isinstance(result.content, str) else str(result.content)
        self.core.record_tool(
            call,
            spec,
            status,
            (time.perf_counter() - started) * 1000,
            error=error,
            resources=resources,
        )

    def wrap_tool_call(self, request: Any, handler: Callable[[Any], Any]) -> Any:
        started = time.perf_counter()
        result = handler(request)
        self._tool_record(request, started, result)
        return result

    async def awrap_tool_call(self, request: Any, handler: Callable[[Any], Awaitable[Any]]) -> Any:
        started = time.perf_counter()
        result = await handler(request)
        self._tool_record(request, started, result)
        return result
