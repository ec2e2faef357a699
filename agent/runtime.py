"""The agent runtime: a LangChain v1 agent with sagecoach's middleware, conversations in
SQLite, and the one event API every front end uses (agent/session_api.py).

    session = await open_session(settings)
    async for event in session.send("list my buckets"):
        ...
    if session.pending_approvals:
        async for event in session.decide({call_id: Decision.approve()}):
            ...
    await session.aclose()
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from agent.conversation_lock import ConversationBusy, ConversationLock
from agent.conversations import DB_NAME, ConversationStore, new_conversation_id
from agent.environment import AwsEnvironment, new_session_id, open_environment
from agent.events import (
    AnyEvent,
    ApprovalRequest,
    ApprovalRequested,
    Decision,
    DiscardMessage,
    ErrorEvent,
    Notice,
    ResourceCreated,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    ToolProgress,
    TurnFinished,
)
from agent.middleware import unwrap_data
from agent.model_choice import describe_model, resolve_model_spec
from agent.policy import PolicyDecision, SessionBudget, allow_session_offered
from agent.session_api import ConversationInfo
from agent.settings import MODES, Settings
from tools.base import CostEstimate, ProgressEvent, ToolContext, ToolError, ToolSpec
from tools.local_paths import LocalAccess, current_access, set_access
from tools.redact import redact

SUMMARY_CHARS = 300
_DONE = object()


# --- audit ---------------------------------------------------------------------------------
def _open_audit(settings: Settings, session_id: str) -> Any:
    """The session's audit log; keyed (HMAC) when the key file exists outside the log dir."""
    from agent.audit import AuditLog
    from agent.audit_head import load_key

    key = load_key(settings.audit_key_path, settings.audit_dir)
    return AuditLog(settings.audit_dir, session_id, key=key)


class AuditTee:
    """Writes to the audit log from a background thread (each record is fsynced, which must
    not stall a turn) and keeps the latest records, redacted, in memory (tests, the UI)."""

    def __init__(self, log: Any, keep: int = 2000, background: bool = True) -> None:
        self.log = log
        self.records: list[dict[str, Any]] = []
        self.keep = keep
        self._queue: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        if log is not None and background:
            self._thread = threading.Thread(target=self._drain, name="sagecoach-audit", daemon=True)
            self._thread.start()

    def _drain(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                self._write_now(*item)
            finally:
                self._queue.task_done()

    def _write_now(self, kind: str, payload: dict[str, Any]) -> None:
        try:
            self.log.append(kind, payload)
        except Exception:  # the audit log must never break a turn
            pass

    def _write(self, kind: str, payload: dict[str, Any]) -> None:
        if self.log is None:
            return
        if self._thread is not None:
            self._queue.put((kind, payload))
        else:
            self._write_now(kind, payload)

    def _remember(self, record: dict[str, Any]) -> None:
        self.records.append(record)
        if len(self.records) > self.keep:
            del self.records[: len(self.records) - self.keep]

    def append(self, kind: str, payload: dict[str, Any]) -> None:
        self._remember({"kind": kind, **redact(dict(payload))})
        self._write(kind, payload)

    def aws_call_sink(self, record: dict[str, Any]) -> None:
        self._remember({"kind": "aws_call", **record})
        self._write("aws_call", record)

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [r for r in self.records if r.get("kind") == kind]

    def flush(self) -> None:
        """Wait until every record so far is on disk."""
        if self._thread is not None:
            self._queue.join()

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)
            self._thread = None
        if self.log is not None:
            with contextlib.suppress(Exception):
                self.log.close()


