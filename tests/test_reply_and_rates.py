"""Small things a person reads: dry-run replies, approval reasons, unit prices."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.events import ApprovalRequested, TurnFinished
from agent.settings import Settings
from agent.startup import open_session
from tools.cost.estimates import _fmt_rate, estimate_units


async def _turn(session: Any, text: str) -> list[Any]:
    return [event async for event in session.send(text)]


async def test_offline_dry_run_reply_is_not_a_failure(tmp_path: Path, sandbox: Any) -> None:
    settings = Settings(state_dir=tmp_path / "state", sandbox="on", mode="dry-run", model="offline")
    session = await open_session(settings, sandbox_endpoint=sandbox.endpoint)
    try:
        events = await _turn(session, "create a bucket called dry-run-demo-1")
        reply = events[-1]
        assert isinstance(reply, TurnFinished)
        assert "would run (dry-run" in reply.reply and "failed" not in reply.reply
        assert "Fix the value" not in reply.reply
    finally:
        await session.aclose()


async def test_approval_reason_says_why(tmp_path: Path, sandbox: Any) -> None:
    settings = Settings(state_dir=tmp_path / "state", sandbox="on", model="offline")
    session = await open_session(settings, sandbox_endpoint=sandbox.endpoint)
    try:
        events = await _turn(session, "create a bucket called reason-demo-1")
        (asked,) = [e for e in events if isinstance(e, ApprovalRequested)]
        assert asked.request.reason == "ask mode: this creates or changes something"
    finally:
        await session.aclose()


def test_tiny_unit_prices_keep_their_digits() -> None:
    assert _fmt_rate(0.00002) == "$0.00002"
    assert _fmt_rate(0.0000166667) == "$0.0000167"
    assert _fmt_rate(0.23) == "$0.23"
    estimate = estimate_units("serverless_gb_second", 10, 100, "us-east-1", "2 GB × up to 50 s")
    assert "$0.00002 per serverless gb second" in estimate.basis
