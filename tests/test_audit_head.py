"""The audit head (cut tail, deleted files, foreign appends) and the keyed HMAC chain."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent import audit
from agent.audit import AuditLog, verify
from agent.audit_head import (
    HEAD_NAME,
    AuditKeyError,
    Head,
    HeadWriter,
    create_key,
    load_key,
    read_head,
)

KEY = b"k" * 64


def write_some(directory: Path, n: int = 5, key: bytes | None = None) -> None:
    log = AuditLog(directory, "s1", key=key)
    log.append("session_start", {"model": "offline"})
    for i in range(n - 1):
        log.append("tool_call", {"name": "s3_list_buckets", "i": i})
    log.close()


def day(directory: Path) -> Path:
    (path,) = audit.log_files(directory)
    return path


def lines(directory: Path) -> list[str]:
    return day(directory).read_text().splitlines()


def rewrite(directory: Path, kept: list[str]) -> None:
    day(directory).write_text("".join(line + "\n" for line in kept))


def sha(line: str) -> str:
    return hashlib.sha256(line.encode()).hexdigest()


def test_head_counts_records_and_keeps_the_last_hash(tmp_path: Path) -> None:
    write_some(tmp_path, 5)
    head = read_head(tmp_path)
    assert head is not None and head.count == 5 and head.pending is None
    assert head.last == sha(lines(tmp_path)[-1])
    assert stat.S_IMODE(os.stat(tmp_path / HEAD_NAME).st_mode) == 0o600
    report = verify(tmp_path)
    assert report.ok and not report.warnings and report.head["count"] == 5


@pytest.mark.parametrize("cut", [1, 2])
def test_a_cut_tail_is_detected(tmp_path: Path, cut: int) -> None:
    write_some(tmp_path, 6)
    rewrite(tmp_path, lines(tmp_path)[:-cut])
    report = verify(tmp_path)
    assert not report.ok
    assert report.first_problem.file == HEAD_NAME
    assert f"{cut} record(s) missing" in report.first_problem.reason


def test_a_cut_tail_stays_visible_after_the_next_append(tmp_path: Path) -> None:
    write_some(tmp_path, 6)
    rewrite(tmp_path, lines(tmp_path)[:-2])
    AuditLog(tmp_path, "next").append("session_start", {})  # must not "heal" the head
    report = verify(tmp_path)
    assert not report.ok and "2 record(s) missing" in report.first_problem.reason


def test_a_forged_appended_record_is_detected(tmp_path: Path) -> None:
    write_some(tmp_path, 4)
    raw = lines(tmp_path)
    forged = json.loads(raw[-1]) | {"seq": 5, "name": "sagemaker_delete_endpoint"}
    forged["prev"] = sha(raw[-1])  # a careful forger keeps the SHA-256 chain intact
    rewrite(tmp_path, [*raw, json.dumps(forged, separators=(",", ":"))])
    report = verify(tmp_path)
    assert not report.ok
    assert "1 record(s) beyond the head" in report.first_problem.reason


def test_deleted_log_files_are_detected(tmp_path: Path) -> None:
    logs = tmp_path / "state" / "audit"
    write_some(logs, 3)
    day(logs).unlink()
    report = verify(logs)
    assert not report.ok and "files deleted" in report.first_problem.reason
    result = _cli_verify(tmp_path / "state")
    assert result.exit_code == 1 and "FAILED" in result.output


def test_a_deleted_head_is_detected(tmp_path: Path) -> None:
    write_some(tmp_path, 3)
    (tmp_path / HEAD_NAME).unlink()
    report = verify(tmp_path)
    assert not report.ok and "head record is missing" in report.first_problem.reason


def test_a_replaced_last_record_is_detected(tmp_path: Path) -> None:
    write_some(tmp_path, 3)
    raw = lines(tmp_path)
    last = json.loads(raw[-1]) | {"i": 99}
    rewrite(tmp_path, [*raw[:-1], json.dumps(last, separators=(",", ":"))])
    report = verify(tmp_path)
    assert not report.ok and "replaced" in report.first_problem.reason


def test_interrupted_appends_are_warnings_and_settle_on_the_next_write(tmp_path: Path) -> None:
    write_some(tmp_path, 3)
    head = read_head(tmp_path)
    assert head is not None
    # Killed after announcing the record, before writing it.
    pending = '{"ts":"x","session":"dead","seq":4,"kind":"tool_call","prev":"' + head.last + '"}'
    writer = HeadWriter(tmp_path, durable=False)
    writer.write(Head(head.count, head.last, pending=sha(pending)), None, sync=False)
    report = verify(tmp_path)
    assert report.ok and "interrupted before its record" in report.warnings[0].reason
    # Killed after writing the record, before the head caught up.
    with day(tmp_path).open("a") as handle:
        handle.write(pending + "\n")
    report = verify(tmp_path)
    assert report.ok and "head not yet updated" in report.warnings[0].reason
    writer.close()
    AuditLog(tmp_path, "next").append("session_start", {})
    report = verify(tmp_path)
    assert report.ok and not report.warnings and report.count == 5


def test_an_older_log_gets_a_head_and_says_so(tmp_path: Path) -> None:
    write_some(tmp_path, 3)
    (tmp_path / HEAD_NAME).unlink()  # as a version without heads left it
    AuditLog(tmp_path, "new").append("session_start", {})
    kinds = [json.loads(x)["kind"] for x in lines(tmp_path)]
    assert kinds[-2:] == ["audit_head_created", "session_start"]
    report = verify(tmp_path)
    assert report.ok and report.count == 5
    assert any("(re)created here" in w.reason for w in report.warnings)


# --- the keyed chain -----------------------------------------------------------------------------
def test_keyed_records_carry_macs_and_verify_with_the_key(tmp_path: Path) -> None:
    write_some(tmp_path, 4, key=KEY)
    first = json.loads(lines(tmp_path)[0])
    assert list(first)[-2:] == ["mac", "prev"] and len(first["mac"]) == 64
    report = verify(tmp_path, key=KEY)
    assert report.ok and report.keyed and not report.warnings
    unkeyed = verify(tmp_path)  # without the key only the SHA-256 chain and head are checked
    assert unkeyed.ok and any("no key was given" in w.reason for w in unkeyed.warnings)


def _recompute_chain(directory: Path, raw: list[str]) -> list[str]:
    """What a forger without the key can do: fix every prev hash and rewrite the head."""
    out: list[str] = []
    prev = audit.GENESIS
    for line in raw:
        record = json.loads(line)
        record["prev"] = prev
        text = json.dumps(record, separators=(",", ":"))
        out.append(text)
        prev = sha(text)
    rewrite(directory, out)
    HeadWriter(directory, durable=False).write(
        Head(len(out), prev, keyed=True), b"not-the-key" * 4, sync=False
    )
    return out


def test_only_the_key_catches_an_edit_with_a_recomputed_chain(tmp_path: Path) -> None:
    write_some(tmp_path, 4, key=KEY)
    raw = lines(tmp_path)
    edited = json.loads(raw[1]) | {"name": "sagemaker_delete_endpoint"}
    raw[1] = json.dumps(edited, separators=(",", ":"))
    _recompute_chain(tmp_path, raw)
    assert verify(tmp_path).ok  # SHA-256 chain and head agree: only the key can tell
    report = verify(tmp_path, key=KEY)
    assert not report.ok
    assert report.first_problem.line == 2 and "MAC mismatch" in report.first_problem.reason
    assert any("head's MAC" in p.reason for p in report.problems)


def test_a_keyed_log_refuses_unkeyed_appends(tmp_path: Path) -> None:
    write_some(tmp_path, 3, key=KEY)
    AuditLog(tmp_path, "nokey").append("tool_call", {"name": "x"})  # someone without the key
    report = verify(tmp_path, key=KEY)
    assert not report.ok and "without a MAC" in report.first_problem.reason


def test_the_key_must_live_outside_the_log_directory(tmp_path: Path) -> None:
    inside = create_key(tmp_path / "audit" / "audit.key")
    with pytest.raises(AuditKeyError, match="inside the log directory"):
        load_key(inside, tmp_path / "audit")
    outside = create_key(tmp_path / "config" / "audit.key")
    assert stat.S_IMODE(os.stat(outside).st_mode) == 0o600
    assert len(load_key(outside, tmp_path / "audit") or b"") == 64
    assert load_key(tmp_path / "absent.key", tmp_path / "audit") is None
    with pytest.raises(FileExistsError):
        create_key(outside)


def _cli_verify(state: Path) -> object:
    from tui.cli import app

    return CliRunner().invoke(app, ["log", "verify"], env={"SAGECOACH_STATE_DIR": str(state)})


def test_cli_init_key_then_keyed_sessions_verify(tmp_path: Path, monkeypatch) -> None:
    from tui.cli import app

    state = tmp_path / "state"
    key_file = tmp_path / "keys" / "audit.key"
    monkeypatch.setenv("SAGECOACH_STATE_DIR", str(state))
    monkeypatch.setenv("SAGECOACH_AUDIT_KEY_FILE", str(key_file))
    created = CliRunner().invoke(app, ["log", "init-key"])
    assert created.exit_code == 0 and key_file.is_file()
    key = load_key(key_file, state / "audit")
    write_some(state / "audit", 3, key=key)
    ok = CliRunner().invoke(app, ["log", "verify"])
    assert ok.exit_code == 0 and "MACs valid" in ok.output
    again = CliRunner().invoke(app, ["log", "init-key"])
    assert again.exit_code == 1 and "already exists" in again.output