# --- the state middleware shares -----------------------------------------------------------
class SessionCore:
    """What the middleware needs: tools, policy inputs, pending approvals, audit."""

    def __init__(
        self,
        settings: Settings,
        env: AwsEnvironment,
        specs: dict[str, ToolSpec],
        audit: AuditTee,
        model_id: str,
    ) -> None:
        self.settings = settings
        self.env = env
        self.specs = specs
        self.audit_log = audit
        self.model_id = model_id
        self.mode: str = settings.mode
        self.budget = SessionBudget()
        self.pending: dict[str, ApprovalRequest] = {}
        self.turn_cost = 0.0
        # The turn's budget: kept through approval rounds, reset by the person's next message.
        self.turn_model_calls = 0
        self.turn_started = time.monotonic()
        self.turn_refused: set[str] = set()  # signatures of calls refused in this turn
        self.stop_turn = ""
        # Results with data are framed as data for a language model (the offline planner
        # reads them as facts and follows no instructions).
        self.mark_data = True

    def new_turn(self) -> None:
        self.turn_model_calls = 0
        self.turn_started = time.monotonic()
        self.turn_refused = set()
        self.stop_turn = ""

    def turn_over(self) -> str:
        """Why the turn must end before another model call ('' while it may go on)."""
        if self.stop_turn:
            return self.stop_turn
        limit = self.settings.turn_model_calls
        if self.turn_model_calls >= limit:
            return (
                f"I stopped this turn after {limit} model calls (the per-turn limit, "
                "turn_model_calls). Say how you want to go on."
            )
        elapsed = time.monotonic() - self.turn_started
        if elapsed >= self.settings.turn_seconds:
            return (
                f"I stopped this turn after {elapsed / 60:.0f} minutes (the per-turn limit, "
                "turn_seconds). Say how you want to go on."
            )
        return ""

    @property
    def region(self) -> str:
        return self.env.aws.region

    def audit(self, kind: str, payload: dict[str, Any]) -> None:
        self.audit_log.append(kind, payload)

    def charge(self, estimate: CostEstimate | None) -> None:
        self.budget.charge(estimate)
        if estimate is not None and estimate.high_usd is not None:
            self.turn_cost += float(estimate.high_usd)

    def record_tool(
        self,
        call: dict[str, Any],
        spec: ToolSpec | None,
        status: str,
        duration_ms: float,
        *,
        error: str = "",
        resources: list[Any] | None = None,
        estimate: CostEstimate | None = None,
    ) -> None:
        self.audit(
            "tool_call",
            {
                "name": call.get("name"),
                "call_id": call.get("id"),
                "stage": spec.stage if spec else "",
                "risk": spec.risk if spec else "",
                "args": redact(call.get("args") or {}),
                "status": status,
                "duration_ms": round(duration_ms, 2),
                "error": error,
                "resources": resources or [],
                "estimate": estimate.to_dict() if estimate else None,
            },
        )

    def approval_request(
        self, spec: ToolSpec, call: dict[str, Any], args: Any, verdict: PolicyDecision
    ) -> ApprovalRequest:
        from agent.middleware import args_digest

        aws = self.env.aws
        shown = args.model_dump(mode="json")
        return ApprovalRequest(
            call_id=call["id"],
            tool=spec.name,
            stage=spec.stage,
            risk=spec.risk,
            args=shown,
            args_digest=args_digest(spec.name, shown),
            description=spec.description,
            operations=list(spec.operations),
            estimate=verdict.estimate.to_dict() if verdict.estimate else None,
            account=aws.account_label,
            region=aws.region,
            profile=aws.profile,
            sandbox=aws.is_sandbox,
            mode=self.mode,
            reason=verdict.reason,
            allow_session_offered=allow_session_offered(spec),
        )


@dataclass
class _Turn:
    reply_parts: list[str] = field(default_factory=list)
    usage: dict[str, int] = field(default_factory=dict)
    calls: dict[str, dict[str, Any]] = field(default_factory=dict)
    streamed: set[str] = field(default_factory=set)
    open_id: str | None = None
    started: dict[str, float] = field(default_factory=dict)
    finished: set[str] = field(default_factory=set)
    failed: bool = False


class TurnCancelled(Exception):
    pass


