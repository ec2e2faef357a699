"""What one `sagecoach mcp` server keeps: its tool session (opened in the background after the
first answer), the client it serves, and the calls in flight. calls.py runs each tools/call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio
from mcp import types

from agent.settings import Settings
from tui.mcp_server.listing import mcp_tool, served_specs

if TYPE_CHECKING:  # the agent and tools load with the session, after the first response
    from agent.tool_session import CallOutcome, ToolSession
    from tools.core.declaration import ToolSpec

log = logging.getLogger("sagecoach.mcp")

APPROVAL_TTL_S = 600.0  # an unanswered approval expires (the SDK's request-state TTL too)
CANCEL_GRACE_S = 10.0  # how long a cancelled call may take to stop when the server closes


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
        self.running: dict[str, tuple[asyncio.Future[CallOutcome], threading.Event]] = {}
        self._users = 0
        self.asking: set[str] = set()
        self._notices_task: asyncio.Future[None] | None = (
            None  # calls whose question is open in a client right now
        )
        self.notices: list[str] = []

    # --- the tool set -------------------------------------------------------------------------
    def specs(self) -> list[ToolSpec]:
        """The tools this server serves (`--stages` applied). Loads the registry once."""
        if self._specs is None:
            base = self.options.tools
            if base is None:
                from tools.core.registry import load_all

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
        # The account is an STS call on real AWS: looked up here, in a worker thread, so no
        # handler waits on it later.
        await anyio.to_thread.run_sync(lambda: session.account_label)
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
        self.notices = [session.env.reason]
        log.warning("%s", session.env.reason)
        self._notices_task = asyncio.ensure_future(self._look_up_notices(session))

    async def _look_up_notices(self, session: ToolSession) -> None:
        """What earlier sessions left billing (ListEndpoints): after session_start, on stderr
        and in sagecoach://session."""
        try:
            notices = await anyio.to_thread.run_sync(session.startup_notices)
        except Exception as exc:  # a notice must never break the server
            log.warning("could not check for endpoints left running: %s", exc)
            return
        for notice in notices[1:]:
            log.warning("%s", notice)
        self.notices = notices

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
            "notices": self.notices,
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
            for task, cancel in list(self.running.values()):
                cancel.set()
                with anyio.move_on_after(CANCEL_GRACE_S):
                    await asyncio.wait({task})
            if self._notices_task is not None:
                with anyio.move_on_after(CANCEL_GRACE_S):
                    await asyncio.wait({self._notices_task})
            opening, self._opening = self._opening, None
            if opening is not None:
                with contextlib.suppress(BaseException):
                    session = await opening
                    await anyio.to_thread.run_sync(session.close)
            self._session = None
            self._client = None
            self._clients_seen.clear()


def _log_open_failure(opening: asyncio.Future[Any]) -> None:
    """Say once, on stderr, why the session did not open (calls report it too)."""
    if not opening.cancelled() and opening.exception() is not None:
        log.warning("could not open the AWS session: %s", opening.exception())
