"""The approval modal: everything a person needs to decide on one tool call.

Keys: y approve, n reject (asks for an optional reason), Esc reject (no reason; in the reason
or edit box it backs out), e edit the arguments (re-validated, errors shown inline), a allow
this tool for the session (only offered for write risk). Nothing else approves: there are no
buttons, and Enter approves nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static, TextArea

from agent.events import ApprovalRequest, Decision
from tools.core.results import format_rate, format_usd
from tui.widgets.chat import shown_args

RISK_STYLE = {
    "read": "green",
    "billable_read": "yellow",
    "write": "cyan",
    "costly": "bold yellow",
    "destructive": "bold red",
}

Validator = Callable[[str, dict[str, Any]], dict[str, Any]]


def registry_validate(tool: str, args: dict[str, Any]) -> dict[str, Any]:
    """Validate edited arguments with the tool's own model; raises ValueError with the reason."""
    from tools.core.errors import ToolError
    from tools.core.registry import get_tool

    try:
        spec = get_tool(tool)
    except KeyError:
        return args  # unknown here: the runtime validates again before anything runs
    try:
        model = spec.validate(args)
    except ToolError as exc:
        raise ValueError(exc.message) from None
    return model.model_dump(mode="json", exclude_unset=True) or dict(args)


def estimate_lines(estimate: dict[str, Any] | None) -> Text:
    if not estimate:
        return Text("free (no compute billed by this call)", style="green")
    text = Text()
    if estimate.get("known", estimate.get("high_usd") is not None):
        low, high = estimate.get("low_usd") or 0.0, estimate.get("high_usd") or 0.0
        amount = (
            format_usd(high)
            if abs(high - low) < 0.005 and (high >= 0.005 or (low > 0) == (high > 0))
            else f"{format_usd(low)} – {format_usd(high)}"
        )
        text.append(amount, style="bold")
    else:
        text.append("no price known — treat as costly", style="bold yellow")
    if estimate.get("hourly_usd"):
        text.append(f"  then {format_rate(estimate['hourly_usd'])} until deleted", style="bold")
    text.append(f"\nbasis: {estimate.get('basis', '?')}")
    source = estimate.get("source") or ""
    date = estimate.get("price_date") or ""
    if source or date:
        text.append(f"\nprices: {source}" + (f", as of {date}" if date else ""))
    for note in estimate.get("notes") or []:
        text.append(f"\nnote: {note}", style="italic")
    return text


PREFLIGHT_STYLE = {"fail": "bold red", "warn": "bold yellow", "pass": "green", "skip": "dim"}


def preflight_lines(checks: list[dict[str, Any]]) -> Text:
    """Warnings first, then what passed; the data plan (drops, encodings) under its check."""
    from tools.preflight.report import card_lines

    text = Text()
    for index, (status, line) in enumerate(card_lines(checks)):
        text.append(("\n" if index else "") + line, style=PREFLIGHT_STYLE.get(status, ""))
    return text


def request_table(request: ApprovalRequest) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    risk = Text(request.risk, style=RISK_STYLE.get(request.risk, "bold"))
    if request.reason:
        risk.append(f"  ({request.reason})", style="italic")
    env = (
        Text("SANDBOX — nothing reaches real AWS", style="bold black on yellow")
        if request.sandbox
        else Text("REAL AWS — this call changes your account", style="bold white on red")
    )
    table.add_row("tool", Text(request.tool, style="bold"))
    if request.description:
        table.add_row("", Text(request.description, style="italic"))
    table.add_row("stage", request.stage)
    table.add_row("risk", risk)
    table.add_row("cost", estimate_lines(request.estimate))
    if request.preflight:
        table.add_row("pre-flight", preflight_lines(request.preflight))
    table.add_row("AWS calls", ", ".join(request.operations) or "none")
    table.add_row(
        "where",
        f"account {request.account} · region {request.region} · profile {request.profile or 'default'}",
    )
    table.add_row("", env)
    table.add_row("mode", request.mode)
    return table


