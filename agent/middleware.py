"""Agent middleware, outermost first: approval, audit, model retry, tool errors.

- ApprovalMiddleware runs the policy for every tool call: allow → run; deny → an error result
  with the reason (dry-run: what would have run and its estimate); ask → `interrupt()` carrying
  the full ApprovalRequest, answered per call (keyed by interrupt id). A rejected call never runs.
- AuditMiddleware writes `model_call` and `tool_call` records.
- ModelRetryMiddleware retries throttling and transient errors, including a throttlingException
  inside ConverseStream (botocore does not retry those), and tells the front end to discard
  the partial message.
- ToolErrorsMiddleware turns any exception from a tool into a readable error result.

Each hook has a sync and an async form (LangGraph calls the async one under `astream`).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from langchain.agents.middleware import AgentMiddleware
from langchain_core.messages import AIMessage, ToolMessage
from langgraph.errors import GraphBubbleUp
from langgraph.types import interrupt

from agent.events import Decision
from agent.policy import allow_session_offered, decide
from tools.base import CostEstimate, ToolError, ToolSpec
from tools.redact import redact

if TYPE_CHECKING:
    from agent.runtime import SessionCore

ToolHandler = Callable[[Any], Any]

EDIT_NOTICE = (
    "Note: the person edited this call before it ran. Executed {name} with arguments {args} "
    "(not the ones you proposed).\n\n"
)


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


def _annotate(result: Any, **fields: Any) -> Any:
    """Add fields to a ToolMessage's artifact (estimate, decision) for the UI."""
    if isinstance(result, ToolMessage):
        artifact = result.artifact if isinstance(result.artifact, dict) else {}
        artifact.update({k: v for k, v in fields.items() if k not in artifact or v})
        result.artifact = artifact
    return result


