"""A yes/no question in a small modal ("A call is waiting for your approval. Quit anyway?")."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static


class ConfirmScreen(ModalScreen[bool]):
    """Dismisses with True for y, False for n or Esc; Enter decides nothing."""

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical {
        width: 64; height: auto; padding: 1 2; border: heavy $warning; background: $panel;
    }
    """
    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n", "answer(False)", "No"),
        Binding("escape", "answer(False)", "No", show=False),
    ]

    def __init__(self, question: str, yes: str = "yes", no: str = "no") -> None:
        super().__init__()
        self.question = question
        self.yes = yes
        self.no = no

    def compose(self) -> ComposeResult:
        keys = Text()
        keys.append(" y ", style="bold reverse")
        keys.append(f" {self.yes}   ")
        keys.append(" n ", style="bold reverse")
        keys.append(f" {self.no}")
        with Vertical():
            yield Static(self.question, id="confirm-question")
            yield Static(keys, id="confirm-keys")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)