# --- the session ---------------------------------------------------------------------------
class AgentSession:
    """Implements agent.session_api.ChatSession."""

    def __init__(
        self,
        *,
        settings: Settings,
        env: AwsEnvironment,
        model: Any,
        model_spec: str,
        specs: list[ToolSpec],
        audit: AuditTee,
        saver_cm: Any,
        saver: Any,
        store: ConversationStore,
        session_id: str,
        conversation_id: str,
        ledger: Any = None,
        retry_delay: float = 1.0,
        lock: ConversationLock | None = None,
    ) -> None:
        self.settings = settings
        self.env = env
        self.model = model
        self.model_spec = model_spec
        self.session_id = session_id
        self.conversation_id = conversation_id
        self.audit = audit
        self._saver_cm = saver_cm
        self.saver = saver
        self.store = store
        self.ledger = ledger
        self._lock = lock or ConversationLock(settings.state_dir, conversation_id)
        self.core = SessionCore(
            settings, env, {s.name: s for s in specs}, audit, _model_id(model, model_spec)
        )
        self._cancel_event = _new_event()
        self._task: asyncio.Task | None = None
        self._resources: list[dict[str, Any]] = []
        self._paused: _Turn | None = None  # the turn waiting for approvals
        self._closed = False
        self.notices: list[Notice] = []  # shown by front ends at start (sandbox, running endpoints)
        # Local files tools may read: the working directory and what the person names.
        roots = [Path.cwd().resolve(), *current_access().roots]
        self.local_access = LocalAccess(roots=list(dict.fromkeys(roots)))
        self.agent = self._build_agent(specs, retry_delay)

    # --- construction --------------------------------------------------------------------
    def _tool_context(
        self, spec: ToolSpec, call_id: str, progress: Callable[[ProgressEvent], None]
    ) -> ToolContext:
        ctx = ToolContext(
            self.env.aws,
            session_id=self.session_id,
            state_dir=self.settings.state_dir,
            progress=progress,
            ledger=self.ledger,
            sandbox=self.env.sandbox,
            default_role_arn=self.settings.role_arn or getattr(self.env, "default_role_arn", None),
        )
        ctx.cancel_event = self._cancel_event
        return ctx

    def _build_agent(self, specs: list[ToolSpec], retry_delay: float) -> Any:
        from langchain.agents import create_agent

        from agent.middleware import (
            ApprovalMiddleware,
            AuditMiddleware,
            CallIdsMiddleware,
            ModelRetryMiddleware,
            ToolErrorsMiddleware,
            ToolScopeMiddleware,
            TurnBudgetMiddleware,
        )
        from agent.models import supports_prompt_caching
        from prompts import system_prompt
        from tools.langchain_adapter import to_langchain_tools

        tools = to_langchain_tools(specs, self._tool_context)
        middleware: list[Any] = [
            CallIdsMiddleware(),
            TurnBudgetMiddleware(self.core),
            ApprovalMiddleware(self.core),
            AuditMiddleware(self.core),
            ModelRetryMiddleware(initial_delay=retry_delay),
            ToolErrorsMiddleware(self.core),
        ]
        self.core.mark_data = self.model_spec != "offline"
        if self.model_spec != "offline":  # the offline planner ranks the whole tool set itself
            middleware.append(ToolScopeMiddleware(specs))
        if supports_prompt_caching(self.model):
            from langchain_aws.middleware import BedrockPromptCachingMiddleware

            middleware.append(BedrockPromptCachingMiddleware(unsupported_model_behavior="ignore"))
        aws = self.env.aws
        prompt = system_prompt(account=aws.account_label, region=aws.region, sandbox=aws.is_sandbox)
        return create_agent(
            self.model,
            tools,
            system_prompt=prompt,
            middleware=middleware,
            checkpointer=self.saver,
        )

    # --- labels ----------------------------------------------------------------------------
    @property
    def mode(self) -> str:
        return self.core.mode

    @mode.setter
    def mode(self, value: str) -> None:
        self.set_mode(value)

    @property
    def model_label(self) -> str:
        return describe_model(self.model_spec)

    @property
    def account_label(self) -> str:
        return self.env.aws.account_label

    @property
    def region(self) -> str:
        return self.env.aws.region

    @property
    def profile(self) -> str | None:
        return self.env.aws.profile

    @property
    def is_sandbox(self) -> bool:
        return self.env.is_sandbox

    @property
    def pending_approvals(self) -> list[ApprovalRequest]:
        return list(self.core.pending.values())

    @property
    def spent_usd(self) -> float:
        return self.core.budget.spent_usd

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode '{mode}' (one of {', '.join(MODES)})")
        self.core.mode = mode
        self.env.aws.set_read_only(mode == "read-only")
        self.audit.append("mode_change", {"mode": mode})

    def resources(self) -> list[dict[str, Any]]:
        """The session's ledger entries (or, without a ledger, what this session's calls created)."""
        if self.ledger is not None:
            try:
                return [e.to_dict() for e in self.ledger.entries(session_id=self.session_id)]
            except Exception:
                pass
        return list(self._resources)

    @property
    def _config(self) -> dict[str, Any]:
        return {
            "configurable": {"thread_id": self.conversation_id},
            "recursion_limit": 4 * self.settings.turn_model_calls + 10,
        }

    # --- turns -----------------------------------------------------------------------------
    async def send(self, text: str) -> AsyncIterator[AnyEvent]:
        text = text.strip()
        if not text:
            yield ErrorEvent("usage", "Nothing to send: the message is empty.")
            return
        await self.store.touch(self.conversation_id, first_text=text)
        self.local_access.name_paths_in(text)
        self.audit.append(
            "user_message", {"conversation": self.conversation_id, "text": redact(text)}
        )
        fixes = await self._orphan_results("Not run: the person moved on without approving it.")
        self.core.pending.clear()
        self.core.new_turn()
        messages: list[Any] = [*fixes, HumanMessage(content=text)]
        async for event in self._run({"messages": messages}):
            yield event

    async def decide(self, decisions: dict[str, Decision]) -> AsyncIterator[AnyEvent]:
        from langgraph.types import Command

        if not self.core.pending:
            await self._load_pending()
        resume: dict[str, Any] = {}
        problems: list[ErrorEvent] = []
        for call_id, decision in decisions.items():
            request = self.core.pending.get(call_id)
            if request is None:
                problems.append(ErrorEvent("usage", f"No approval is pending for call {call_id}."))
                continue
            if decision.type == "edit":
                spec = self.core.specs[request.tool]
                try:
                    spec.validate(decision.args or {})
                except ToolError as exc:
                    problems.append(ErrorEvent("invalid_arguments", exc.message))
                    continue
            if decision.type == "allow_session" and not allow_session_offered(
                self.core.specs[request.tool]
            ):
                decision = Decision("approve", who=decision.who)
            resume[request.interrupt_id] = {
                "type": decision.type,
                "args": decision.args,
                "reason": decision.reason,
                "who": decision.who,
                "digest": request.args_digest,  # bound to what was shown
            }
        if problems or not resume:
            for problem in problems or [ErrorEvent("usage", "No decision given.")]:
                yield problem
            for request in self.core.pending.values():  # still pending: ask again
                yield ApprovalRequested(request)
            return
        turn = self._paused
        if turn is None:  # resumed after a restart: calls of the paused step that already ran
            turn = _Turn()
            state = await self.agent.aget_state(self._config)
            for task in getattr(state, "tasks", ()) or ():
                for message in _messages_of(getattr(task, "result", None)):
                    if isinstance(message, ToolMessage):
                        turn.finished.add(message.tool_call_id)
        for request in self.core.pending.values():  # what runs is what was shown
            turn.calls[request.call_id] = {
                "id": request.call_id,
                "name": request.tool,
                "args": dict(request.args),
            }
        for call_id, decision in decisions.items():
            if decision.type == "edit" and call_id in turn.calls:
                spec = self.core.specs[turn.calls[call_id]["name"]]
                turn.calls[call_id] = {
                    **turn.calls[call_id],
                    "args": spec.validate(decision.args or {}).model_dump(mode="json"),
                }
        async for event in self._run(Command(resume=resume), turn):
            yield event

    def cancel(self) -> None:
        self._cancel_event.set()
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def _run(self, graph_input: Any, turn: _Turn | None = None) -> AsyncIterator[AnyEvent]:
        self._cancel_event = _new_event()
        if turn is None:  # a new turn (a resumed one carries its usage, reply and cost on)
            turn = _Turn()
            self.core.turn_cost = 0.0
        self._paused = None
        queue: asyncio.Queue = asyncio.Queue()
        task = asyncio.create_task(self._pump(graph_input, turn, queue))
        self._task = task
        try:
            while True:
                item = await queue.get()
                if item is _DONE:
                    break
                yield item
        finally:
            if not task.done():  # the consumer stopped early: stop the turn too
                self.cancel()
                with contextlib.suppress(BaseException):
                    await task
            self._task = None

    async def _pump(self, graph_input: Any, turn: _Turn, queue: asyncio.Queue) -> None:
        put = queue.put_nowait
        set_access(self.local_access)  # this task and everything it starts (tool threads)
        try:
            try:
                async for part in self.agent.astream(
                    graph_input,
                    self._config,
                    stream_mode=["messages", "updates", "custom"],
                    version="v2",
                ):
                    for event in self._translate(part, turn):
                        put(event)
            except asyncio.CancelledError:
                await asyncio.shield(self._after_cancel(turn, put))
                return
            except Exception as exc:
                put(self._error_event(exc))
                turn.failed = True
            await self._after_stream(turn, put)
        finally:
            put(_DONE)

    async def _after_stream(self, turn: _Turn, put: Callable[[Any], None]) -> None:
        await self._load_pending()
        if self.core.pending:
            for request in self.core.pending.values():
                put(ApprovalRequested(request))
            await self.store.touch(self.conversation_id, pending=True)
            self._paused = turn
            return
        if turn.failed:
            # A failed model call may leave tool calls unanswered; keep the thread valid.
            fixes = await self._orphan_results("Not run: the turn failed before this call ran.")
            if fixes:
                await self._append(fixes)
        await self.store.touch(self.conversation_id, pending=False)
        put(
            TurnFinished(
                reply="".join(turn.reply_parts).strip(),
                usage=dict(turn.usage),
                estimated_cost_usd=round(self.core.turn_cost, 4),
            )
        )
        self.audit.append(
            "turn_end",
            {
                "conversation": self.conversation_id,
                "usage": dict(turn.usage),
                "failed": turn.failed,
            },
        )

    async def _after_cancel(self, turn: _Turn, put: Callable[[Any], None]) -> None:
        try:
            fixes = await self._orphan_results("Not run: the person cancelled the turn.")
            if fixes:
                await self._append(fixes)
            self.core.pending.clear()
            await self.store.touch(self.conversation_id, pending=False)
        except Exception as exc:  # pragma: no cover - best effort
            put(ErrorEvent("internal", f"could not tidy the cancelled turn: {exc}"))
        if turn.open_id:
            put(DiscardMessage(turn.open_id))
        self.audit.append("turn_cancelled", {"conversation": self.conversation_id})
        put(
            TurnFinished(
                reply="".join(turn.reply_parts).strip(), usage=dict(turn.usage), cancelled=True
            )
        )

    # --- translating the graph stream --------------------------------------------------------
    def _translate(self, part: dict[str, Any], turn: _Turn) -> list[AnyEvent]:
        kind, data = part.get("type"), part.get("data")
        if kind == "messages":
            chunk, meta = data
            if meta.get("langgraph_node") != "model" or not isinstance(chunk, AIMessage):
                return []
            text = chunk.text
            if not text or not chunk.id:
                return []
            turn.open_id = chunk.id
            turn.streamed.add(chunk.id)
            return [TextDelta(chunk.id, text)]
        if kind == "custom" and isinstance(data, dict):
            return self._custom_event(data, turn)
        if kind == "updates" and isinstance(data, dict):
            events: list[AnyEvent] = []
            for node, update in data.items():
                if node == "__interrupt__":
                    continue  # read from the saved state when the stream ends
                for message in _messages_of(update):
                    events.extend(self._committed(message, turn))
            return events
        return []

    def _custom_event(self, data: dict[str, Any], turn: _Turn) -> list[AnyEvent]:
        what = data.get("sagecoach")
        if what == "call_args" and isinstance(data.get("args"), dict):
            call = turn.calls.setdefault(data.get("call_id", ""), {"id": data.get("call_id")})
            call["args"] = dict(data["args"])
            return []
        if what == "tool_started":
            call_id = data.get("call_id", "")
            turn.started[call_id] = time.perf_counter()
            call = turn.calls.get(call_id, {})
            spec = self.core.specs.get(data.get("name", ""))
            return [
                ToolCallStarted(
                    call_id=call_id,
                    name=data.get("name", ""),
                    stage=spec.stage if spec else "",
                    risk=spec.risk if spec else "",
                    args=dict(call.get("args") or {}),
                )
            ]
        if what == "progress":
            return [
                ToolProgress(
                    call_id=data.get("call_id", ""),
                    name=data.get("name", ""),
                    message=data.get("message", ""),
                    done=data.get("done"),
                    total=data.get("total"),
                    unit=data.get("unit", ""),
                )
            ]
        if what == "discard":
            self.audit.append(
                "model_retry",
                {
                    "model": self.core.model_id,
                    "reason": data.get("reason", ""),
                    "attempt": data.get("attempt"),
                },
            )
            events: list[AnyEvent] = []
            if turn.open_id:
                events.append(DiscardMessage(turn.open_id))
                turn.open_id = None
            events.append(
                Notice(f"The model call failed ({data.get('reason', '')}); retrying.", "warning")
            )
            return events
        return []

    def _committed(self, message: Any, turn: _Turn) -> list[AnyEvent]:
        events: list[AnyEvent] = []
        if isinstance(message, AIMessage):
            turn.open_id = None
            text = message.text
            if text:
                turn.reply_parts.append(text if not turn.reply_parts else "\n" + text)
                if message.id not in turn.streamed:  # a model that did not stream
                    events.append(TextDelta(message.id or "msg", text))
            for key, value in (message.usage_metadata or {}).items():
                if isinstance(value, int):
                    turn.usage[key] = turn.usage.get(key, 0) + value
            details = (message.usage_metadata or {}).get("input_token_details") or {}
            if details.get("cache_read"):
                turn.usage["cached_tokens"] = turn.usage.get("cached_tokens", 0) + int(
                    details["cache_read"]
                )
            for call in message.tool_calls:
                turn.calls[call["id"]] = call
        elif isinstance(message, ToolMessage):
            events.extend(self._tool_finished(message, turn))
        return events

    def _tool_finished(self, message: ToolMessage, turn: _Turn) -> list[AnyEvent]:
        if message.tool_call_id in turn.finished:  # a resumed step replays finished calls
            return []
        turn.finished.add(message.tool_call_id)
        artifact = message.artifact if isinstance(message.artifact, dict) else {}
        call = turn.calls.get(message.tool_call_id, {})
        status = artifact.get("sagecoach_status") or (
            "error" if message.status == "error" else "success"
        )
        content = message.content if isinstance(message.content, str) else str(message.content)
        content = unwrap_data(content)
        started = turn.started.pop(message.tool_call_id, None)
        duration = artifact.get("duration_ms")
        if duration is None and started is not None:
            duration = (time.perf_counter() - started) * 1000
        events: list[AnyEvent] = [
            ToolCallFinished(
                call_id=message.tool_call_id,
                name=message.name or call.get("name", ""),
                status=status,
                summary=_summary(content),
                duration_ms=round(float(duration or 0.0), 2),
                data=dict(artifact.get("data") or {}),
                error_kind=artifact.get("error_kind", "") if status != "success" else "",
                args=dict(call.get("args") or {}),
                estimate=artifact.get("estimate"),
            )
        ]
        for resource in artifact.get("resources") or []:
            self._resources.append({**resource, "call_id": message.tool_call_id})
            events.append(ResourceCreated(message.tool_call_id, resource))
        return events

    def _error_event(self, exc: BaseException) -> ErrorEvent:
        from tools.errors import explain_exception

        err = explain_exception(exc, None, None)
        message = err.message.replace("the call failed", "the model call failed")
        self.audit.append("error", {"kind": err.kind, "message": message})
        return ErrorEvent(err.kind, message)

    # --- thread state -----------------------------------------------------------------------
    async def _load_pending(self) -> None:
        state = await self.agent.aget_state(self._config)
        pending: dict[str, ApprovalRequest] = {}
        for intr in getattr(state, "interrupts", ()) or ():
            value = intr.value
            if isinstance(value, dict) and "call_id" in value:
                request = ApprovalRequest(**{**value, "interrupt_id": intr.id})
                pending[request.call_id] = request
        self.core.pending = pending

    async def _orphan_results(self, reason: str) -> list[ToolMessage]:
        """Tool results for tool calls in the thread that have none (cancel, unanswered approvals).

        Results a cancelled step already produced are kept; the rest say why they did not run."""
        state = await self.agent.aget_state(self._config)
        messages = (state.values or {}).get("messages", []) if state else []
        last_index = max(
            (i for i, m in enumerate(messages) if isinstance(m, AIMessage)), default=-1
        )
        # Only results after the last assistant message answer its calls: an id the model
        # reused from an earlier turn must not count as answered (it would leave a toolUse
        # without a toolResult and break every later turn).
        answered = {
            m.tool_call_id for m in messages[last_index + 1 :] if isinstance(m, ToolMessage)
        }
        done: dict[str, ToolMessage] = {}
        for task in getattr(state, "tasks", ()) or ():
            for message in _messages_of(getattr(task, "result", None)):
                if isinstance(message, ToolMessage):
                    done[message.tool_call_id] = message
        fixes: list[ToolMessage] = []
        last_ai = next((m for m in reversed(messages) if isinstance(m, AIMessage)), None)
        if last_ai is None:
            return fixes
        for call in last_ai.tool_calls:
            if call["id"] in answered:
                continue
            fixes.append(
                done.get(call["id"])
                or ToolMessage(
                    content=reason,
                    tool_call_id=call["id"],
                    name=call["name"],
                    status="error",
                    artifact={"sagecoach_status": "cancelled", "error_kind": "cancelled"},
                )
            )
        return fixes

    async def _append(self, messages: list[Any]) -> None:
        await self.agent.aupdate_state(self._config, {"messages": messages}, as_node="tools")

    # --- conversations ----------------------------------------------------------------------
    async def list_conversations(self) -> list[ConversationInfo]:
        return await self.store.list()

    async def _switch_lock(self, conversation_id: str, wait_s: float) -> None:
        """Hold the new conversation's writer lock before letting go of the current one."""
        if conversation_id == self._lock.conversation_id and self._lock.held:
            return
        lock = ConversationLock(self.settings.state_dir, conversation_id)
        await lock.acquire(wait_s)
        self._lock.release()
        self._lock = lock

    async def new_conversation(self) -> str:
        conversation_id = new_conversation_id()
        await self._switch_lock(conversation_id, 0.0)
        self.conversation_id = conversation_id
        self.core.pending.clear()
        await self.store.ensure(self.conversation_id)
        return self.conversation_id

    async def resume(self, conversation_id: str, wait_s: float = 2.0) -> list[dict[str, Any]]:
        """Switch to a conversation; ConversationBusy when another process writes to it."""
        if not await self.store.exists(conversation_id):
            raise KeyError(f"no conversation '{conversation_id}'")
        await self._switch_lock(conversation_id, wait_s)
        self.conversation_id = conversation_id
        await self._load_pending()
        state = await self.agent.aget_state(self._config)
        return [_message_dict(m) for m in (state.values or {}).get("messages", [])]

    async def delete_conversation(self, conversation_id: str) -> None:
        other = None
        if conversation_id != self.conversation_id:  # never delete under another writer
            other = ConversationLock(self.settings.state_dir, conversation_id)
            await other.acquire(0.0)
        try:
            await self.saver.adelete_thread(conversation_id)
            await self.store.delete(conversation_id)
        finally:
            if other is not None:
                other.release()
                with contextlib.suppress(OSError):
                    other.path.unlink()
        if conversation_id == self.conversation_id:
            await self.new_conversation()

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.cancel()
        if self._task is not None:
            with contextlib.suppress(BaseException):
                await self._task
        self.audit.append(
            "session_end",
            {"spent_usd": round(self.core.budget.spent_usd, 4), "resources": len(self._resources)},
        )
        with contextlib.suppress(Exception):
            await self._saver_cm.__aexit__(None, None, None)
        self._lock.release()
        self.audit.close()
        self.env.close()