class ApprovalMiddleware(AgentMiddleware):
    """The gate: every tool call goes through agent.policy.decide."""

    name = "sagecoach_approval"

    def __init__(self, core: SessionCore) -> None:
        super().__init__()
        self.core = core

    # Everything before interrupt() is pure: it re-runs when the node resumes.
    def _gate(self, request: Any) -> tuple[str, Any]:
        """('run', (request, estimate, decision)) or ('done', ToolMessage) or ('ask', ApprovalRequest)."""
        core = self.core
        call = request.tool_call
        spec = core.specs.get(call["name"])
        if spec is None:
            return "run", (request, None, "")  # ToolNode answers unknown tools itself
        pending = core.pending.get(call["id"])
        if pending is not None:
            return "ask", pending
        try:
            args = spec.validate(call.get("args") or {})
        except ToolError as exc:
            core.record_tool(call, spec, "error", 0.0, error=exc.message)
            return "done", error_message(call, exc.message, "error", error_kind=exc.kind)
        verdict = decide(
            spec,
            args,
            mode=core.mode,
            budget_per_call=core.settings.budget_usd_per_call,
            budget_per_session=core.settings.budget_usd_per_session,
            session=core.budget,
            region=core.region,
        )
        if verdict.action == "allow":
            return "run", (request, verdict.estimate, "auto")
        if verdict.action == "deny":
            status = "dry_run" if verdict.dry_run else "denied"
            core.audit(
                "approval",
                {
                    "tool": spec.name,
                    "call_id": call["id"],
                    "args": redact(call.get("args") or {}),
                    "decision": status,
                    "reason": verdict.reason,
                    "who": "policy",
                },
            )
            core.record_tool(
                call, spec, status, 0.0, error=verdict.reason, estimate=verdict.estimate
            )
            return "done", error_message(
                call, verdict.reason, status, estimate=verdict.estimate, decision=status
            )
        return "ask", core.approval_request(spec, call, args, verdict)

    def _apply(self, request: Any, answer: Any) -> tuple[str, Any]:
        """Turn the person's answer into ('run', (request, estimate, decision, notice)) or ('done', msg)."""
        core = self.core
        call = request.tool_call
        spec: ToolSpec = core.specs[call["name"]]
        decision = parse_decision(answer)
        pending = core.pending.pop(call["id"], None)
        estimate_dict = pending.estimate if pending else None
        core.audit(
            "approval",
            {
                "tool": spec.name,
                "call_id": call["id"],
                "request": redact(pending.to_dict()) if pending else None,
                "decision": decision.type,
                "args": redact(decision.args) if decision.args else None,
                "reason": decision.reason,
                "who": decision.who,
            },
        )
        if decision.type == "reject":
            reason = decision.reason.strip() or "no reason given"
            content = (
                f"The person rejected this call to {spec.name} (reason: {reason}). It did not run. "
                "Do not retry it unchanged; adjust or ask what they want."
            )
            core.record_tool(call, spec, "rejected", 0.0, error=reason)
            return "done", error_message(call, content, "rejected", decision="reject")
        notice = ""
        estimate = _estimate_from_dict(estimate_dict)
        if decision.type == "edit":
            try:
                args = spec.validate(decision.args or {})
            except ToolError as exc:  # the session validates first; this is the backstop
                core.record_tool(call, spec, "error", 0.0, error=exc.message)
                return "done", error_message(call, exc.message, "error", decision="edit")
            new_args = args.model_dump(mode="json")
            request = request.override(tool_call={**call, "args": new_args})
            try:
                estimate = spec.estimate(args, core.region)
            except ToolError:
                estimate = None
            notice = EDIT_NOTICE.format(name=spec.name, args=json.dumps(new_args, default=str))
        if decision.type == "allow_session" and allow_session_offered(spec):
            core.budget.allowed_tools.add(spec.name)
        return "run", (request, estimate, decision.type, notice)

    def _finish(
        self, result: Any, estimate: CostEstimate | None, decision: str, notice: str = ""
    ) -> Any:
        if isinstance(result, ToolMessage) and result.status != "error":
            self.core.charge(estimate)
        if notice and isinstance(result, ToolMessage):
            result.content = notice + (
                result.content if isinstance(result.content, str) else str(result.content)
            )
        return _annotate(
            result, estimate=estimate.to_dict() if estimate else None, decision=decision
        )

    def wrap_tool_call(self, request: Any, handler: ToolHandler) -> Any:
        kind, value = self._gate(request)
        if kind == "done":
            return value
        if kind == "run":
            req, estimate, decision = value
            return self._finish(handler(req), estimate, decision)
        answer = interrupt(value.to_dict())
        kind, value = self._apply(request, answer)
        if kind == "done":
            return value
        req, estimate, decision, notice = value
        return self._finish(handler(req), estimate, decision, notice)

    async def awrap_tool_call(self, request: Any, handler: Callable[[Any], Awaitable[Any]]) -> Any:
        kind, value = self._gate(request)
        if kind == "done":
            return value
        if kind == "run":
            req, estimate, decision = value
            return self._finish(await handler(req), estimate, decision)
        answer = interrupt(value.to_dict())
        kind, value = self._apply(request, answer)
        if kind == "done":
            return value
        req, estimate, decision, notice = value
        return self._finish(await handler(req), estimate, decision, notice)


def parse_decision(answer: Any) -> Decision:
    """A resume value (Decision, or its dict form) as a Decision; anything else rejects."""
    if isinstance(answer, Decision):
        return answer
    if isinstance(answer, dict) and answer.get("type") in (
        "approve",
        "edit",
        "reject",
        "allow_session",
    ):
        return Decision(
            type=answer["type"],
            args=answer.get("args"),
            reason=str(answer.get("reason") or ""),
            who=str(answer.get("who") or "user"),
        )
    return Decision("reject", reason=f"unreadable decision {answer!r}", who="sagecoach")


