"""The audit log: hash chain, tamper detection, redaction, torn lines, concurrent writers."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent import audit
from agent.audit import GENESIS, AuditLog, parse_since, read_records, verify
from tools.aws.context import AwsContext


def lines_of(path: Path) -> list[str]:
    return path.read_text().splitlines()


def only_file(directory: Path) -> Path:
    files = audit.log_files(directory)
    assert len(files) == 1
    return files[0]


def write_some(directory: Path, n: int = 5, session: str = "s1") -> AuditLog:
    log = AuditLog(directory, session)
    log.append("session_start", {"model": "offline", "mode": "ask"})
    for i in range(n - 2):
        log.append("tool_call", {"name": "s3_list_buckets", "status": "success", "i": i})
    log.append("session_end", {"reason": "quit"})
    return log


def test_records_have_the_documented_shape_and_chain(tmp_path: Path) -> None:
    log = AuditLog(tmp_path, "sess-1")
    first = log.append("session_start", {"model": "offline"})
    second = log.append("user_message", {"text": "list my buckets"})
    log.close()

    path = only_file(tmp_path)
    assert path.name == f"audit-{datetime.now(UTC).date().isoformat()}.jsonl"
    raw = lines_of(path)
    assert len(raw) == 2
    rec1, rec2 = (json.loads(x) for x in raw)
    assert list(rec1) == ["ts", "session", "seq", "kind", "model", "prev"]
    assert rec1 == first and rec2 == second
    assert (rec1["session"], rec1["seq"], rec1["kind"]) == ("sess-1", 1, "session_start")
    assert rec1["prev"] == GENESIS
    assert rec2["seq"] == 2
    assert rec2["prev"] == hashlib.sha256(raw[0].encode()).hexdigest()
    assert rec1["ts"].endswith("Z")
    report = verify(tmp_path)
    assert report.ok and report.count == 2 and not report.problems and not report.warnings


def test_reserved_payload_keys_cannot_break_the_record(tmp_path: Path) -> None:
    log = AuditLog(tmp_path, "s")
    rec = log.append("tool_call", {"prev": "forged", "seq": 99, "name": "x"})
    assert rec["seq"] == 1 and rec["prev"] == GENESIS
    assert rec["payload_prev"] == "forged" and rec["payload_seq"] == 99
    assert verify(tmp_path).ok


def test_chain_continues_across_sessions_and_day_files(tmp_path: Path, monkeypatch) -> None:
    day1 = datetime(2026, 11, 23, 23, 59, 59, tzinfo=UTC)
    monkeypatch.setattr(audit, "_now", lambda: day1)
    a = AuditLog(tmp_path, "a")
    a.append("session_start", {})
    a.append("session_end", {})
    monkeypatch.setattr(audit, "_now", lambda: day1 + timedelta(seconds=2))
    b = AuditLog(tmp_path, "b")
    b_first = b.append("session_start", {})
    a.append("user_message", {"text": "late"})
    files = audit.log_files(tmp_path)
    assert [f.name for f in files] == ["audit-2026-11-23.jsonl", "audit-2026-11-24.jsonl"]
    last_of_day1 = lines_of(files[0])[-1]
    assert b_first["prev"] == hashlib.sha256(last_of_day1.encode()).hexdigest()
    report = verify(tmp_path)
    assert report.ok and report.count == 4 and report.files == 2


def test_clock_moving_back_keeps_writing_to_the_newest_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(audit, "_now", lambda: datetime(2026, 11, 24, 1, tzinfo=UTC))
    AuditLog(tmp_path, "a").append("session_start", {})
    monkeypatch.setattr(audit, "_now", lambda: datetime(2026, 11, 23, 23, tzinfo=UTC))
    AuditLog(tmp_path, "b").append("session_start", {})
    assert [f.name for f in audit.log_files(tmp_path)] == ["audit-2026-11-24.jsonl"]
    assert verify(tmp_path).ok


def test_edit_is_detected_at_the_edited_record(tmp_path: Path) -> None:
    write_some(tmp_path, 6).close()
    path = only_file(tmp_path)
    raw = lines_of(path)
    edited = json.loads(raw[2])
    edited["status"] = "error"
    raw[2] = json.dumps(edited, separators=(",", ":"))
    path.write_text("\n".join(raw) + "\n")
    report = verify(tmp_path)
    assert not report.ok
    first = report.first_problem
    assert (first.file, first.line) == (path.name, 3)
    assert "edited" in first.reason
    assert len(report.problems) == 1  # the rest of the chain still checks out


def test_delete_is_detected(tmp_path: Path) -> None:
    write_some(tmp_path, 6).close()
    path = only_file(tmp_path)
    raw = lines_of(path)
    del raw[3]
    path.write_text("\n".join(raw) + "\n")
    report = verify(tmp_path)
    assert not report.ok
    first = report.first_problem
    assert first.line == 4  # the record that now follows the gap
    assert "removed" in first.reason and "seq 3 to 5" in first.reason


def test_insert_is_detected_at_the_inserted_line(tmp_path: Path) -> None:
    write_some(tmp_path, 6).close()
    path = only_file(tmp_path)
    raw = lines_of(path)
    forged = json.loads(raw[2])
    forged["name"] = "sagemaker_delete_endpoint"
    forged["prev"] = hashlib.sha256(raw[2].encode()).hexdigest()  # a careful forger
    raw.insert(3, json.dumps(forged, separators=(",", ":")))
    path.write_text("\n".join(raw) + "\n")
    report = verify(tmp_path)
    assert not report.ok
    first = report.first_problem
    assert first.line == 4 and "inserted" in first.reason


def test_removing_the_oldest_file_is_detected(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(audit, "_now", lambda: datetime(2026, 11, 23, 12, tzinfo=UTC))
    write_some(tmp_path, 3).close()
    monkeypatch.setattr(audit, "_now", lambda: datetime(2026, 11, 24, 12, tzinfo=UTC))
    write_some(tmp_path, 3, session="s2").close()
    audit.log_files(tmp_path)[0].unlink()
    report = verify(tmp_path)
    assert not report.ok
    assert report.first_problem.line == 1
    assert "removed" in report.first_problem.reason


def test_planted_secrets_are_redacted_before_writing(tmp_path: Path) -> None:
    secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    token = "FwoGZXIvYXdzEJr//////////wEaDKexampleSessionToken1234"
    log = AuditLog(tmp_path, "s")
    log.append(
        "aws_call",
        {
            "service": "sts",
            "params": {
                "Credentials": {
                    "AccessKeyId": "ASIAIOSFODNN7EXAMPLE",
                    "SecretAccessKey": secret_key,
                    "SessionToken": token,
                },
                "MasterUserPassword": "hunter2-db",
            },
        },
    )
    log.append(
        "user_message",
        {
            "text": f"use key AKIAIOSFODNN7EXAMPLE with {secret_key}, password=hunter2-text",
            "url": "https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261124"
            "&X-Amz-Signature=0123456789abcdef0123456789abcdef&X-Amz-Security-Token=" + token,
        },
    )
    log.append(
        "tool_call",
        {"name": "x", "args": {"api_key": "k-123", "client_secret": "cs-456", "max_tokens": 5}},
    )
    text = only_file(tmp_path).read_text()
    for planted in (
        secret_key,
        token,
        "IOSFODNN7EXAMPLE",
        "hunter2-db",
        "hunter2-text",
        "0123456789abcdef0123456789abcdef",
        "k-123",
        "cs-456",
    ):
        assert planted not in text, planted
    recs = [json.loads(x) for x in text.splitlines()]
    assert recs[2]["args"]["max_tokens"] == 5  # counts are not secrets
    assert recs[0]["service"] == "sts"
    assert verify(tmp_path).ok


def test_torn_last_line_is_reported_and_the_next_append_recovers(tmp_path: Path) -> None:
    write_some(tmp_path, 4).close()
    path = only_file(tmp_path)
    good_last = lines_of(path)[-1]
    with path.open("ab") as handle:  # a process killed in the middle of a write
        handle.write(b'{"ts":"2026-11-24T10:00:00.000Z","session":"dead","seq":7,"ki')
    report = verify(tmp_path)
    assert report.ok and report.count == 4
    assert len(report.warnings) == 1
    assert report.warnings[0].line == 5 and "torn last line" in report.warnings[0].reason

    rec = AuditLog(tmp_path, "next").append("session_start", {})
    assert rec["prev"] == hashlib.sha256(good_last.encode()).hexdigest()
    raw = lines_of(path)
    assert raw[4].endswith('"ki') and json.loads(raw[5]) == rec  # on its own line
    report = verify(tmp_path)
    assert report.ok and report.count == 5
    assert [w.line for w in report.warnings] == [5]
    assert "torn line" in report.warnings[0].reason
    assert [r["session"] for r in read_records(tmp_path)][-1] == "next"


def test_complete_last_line_without_newline_is_kept(tmp_path: Path) -> None:
    write_some(tmp_path, 3).close()
    path = only_file(tmp_path)
    path.write_bytes(path.read_bytes().rstrip(b"\n"))  # the newline was lost, the record is whole
    last = lines_of(path)[-1]
    rec = AuditLog(tmp_path, "n").append("session_start", {})
    assert rec["prev"] == hashlib.sha256(last.encode()).hexdigest()
    report = verify(tmp_path)
    assert report.ok and report.count == 4 and not report.warnings


def test_an_only_torn_file_chains_to_the_previous_day(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(audit, "_now", lambda: datetime(2026, 11, 23, 12, tzinfo=UTC))
    write_some(tmp_path, 3).close()
    old_last = lines_of(audit.log_files(tmp_path)[0])[-1]
    (tmp_path / "audit-2026-11-24.jsonl").write_bytes(b'{"ts":"2026-11-24T0')
    monkeypatch.setattr(audit, "_now", lambda: datetime(2026, 11, 24, 12, tzinfo=UTC))
    rec = AuditLog(tmp_path, "n").append("session_start", {})
    assert rec["prev"] == hashlib.sha256(old_last.encode()).hexdigest()
    report = verify(tmp_path)
    assert report.ok and report.count == 4 and len(report.warnings) == 1


def test_two_instances_and_threads_keep_one_chain(tmp_path: Path) -> None:
    logs = [AuditLog(tmp_path, "a"), AuditLog(tmp_path, "b")]

    def worker(log: AuditLog, n: int) -> None:
        for i in range(n):
            log.append("aws_call", {"operation": "ListBuckets", "i": i})

    threads = [threading.Thread(target=worker, args=(logs[i % 2], 40)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report = verify(tmp_path)
    assert report.ok, report.problems[:3]
    assert report.count == 160
    seqs = sorted(r["seq"] for r in read_records(tmp_path, session="a"))
    assert seqs == list(range(1, 81))  # seq is per session, no gaps, no duplicates


def _child(directory: str, session: str, n: int) -> None:
    log = AuditLog(Path(directory), session)
    for i in range(n):
        log.append("tool_call", {"name": "t", "i": i})
    log.close()


def test_two_processes_keep_one_chain(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_child, args=(str(tmp_path), f"p{i}", 60)) for i in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    report = verify(tmp_path)
    assert report.ok and report.count == 120


def _append_from_shared(log: AuditLog, n: int) -> None:
    for i in range(n):
        log.append("tool_call", {"name": "t", "i": i})


def test_an_instance_shared_across_fork_keeps_one_chain(tmp_path: Path) -> None:
    log = AuditLog(tmp_path, "shared")
    log.append("session_start", {})  # opens the files before the fork
    ctx = multiprocessing.get_context("fork")
    child = ctx.Process(target=_append_from_shared, args=(log, 80))
    child.start()
    _append_from_shared(log, 80)
    child.join(30)
    assert child.exitcode == 0
    report = verify(tmp_path)
    assert report.ok, report.problems[:3]
    assert report.count == 161


def test_aws_call_sink_records_calls_from_the_guarded_context(tmp_path: Path, sandbox) -> None:
    log = AuditLog(tmp_path, "sess")
    aws = AwsContext(
        sandbox_endpoint=sandbox.endpoint, session_id="sess", on_aws_call=log.aws_call_sink
    )
    aws.client("s3").create_bucket(Bucket="audited-bucket")
    aws.client("s3").list_buckets()
    recs = read_records(tmp_path, kind="aws_call")
    assert [(r["service"], r["operation"]) for r in recs] == [
        ("s3", "CreateBucket"),
        ("s3", "ListBuckets"),
    ]
    assert recs[0]["params"] == {"Bucket": "audited-bucket"}
    assert recs[0]["status"] == 200 and recs[0]["sandbox"] is True
    assert verify(tmp_path).ok
    sandbox.reset()  # moto's state is process-wide: leave nothing for tests that expect it empty


def test_read_records_filters(tmp_path: Path, monkeypatch) -> None:
    t0 = datetime(2026, 11, 24, 8, tzinfo=UTC)
    clock = {"now": t0}
    monkeypatch.setattr(audit, "_now", lambda: clock["now"])
    a = AuditLog(tmp_path, "a")
    a.append("session_start", {})
    a.append("tool_call", {"name": "s3_create_bucket", "status": "success"})
    a.append("approval", {"tool": "s3_create_bucket", "decision": "approve", "who": "user"})
    clock["now"] = t0 + timedelta(hours=3)
    b = AuditLog(tmp_path, "b")
    b.append("session_start", {})
    b.append("tool_call", {"name": "athena_run_query", "status": "error"})
    b.append("aws_call", {"service": "athena", "operation": "StartQueryExecution"})

    assert len(read_records(tmp_path)) == 6
    assert [r["seq"] for r in read_records(tmp_path, session="a")] == [1, 2, 3]
    assert {r["session"] for r in read_records(tmp_path, session="last")} == {"b"}
    assert [r["kind"] for r in read_records(tmp_path, tool="s3_create_bucket")] == [
        "tool_call",
        "approval",
    ]
    assert [r["kind"] for r in read_records(tmp_path, kind="tool_call,aws_call")] == [
        "tool_call",
        "tool_call",
        "aws_call",
    ]
    since = read_records(tmp_path, since=t0 + timedelta(hours=1))
    assert {r["session"] for r in since} == {"b"}
    assert [r["kind"] for r in read_records(tmp_path, limit=2)] == ["tool_call", "aws_call"]
    assert read_records(tmp_path / "nothing-here") == []
    assert read_records(tmp_path / "nothing-here", session="last") == []


def test_parse_since() -> None:
    now = datetime(2026, 11, 24, 12, tzinfo=UTC)
    assert parse_since("2h", now=now) == now - timedelta(hours=2)
    assert parse_since("1d", now=now) == now - timedelta(days=1)
    assert parse_since("30m", now=now) == now - timedelta(minutes=30)
    assert parse_since("2026-11-20") == datetime(2026, 11, 20, tzinfo=UTC)
    assert parse_since("2026-11-20T10:00:00Z") == datetime(2026, 11, 20, 10, tzinfo=UTC)
    with pytest.raises(ValueError, match="not a time"):
        parse_since("yesterday-ish")


def test_log_files_are_private(tmp_path: Path) -> None:
    AuditLog(tmp_path, "s").append("session_start", {})
    assert only_file(tmp_path).stat().st_mode & 0o077 == 0