def _new_event() -> Any:
    import threading

    return threading.Event()


def _messages_of(update: Any) -> list[Any]:
    """Messages inside a node update (a dict, a Command, or a list of those)."""
    if update is None:
        return []
    if isinstance(update, list):
        out: list[Any] = []
        for item in update:
            out.extend(_messages_of(item))
        return out
    if isinstance(update, dict):
        messages = update.get("messages") or []
        return list(messages) if isinstance(messages, list | tuple) else [messages]
    inner = getattr(update, "update", None)  # langgraph Command
    return _messages_of(inner) if inner is not None else []


def _summary(text: str) -> str:
    text = text.strip()
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1] + "…"


def _message_dict(message: Any) -> dict[str, Any]:
    role = {"human": "user", "ai": "assistant", "tool": "tool", "system": "system"}.get(
        message.type, message.type
    )
    text = unwrap_data(message.text) if isinstance(message, ToolMessage) else message.text
    out: dict[str, Any] = {"role": role, "id": message.id, "text": text}
    if isinstance(message, AIMessage) and message.tool_calls:
        out["tool_calls"] = [
            {"id": c["id"], "name": c["name"], "args": c["args"]} for c in message.tool_calls
        ]
    if isinstance(message, ToolMessage):
        out["tool_call_id"] = message.tool_call_id
        out["name"] = message.name
        out["status"] = message.status
    return out


