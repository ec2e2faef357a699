"""Help: keys, slash commands and approval modes."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

from tui.slash import COMMANDS

KEYS = """\
| key | what it does |
|---|---|
| Enter | send the message |
| Shift+Enter, Ctrl+J | new line in the message |
| Up / Down (first / last line) | walk your earlier messages |
| Tab | complete a slash command |
| Ctrl+C | cancel the running turn; twice quits |
| Ctrl+Q | quit |
| Ctrl+P | command palette |
| Ctrl+B | show or hide the sidebar |
| Ctrl+L | audit log |
| Ctrl+O | conversations |
| Ctrl+Y | copy the last reply |
| F1 | this help |
| Tab / Shift+Tab | move focus (chat items, sidebar, prompt) |
| c (on a reply or card) | copy it to the clipboard |
| Enter / Space (on a card) | fold or unfold it |

**In the approval dialog:** `y` approve · `n` reject (type an optional reason, Enter) ·
`e` edit the arguments (Ctrl+S checks them and approves, errors show inline) ·
`a` allow this tool for the rest of the session (write calls only) · nothing else approves.
"""

MODES = """\
| mode | what runs without asking |
|---|---|
| ask | free reads; everything else asks (default) |
| read-only | only free reads; changes are refused |
| dry-run | nothing that changes or bills; shows what would run |
| auto | writes, and costly calls under the per-call and session budgets; deletes still ask |
| yes | everything (shown in red) |
"""


def help_markdown() -> str:
    commands = "\n".join(f"| `{c.usage}` | {c.help} |" for c in COMMANDS)
    return (
        "# sagecoach help\n\n## Keys\n\n"
        + KEYS
        + "\n## Slash commands\n\n| command | what it does |\n|---|---|\n"
        + commands
        + "\n\n## Modes\n\n"
        + MODES
    )


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,f1", "close", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Markdown(help_markdown())

    def action_close(self) -> None:
        self.dismiss(None)
