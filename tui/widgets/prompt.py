"""The prompt: multi-line input, Enter sends, Shift+Enter or Ctrl+J for a new line, Up/Down
walk the history, and slash commands complete from a list above it (Tab or Enter accepts)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import OptionList, TextArea
from textual.widgets.option_list import Option

from tui import slash
from tui.history import PromptHistory


class PromptInput(TextArea):
    """A TextArea that sends on Enter."""

    class Submitted(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class PageRequest(Message):
        """PageUp/PageDown in the prompt page the conversation above it."""

        def __init__(self, direction: int) -> None:
            super().__init__()
            self.direction = direction

    def __init__(self, history: PromptHistory | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("soft_wrap", True)
        kwargs.setdefault("show_line_numbers", False)
        kwargs.setdefault("compact", True)
        kwargs.setdefault("placeholder", "Ask about ML on AWS · / for commands · Enter sends")
        super().__init__(**kwargs)
        self.prompt_history = history or PromptHistory(None)

    @property
    def completions(self) -> OptionList | None:
        parent = self.parent
        if isinstance(parent, Composer):
            return parent.query_one("#completions", OptionList)
        return None

    def _completion_open(self) -> bool:
        """The list is showing and still fits the text (keys typed faster than the list
        refreshes, or a paste, must not act on a stale list)."""
        box = self.completions
        if box is None or not box.display or box.option_count == 0:
            return False
        if not slash.complete(self.text):
            self._hide_completions()
            return False
        return True

    async def _on_key(self, event: events.Key) -> None:
        key = event.key
        if key in ("shift+enter", "ctrl+j"):
            event.stop()
            event.prevent_default()
            self.insert("\n")
            return
        if key == "enter":
            event.stop()
            event.prevent_default()
            if self._completion_open() and self._accept_completion(submit_if_complete=True):
                return
            self.submit()
            return
        if key in ("pageup", "pagedown"):
            event.stop()
            event.prevent_default()
            self.post_message(self.PageRequest(-1 if key == "pageup" else 1))
            return
        if key == "tab" and self._completion_open():
            event.stop()
            event.prevent_default()
            self._accept_completion(submit_if_complete=False)
            return
        if key == "escape" and self._completion_open():
            event.stop()
            event.prevent_default()
            self._hide_completions()
            return

    def submit(self) -> None:
        text = self.text.strip()
        if not text:
            return
        self.prompt_history.add(text)
        self.clear()
        self._hide_completions()
        self.post_message(self.Submitted(text))

    # --- history ------------------------------------------------------------------------
    def action_cursor_up(self, select: bool = False) -> None:
        if self._completion_open():
            box = self.completions
            assert box is not None
            box.action_cursor_up()
            return
        if not select and self.cursor_location[0] == 0:
            entry = self.prompt_history.previous(self.text)
            if entry is not None:
                self.load_text(entry)
                self.move_cursor((0, len(entry.split("\n")[0])))
            return
        super().action_cursor_up(select)

    def action_cursor_down(self, select: bool = False) -> None:
        if self._completion_open():
            box = self.completions
            assert box is not None
            box.action_cursor_down()
            return
        if not select and self.cursor_location[0] == self.document.line_count - 1:
            entry = self.prompt_history.next()
            if entry is not None:
                self.load_text(entry)
                self.move_cursor(self.document.end)
            return
        super().action_cursor_down(select)

    # --- slash completion ---------------------------------------------------------------
    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        box = self.completions
        if box is None:
            return
        matches = slash.complete(self.text)
        if not matches or (len(matches) == 1 and self.text == "/" + matches[0].name):
            self._hide_completions()
            return
        box.clear_options()
        box.add_options([Option(_completion_prompt(c), id=c.name) for c in matches])
        box.highlighted = 0
        box.display = True

    def _hide_completions(self) -> None:
        box = self.completions
        if box is not None:
            box.display = False

    def _accept_completion(self, *, submit_if_complete: bool) -> bool:
        """Put the highlighted command in the prompt; True if it did something."""
        box = self.completions
        if box is None or box.highlighted is None:
            return False
        names = [c.name for c in slash.complete(self.text)]
        if not names:
            return False
        name = str(box.get_option_at_index(box.highlighted).id)
        if name not in names:  # a list left from fewer typed characters
            name = names[0]
        self._hide_completions()
        if self.text.strip() == f"/{name}" and submit_if_complete:
            return False  # already complete: let Enter send it
        self.load_text(f"/{name} ")
        self.move_cursor(self.document.end)
        return True


def _completion_prompt(command: slash.SlashCommand) -> Text:
    text = Text()
    text.append(command.usage, style="bold")
    text.append(f"  {command.help}", style="italic")
    return text


class Composer(Vertical):
    """The completion list and the prompt under it."""

    def __init__(self, history: PromptHistory | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._history = history

    def compose(self) -> ComposeResult:
        box = OptionList(id="completions")
        box.display = False
        box.can_focus = False
        yield box
        yield PromptInput(self._history, id="prompt")
