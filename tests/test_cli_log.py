"""`sagecoach log` and `sagecoach log verify` from the command line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

import pytest
from typer.testing import CliRunner

from agent import audit
from agent.audit import AuditLog
from tui.cli import app


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "state"
    monkeypatch.setenv("SAGECOACH_STATE_DIR", str(directory))
    return directory


def fill(audit_dir: Path) -> None:
    clock = {"now": datetime(2026, 11, 24, 9, 0, tzinfo=UTC)}
    with mock.patch.object(audit, "_now", lambda: clock["now"]):
        _fill(audit_dir, clock)


def _fill(audit_dir: Path, clock: dict) -> None:
    a = AuditLog(audit_dir, "sessionaaaa1")
    a.append("session_start", {"model": "offline", "mode": "ask"})
    a.append("user_message", {"text": "create a bucket called churn-data"})
    a.append("approval", {"tool": "s3_create_bucket", "decision": "approve", "who": "user"})
    a.append(
        "aws_call",
        {"service": "s3", "operation": "CreateBucket", "status": 200, "latency_ms": 5.0},
    )
    a.append("tool_call", {"name": "s3_create_bucket", "status": "success", "duration_s": 0.2})
    a.append("session_end", {"reason": "quit"})
    clock["now"] += timedelta(hours=2)
    b = AuditLog(audit_dir, "sessionbbbb2")
    b.append("session_start", {"model": "offline", "mode": "auto"})
    b.append(
        "tool_call",
        {"name": "athena_run_query", "status": "error", "error": "AccessDenied: no"},
    )


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_log_prints_a_table_of_recent_records(state: Path) -> None:
    fill(state / "audit")
    result = invoke("log")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["TIME", "(UTC)", "SESSION", "SEQ", "KIND", "WHAT"]
    body = lines[2:]
    assert len(body) == 8
    assert body[0].startswith("11-24 09:00:00  sessionaaaa1  1    session_start")
    assert "s3.CreateBucket 200 5ms" in body[3]
    assert "s3_create_bucket approve by user" in body[2]
    assert "athena_run_query error" in body[-1] and "AccessDenied" in body[-1]


def test_log_filters(state: Path) -> None:
    fill(state / "audit")

    def seqs(*args: str) -> list[tuple[str, int]]:
        result = invoke("log", "--json", *args)
        assert result.exit_code == 0, result.output
        recs = [json.loads(x) for x in result.stdout.splitlines() if x.startswith("{")]
        return [(r["session"][-1], r["seq"]) for r in recs]

    assert seqs("--session", "last") == [("2", 1), ("2", 2)]
    assert seqs("--session", "sessionaaaa1", "--kind", "tool_call") == [("1", 5)]
    assert seqs("--kind", "tool_call,aws_call") == [("1", 4), ("1", 5), ("2", 2)]
    assert seqs("--tool", "s3_create_bucket") == [("1", 3), ("1", 5)]
    assert seqs("--since", "2026-11-24T10:00:00Z") == [("2", 1), ("2", 2)]
    assert seqs("--limit", "2") == [("2", 1), ("2", 2)]
    assert seqs("--session", "nobody") == []


def test_log_since_relative_and_bad_values(state: Path) -> None:
    log = AuditLog(state / "audit", "fresh")
    log.append("session_start", {})
    assert "session_start" in invoke("log", "--since", "2h").output
    bad = CliRunner().invoke(app, ["log", "--since", "last tuesday"])
    assert bad.exit_code == 2
    assert "not a time" in bad.output


def test_log_with_no_records_says_so(state: Path) -> None:
    result = invoke("log")
    assert result.exit_code == 0
    assert "No matching audit records in" in result.output
    assert "No audit records yet" in invoke("log", "--session", "last").output


def test_verify_ok_then_tampered(state: Path) -> None:
    fill(state / "audit")
    ok = invoke("log", "verify")
    assert ok.exit_code == 0
    assert ok.output.startswith("OK: 8 records in 1 file(s)") and "chain intact" in ok.output

    path = audit.log_files(state / "audit")[0]
    lines = path.read_text().splitlines()
    lines[3] = lines[3].replace('"status":200', '"status":403')
    path.write_text("\n".join(lines) + "\n")
    bad = CliRunner().invoke(app, ["log", "verify"])
    assert bad.exit_code == 1
    assert "FAILED: 8 records" in bad.output
    assert f"first bad record: {path.name}:4: record edited" in bad.output

    as_json = CliRunner().invoke(app, ["log", "verify", "--json"])
    assert as_json.exit_code == 1
    report = json.loads(as_json.output)
    assert report["ok"] is False and report["problems"][0]["line"] == 4


def test_verify_reports_a_torn_line_but_passes(state: Path) -> None:
    AuditLog(state / "audit", "s").append("session_start", {})
    path = audit.log_files(state / "audit")[0]
    with path.open("ab") as handle:
        handle.write(b'{"ts":"2026')
    result = invoke("log", "verify")
    assert result.exit_code == 0
    assert "warning:" in result.output and "torn last line" in result.output


def test_verify_with_no_log(state: Path) -> None:
    result = invoke("log", "verify")
    assert result.exit_code == 0 and "No audit log yet" in result.output


def test_follow_records_yields_new_records(tmp_path: Path) -> None:
    directory = tmp_path / "audit"
    log = AuditLog(directory, "f")
    log.append("session_start", {})
    done = threading.Event()
    got: list[dict] = []

    def writer() -> None:
        time.sleep(0.1)
        log.append("user_message", {"text": "hi"})
        log.append("tool_call", {"name": "x", "status": "success"})
        time.sleep(0.2)
        done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    for rec in audit.follow_records(directory, stop=done.is_set, poll_s=0.02):
        got.append(rec)
    thread.join()
    assert [r["kind"] for r in got] == ["user_message", "tool_call"]  # not the older record


def test_log_follow_from_the_command_line(state: Path) -> None:
    directory = state / "audit"
    AuditLog(directory, "old").append("session_start", {})
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "log", "-f", "--kind", "tool_call"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        assert proc.stdout is not None
        log = AuditLog(directory, "new")
        deadline = time.monotonic() + 20
        line = ""
        while time.monotonic() < deadline and "follow_me" not in line:
            log.append("tool_call", {"name": "follow_me", "status": "success"})
            time.sleep(0.3)
            line = _read_available(proc)
        assert "follow_me success" in line
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _read_available(proc: subprocess.Popen) -> str:
    import selectors

    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)  # type: ignore[arg-type]
    out = ""
    while sel.select(timeout=0.5):
        line = proc.stdout.readline()  # type: ignore[union-attr]
        if not line:
            break
        out += line
        if "follow_me" in line:
            break
    sel.close()
    return out
