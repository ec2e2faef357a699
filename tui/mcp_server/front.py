"""What one `sagecoach mcp` server keeps: its tool session, the client it serves, and the calls
waiting for a person; and how one `tools/call` goes through sagecoach's gate.

A call: the gate (agent.tool_session, the app's own middleware) allows, refuses or asks. Asking
becomes an MCP elicitation: pushed to the client on a handshake-era connection, or returned as
an InputRequiredResult on a 2026-07-28 one (the client retries with the answer). It fails
closed: a client that cannot elicit, a second call while one approval is open, a dismissed or
unanswered question, a cancelled request or a dropped connection never run the call, and each
leaves one approval record in the audit log. A question returned to a 2026-07-28 client has no
request waiting on it: if the client never retries, the next call that needs a person closes it
(or it expires after APPROVAL_TTL_S), so nothing stays open.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio
from mcp import types
from mcp.shared.exceptions import MCPError
from mcp.shared.message import ServerMessageMetadata
from mcp_types import INVALID_PARAMS
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from agent.events import Decision
from agent.settings import Settings
from tui.mcp_server import approval as ask
from tui.mcp_server.listing import mcp_tool, served_specs
from tui.mcp_server.progress import ProgressRelay
from tui.mcp_server.results import error_result, outcome_result

if TYPE_CHECKING:  # the agent and tools load with the session, after the first response
    from agent.tool_session import CallOutcome, Gate, ToolSession
    from tools.base import ToolSpec

log = logging.getLogger("sagecoach.mcp")

APPROVAL_TTL_S = 600.0  # an unanswered approval expires (the SDK's request-state TTL too)
CANCEL_GRACE_S = 10.0  # how long a cancelled call may take to stop at its next check
SUPERSEDED = "the client asked for another call that needed approval before answering this one"


@dataclass
class McpOptions:
    settings: Settings
    stages: list[str] | None = None
    transport: str = "stdio"
    sandbox_endpoint: str | None = None  # a running sandbox (tests, `sagecoach sandbox serve`)
    tools: list[ToolSpec] | None = None  # the tool set before --stages (tests)
    approval_ttl_s: float = APPROVAL_TTL_S
    extra_start: dict[str, Any] = field(default_factory=dict)


def client_identity(ctx: Any) -> dict[str, Any] | None:
    """{name, version} of the client behind a request, when it said who it is."""
    info: Any = None
    params = getattr(ctx, "params", None)
    if getattr(ctx, "method", "") == "initialize" and isinstance(params, Mapping):
        info = params.get("clientInfo")
    if info is None:
        client_params = getattr(ctx.session, "client_params", None)
        if client_params is not None and client_params.client_info is not None:
            info = client_params.client_info.model_dump(exclude_none=True)
    if info is None and isinstance(getattr(ctx, "meta", None), Mapping):
        info = ctx.meta.get("io.modelcontextprotocol/clientInfo")
    if not isinstance(info, Mapping) or not info.get("name"):
        return None
    return {"name": str(info.get("name")), "version": str(info.get("version") or "")}


def _protocol_version(ctx: Any) -> str:
    if getattr(ctx, "method", "") == "initialize" and isinstance(ctx.params, Mapping):
        return str(ctx.params.get("protocolVersion") or "")
    return str(getattr(ctx, "protocol_version", "") or "")


class FrontEnd:
    """The server's state; the handlers in server.py call into it."""

    def __init__(self, options: McpOptions) -> None:
        self.options = options
        self.settings = options.settings
        self._session: ToolSession | None = None
        self._opening: asyncio.Future[ToolSession] | None = None
        self._specs: list[ToolSpec] | None = None
        self._tools: list[types.Tool] | None = None
        self._client: dict[str, Any] | None = None
        self._protocol = ""
        self._clients_seen: set[tuple[str, str]] = set()
        self._running: dict[str, tuple[asyncio.Future[CallOutcome], threading.Event]] = {}
        self._users = 0
        self._asking: set[str] = set()  # calls whose question is open in a client right now
        self.notices: list[str] = []

    # --- the tool set -------------------------------------------------------------------------
    def specs(self) -> list[ToolSpec]:
        """The tools this server serves (`--stages` applied). Loads the registry once."""
        if self._specs is None:
            base = self.options.tools
            if base is None:
                from tools.registry import load_all

                base = load_all().all()
            self._specs = served_specs(base, self.options.stages)
        return self._specs

    async def tools(self) -> list[types.Tool]:
        if self._tools is None:
            specs = self._specs or await anyio.to_thread.run_sync(self.specs)
            self._tools = [mcp_tool(spec) for spec in specs]
        return self._tools

    def served_names(self) -> set[str]:
        return {s.name for s in self.specs()}

    # --- the session ----------------------------------------------------------------------------
    def enter(self) -> None:
        self._users += 1

    def warm_up(self) -> None:
        """Start opening the session (sandbox, audit log, ledger) without waiting for it."""
        if self._opening is None:
            self._opening = asyncio.ensure_future(self._open())
            self._opening.add_done_callback(_log_open_failure)

    async def _open(self) -> ToolSession:
        from agent.tool_session import open_tool_session

        specs = self._specs or await anyio.to_thread.run_sync(self.specs)
        session = await anyio.to_thread.run_sync(
            lambda: open_tool_session(
                self.settings, tools=specs, sandbox_endpoint=self.options.sandbox_endpoint
            )
        )
        self._session = session
        self._maybe_start()
        return session

    async def session(self) -> ToolSession:
        self.warm_up()
        opening = self._opening
        assert opening is not None
        try:
            session = await asyncio.shield(opening)
        except Exception:
            if self._opening is opening:  # let the next call try again (e.g. after `aws sso login`)
                self._opening = None
            raise
        if not session.started:  # a client that never said who it is
            self._client = self._client or {"name": "unknown", "version": ""}
            self._maybe_start()
        return session

    def note_client(self, ctx: Any) -> None:
        """Remember who the client is; the session's first record names it."""
        identity = client_identity(ctx)
        if identity is None:
            return
        key = (identity["name"], identity["version"])
        if key in self._clients_seen:
            return
        self._clients_seen.add(key)
        if self._client is None:
            self._client = identity
            self._protocol = _protocol_version(ctx)
            self._maybe_start()
        elif self._session is not None and self._session.started:
            self._session.note("mcp_client", {"client": identity})

    def _maybe_start(self) -> None:
        session = self._session
        if session is None or session.started or self._client is None:
            return
        session.start(
            self._client,
            front_end="mcp",
            transport=self.options.transport,
            protocol_version=self._protocol,
            stages=self.options.stages or "all",
            tools=len(self.specs()),
            **self.options.extra_start,
        )
        for notice in (session.env.reason, *session.env.notices):
            log.warning("%s", notice)
        self.notices = [session.env.reason]

    def session_summary(self, session: ToolSession) -> dict[str, Any]:
        """What `sagecoach://session` shows (the account lookup may call STS: blocking)."""
        settings = self.settings
        return {
            "session": session.session_id,
            "client": self._client,
            "mode": session.mode,
            "environment": "SANDBOX" if session.is_sandbox else "REAL",
            "account": session.account_label,
            "region": session.region,
            "why": session.env.reason,
            "spent_usd": round(session.spent_usd, 4),
            "budgets_usd": {
                "per_call": settings.budget_usd_per_call,
                "per_session": settings.budget_usd_per_session,
            },
            "pending_approvals": [g.approval.to_dict() for g in session.pending() if g.approval],
            "stages": self.options.stages or "all",
            "tools": len(self.specs()),
        }

    async def close(self) -> None:
        """Stop running calls, withdraw open approvals, write session_end, stop the sandbox."""
        self._users = max(0, self._users - 1)
        if self._users:
            return
        with anyio.CancelScope(shield=True):
            for task, cancel in list(self._running.values()):
                cancel.set()
                with anyio.move_on_after(CANCEL_GRACE_S):
                    await asyncio.wait({task})
            opening, self._opening = self._opening, None
            if opening is not None:
                with contextlib.suppress(BaseException):
                    session = await opening
                    await anyio.to_thread.run_sync(session.close)
            self._session = None
            self._client = None
            self._clients_seen.clear()

    # --- one tools/call -------------------------------------------------------------------------
    async def call(
        self, ctx: Any, params: types.CallToolRequestParams
    ) -> types.CallToolResult | types.InputRequiredResult:
        from agent.tool_session import UnknownTool

        name, args = params.name, dict(params.arguments or {})
        try:
            session = await self.session()
        except Exception as exc:
            return error_result(
                name,
                "",
                f"sagecoach could not open its AWS session: {exc}. Fix it (`sagecoach doctor` "
                "shows what is wrong) and call again; nothing was run.",
                kind="environment",
            )
        if name not in session.specs:
            message = self.unknown_tool_message(name)
            session.record_refusal(name, args, message)
            raise MCPError(INVALID_PARAMS, message)
        for expired in session.expire(self.options.approval_ttl_s):
            log.warning("approval for %s expired unanswered", expired.name)
        try:
            if params.request_state:
                return await self._resume(ctx, session, params)
            gate = await anyio.to_thread.run_sync(session.check, name, args)
            if gate.kind == "ask":
                asked = await self._ask(ctx, session, gate)
                if isinstance(asked, types.CallToolResult | types.InputRequiredResult):
                    return asked
                gate = asked
            if gate.kind == "done":
                assert gate.outcome is not None
                return outcome_result(gate.outcome)
            return outcome_result(await self._run(ctx, session, gate))
        except UnknownTool as exc:
            raise MCPError(INVALID_PARAMS, self.unknown_tool_message(exc.name)) from None

    def unknown_tool_message(self, name: str) -> str:
        from tools.registry import load_all

        registry = load_all()
        if name in registry and name not in self.served_names():
            stage = registry.get(name).stage
            return (
                f"Unknown tool: {name} is not served here (this server was started with "
                f"--stages {','.join(self.options.stages or [])}; it belongs to stage {stage})."
            )
        import difflib

        close = difflib.get_close_matches(name, sorted(self.served_names()), n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else " See tools/list."
        return f"Unknown tool: {name}.{hint}"

    async def _ask(
        self, ctx: Any, session: ToolSession, gate: Gate
    ) -> Gate | types.CallToolResult | types.InputRequiredResult:
        """Ask a person about `gate`, or refuse when nobody can be asked (fail closed)."""
        request = gate.approval
        assert request is not None
        for other in session.pending():
            if other.call_id == gate.call_id or other.approval is None:
                continue
            if other.call_id in self._asking:  # a person is looking at that question now
                text = ask.busy_text(request, other.approval, time.monotonic() - other.asked_at)
                return self._refuse(session, gate, text, reason="another approval is pending")
            # A question returned to a 2026-07-28 client that never came back with an answer
            # (the client gave up): nothing is waiting on it, so it closes here.
            session.withdraw(other.call_id, SUPERSEDED)
        if not ask.can_elicit_form(ctx.session.client_capabilities):
            from tui.commands.ask import mode_that_allows

            mode = mode_that_allows(session, request)
            text = ask.no_elicitation_text(request, mode)
            return self._refuse(
                session,
                gate,
                text,
                reason="the MCP client cannot ask a person (no elicitation); fail closed",
                mode_that_allows=mode,
            )
        if ctx.session.can_send_request:
            return await self._ask_now(ctx, session, gate)
        if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
            return types.InputRequiredResult(
                input_requests={ask.APPROVAL_KEY: ask.approval_request(request)},
                request_state=json.dumps({"approval": gate.call_id}),
            )
        return self._refuse(
            session,
            gate,
            f"{request.tool} needs approval, but this connection has no way to ask the client "
            "(no stream for server requests). Nothing was run.",
            reason="no channel to ask the MCP client; fail closed",
        )

    def _refuse(
        self, session: ToolSession, gate: Gate, text: str, *, reason: str, **extra: Any
    ) -> types.CallToolResult:
        outcome = session.withdraw(gate.call_id, reason)
        assert outcome is not None
        return outcome_result(outcome, text=text, **extra)

    async def _ask_now(self, ctx: Any, session: ToolSession, gate: Gate) -> Gate:
        """A handshake-era client: push elicitation/create and wait for the person."""
        assert gate.approval is not None
        self._asking.add(gate.call_id)
        try:
            answer = await ctx.session.send_request(
                ask.approval_request(gate.approval),
                types.ElicitResult,
                request_read_timeout_seconds=self.options.approval_ttl_s,
                metadata=ServerMessageMetadata(related_request_id=ctx.request_id),
            )
        except anyio.get_cancelled_exc_class():
            session.withdraw(
                gate.call_id, "the MCP client cancelled the call before answering", who=ask.WHO
            )
            raise
        except Exception as exc:  # a dropped connection, a timeout, a malformed answer
            log.warning("no answer to the approval for %s: %s", gate.name, exc)
            reason = f"no answer from the MCP client ({type(exc).__name__}: {exc})"
            return session.answer(gate, Decision("reject", reason=reason, who=ask.WHO))
        finally:
            self._asking.discard(gate.call_id)
        return session.answer(gate, ask.decision_from(answer))

    async def _resume(
        self, ctx: Any, session: ToolSession, params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        """A 2026-07-28 retry carrying the answer to an approval this server asked."""
        try:
            call_id = json.loads(params.request_state or "")["approval"]
        except (ValueError, TypeError, KeyError):
            raise MCPError(INVALID_PARAMS, "Invalid or expired requestState") from None
        gate = session.pending_gate(str(call_id))
        if gate is None:
            message = (
                f"The approval for this {params.name} call is no longer open (it was answered, "
                "withdrawn or expired). Nothing was run; call the tool again to be asked again."
            )
            session.record_refusal(params.name, params.arguments, message)
            return error_result(params.name, str(call_id), message, kind="approval_closed")
        same_call = gate.name == params.name and _canonical(params.arguments) == _canonical(
            gate.request.tool_call["args"]
        )
        if not same_call:
            return self._refuse(
                session,
                gate,
                "The retry changed the call that was shown for approval, so sagecoach ran "
                "nothing. Call the tool again to be asked about the new call.",
                reason="the retry did not match the call shown for approval",
            )
        answer = (params.input_responses or {}).get(ask.APPROVAL_KEY)
        decided = session.answer(gate, ask.decision_from(answer))
        if decided.kind == "done":
            assert decided.outcome is not None
            return outcome_result(decided.outcome)
        return outcome_result(await self._run(ctx, session, decided))

    async def _run(self, ctx: Any, session: ToolSession, gate: Gate) -> CallOutcome:
        """Execute with progress notifications; a cancelled request stops the tool's wait."""
        relay = ProgressRelay(ctx.session)
        cancel = threading.Event()
        task = asyncio.ensure_future(
            session.execute(gate, progress=relay.report, cancel_event=cancel)
        )
        pump = asyncio.ensure_future(relay.pump())
        self._running[gate.call_id] = (task, cancel)
        try:
            outcome = await asyncio.shield(task)
            relay.close()
            with anyio.move_on_after(1.0):
                await pump
            return outcome
        except anyio.get_cancelled_exc_class():
            cancel.set()
            with anyio.CancelScope(shield=True), anyio.move_on_after(CANCEL_GRACE_S):
                await asyncio.wait({task})
            raise
        finally:
            self._running.pop(gate.call_id, None)
            pump.cancel()


def _log_open_failure(opening: asyncio.Future[Any]) -> None:
    """Say once, on stderr, why the session did not open (calls report it too)."""
    if not opening.cancelled() and opening.exception() is not None:
        log.warning("could not open the AWS session: %s", opening.exception())


def _canonical(args: Any) -> str:
    return json.dumps(args or {}, sort_keys=True, default=str)
