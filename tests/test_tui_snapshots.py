"""Snapshots (pytest-textual-snapshot) of the main screen, the approval modal and the audit
screen. Deterministic: scripted session with fixed ids and durations, fixed clock and audit
records, no cursor blink, fixed terminal size. Update with `pytest --snapshot-update` after
reviewing the report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.fake_session import FakeSession
from tests.tui_helpers import idle, make_app, ready, send, wait_until
from tui.screens.approval import ApprovalScreen
from tui.screens.audit import AuditScreen

SIZE = (120, 40)

AUDIT_RECORDS: list[dict[str, Any]] = [
    {"ts": "2025-06-01T12:00:00Z", "session": "sess-0001", "seq": 1, "kind": "session_start",
     "mode": "ask", "sandbox": True, "region": "us-east-1"},
    {"ts": "2025-06-01T12:00:05Z", "session": "sess-0001", "seq": 2, "kind": "user_message",
     "text": "create a bucket for the churn data"},
    {"ts": "2025-06-01T12:00:06Z", "session": "sess-0001", "seq": 3, "kind": "approval",
     "request": {"tool": "s3_create_bucket"}, "decision": {"type": "approve", "who": "user"}},
    {"ts": "2025-06-01T12:00:06Z", "session": "sess-0001", "seq": 4, "kind": "aws_call",
     "service": "s3", "operation": "CreateBucket", "http_status": 200, "tool": "s3_create_bucket"},
    {"ts": "2025-06-01T12:00:07Z", "session": "sess-0001", "seq": 5, "kind": "tool_call",
     "name": "s3_create_bucket", "status": "success", "duration_ms": 312},
]  # fmt: skip


def test_main_screen_after_an_approved_call(snap_compare: Any, tmp_path: Path) -> None:
    app = make_app(FakeSession(), tmp_path, cursor_blink=False)

    async def run_before(pilot: Any) -> None:
        await ready(pilot)
        await send(pilot, "create a bucket")
        await wait_until(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        await pilot.press("y")
        await idle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_approval_modal_for_a_costly_call(snap_compare: Any, tmp_path: Path) -> None:
    app = make_app(FakeSession(), tmp_path, cursor_blink=False)

    async def run_before(pilot: Any) -> None:
        await ready(pilot)
        await send(pilot, "train an xgboost model")
        await wait_until(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        await pilot.pause(0.1)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_audit_screen(snap_compare: Any, tmp_path: Path) -> None:
    app = make_app(FakeSession(), tmp_path, cursor_blink=False)

    def loader() -> tuple[list[dict[str, Any]], str, bool]:
        return AUDIT_RECORDS, "verify: OK — 5 records in 1 files, chain intact", True

    async def run_before(pilot: Any) -> None:
        await ready(pilot)
        screen = AuditScreen(Path("/home/you/.local/state/sagecoach/audit"), loader=loader)
        app.push_screen(screen)
        await wait_until(pilot, lambda: screen.is_mounted and screen.records)
        await pilot.pause(0.1)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
