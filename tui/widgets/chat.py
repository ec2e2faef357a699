"""The conversation: user messages, streamed markdown replies, tool-call cards, notices.

Light by design: every item is one Static (rich renderables), except tool cards, which are a
small container. Replies re-render at most 20 times a second while they stream. The log keeps
at most MAX_MOUNTED items mounted; older ones wait behind a "show earlier" line.
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import var
from textual.widget import Widget
from textual.widgets import Label, ProgressBar, Static

MAX_MOUNTED = 200  # items kept mounted; older ones are behind "show earlier"
PRUNE_STEP = 50
MAX_ROWS = 15  # rows of a tool's data shown in its card
MAX_COLUMNS = 6  # columns of a tool's data shown in its card (copy gives all)
CELL_CHARS = 40  # a table cell is cut to this many characters
LEADING_COLUMNS = ("name", "service", "title")  # shown first when a tool's rows have them
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
STATUS_ICON = {
    "running": "",
    "waiting": "◇",
    "success": "✔",
    "error": "✘",
    "rejected": "⊘",
    "denied": "⊘",
    "dry_run": "◌",
    "cancelled": "■",
}
STATUS_WORD = {
    "running": "running",
    "waiting": "awaiting approval",
    "success": "done",
    "error": "failed",
    "rejected": "rejected",
    "denied": "refused by policy",
    "dry_run": "dry run — not run",
    "cancelled": "cancelled",
}


def format_args(args: dict[str, Any], limit: int = 300) -> str:
    """`key=value` pairs on one line (unset ones left out), cut at `limit` characters."""
    parts = [
        f"{k}={json.dumps(v, default=str) if not isinstance(v, str) else ' ↵ '.join(v.splitlines())}"
        for k, v in shown_args(args).items()
    ]
    text = "  ".join(parts) or "(no arguments)"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_duration(ms: float) -> str:
    if ms <= 0:
        return ""
    if ms < 1000:
        return f"{ms:.0f} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, sec = divmod(int(seconds), 60)
    return f"{minutes} min {sec:02d} s"


class RowsTable:
    """A tool's rows as a table with as many columns as fit the width it is drawn at; the
    caption names the columns left out (the card's copy has them all)."""

    def __init__(self, rows: list[dict[str, Any]], limit: int = MAX_ROWS) -> None:
        self.rows = rows[:limit]
        columns: list[str] = []
        for row in self.rows:
            for key in row:
                if key not in columns:
                    columns.append(key)
        self.columns = sorted(columns, key=lambda col: self._rank(col))
        self.cells = [[_cut(_cell(row.get(col))) for col in self.columns] for row in self.rows]

    def _rank(self, column: str) -> int:
        """Names first; columns that tell rows apart next; the same value in every row,
        nested objects and empty columns last (they are still in the copy)."""
        if column.lower() in LEADING_COLUMNS:
            return 0
        values = [row.get(column) for row in self.rows]
        if all(v is None or v == "" or v == {} or v == [] for v in values):
            return 2
        if any(isinstance(v, dict) for v in values):
            return 2
        if len(self.rows) > 1 and all(v == values[0] for v in values):
            return 2
        return 1

    @property
    def row_count(self) -> int:
        return len(self.rows)

    def fitting_columns(self, width: int) -> list[int]:
        """Indexes of the leading columns whose natural widths fit in `width` (at least two,
        at most MAX_COLUMNS)."""
        chosen: list[int] = []
        used = 0
        for index, col in enumerate(self.columns[:MAX_COLUMNS]):
            natural = max([len(str(col))] + [len(cells[index]) for cells in self.cells])
            need = min(natural, CELL_CHARS) + 3
            if chosen and len(chosen) >= 2 and used + need > width:
                break
            chosen.append(index)
            used += need
        return chosen

    def table(self, width: int) -> Table:
        shown = self.fitting_columns(width)
        hidden = [c for i, c in enumerate(self.columns) if i not in shown]
        table = Table(
            show_edge=False,
            pad_edge=False,
            expand=False,
            header_style="bold",
            caption=f"+{len(hidden)} more columns: {', '.join(hidden)} (c copies all)"
            if hidden
            else None,
            caption_justify="left",
        )
        for index in shown:
            table.add_column(str(self.columns[index]), overflow="fold", max_width=CELL_CHARS)
        for cells in self.cells:
            table.add_row(*(cells[index] for index in shown))
        return table

    def __rich_console__(self, console: Any, options: Any) -> Any:
        yield self.table(options.max_width)


def rows_table(rows: list[dict[str, Any]], limit: int = MAX_ROWS) -> tuple[RowsTable, int]:
    """The first `limit` rows as a RowsTable, with the number of rows left out."""
    return RowsTable(rows, limit), max(0, len(rows) - limit)


def schema_table(columns: list[dict[str, Any]]) -> Table | None:
    """Every column of a previewed table with its type and null count (and distinct values,
    min and max when known) — all of them, not the few the summary line has room for."""
    cols = [c for c in columns if isinstance(c, dict) and "name" in c and "type" in c]
    if not cols:
        return None
    table = Table(
        box=None, pad_edge=False, show_edge=False, header_style="bold", title_justify="left"
    )
    for head in ("column", "type", "nulls", "distinct", "min", "max"):
        table.add_column(head, overflow="fold", max_width=CELL_CHARS)
    for col in cols:
        low, high = col.get("min"), col.get("max")
        numeric = col.get("type") != "string"
        table.add_row(
            _cut(str(col["name"])),
            str(col["type"]),
            _cell(col.get("nulls", "")),
            _cell(col.get("distinct", "")),
            _cut(_cell(low)) if numeric and low is not None else "",
            _cut(_cell(high)) if numeric and high is not None else "",
        )
    return table


def _cut(text: str, limit: int = CELL_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _markdown(text: str) -> RenderableType:
    """A reply as markdown; a single newline stays a line break, as in chat apps (replies
    and tool summaries often put one item per line without a blank line between), and
    `<something>` is text, not HTML a terminal cannot show (rich drops it)."""
    from rich.markdown import Markdown  # markdown-it loads on the first reply, not at start-up

    markdown = Markdown(text)
    for token in markdown.parsed:
        for child in token.children or ():
            if child.type == "softbreak":
                child.type = "hardbreak"
            elif child.type == "html_inline":
                child.type = "text"
    return markdown


def shown_args(args: dict[str, Any]) -> dict[str, Any]:
    """The arguments worth showing: unset ones (None, empty list or dict) are left out."""
    return {k: v for k, v in args.items() if v is not None and v != [] and v != {}}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)[:80]
    return str(value)


class ChatItem(Widget):
    """Anything in the log that can be focused and copied with `c`."""

    can_focus = True
    BINDINGS = [Binding("c", "copy", "Copy", tooltip="Copy this item to the clipboard")]

    def copy_text(self) -> str:
        return ""

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.copy_text())
        self.notify("Copied to the clipboard.", timeout=2)


