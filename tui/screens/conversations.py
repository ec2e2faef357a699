"""Conversations: list, resume (Enter), delete (d, then d again to confirm)."""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static

from agent.session_api import ChatSession, ConversationInfo


class ConversationsScreen(ModalScreen[str | None]):
    """Dismisses with the id to resume, or None."""

    BINDINGS = [
        Binding("escape,q", "close", "Close"),
        Binding("enter", "resume", "Resume", priority=True),
        Binding("d", "delete", "Delete"),
    ]

    def __init__(self, session: ChatSession) -> None:
        super().__init__()
        self.session = session
        self.conversations: list[ConversationInfo] = []
        self._confirm_delete: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="conversations"):
            yield Label("Conversations", id="conversations-title")
            table: DataTable[Any] = DataTable(id="conversations-table", cursor_type="row")
            yield table
            yield Static(
                "Enter resume · d delete (press twice) · Esc close", id="conversations-help"
            )

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("id", "title", "updated", "")
        table.focus()
        self._load()

    @work(exclusive=True, group="conversations")
    async def _load(self) -> None:
        self.conversations = await self.session.list_conversations()
        table = self.query_one(DataTable)
        table.clear()
        for conv in self.conversations:
            marks = []
            if conv.id == self.session.conversation_id:
                marks.append("current")
            if conv.pending_approval:
                marks.append("waiting for approval")
            table.add_row(
                conv.id, conv.title, conv.updated_at[:16].replace("T", " "), ", ".join(marks),
                key=conv.id,
            )  # fmt: skip
        if not self.conversations:
            self.query_one("#conversations-help", Static).update("No saved conversations yet.")

    def _selected(self) -> str | None:
        table = self.query_one(DataTable)
        if not self.conversations or table.cursor_row is None:
            return None
        if 0 <= table.cursor_row < len(self.conversations):
            return self.conversations[table.cursor_row].id
        return None

    def action_resume(self) -> None:
        conv = self._selected()
        if conv is not None:
            self.dismiss(conv)

    async def action_delete(self) -> None:
        conv = self._selected()
        if conv is None:
            return
        help_line = self.query_one("#conversations-help", Static)
        if self._confirm_delete != conv:
            self._confirm_delete = conv
            help_line.update(f"Press d again to delete {conv} for good.")
            return
        self._confirm_delete = None
        await self.session.delete_conversation(conv)
        help_line.update(f"Deleted {conv}.")
        self._load()

    def action_close(self) -> None:
        self.dismiss(None)
