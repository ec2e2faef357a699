"""The agent runtime: a LangChain v1 agent with sagecoach's middleware, conversations in
SQLite, and the one event API every front end uses (agent/session_api.py). A session is
opened by `agent.startup.open_session`:

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
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from agent.conversation_lock import ConversationLock
from agent.conversations import ConversationStore, new_conversation_id
from agent.data_frame import unwrap_data
from agent.environment import AwsEnvironment
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
from agent.model_choice import describe_model
from agent.policy import allow_session_offered
from agent.session_api import ConversationInfo
from agent.session_core import AuditTee, SessionCore
from agent.settings import MODES, Settings
from agent.transcript import message_dict, messages_of, model_id_of, short_summary
from tools.core.context import ToolContext
from tools.core.declaration import ToolSpec
from tools.core.errors import ToolError
from tools.core.local_paths import LocalAccess, current_access, set_access
from tools.core.redact import redact
from tools.core.results import ProgressEvent

_DONE = object()


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
            settings, env, {s.name: s for s in specs}, audit, model_id_of(model, model_spec)
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
        from tools.core.langchain_adapter import to_langchain_tools

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
                for message in messages_of(getattr(task, "result", None)):
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
                for message in messages_of(update):
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
                summary=short_summary(content),
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
        from tools.core.explain import explain_exception

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
            for message in messages_of(getattr(task, "result", None)):
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
        return [message_dict(m) for m in (state.values or {}).get("messages", [])]

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