class UserMessage(ChatItem, Static):
    def __init__(self, text: str, **kwargs: Any) -> None:
        super().__init__(Text(text), **kwargs)
        self.text = text
        self.border_title = "you"

    def copy_text(self) -> str:
        return self.text


class AssistantMessage(ChatItem, Static):
    """A reply in markdown; `append` while streaming, `finish` at the end."""

    def __init__(self, text: str = "", message_id: str = "", **kwargs: Any) -> None:
        super().__init__("", **kwargs)
        self.text = text
        self.message_id = message_id
        self.border_title = "sagecoach"
        self._timer: Any = None
        if text:
            self.update(_markdown(text))

    def append(self, delta: str) -> None:
        self.text += delta
        if self._timer is None:
            self._timer = self.set_timer(0.05, self._flush)

    def _flush(self) -> None:
        self._timer = None
        self.update(_markdown(self.text))

    def finish(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self.update(_markdown(self.text))

    def copy_text(self) -> str:
        return self.text


NOTICE_ICON = {"warning": "⚠ ", "error": "✘ "}


class NoticeItem(ChatItem, Static):
    """A line from sagecoach itself; warnings and errors carry an icon and their colour."""

    def __init__(self, text: str, level: str = "info", **kwargs: Any) -> None:
        super().__init__(Text(NOTICE_ICON.get(level, "") + text), **kwargs)
        self.text = text
        self.add_class(f"-{level}")

    def copy_text(self) -> str:
        return self.text


class LoadEarlier(Static):
    """Clickable line at the top of the log when older items are not mounted."""

    can_focus = True
    BINDINGS = [Binding("enter,space", "load", "Show earlier", show=False)]

    def set_count(self, count: int) -> None:
        self.update(f"▲ {count} earlier items — click or press Enter to show more")

    def on_click(self) -> None:
        self.action_load()

    def action_load(self) -> None:
        log = self.parent
        if isinstance(log, ChatLog):
            log.load_earlier()


class ToolCard(ChatItem, Vertical):
    """One tool call: header with status, arguments, progress, summary, data table, plot."""

    BINDINGS = [
        Binding("enter,space", "toggle", "Fold", tooltip="Fold or unfold this card"),
        Binding("c", "copy", "Copy", tooltip="Copy this card to the clipboard"),
    ]
    collapsed: var[bool] = var(False, toggle_class="-collapsed")

    class Toggled(Message):
        pass

    def __init__(
        self,
        call_id: str,
        name: str,
        stage: str = "",
        risk: str = "",
        args: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.call_id = call_id
        self.tool_name = name
        self.stage = stage
        self.risk = risk
        self.args = dict(args or {})
        self.status = "running"
        self.summary = ""
        self.duration_ms = 0.0
        self.data: dict[str, Any] = {}
        self.progress_text = ""
        self._frame = 0
        self._spin: Any = None
        self.add_class(f"-risk-{risk or 'read'}")

    def compose(self) -> ComposeResult:
        yield Label(self._head(), classes="head")
        yield Static(Text(format_args(self.args)), classes="args body")
        yield ProgressBar(total=None, show_eta=False, classes="progress")
        yield Static("", classes="summary")
        yield Static("", classes="data body")

    def on_mount(self) -> None:
        if self.status == "running":
            self._spin = self.set_interval(0.1, self._tick)
        self._render_state()
        if self.status not in ("running", "waiting"):
            self._render_data()

    def _tick(self) -> None:
        self._frame += 1
        if self.is_mounted:
            self.query_one(".head", Label).update(self._head())

    def _head(self) -> Text:
        icon = STATUS_ICON.get(self.status, "?")
        if self.status == "running":
            icon = SPINNER[self._frame % len(SPINNER)]
        text = Text()
        text.append(f"{icon} ", style="bold")
        text.append(self.tool_name, style="bold")
        if self.stage:
            text.append(f"  · {self.stage}")
        if self.risk:
            text.append(f" · {self.risk}")
        word = STATUS_WORD.get(self.status, self.status)
        duration = format_duration(self.duration_ms)
        text.append(f"   {word}" + (f" in {duration}" if duration else ""), style="italic")
        return text

    def _render_state(self) -> None:
        if not self.is_mounted:
            return
        for status in STATUS_ICON:
            self.set_class(self.status == status, f"-{status}")
        self.query_one(".head", Label).update(self._head())
        self.query_one(".args", Static).update(Text(format_args(self.args)))
        summary = self.summary or self.progress_text
        self.query_one(".summary", Static).update(Text(summary))
        self.query_one(".summary", Static).display = bool(summary)
        bar = self.query_one(ProgressBar)
        bar.display = self.status == "running" and self._has_progress

    _has_progress = False

    def progress(self, message: str, done: float | None, total: float | None, unit: str) -> None:
        self.progress_text = message
        if done is not None and total:
            self._has_progress = True
            bar = self.query_one(ProgressBar)
            bar.update(total=total, progress=done)
            self.progress_text = f"{message} ({_amount(done, unit)} of {_amount(total, unit)})"
        self._render_state()

    def set_waiting(self) -> None:
        self.status = "waiting"
        self._stop_spin()
        self._render_state()

    def set_running(self) -> None:
        self.status = "running"
        if self._spin is None and self.is_mounted:
            self._spin = self.set_interval(0.1, self._tick)
        self._render_state()

    def finish(
        self,
        status: str,
        summary: str,
        duration_ms: float = 0.0,
        data: dict[str, Any] | None = None,
        args: dict[str, Any] | None = None,
    ) -> None:
        self.status = status
        self.summary = summary
        self.duration_ms = duration_ms
        if args:
            self.args = dict(args)
        self.data = dict(data or {})
        self._stop_spin()
        self._render_state()
        self._render_data()

    def _stop_spin(self) -> None:
        if self._spin is not None:
            self._spin.stop()
            self._spin = None

    def _render_data(self) -> None:
        parts: list[RenderableType] = []
        columns = self.data.get("columns")
        schema = schema_table(columns) if isinstance(columns, list) else None
        if schema is not None:
            parts.append(schema)
        rows = self.data.get("rows")
        if isinstance(rows, list) and rows and all(isinstance(r, dict) for r in rows):
            table, left = rows_table(rows)
            parts.append(table)
            if left:
                parts.append(Text(f"… {left} more rows not shown", style="italic"))
        metrics = self.data.get("metrics")
        if isinstance(metrics, dict) and metrics and not rows:
            parts.append(Text("  ".join(f"{k} {_cell(v)}" for k, v in metrics.items())))
        static = self.query_one(".data", Static)
        static.update(Group(*parts) if parts else "")
        static.display = bool(parts)
        series = self.data.get("series")
        if isinstance(series, dict) and series and not self.query(".plot"):
            from tui.widgets.plot import SeriesPlot

            self.mount(SeriesPlot(series, title=self.tool_name, classes="plot body"))

    def action_toggle(self) -> None:
        self.collapsed = not self.collapsed

    def on_click(self) -> None:
        self.focus()

    def copy_text(self) -> str:
        lines = [
            f"{self.tool_name} ({self.stage}, {self.risk}): {STATUS_WORD.get(self.status, self.status)}",
            f"arguments: {json.dumps(self.args, default=str)}",
        ]
        if self.summary:
            lines.append(self.summary)
        rows = self.data.get("rows")
        if isinstance(rows, list) and rows and isinstance(rows[0], dict):
            cols = list(rows[0])
            lines.append("\t".join(cols))
            lines.extend("\t".join(_cell(r.get(c)) for c in cols) for r in rows)
        return "\n".join(lines)


def _amount(value: float, unit: str) -> str:
    if unit == "bytes":
        for suffix in ("B", "KB", "MB", "GB"):
            if value < 1024 or suffix == "GB":
                return f"{value:,.0f} {suffix}" if suffix == "B" else f"{value:,.1f} {suffix}"
            value /= 1024
    return f"{value:,.0f} {unit}".strip()


def item_from_record(record: dict[str, Any]) -> Widget | None:
    """A widget for one past message as `session.resume()` returns it."""
    role = str(record.get("role") or record.get("type") or "")
    text = record.get("text", record.get("content", ""))
    if not isinstance(text, str):
        text = json.dumps(text, default=str)
    if role in ("user", "human"):
        return UserMessage(text, classes="user")
    if role in ("assistant", "ai"):
        return AssistantMessage(text, classes="assistant") if text.strip() else None
    if role == "tool":
        card = ToolCard(
            str(record.get("call_id", "")),
            str(record.get("name", "tool")),
            str(record.get("stage", "")),
            str(record.get("risk", "")),
            record.get("args") or {},
        )
        card.status = str(record.get("status", "success"))
        card.summary = str(record.get("summary", text or ""))
        card.duration_ms = float(record.get("duration_ms", 0.0) or 0.0)
        card.data = {k: v for k, v in (record.get("data") or {}).items() if k != "series"}
        card.collapsed = True
        return card
    if role in ("notice", "system") and text:
        return NoticeItem(text, str(record.get("level", "info")))
    return None


class ChatLog(VerticalScroll):
    """The scrolling log; follows new output unless the reader scrolled up."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._earlier: list[Widget] = []  # unmounted older items, oldest first
        self._assistant: dict[str, AssistantMessage] = {}
        self._cards: dict[str, ToolCard] = {}

    def compose(self) -> ComposeResult:
        loader = LoadEarlier(id="load-earlier")
        loader.display = False
        yield loader

    def on_mount(self) -> None:
        self.anchor()

    @property
    def items(self) -> list[Widget]:
        return [w for w in self.children if not isinstance(w, LoadEarlier)]

    async def add(self, widget: Widget) -> Widget:
        await self.mount(widget)
        self._prune()
        return widget

    def _prune(self) -> None:
        items = self.items
        if len(items) <= MAX_MOUNTED + PRUNE_STEP:
            return
        old = items[:PRUNE_STEP]
        for widget in old:
            if isinstance(widget, AssistantMessage):
                self._assistant.pop(widget.message_id, None)
            if isinstance(widget, ToolCard) and widget.status not in ("running", "waiting"):
                self._cards.pop(widget.call_id, None)
        # Keep fresh copies of what we unmount (a removed widget cannot be mounted again).
        self._earlier.extend(_clone(w) for w in old)
        self.remove_children(old)
        self._update_loader()

    def _update_loader(self) -> None:
        loader = self.query_one(LoadEarlier)
        loader.display = bool(self._earlier)
        loader.set_count(len(self._earlier))

    async def load_history(self, records: list[dict[str, Any]]) -> None:
        await self.clear()
        widgets = [w for w in (item_from_record(r) for r in records) if w is not None]
        self._earlier = widgets[:-MAX_MOUNTED] if len(widgets) > MAX_MOUNTED else []
        await self.mount_all(widgets[-MAX_MOUNTED:])
        self._update_loader()
        self.scroll_end(animate=False)

    def follow(self) -> None:
        """Scroll to the end and keep following new output (after a person sends)."""
        self.anchor()

    def load_earlier(self, count: int = 100) -> None:
        if not self._earlier:
            return
        batch, self._earlier = self._earlier[-count:], self._earlier[:-count]
        loader = self.query_one(LoadEarlier)
        self.mount_all(batch, after=loader)
        self._update_loader()

    async def clear(self) -> None:
        await self.remove_children([w for w in self.children if not isinstance(w, LoadEarlier)])
        self._earlier = []
        self._assistant.clear()
        self._cards.clear()
        self._update_loader()

    async def assistant(self, message_id: str) -> AssistantMessage:
        widget = self._assistant.get(message_id)
        if widget is None:
            widget = AssistantMessage(message_id=message_id, classes="assistant")
            self._assistant[message_id] = widget
            await self.add(widget)
        return widget

    async def discard(self, message_id: str) -> None:
        widget = self._assistant.pop(message_id, None)
        if widget is not None:
            await widget.remove()

    def finish_replies(self) -> None:
        for widget in self._assistant.values():
            widget.finish()

    async def card(self, call_id: str, **kwargs: Any) -> ToolCard:
        card = self._cards.get(call_id)
        if card is None:
            card = ToolCard(call_id, **kwargs)
            self._cards[call_id] = card
            await self.add(card)
        return card

    def find_card(self, call_id: str) -> ToolCard | None:
        return self._cards.get(call_id)

    def last_reply(self) -> AssistantMessage | None:
        for widget in reversed(self.items):
            if isinstance(widget, AssistantMessage):
                return widget
        return None


def _clone(widget: Widget) -> Widget:
    if isinstance(widget, UserMessage):
        return UserMessage(widget.text, classes="user")
    if isinstance(widget, AssistantMessage):
        return AssistantMessage(widget.text, classes="assistant")
    if isinstance(widget, NoticeItem):
        level = next((c[1:] for c in widget.classes if c.startswith("-")), "info")
        return NoticeItem(widget.text, level)
    if isinstance(widget, ToolCard):
        card = ToolCard(widget.call_id, widget.tool_name, widget.stage, widget.risk, widget.args)
        card.status, card.summary = widget.status, widget.summary
        card.duration_ms, card.data = widget.duration_ms, widget.data
        card.collapsed = True
        return card
    return Static("")
