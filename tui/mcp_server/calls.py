"""How one `tools/call` goes through sagecoach's gate.

The gate (agent.tool_session: the app's own middleware) allows, refuses or asks. Asking becomes
an MCP elicitation: pushed to the client on a handshake-era connection, or returned as an
InputRequiredResult on a 2026-07-28 one (the client retries with the answer, and the sealed
`requestState` names the approval). It fails closed: a client that cannot elicit, a second call
while a question is open, a dismissed or unanswered question, a cancelled request or a dropped
connection never run the call, and each leaves one approval record in the audit log. A question
returned to a 2026-07-28 client has no request waiting on it: if the client never retries, the
next call that needs a person closes it (or it expires), so nothing stays open.
"""

from __future__ import annotations

import asyncio
import difflib
import json
import logging
import threading
import time
from typing import TYPE_CHECKING, Any

import anyio
from mcp import types
from mcp.shared.exceptions import MCPError
from mcp.shared.message import ServerMessageMetadata
from mcp_types import INVALID_PARAMS
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from agent.events import Decision
from tui.mcp_server import approval as ask
from tui.mcp_server.progress import ProgressRelay
from tui.mcp_server.results import error_result, outcome_result

if TYPE_CHECKING:
    from agent.tool_session import CallOutcome, Gate, ToolSession
    from tui.mcp_server.front import FrontEnd

log = logging.getLogger("sagecoach.mcp")

CANCEL_GRACE_S = 10.0  # how long a cancelled call may take to stop at its next check
SUPERSEDED = "the client asked for another call that needed approval before answering this one"


class ToolCalls:
    """The tools/call handler's logic; the FrontEnd holds the session and what is in flight."""

    def __init__(self, front: FrontEnd) -> None:
        self.front = front

    async def call(
        self, ctx: Any, params: types.CallToolRequestParams
    ) -> types.CallToolResult | types.InputRequiredResult:
        from agent.tool_session import UnknownTool

        name, args = params.name, dict(params.arguments or {})
        try:
            session = await self.front.session()
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
        for expired in session.expire(self.front.options.approval_ttl_s):
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
        from tools.core.registry import load_all

        registry = load_all()
        if name in registry and name not in self.front.served_names():
            stage = registry.get(name).stage
            return (
                f"Unknown tool: {name} is not served here (this server was started with "
                f"--stages {','.join(self.front.options.stages or [])}; it belongs to stage {stage})."
            )
        close = difflib.get_close_matches(name, sorted(self.front.served_names()), n=3)
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
            if other.call_id in self.front.asking:  # a person is looking at that question now
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
        self.front.asking.add(gate.call_id)
        try:
            answer = await ctx.session.send_request(
                ask.approval_request(gate.approval),
                types.ElicitResult,
                request_read_timeout_seconds=self.front.options.approval_ttl_s,
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
            self.front.asking.discard(gate.call_id)
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
        self.front.running[gate.call_id] = (task, cancel)
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
            self.front.running.pop(gate.call_id, None)
            pump.cancel()


def _canonical(args: Any) -> str:
    return json.dumps(args or {}, sort_keys=True, default=str)
