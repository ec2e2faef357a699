"""The audit log screen: a filterable table over the log, the `verify` result, record details."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Label, Static

MAX_RECORDS = 5000
_META = ("ts", "session", "seq", "kind", "prev")

# (records, verify summary, verify ok) — injectable so tests can show fixed data.
AuditLoader = Callable[[], tuple[list[dict[str, Any]], str, bool]]


def load_audit(audit_dir: Path) -> tuple[list[dict[str, Any]], str, bool]:
    """The newest records and a one-line verify result (agent.audit does the work)."""
    try:
        from agent.audit import read_records, verify
    except ImportError:
        return [], "the audit log module is not available", False
    if not Path(audit_dir).exists():
        return [], f"no audit log yet ({audit_dir})", True
    records = read_records(Path(audit_dir), limit=MAX_RECORDS)
    report = verify(Path(audit_dir))
    if report.ok:
        summary = f"verify: OK — {report.count} records in {report.files} files, chain intact"
        if report.warnings:
            summary += f" ({len(report.warnings)} torn lines skipped)"
    else:
        first = report.first_problem
        summary = f"verify: FAILED — {first}" if first else "verify: FAILED"
    return records, summary, report.ok


def record_tool_name(record: dict[str, Any]) -> str:
    for key in ("tool", "name"):
        if isinstance(record.get(key), str) and record.get("kind") != "aws_call":
            return record[key]
    request = record.get("request")
    if isinstance(request, dict) and isinstance(request.get("tool"), str):
        return request["tool"]
    return str(record.get("tool") or "")


def record_detail(record: dict[str, Any]) -> str:
    kind = record.get("kind")
    if kind == "aws_call":
        status = record.get("http_status", record.get("status", ""))
        return f"{record.get('service', '?')}:{record.get('operation', '?')} {status}".strip()
    if kind == "tool_call":
        extra = record.get("error") or ""
        return f"{record.get('status', '')} {extra}".strip()
    if kind == "approval":
        decision = record.get("decision")
        if isinstance(decision, dict):
            return f"{decision.get('type', '')} by {decision.get('who', '?')} {decision.get('reason', '')}".strip()
        return str(decision or "")
    if kind == "user_message":
        return str(record.get("text", ""))
    if kind == "model_call":
        parts = [
            str(record.get("model", "?")),
            f"{record.get('input_tokens', 0)} in / {record.get('output_tokens', 0)} out tokens",
        ]
        if isinstance(record.get("latency_ms"), int | float):
            parts.append(f"{record['latency_ms']:,.0f} ms")
        calls = record.get("tool_calls")
        if isinstance(calls, list) and calls:
            parts.append("calls " + ", ".join(str(c) for c in calls))
        elif record.get("stop_reason"):
            parts.append(str(record["stop_reason"]))
        if record.get("error"):
            parts.append(f"error: {record['error']}")
        return " · ".join(parts)
    if kind == "session_start":
        where = "sandbox" if record.get("sandbox") else f"account {record.get('account', '?')}"
        parts = [
            str(record["model"]) if record.get("model") else "",
            f"mode {record['mode']}" if record.get("mode") else "",
            where,
            str(record.get("region") or ""),
        ]
        return " · ".join(p for p in parts if p)
    payload = {k: v for k, v in record.items() if k not in _META}
    return json.dumps(payload, default=str)


def matches(record: dict[str, Any], query: str) -> bool:
    """Every word must match: `kind:aws_call`, `tool:s3_create_bucket`, `session:ab12`, or text."""
    flat = json.dumps(record, default=str).lower()
    for word in query.lower().split():
        field, sep, value = word.partition(":")
        if sep and field in ("kind", "tool", "session"):
            have = record_tool_name(record) if field == "tool" else str(record.get(field, ""))
            if value not in have.lower():
                return False
        elif word not in flat:
            return False
    return True


class AuditScreen(Screen[None]):
    """Escape or q closes it; type in the filter box to narrow the table; Enter shows a record."""

    BINDINGS = [
        Binding("escape,q", "close", "Close"),
        Binding("r", "reload", "Reload"),
        Binding("slash", "focus_filter", "Filter", show=False),
    ]

    def __init__(self, audit_dir: Path, *, loader: AuditLoader | None = None) -> None:
        super().__init__()
        self.audit_dir = audit_dir
        self.loader: AuditLoader = loader or (lambda: load_audit(audit_dir))
        self.records: list[dict[str, Any]] = []
        self.shown: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="audit"):
            yield Label(f"Audit log — {self.audit_dir}", id="audit-title")
            yield Input(
                placeholder="filter: words, kind:aws_call, tool:NAME, session:ID", id="audit-filter"
            )
            yield Static("loading…", id="audit-verify")
            table: DataTable[Any] = DataTable(
                id="audit-table", cursor_type="row", zebra_stripes=True
            )
            yield table
            yield Static("", id="audit-record")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("time", "session", "seq", "kind", "tool", "detail")
        table.focus()
        self.action_reload()

    def action_reload(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, group="audit")
    def _load(self) -> None:
        records, summary, ok = self.loader()
        self.app.call_from_thread(self._show, records, summary, ok)

    def _show(self, records: list[dict[str, Any]], summary: str, ok: bool) -> None:
        self.records = records
        verify = self.query_one("#audit-verify", Static)
        verify.update(Text(summary))
        verify.set_class(ok, "-ok")
        verify.set_class(not ok, "-bad")
        self._fill(self.query_one("#audit-filter", Input).value)

    def _fill(self, query: str) -> None:
        table = self.query_one(DataTable)
        table.clear()
        self.shown = [r for r in self.records if matches(r, query)] if query else self.records
        for index, rec in enumerate(self.shown):
            detail = record_detail(rec)
            table.add_row(
                str(rec.get("ts", ""))[:19].replace("T", " "),
                str(rec.get("session", ""))[:12],
                str(rec.get("seq", "")),
                str(rec.get("kind", "")),
                record_tool_name(rec),
                detail if len(detail) <= 80 else detail[:79] + "…",
                key=str(index),
            )
        self.query_one("#audit-title", Label).update(
            f"Audit log — {len(self.shown)} of {len(self.records)} records — {self.audit_dir}"
        )
        if self.shown:  # the newest record is what a person opened the log for
            table.move_cursor(row=len(self.shown) - 1, animate=False)

    @on(Input.Changed, "#audit-filter")
    def _filter(self, event: Input.Changed) -> None:
        self._fill(event.value)

    @on(Input.Submitted, "#audit-filter")
    def _to_table(self) -> None:
        self.query_one(DataTable).focus()

    @on(DataTable.RowHighlighted)
    def _show_record(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is None:
            return
        record = self.shown[int(event.row_key.value)]
        self.query_one("#audit-record", Static).update(
            Text(json.dumps(record, indent=1, default=str)[:3000])
        )

    def action_focus_filter(self) -> None:
        self.query_one("#audit-filter", Input).focus()

    def action_close(self) -> None:
        self.dismiss(None)