def _model_id(model: Any, spec: str) -> str:
    return str(
        getattr(model, "model_id", None)
        or getattr(model, "model", None)
        or spec
        or type(model).__name__
    )


def _open_ledger(state_dir: Path) -> Any:
    try:
        from tools.ledger import ResourceLedger
    except ImportError:  # pragma: no cover
        return None
    try:
        return ResourceLedger.in_state_dir(state_dir)
    except Exception:
        return None


def secure_state(settings: Settings) -> list[str]:
    """State and log directories owner-only (0700/0600), the conversation database created
    0600 before SQLite opens it (its -wal/-shm files inherit that mode)."""
    from tools.private_files import private_file, secure_tree

    fixed = secure_tree(settings.state_dir)
    if settings.log_dir.exists():
        fixed += secure_tree(settings.log_dir)
    private_file(settings.state_dir / DB_NAME)
    return fixed


async def open_session(
    settings: Settings,
    *,
    conversation: str | None = None,
    model: Any = None,
    sandbox_endpoint: str | None = None,
    tools: list[ToolSpec] | None = None,
    retry_delay: float = 1.0,
    lock_wait_s: float = 30.0,
) -> AgentSession:
    """Start a session: environment, audit log, model, checkpointer, agent.

    `model` injects a chat model instance (tests); `sandbox_endpoint` reuses a running moto
    server; `tools` replaces the registry's tool set (tests, scoped sessions)."""
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    from agent.models import make_chat_model
    from tools.price_refresh import use_cache

    use_cache(settings.state_dir)  # a refreshed price cache, when there is one, wins
    session_id = new_session_id()
    audit = AuditTee(_open_audit(settings, session_id))
    env = open_environment(
        settings,
        session_id=session_id,
        on_aws_call=audit.aws_call_sink,
        sandbox_endpoint=sandbox_endpoint,
    )
    try:
        spec = resolve_model_spec(settings.model, is_sandbox=env.is_sandbox, region=env.aws.region)
        if model is None:
            model = make_chat_model(spec, env.aws)
        else:
            spec = settings.model or getattr(model, "_llm_type", "injected")
        if tools is None:
            from tools.registry import load_all

            tools = load_all().all()
        await asyncio.to_thread(secure_state, settings)
        saver_cm = AsyncSqliteSaver.from_conn_string(str(settings.state_dir / DB_NAME))
        saver = await saver_cm.__aenter__()
        await saver.setup()
        store = ConversationStore(saver)
        await store.setup()
        if conversation and not await store.exists(conversation):
            await saver_cm.__aexit__(None, None, None)
            raise KeyError(f"no conversation '{conversation}' (see `sagecoach ask --list`)")
        conversation_id = conversation or new_conversation_id()
        # One writer per conversation: wait for another process's turn, or say who has it.
        lock = ConversationLock(settings.state_dir, conversation_id)
        try:
            await lock.acquire(lock_wait_s)
        except ConversationBusy:
            await saver_cm.__aexit__(None, None, None)
            raise
        await store.ensure(conversation_id)
    except BaseException:
        env.close()
        audit.close()
        raise
    ledger = _open_ledger(settings.state_dir)
    if ledger is not None:  # creates are written to the ledger before they are sent
        from tools.ledger_intents import LedgerIntents

        env.aws.add_listener(LedgerIntents(ledger, session_id, env.aws.region))
    session = AgentSession(
        settings=settings,
        env=env,
        model=model,
        model_spec=spec,
        specs=tools,
        audit=audit,
        saver_cm=saver_cm,
        saver=saver,
        store=store,
        session_id=session_id,
        conversation_id=conversation_id,
        ledger=ledger,
        retry_delay=retry_delay,
        lock=lock,
    )
    aws = env.aws
    audit.append(
        "session_start",
        {
            "model": spec,
            "mode": settings.mode,
            "sandbox": aws.is_sandbox,
            "region": aws.region,
            "account": aws.account_label,
            "profile": aws.profile,
            "conversation": conversation_id,
            "environment": env.reason,
        },
    )
    if settings.mode == "read-only":
        aws.set_read_only(True)
    session.notices = await asyncio.to_thread(_startup_notices, env, session_id, ledger)
    if conversation:
        await session._load_pending()
    return session


def _startup_notices(env: AwsEnvironment, session_id: str, ledger: Any = None) -> list[Notice]:
    """What a person must know before the first request: where calls go, what is still billing,
    what an earlier process created before it was killed (ledger intents, reconciled)."""
    from tools.ledger import startup_endpoint_warning

    notices = [Notice(env.reason, "warning" if env.is_sandbox else "info")]
    if ledger is not None:
        from tools.ledger_intents import reconcile

        try:
            settled = reconcile(ledger, env.aws, current_session=session_id)
        except Exception:  # never block a start on this
            settled = None
        if settled is not None and settled.notice():
            notices.append(Notice(settled.notice(), "warning"))
    warning = startup_endpoint_warning(env.aws, session_id)
    if warning:
        notices.append(Notice(warning, "warning"))
    return notices
