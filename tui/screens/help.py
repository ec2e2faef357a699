"""Help: keys, slash commands and approval modes."""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.slash import COMMANDS

KEYS: tuple[tuple[str, str], ...] = (
    ("Enter", "send the message"),
    ("Shift+Enter, Ctrl+J", "new line in the message"),
    ("Up / Down (first / last line)", "walk your earlier messages"),
    ("Tab", "complete a slash command"),
    ("PageUp / PageDown", "scroll the conversation (also from the prompt)"),
    ("Ctrl+C", "cancel the running turn; twice quits"),
    ("Ctrl+Q", "quit"),
    ("Ctrl+P", "command palette"),
    ("Ctrl+B", "show or hide the sidebar"),
    ("Ctrl+L", "audit log"),
    ("Ctrl+O", "conversations"),
    ("Ctrl+Y", "copy the last reply"),
    ("F1", "this help"),
    ("Tab / Shift+Tab", "move focus (chat items, sidebar, prompt)"),
    ("c (on a reply or card)", "copy it to the clipboard"),
    ("Enter / Space (on a card)", "fold or unfold it"),
)

APPROVAL = (
    "In the approval dialog: y approve · n reject (type an optional reason, Enter) · "
    "e edit the arguments (Ctrl+S checks them and approves, errors show inline) · "
    "a allow this tool for the rest of the session (write calls only) · nothing else approves."
)

MODES: tuple[tuple[str, str], ...] = (
    ("ask", "free reads; everything else asks (default)"),
    ("read-only", "only free reads; changes are refused"),
    ("dry-run", "nothing that changes or bills; shows what would run"),
    ("auto", "writes, and costly calls under the per-call and session budgets; deletes still ask"),
    ("yes", "everything (shown in red)"),
)


def _table(first: str, rows: Iterable[tuple[str, str]]) -> Table:
    table = Table(box=None, show_edge=False, pad_edge=False, header_style="bold", expand=True)
    table.add_column(first, style="bold", no_wrap=True)
    table.add_column("what it does", ratio=1)
    for key, what in rows:
        table.add_row(key, what)
    return table


def help_renderable() -> Group:
    """Keys, slash commands and modes as compact tables (one line per entry)."""
    heading = "bold underline"
    return Group(
        Text("Keys", style=heading),
        _table("key", KEYS),
        Text(""),
        Text(APPROVAL, style="italic"),
        Text(""),
        Text("Slash commands", style=heading),
        _table("command", ((c.usage, c.help) for c in COMMANDS)),
        Text(""),
        Text("Modes", style=heading),
        _table("mode", MODES),
    )


class HelpScreen(ModalScreen[None]):
    """Escape, q or F1 closes it."""

    BINDINGS = [Binding("escape,q,f1", "close", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help") as scroll:
            scroll.border_title = "sagecoach help"
            scroll.border_subtitle = "Esc closes"
            yield Static(help_renderable(), id="help-body")

    def action_close(self) -> None:
        self.dismiss(None)