def _estimate_from_dict(data: dict[str, Any] | None) -> CostEstimate | None:
    if not data:
        return None
    return CostEstimate(
        low_usd=data.get("low_usd"),
        high_usd=data.get("high_usd"),
        basis=data.get("basis", ""),
        source=data.get("source", ""),
        price_date=data.get("price_date", ""),
        hourly_usd=data.get("hourly_usd"),
        notes=tuple(data.get("notes") or ()),
    )


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

    def wrap_tool_call(self, request: Any, handler: ToolHandler) -> Any:
        started = time.perf_counter()
        result = handler(request)
        self._tool_record(request, started, result)
        return result

    async def awrap_tool_call(self, request: Any, handler: Callable[[Any], Awaitable[Any]]) -> Any:
        started = time.perf_counter()
        result = await handler(request)
        self._tool_record(request, started, result)
        return result


RETRYABLE_CODES = {
    "throttlingexception",
    "throttling",
    "toomanyrequestsexception",
    "servicequotaexceededexception",
    "serviceunavailableexception",
    "modelstreamerrorexception",
    "internalserverexception",
    "modelnotreadyexception",
}


def is_retryable_model_error(exc: BaseException) -> bool:
    """Throttling and transient Bedrock errors, including ones inside an event stream."""
    from botocore import exceptions as bx

    if isinstance(exc, bx.ClientError):
        code = str((getattr(exc, "response", {}) or {}).get("Error", {}).get("Code", ""))
        return code.lower() in RETRYABLE_CODES
    if isinstance(exc, bx.ReadTimeoutError | bx.EndpointConnectionError | bx.ConnectionClosedError):
        return True
    if isinstance(exc, ConnectionError) and "stream" in str(exc).lower():
        return True  # "Incomplete Bedrock response stream"
    return bool(getattr(exc, "retryable", False))


class ModelRetryMiddleware(AgentMiddleware):
    """Retries a failed model call; the partial message is discarded on screen."""

    name = "sagecoach_model_retry"

    def __init__(
        self,
        max_retries: int = 3,
        initial_delay: float = 1.0,
        backoff: float = 2.0,
        max_delay: float = 20.0,
        retry_on: Callable[[BaseException], bool] = is_retryable_model_error,
    ) -> None:
        super().__init__()
        self.max_retries = max_retries
        self.initial_delay = initial_delay
        self.backoff = backoff
        self.max_delay = max_delay
        self.retry_on = retry_on

    def _delay(self, attempt: int) -> float:
        return min(self.max_delay, self.initial_delay * (self.backoff**attempt))

    @staticmethod
    def _discard(request: Any, exc: BaseException, attempt: int) -> None:
        writer = getattr(getattr(request, "runtime", None), "stream_writer", None)
        if writer is not None:
            writer(
                {
                    "sagecoach": "discard",
                    "reason": f"{type(exc).__name__}: {exc}",
                    "attempt": attempt + 1,
                }
            )

    def wrap_model_call(self, request: Any, handler: Callable[[Any], Any]) -> Any:
        attempt = 0
        while True:
            try:
                return handler(request)
            except GraphBubbleUp:
                raise
            except Exception as exc:
                if attempt >= self.max_retries or not self.retry_on(exc):
                    raise
                self._discard(request, exc, attempt)
                time.sleep(self._delay(attempt))
                attempt += 1

    async def awrap_model_call(self, request: Any, handler: Callable[[Any], Awaitable[Any]]) -> Any:
        attempt = 0
        while True:
            try:
                return await handler(request)
            except GraphBubbleUp:
                raise
            except Exception as exc:
                if attempt >= self.max_retries or not self.retry_on(exc):
                    raise
                self._discard(request, exc, attempt)
                await asyncio.sleep(self._delay(attempt))
                attempt += 1


class ToolErrorsMiddleware(AgentMiddleware):
    """Any exception escaping a tool becomes a readable error result (AWS errors explained)."""

    name = "sagecoach_tool_errors"

    def __init__(self, core: SessionCore) -> None:
        super().__init__()
        self.core = core

    def _explain(self, request: Any, exc: Exception) -> ToolMessage:
        from tools.errors import explain_exception

        spec = self.core.specs.get(request.tool_call["name"])
        err = explain_exception(exc, None, spec)
        return error_message(request.tool_call, err.message, "error", error_kind=err.kind)

    def wrap_tool_call(self, request: Any, handler: ToolHandler) -> Any:
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
