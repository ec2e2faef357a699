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
from tools.core.declaration import ToolSpec
from tools.core.errors import ToolError
from tools.core.redact import redact
from tools.core.results import CostEstimate
from tools.preflight import PreflightReport, has_preflight, run_preflight

if TYPE_CHECKING:
    from agent.session_core import SessionCore

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


def preflight_for(core: SessionCore, spec: ToolSpec, args: Any) -> PreflightReport | None:
    """The call's pre-flight report (None for tools without checks, or if pre-flight broke)."""
    if not has_preflight(spec.name):
        return None
    role = core.settings.role_arn or getattr(core.env, "default_role_arn", None)
    try:
        return run_preflight(spec.name, args, core.env.aws, default_role_arn=role)
    except Exception:  # a broken check must not block the call; the policy still decides
        return None


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
            aws=core.env.aws,
            preflight=preflight_for(core, spec, args),
        )
        if verdict.action == "allow":
            return "run", (request, verdict.estimate, "auto")
        if verdict.action == "deny":
            status = "dry_run" if verdict.dry_run else "denied"
            stopped = verdict.preflight is not None and verdict.preflight.failed
            core.audit(
                "approval",
                {
                    "tool": spec.name,
                    "call_id": call["id"],
                    "args": redact(call.get("args") or {}),
                    "decision": status,
                    "reason": verdict.reason,
                    "who": "preflight" if stopped else "policy",
                },
            )
            core.record_tool(
                call, spec, status, 0.0, error=verdict.reason, estimate=verdict.estimate
            )
            message = error_message(
                call,
                verdict.reason,
                status,
                estimate=verdict.estimate,
                decision=status,
                error_kind="preflight_failed" if stopped and not verdict.dry_run else "",
            )
            if verdict.preflight is not None:
                _annotate(message, preflight=verdict.preflight.to_dict())
            return "done", message
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
                estimate = spec.estimate(args, core.region, core.env.aws)
            except ToolError:
                estimate = None
            report = preflight_for(core, spec, args)
            if report is not None and report.failed:  # the edit broke what was approved
                core.record_tool(call, spec, "denied", 0.0, error=report.for_model())
                message = error_message(
                    call,
                    report.for_model(),
                    "denied",
                    decision="edit",
                    error_kind="preflight_failed",
                )
                return "done", _annotate(message, preflight=report.to_dict())
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
        from tools.core.explain import explain_exception

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


# --- tool scoping ----------------------------------------------------------------------------
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
