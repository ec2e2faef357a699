"""The Textual app: status bar, conversation, sidebar (stages, resources), prompt.

The session (agent runtime, sandbox, langchain) opens in a worker after the first frame; the
UI only consumes the typed events of agent/session_api.py, so tests drive it with a scripted
session (tests/fake_session.py) or the real runtime with a scripted model.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer
from textual.worker import Worker

from agent.events import (
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
from agent.session_api import ChatSession
from tools.core.results import format_usd
from tui import slash
from tui.history import PromptHistory
from tui.process_clock import process_age
from tui.runtime_opener import RuntimeOpener
from tui.slash_commands import SlashCommands
from tui.widgets.chat import ChatLog, NoticeItem, ToolCard, UserMessage
from tui.widgets.prompt import Composer, PromptInput
from tui.widgets.sidebar import Sidebar, StageList
from tui.widgets.status import StatusBar

if TYPE_CHECKING:  # agent.settings imports pydantic-settings: loaded after the first frame
    from agent.settings import Settings

SessionFactory = Callable[["Settings", str | None], Awaitable[ChatSession]]
QUIT_WINDOW_S = 2.0  # a second Ctrl+C within this many seconds quits
CANCEL_GRACE_S = 1.5  # after Ctrl+C, how long the session may take to stop by itself


class SagecoachApp(SlashCommands, App[int]):
    """`sagecoach` with no subcommand."""

    TITLE = "sagecoach"
    CSS_PATH = "app.tcss"
    BINDINGS = [
        Binding("ctrl+c", "interrupt", "Cancel", priority=True, tooltip="Cancel; twice quits"),
        Binding("ctrl+b", "toggle_sidebar", "Sidebar"),
        Binding("ctrl+l", "audit_log", "Audit log"),
        Binding("ctrl+o", "conversations", "Conversations"),
        Binding("ctrl+y", "copy_last", "Copy reply", priority=True),
        Binding("f1", "help", "Help"),
    ]

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        settings_loader: Callable[[], Settings] | None = None,
        conversation: str | None = None,
        session_factory: SessionFactory | None = None,
        clock: Callable[[], float] = time.time,
        history_path: Path | None = None,
        exit_after_first_frame: bool = False,
        cursor_blink: bool = True,
    ) -> None:
        super().__init__()
        self.cursor_blink = cursor_blink  # off in snapshot tests
        if settings is None and settings_loader is None:
            raise ValueError("give the settings or a settings_loader")
        self.settings: Settings | None = settings
        self.settings_loader = settings_loader
        self.settings_error = ""  # a bad setting found at start: the app exits 2 with it
        self.conversation = conversation
        self.session_factory: SessionFactory = session_factory or RuntimeOpener()
        self.clock = clock
        self.exit_after_first_frame = exit_after_first_frame
        self.session: ChatSession | None = None
        self._own_history_path = history_path is None
        if history_path is None and settings is not None:
            history_path = settings.state_dir / "prompt_history.jsonl"
        self.history = PromptHistory(history_path)  # attached once settings load, if need be
        self.turn_worker: Worker[None] | None = None
        self.call_stages: dict[str, str] = {}
        self.stage_before: dict[str, str] = {}  # a stage's state before a call started
        self.queued: list[str] = []
        self.first_frame_at: float | None = None
        self._last_interrupt = -1e9
        self._cancel_timer: Any = None

    # --- layout -------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        with Horizontal(id="main"):
            with Vertical(id="chat-pane"):
                yield ChatLog(id="chat")
                yield Composer(self.history, id="composer")
            yield Sidebar(id="sidebar", clock=self.clock)
        yield Footer()

    @property
    def chat(self) -> ChatLog:
        return self.query_one("#chat", ChatLog)

    @property
    def sidebar(self) -> Sidebar:
        return self.query_one("#sidebar", Sidebar)

    @property
    def status(self) -> StatusBar:
        return self.query_one("#status", StatusBar)

    @property
    def prompt(self) -> PromptInput:
        return self.query_one("#prompt", PromptInput)

    def on_mount(self) -> None:
        if self.settings is not None:
            self._show_settings(self.settings)
        self.status.busy_text = "starting…"
        self.prompt.cursor_blink = self.cursor_blink
        self.prompt.focus()
        self.call_after_refresh(self._first_frame)

    def _first_frame(self) -> None:
        self.first_frame_at = process_age()
        if self.exit_after_first_frame:
            self.exit(0)
            return
        self.open_session()

    def _show_settings(self, settings: Settings) -> None:
        status = self.status
        status.env_mode = settings.mode
        status.env_region = settings.region or "…"
        status.env_profile = settings.profile or ""

    async def _load_settings(self) -> Settings | None:
        """The settings, loaded off the UI thread after the first frame; None when they are
        invalid (the app then exits 2 with the message, like every subcommand)."""
        if self.settings is not None:
            return self.settings
        assert self.settings_loader is not None
        try:
            settings = await asyncio.to_thread(self.settings_loader)
        except Exception as exc:
            from agent.settings import SettingsError

            if isinstance(exc, SettingsError):
                self.settings_error = str(exc)
                self.exit(return_code=2)
            else:
                self.status.busy_text = "no session"
                await self._notice(f"Could not load the settings: {exc}", "error")
            return None
        self.settings = settings
        self._show_settings(settings)
        if self._own_history_path:
            self.history.attach(settings.state_dir / "prompt_history.jsonl")
        return settings

    def _need_settings(self) -> Settings | None:
        if self.settings is None:
            self.notify("sagecoach is still starting.", severity="warning")
        return self.settings

    # --- the session --------------------------------------------------------------------
    @work(exclusive=True, group="session", exit_on_error=False)
    async def open_session(self, settings: Settings | None = None) -> None:
        settings = settings or await self._load_settings()
        if settings is None:
            return
        old, self.session = self.session, None
        if old is not None:
            await old.aclose()
        self.status.busy_text = "starting…" + (" (your message is queued)" if self.queued else "")
        try:
            session = await self.session_factory(settings, self.conversation)
        except Exception as exc:
            self.status.busy_text = "no session"
            await self.chat.add(
                NoticeItem(f"Could not start the session: {exc}", "error", classes="notice")
            )
            return
        self.settings = settings
        self.session = session
        self.conversation = session.conversation_id
        status = self.status
        status.env_sandbox = session.is_sandbox
        status.env_account = session.account_label
        status.env_region = session.region
        status.env_profile = session.profile or ""
        status.env_model = session.model_label
        status.env_mode = session.mode
        status.busy_text = ""
        history: list[dict[str, Any]] = []
        if self.conversation and not self.chat.items:
            try:
                history = await session.resume(self.conversation)
            except Exception as exc:
                await self._notice(f"Could not resume {self.conversation}: {exc}", "error")
            if history:
                await self.chat.load_history(history)
        await self._start_notices(session)
        self._refresh_resources()
        if self.queued:
            text = self.queued.pop(0)
            self.queued.clear()
            self._start_turn(text)

    async def _start_notices(self, session: ChatSession) -> None:
        """Where calls go, why, and the session's own notices (warnings such as endpoints
        that earlier sessions left running), each once."""
        if session.is_sandbox:
            from sandbox.server import DEMO_URI

            where = f"the SANDBOX (local; nothing reaches real AWS; demo data: {DEMO_URI})"
        else:
            where = f"REAL AWS account {session.account_label}"
        await self._notice(
            f"Session {session.session_id} in {where}, region {session.region}; "
            f"model: {session.model_label}; mode: {session.mode}. Type / for commands, F1 for help."
        )
        shown: set[str] = set()
        reason = str(getattr(self.session_factory, "reason", "") or "").strip()
        if reason:
            reason = reason.rstrip(".") + "."
            shown.add(reason.rstrip(".").lower())
            await self._notice(reason, "warning" if session.is_sandbox else "info")
        for index, notice in enumerate(getattr(session, "notices", None) or []):
            message = str(getattr(notice, "message", notice)).strip()
            if not message or message.rstrip(".").lower() in shown:
                continue
            shown.add(message.rstrip(".").lower())
            level = str(getattr(notice, "level", "info"))
            if index == 0 and reason and level == "warning":
                level = "info"  # the announcement; the reason above already warned
            await self._notice(message, level)

    async def _notice(self, text: str, level: str = "info") -> None:
        await self.chat.add(NoticeItem(text, level, classes="notice"))

    # --- input --------------------------------------------------------------------------
    @on(PromptInput.Submitted)
    async def _submitted(self, event: PromptInput.Submitted) -> None:
        await self.handle_input(event.text)

    @on(PromptInput.PageRequest)
    def _page_chat(self, event: PromptInput.PageRequest) -> None:
        if event.direction < 0:
            self.chat.scroll_page_up()
        else:
            self.chat.scroll_page_down()

    @on(Sidebar.StepChosen)
    def _step_chosen(self, event: Sidebar.StepChosen) -> None:
        prompt = self.prompt
        prompt.load_text(event.text)
        prompt.move_cursor(prompt.document.end)
        prompt.focus()

    async def handle_input(self, text: str) -> None:
        parsed = slash.parse(text)
        if parsed is not None:
            await self.run_slash(*parsed)
            return
        if text.startswith("//"):
            text = text[1:]
        await self.send_message(text)

    async def send_message(self, text: str) -> None:
        """Show the message and start a turn (queued while the session starts)."""
        if self.turn_running:
            self.notify("A turn is running; Ctrl+C cancels it.", severity="warning")
            self.prompt.load_text(text)
            return
        await self.chat.add(UserMessage(text, classes="user"))
        self.chat.follow()
        if self.session is None:
            self.queued.append(text)
            self.status.busy_text = "starting… (your message is queued)"
            return
        self._start_turn(text)

    # --- a turn -------------------------------------------------------------------------
    @property
    def turn_running(self) -> bool:
        return self.turn_worker is not None and not self.turn_worker.is_finished

    def _start_turn(self, text: str) -> None:
        self.turn_worker = self._run_turn(text)

    @work(exclusive=True, group="turn", exit_on_error=False)
    async def _run_turn(self, text: str) -> None:
        session = self.session
        assert session is not None
        self.status.busy_text = "working…"
        try:
            events = session.send(text)
            while True:
                pending: list[ApprovalRequested] = []
                async for event in events:
                    await self.handle_event(event)
                    if isinstance(event, ApprovalRequested):
                        pending.append(event)
                if not pending:
                    break
                decisions = await self._ask(pending)
                events = session.decide(decisions)
        except asyncio.CancelledError:
            await self._turn_cancelled()
            raise
        except Exception as exc:
            await self._notice(f"The turn failed: {type(exc).__name__}: {exc}", "error")
        finally:
            self.chat.finish_replies()
            self._settle_cards("cancelled")
            self.status.busy_text = ""
            self._refresh_resources()
            if self._cancel_timer is not None:
                self._cancel_timer.stop()
                self._cancel_timer = None

    async def _ask(self, pending: list[ApprovalRequested]) -> dict[str, Decision]:
        from tui.screens.approval import ApprovalScreen

        decisions: dict[str, Decision] = {}
        self.status.busy_text = "awaiting approval"
        self.bell()
        for event in pending:
            request = event.request
            decision = await self.push_screen_wait(ApprovalScreen(request))
            decisions[request.call_id] = decision
            card = self.chat.find_card(request.call_id)
            if card is not None and decision.type != "reject":
                if decision.type == "edit" and decision.args is not None:
                    card.args = dict(decision.args)
                card.set_running()
                self._stage_state(request.stage, "running")
        self.status.busy_text = "working…"
        return decisions

    async def handle_event(self, event: Any) -> None:
        chat = self.chat
        if isinstance(event, TextDelta):
            (await chat.assistant(event.message_id)).append(event.text)
        elif isinstance(event, DiscardMessage):
            await chat.discard(event.message_id)
        elif isinstance(event, ToolCallStarted):
            self.call_stages[event.call_id] = event.stage
            self.stage_before[event.call_id] = self.sidebar.states.get(event.stage, "")
            await chat.card(
                event.call_id, name=event.name, stage=event.stage, risk=event.risk, args=event.args
            )
            self._stage_state(event.stage, "running")
        elif isinstance(event, ApprovalRequested):
            req = event.request
            self.call_stages.setdefault(req.call_id, req.stage)
            card = await chat.card(
                req.call_id, name=req.tool, stage=req.stage, risk=req.risk, args=req.args
            )
            card.set_waiting()
            # Not running while it waits: back to what the stage was before this call.
            before = self.stage_before.get(req.call_id, "")
            if before:
                self._stage_state(req.stage, before, force=True)
            else:
                self._stage_state(req.stage, "touched", force=True)
        elif isinstance(event, ToolProgress):
            card = chat.find_card(event.call_id)
            if card is not None:
                card.progress(event.message, event.done, event.total, event.unit)
        elif isinstance(event, ToolCallFinished):
            stage, risk = tool_meta(event.name)
            stage = self.call_stages.get(event.call_id, stage)
            card = chat.find_card(event.call_id) or await chat.card(
                event.call_id, name=event.name, stage=stage, risk=risk, args=event.args
            )
            card.finish(event.status, event.summary, event.duration_ms, event.data, event.args)
            if event.status == "success":
                self._stage_state(stage, "done")
            elif event.status == "error":
                self._stage_state(stage, "failed")
            elif self.sidebar.states.get(stage) not in ("done", "failed"):
                self._stage_state(stage, "touched", force=True)
        elif isinstance(event, ResourceCreated):
            self._refresh_resources()
        elif isinstance(event, TurnFinished):
            chat.finish_replies()
            if event.cancelled:
                await self._notice("Turn cancelled.", "warning")
            elif event.estimated_cost_usd:
                self.status.busy_text = f"turn cost ≈ {format_usd(event.estimated_cost_usd)}"
        elif isinstance(event, ErrorEvent):
            await self._notice(f"{event.error_kind}: {event.message}", "error")
        elif isinstance(event, Notice):
            await self._notice(event.message, event.level)

    def _stage_state(self, stage: str, state: str, *, force: bool = False) -> None:
        """Mark a stage; "touched" (a call asked or was refused) never hides a state a stage
        already has unless `force` (a running call that did not run)."""
        if not stage or stage == "general":
            return
        if state == "touched" and not force and self.sidebar.states.get(stage):
            return
        self.sidebar.set_stage_state(stage, state)

    def _settle_cards(self, status: str) -> None:
        """Cards still running when the turn ends did not finish."""
        for widget in self.chat.items:
            if isinstance(widget, ToolCard) and widget.status in ("running", "waiting"):
                widget.finish(status, "the turn ended before this call finished")
                stage = self.call_stages.get(widget.call_id, "")
                if self.sidebar.states.get(stage) == "running":
                    self._stage_state(stage, "touched", force=True)

    async def _turn_cancelled(self) -> None:
        from tui.screens.approval import ApprovalScreen

        while isinstance(self.screen, ApprovalScreen):
            self.pop_screen()
        await self._notice("Turn cancelled.", "warning")

    def _refresh_resources(self) -> None:
        if self.session is not None:
            self.sidebar.set_resources(self.session.resources(), self.session.spent_usd)

    # --- actions ------------------------------------------------------------------------
    def action_interrupt(self) -> None:
        now = time.monotonic()
        quick = now - self._last_interrupt < QUIT_WINDOW_S
        self._last_interrupt = now
        if self.turn_running and not quick:
            assert self.session is not None and self.turn_worker is not None
            self.session.cancel()
            self.status.busy_text = "cancelling…"
            worker = self.turn_worker
            from tui.screens.approval import ApprovalScreen

            if isinstance(self.screen, ApprovalScreen):
                worker.cancel()  # the modal would wait for ever
            else:
                self._cancel_timer = self.set_timer(CANCEL_GRACE_S, worker.cancel)
            self.notify("Cancelling the turn. Ctrl+C again quits.", timeout=QUIT_WINDOW_S)
            return
        if quick:
            self._quit_or_ask()
            return
        self.notify("Press Ctrl+C again to quit.", timeout=QUIT_WINDOW_S)

    async def action_quit(self) -> None:
        self._quit_or_ask()

    def _quit_or_ask(self) -> None:
        """Quit; with a call waiting for approval, ask first (leaving is not an answer)."""
        from tui.screens.approval import ApprovalScreen
        from tui.screens.confirm import ConfirmScreen

        waiting = [s for s in self.screen_stack if isinstance(s, ApprovalScreen)]
        if not waiting:
            self.exit(0)
            return
        tool = waiting[-1].request.tool

        def answered(quit_anyway: bool | None) -> None:
            if quit_anyway:
                self.exit(0)

        self.push_screen(
            ConfirmScreen(
                f"{tool} is waiting for your approval. Quit anyway? It will not run.",
                yes="quit",
                no="stay",
            ),
            answered,
        )

    def action_toggle_sidebar(self) -> None:
        sidebar = self.sidebar
        sidebar.display = not sidebar.display

    def action_help(self) -> None:
        from tui.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def action_audit_log(self) -> None:
        from tui.screens.audit import AuditScreen

        settings = self._need_settings()
        if settings is not None:
            self.push_screen(AuditScreen(settings.audit_dir))

    def action_conversations(self) -> None:
        if self.session is None:
            self.notify("The session is still starting.", severity="warning")
            return
        from tui.screens.conversations import ConversationsScreen

        def chosen(conversation: str | None) -> None:
            if conversation:
                self.run_worker(self.resume(conversation), group="resume")

        self.push_screen(ConversationsScreen(self.session), chosen)

    def action_copy_last(self) -> None:
        reply = self.chat.last_reply()
        if reply is None:
            self.notify("No reply to copy yet.", severity="warning")
            return
        reply.action_copy()

    def action_focus_stages(self) -> None:
        self.sidebar.display = True
        self.query_one(StageList).focus()

    # --- command palette ----------------------------------------------------------------
    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Help", "Keys, slash commands and modes", self.action_help)
        yield SystemCommand("Stages", "Focus the pipeline stages", self.action_focus_stages)
        yield SystemCommand(
            "Tools", "List the tools", lambda: self.run_worker(self._slash_tools(""))
        )
        yield SystemCommand(
            "Resources",
            "What this session created",
            lambda: self.run_worker(self._slash_resources("")),
        )
        yield SystemCommand(
            "Clean up",
            "Delete what this session created",
            lambda: self.run_worker(self._slash_cleanup("")),
        )
        yield SystemCommand("Audit log", "Filter and verify the audit log", self.action_audit_log)
        yield SystemCommand(
            "New conversation", "Start over", lambda: self.run_worker(self._slash_new(""))
        )
        yield SystemCommand(
            "Resume a conversation", "List, resume, delete", self.action_conversations
        )
        yield SystemCommand(
            "Export conversation",
            "Save as Markdown",
            lambda: self.run_worker(self._slash_export("")),
        )
        yield SystemCommand(
            "Model", "Show the model", lambda: self.run_worker(self._slash_model(""))
        )
        yield SystemCommand(
            "Region", "Show the region", lambda: self.run_worker(self._slash_region(""))
        )
        for mode in slash.MODES:
            yield SystemCommand(
                f"Mode: {mode}",
                f"Switch the approval mode to {mode}",
                _bind(lambda m: self.run_worker(self._slash_mode(m)), mode),
            )
        yield SystemCommand(
            "Toggle sidebar", "Show or hide the sidebar", self.action_toggle_sidebar
        )
        yield SystemCommand("Copy last reply", "To the clipboard (OSC 52)", self.action_copy_last)

    async def on_unmount(self) -> None:
        if self.session is not None:
            try:
                await self.session.aclose()
            except Exception:
                pass
        close = getattr(self.session_factory, "close", None)
        if callable(close):
            close()


def _bind(func: Callable[[str], None], value: str) -> Callable[[], None]:
    return lambda: func(value)


def tool_meta(name: str) -> tuple[str, str]:
    """(stage, risk) of a registered tool, from the registry the session already loaded;
    ("", "") when it is not loaded (the UI never imports the tools for this)."""
    base = sys.modules.get("tools.core.declaration")
    registry = getattr(base, "REGISTRY", None)
    if registry is None or name not in registry:
        return "", ""
    spec = registry.get(name)
    return str(spec.stage), str(spec.risk)
