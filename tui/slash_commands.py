"""The app's slash commands (/mode, /model, /resume, /export, ...), mixed into SagecoachApp.

The methods use the app's widgets (chat, status, sidebar), its session and its notices; a
command is `_slash_<name>(arg)`, found by `run_slash`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work

from agent.events import ApprovalRequested
from tui import slash
from tui.widgets.chat import (
    AssistantMessage,
    NoticeItem,
    ToolCard,
    UserMessage,
    format_duration,
    shown_args,
)

if TYPE_CHECKING:  # agent.settings imports pydantic-settings: loaded after the first frame
    pass


class SlashCommands:
    """Slash-command handlers; only meaningful mixed into SagecoachApp (they use its state)."""

    async def run_slash(self, name: str, arg: str) -> None:
        handler = getattr(self, f"_slash_{name}", None)
        if handler is None:
            await self._notice(
                f"Unknown command /{name}. Commands: {', '.join('/' + n for n in slash.NAMES)}",
                "warning",
            )
            return
        await handler(arg)

    async def _slash_help(self, arg: str) -> None:
        self.action_help()

    async def _slash_stages(self, arg: str) -> None:
        self.action_focus_stages()

    async def _slash_log(self, arg: str) -> None:
        self.action_audit_log()

    async def _slash_tools(self, arg: str) -> None:
        self._list_tools(arg.strip())

    @work(thread=True, group="tools")
    def _list_tools(self, stage: str) -> None:
        from tools.core.registry import all_tools
        from tui.commands.tools import resolve_tool_stage

        stage_id = resolve_tool_stage(stage) if stage else None
        if stage and stage_id is None:
            self.call_from_thread(
                self._local_reply,
                f"No stage '{stage}': use a number 1-9, a title or an id (e.g. `/tools 4`, "
                "`/tools model training`, `/tools general`).",
            )
            return
        tools = [t for t in all_tools() if not stage_id or t.stage == stage_id]
        if not tools:
            text = f"No tools for stage '{stage}'." if stage else "No tools are registered yet."
        else:
            lines = ["| tool | stage | risk | what |", "|---|---|---|---|"]
            lines += [
                f"| `{t.name}` | {t.stage} | {t.risk} | {t.description.split('.')[0]} |"
                for t in tools
            ]
            text = f"**{len(tools)} tools**\n\n" + "\n".join(lines)
        self.call_from_thread(self._local_reply, text)

    def _local_reply(self, text: str) -> None:
        self.run_worker(self.chat.add(AssistantMessage(text, classes="assistant local")))

    async def _slash_tool(self, arg: str) -> None:
        """`/tool NAME key=value …` goes to the agent as typed (the offline planner runs it)."""
        await self.send_message(f"/tool {arg}".rstrip())

    async def _slash_mode(self, arg: str) -> None:
        mode = arg.strip().lower()
        if not mode:
            current = self.session.mode if self.session else getattr(self.settings, "mode", "ask")
            await self._notice(
                f"Mode: {current}. Choose one of: {', '.join(slash.MODES)} (/mode NAME)."
            )
            return
        if mode not in slash.MODES:
            await self._notice(
                f"'{mode}' is not a mode; choose one of: {', '.join(slash.MODES)}.", "error"
            )
            return
        self.set_mode(mode)
        await self._notice(f"Mode is now {mode}.", "warning" if mode == "yes" else "info")

    def set_mode(self, mode: str) -> None:
        if self.session is not None:
            self.session.set_mode(mode)
        if self.settings is not None:
            self.settings = self.settings.model_copy(update={"mode": mode})
        self.status.env_mode = mode

    async def _slash_model(self, arg: str) -> None:
        await self._restart_with("model", arg.strip())

    async def _slash_region(self, arg: str) -> None:
        await self._restart_with("region", arg.strip())

    async def _restart_with(self, key: str, value: str) -> None:
        if not value:
            current = (
                (self.session.model_label if key == "model" else self.session.region)
                if self.session
                else getattr(self.settings, key, "…")
            )
            await self._notice(f"{key}: {current}. Change it with /{key} VALUE.")
            return
        if self.turn_running:
            await self._notice(f"Wait for the turn to finish before changing the {key}.", "warning")
            return
        if self._need_settings() is None:
            return
        from agent.settings import SettingsError, load_settings

        assert self.settings is not None
        current = self.settings.model_dump()
        current[key] = value
        try:
            settings = load_settings(**current)
        except SettingsError as exc:
            await self._notice(str(exc), "error")
            return
        await self._notice(f"Restarting the session with {key} {value}…")
        self.open_session(settings)

    async def _slash_resources(self, arg: str) -> None:
        if self.session is None:
            await self._notice("The session is still starting.", "warning")
            return
        resources = self.session.resources()
        if not resources:
            await self._notice("This session has created nothing yet.")
            return
        lines = ["| name | kind | region | $/hour |", "|---|---|---|---|"]
        for res in resources:
            hourly = res.get("hourly_usd")
            lines.append(
                f"| {res.get('name')} | {res.get('kind')} | {res.get('region') or ''} | "
                f"{f'{hourly:,.3f}' if hourly else '–'} |"
            )
        text = f"**{len(resources)} resources**\n\n" + "\n".join(lines)
        await self.chat.add(AssistantMessage(text, classes="assistant local"))

    async def _slash_cleanup(self, arg: str) -> None:
        await self.send_message(
            "Clean up: delete every resource this session created" + (f" ({arg})" if arg else "")
        )

    async def _slash_new(self, arg: str) -> None:
        if self.session is None or self.turn_running:
            await self._notice("Wait for the session to be ready and idle.", "warning")
            return
        conversation = await self.session.new_conversation()
        self.conversation = conversation
        await self.chat.clear()
        self.sidebar.reset()
        self._refresh_resources()
        await self._notice(f"New conversation {conversation}.")

    async def _slash_resume(self, arg: str) -> None:
        if arg.strip():
            await self.resume(arg.strip())
        else:
            self.action_conversations()

    async def resume(self, conversation: str) -> None:
        if self.session is None or self.turn_running:
            await self._notice("Wait for the session to be ready and idle.", "warning")
            return
        try:
            history = await self.session.resume(conversation)
        except Exception as exc:
            await self._notice(f"Could not resume {conversation}: {exc}", "error")
            return
        self.conversation = conversation
        self.sidebar.reset()
        await self.chat.load_history(history)
        self._refresh_resources()
        await self._notice(f"Resumed {conversation} ({len(history)} messages).")
        pending = self.session.pending_approvals
        if pending:
            await self._notice(
                f"{len(pending)} call(s) of this conversation wait for a decision.", "warning"
            )
            self.turn_worker = self._decide_pending(pending)

    @work(exclusive=True, group="turn", exit_on_error=False)
    async def _decide_pending(self, pending: list[Any]) -> None:
        assert self.session is not None
        events = [ApprovalRequested(r) for r in pending]
        for event in events:
            await self.handle_event(event)
        decisions = await self._ask(events)
        async for event in self.session.decide(decisions):
            await self.handle_event(event)
        self.status.busy_text = ""
        self._refresh_resources()

    async def _slash_export(self, arg: str) -> None:
        path = Path(arg.strip()).expanduser() if arg.strip() else None
        if path is None:
            if self._need_settings() is None:
                return
            assert self.settings is not None
            stamp = datetime.fromtimestamp(self.clock(), UTC).strftime("%Y%m%d-%H%M%S")
            name = f"conversation-{self.conversation or 'new'}-{stamp}.md"
            path = self.settings.state_dir / "exports" / name
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(self.export_markdown(), encoding="utf-8")
        except OSError as exc:
            await self._notice(f"Could not export: {exc}", "error")
            return
        await self._notice(f"Exported the conversation to {path}")

    def export_markdown(self) -> str:
        chat = self.chat
        session = self.session
        head = [f"# sagecoach conversation {self.conversation or ''}".rstrip(), ""]
        if session is not None:
            where = "SANDBOX" if session.is_sandbox else f"account {session.account_label}"
            head.append(f"{where} · region {session.region} · model {session.model_label}")
            head.append("")
        body: list[str] = []
        for widget in [*chat._earlier, *chat.items]:
            if isinstance(widget, UserMessage):
                body += [f"**You:** {widget.text}", ""]
            elif isinstance(widget, AssistantMessage):
                body += ["**sagecoach:**", "", widget.text, ""]
            elif isinstance(widget, ToolCard):
                took = format_duration(widget.duration_ms)
                body.append(
                    f"> tool `{widget.tool_name}` ({widget.stage}, {widget.risk}): "
                    f"{widget.status}{f' in {took}' if took else ''}"
                )
                args = json.dumps(shown_args(widget.args), default=str)
                body.append(f"> arguments: `{args}`")
                body.extend(f"> {line}".rstrip() for line in widget.summary.splitlines())
                body.append("")
            elif isinstance(widget, NoticeItem):
                body += [f"*{widget.text}*", ""]
        return "\n".join(head + body).rstrip() + "\n"