class ApprovalScreen(ModalScreen[Decision]):
    """Dismisses with a Decision; Escape rejects, or backs out of the reason or edit box."""

    BINDINGS = [
        Binding("y", "approve", "Approve"),
        Binding("n", "reject", "Reject"),
        Binding("e", "edit", "Edit arguments"),
        Binding("a", "allow_session", "Allow for session"),
        Binding("escape", "back", "Back", show=False),
        Binding("ctrl+s", "save_edit", "Check and approve edit", show=False),
    ]

    def __init__(self, request: ApprovalRequest, *, validate: Validator | None = None) -> None:
        super().__init__()
        self.request = request
        self.validate = validate or registry_validate
        self.stage_name = "choose"  # choose | reason | edit
        self.error = ""  # the last validation error of an edit, shown inline

    def compose(self) -> ComposeResult:
        with Vertical(id="approval"):
            yield Label(f"Approve {self.request.tool}?", id="approval-title")
            with VerticalScroll(id="approval-body"):
                yield Static(request_table(self.request), id="approval-details")
                yield Label(self._args_title(), classes="section", id="approval-args-title")
                yield Static(
                    Text(json.dumps(shown_args(self.request.args), indent=2, default=str)),
                    id="approval-args",
                )
            yield Input(placeholder="reason (optional), Enter to reject", id="reason")
            yield TextArea(
                json.dumps(self.request.args, indent=2, default=str),
                id="edit-args",
                language=None,
                soft_wrap=True,
            )
            yield Static("", id="edit-error")
            yield Static(self._keys_text(), id="approval-keys")

    def _args_title(self) -> str:
        unset = len(self.request.args) - len(shown_args(self.request.args))
        return "arguments" + (f" ({unset} unset not shown; e shows all)" if unset else "")

    def _keys_text(self) -> Text:
        text = Text()
        if self.stage_name == "reason":
            text.append("Enter", style="bold")
            text.append(" reject with this reason   ")
            text.append("Esc", style="bold")
            text.append(" back")
            return text
        if self.stage_name == "edit":
            text.append("Ctrl+S", style="bold")
            text.append(" check and approve the edited call   ")
            text.append("Esc", style="bold")
            text.append(" back")
            return text
        for key, word in (("y", "approve"), ("n", "reject"), ("Esc", "reject"), ("e", "edit")):
            text.append(f" {key} ", style="bold reverse")
            text.append(f" {word}   ")
        if self.request.allow_session_offered:
            text.append(" a ", style="bold reverse")
            text.append(f" allow {self.request.tool} for this session")
        return text

    def on_mount(self) -> None:
        self.query_one("#reason", Input).display = False
        self.query_one("#edit-args", TextArea).display = False
        self.query_one("#edit-error", Static).display = False
        self.query_one("#approval", Vertical).add_class(f"-risk-{self.request.risk}")
        self.query_one("#approval", Vertical).border_subtitle = (
            "SANDBOX" if self.request.sandbox else "REAL AWS"
        )
        self.query_one("#approval-body").focus()

    def _set_stage(self, stage: str) -> None:
        self.stage_name = stage
        self.query_one("#reason", Input).display = stage == "reason"
        self.query_one("#edit-args", TextArea).display = stage == "edit"
        self.query_one("#edit-error", Static).display = stage == "edit" and bool(self.error)
        # While editing, the edit box is the arguments: the read-only copy would repeat them.
        self.query_one("#approval-args", Static).display = stage != "edit"
        self.query_one("#approval-args-title", Label).display = stage != "edit"
        self.query_one("#approval-keys", Static).update(self._keys_text())
        if stage == "reason":
            self.query_one("#reason", Input).focus()
        elif stage == "edit":
            self.query_one("#edit-args", TextArea).focus()
        else:
            self.query_one("#approval-body").focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("approve", "reject", "edit", "allow_session"):
            if self.stage_name != "choose":
                return False
            if action == "allow_session" and not self.request.allow_session_offered:
                return False
        return not (action == "save_edit" and self.stage_name != "edit")

    def action_approve(self) -> None:
        self.dismiss(Decision.approve())

    def action_reject(self) -> None:
        self._set_stage("reason")

    def action_edit(self) -> None:
        self._set_stage("edit")

    def action_allow_session(self) -> None:
        self.dismiss(Decision.allow_session())

    def action_back(self) -> None:
        if self.stage_name != "choose":
            self._set_stage("choose")
        else:  # leaving the dialog is saying no, never yes
            self.dismiss(Decision.reject(""))

    @on(Input.Submitted, "#reason")
    def _reject_with_reason(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(Decision.reject(event.value.strip()))

    def action_save_edit(self) -> None:
        error = self.query_one("#edit-error", Static)
        raw = self.query_one("#edit-args", TextArea).text
        try:
            args = json.loads(raw)
            if not isinstance(args, dict):
                raise ValueError("the arguments must be a JSON object ({...})")
        except json.JSONDecodeError as exc:
            self._show_error(f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})")
            return
        except ValueError as exc:
            self._show_error(str(exc))
            return
        try:
            checked = self.validate(self.request.tool, args)
        except ValueError as exc:
            self._show_error(str(exc))
            return
        self.error = ""
        error.update("")
        error.display = False
        self.dismiss(Decision.edit(checked))

    def _show_error(self, message: str) -> None:
        self.error = message
        error = self.query_one("#edit-error", Static)
        error.update(Text(f"✘ {message}"))
        error.display = True
