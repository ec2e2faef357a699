"""`sagecoach log verify`: check the hash chain, the head record and (with the key) the MACs.

What each check finds:
- the SHA-256 chain (`prev`): an edited, inserted or removed record anywhere before the end;
- the head (count and last hash): records cut off the end, deleted day files, a deleted head,
  and lines appended by anything but sagecoach;
- the keyed chain (HMAC, needs the key): all of the above even when the person tampering
  recomputed the SHA-256 chain and rewrote the head.
A torn last line (a process killed mid-write) and an interrupted head update are warnings.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.audit_files import _PREV_SUFFIX, _hash, _parse_line, log_files
from agent.audit_head import GENESIS, HEAD_NAME, Head, mac_of, read_head

_MAC_BEFORE_PREV = re.compile(rb',"mac":"([0-9a-f]{64})"(?=,"prev":"[0-9a-f]{64}"}$)')


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass
class VerifyReport:
    ok: bool = True
    count: int = 0  # complete records checked
    files: int = 0
    problems: list[Problem] = field(default_factory=list)  # edits, insertions, removals
    warnings: list[Problem] = field(default_factory=list)  # torn lines, interrupted writes
    head: dict[str, Any] = field(default_factory=dict)
    keyed: bool = False  # MACs were checked with the key

    @property
    def first_problem(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "count": self.count,
            "files": self.files,
            "problems": [p.__dict__ for p in self.problems],
            "warnings": [p.__dict__ for p in self.warnings],
            "head": self.head,
            "keyed": self.keyed,
        }


@dataclass
class _Seen:
    file: str
    line: int
    raw: bytes
    digest: str


def _seq_session(raw: bytes) -> tuple[str | None, int | None]:
    rec = _parse_line(raw) or {}
    seq = rec.get("seq")
    return rec.get("session"), seq if isinstance(seq, int) else None


def _diagnose(before2: _Seen | None, before: _Seen, current: _Seen, got: str) -> Problem:
    """Name the likeliest cause of a chain break between `before` and `current`."""
    if before2 is not None and got == before2.digest:
        return Problem(before.file, before.line, "record inserted (the next record skips it)")
    prev_session, prev_seq = _seq_session(before.raw)
    session, seq = _seq_session(current.raw)
    if prev_session == session and prev_seq is not None and seq is not None:
        if seq == prev_seq + 1:
            return Problem(before.file, before.line, "record edited (its hash no longer matches)")
        if seq > prev_seq + 1:
            return Problem(
                current.file,
                current.line,
                f"{seq - prev_seq - 1} record(s) removed before this one "
                f"(session {session} jumps from seq {prev_seq} to {seq})",
            )
    return Problem(
        before.file,
        before.line,
        "chain broken after this record: it was edited, or records after it were removed",
    )


class _MacCheck:
    """Per-record MAC checks; once records carry MACs, every later one must."""

    def __init__(self, key: bytes | None, report: VerifyReport) -> None:
        self.key = key
        self.report = report
        self.started = False
        self.warned = False

    def check(self, path: Path, lineno: int, raw: bytes) -> None:
        tail = max(0, len(raw) - 160)
        match = _MAC_BEFORE_PREV.search(raw, tail) if raw.find(b',"mac":"', tail) >= 0 else None
        if match is None:
            if self.started:
                self.report.problems.append(
                    Problem(path.name, lineno, "record without a MAC after keyed records began")
                )
            return
        self.started = True
        if self.key is None:
            if not self.warned:
                self.report.warnings.append(
                    Problem(
                        path.name,
                        lineno,
                        "records carry MACs but no key was given: only the hash chain was checked",
                    )
                )
                self.warned = True
            return
        unkeyed = raw[: match.start()] + raw[match.end() :]
        if not hmac.compare_digest(mac_of(self.key, unkeyed), match.group(1).decode()):
            self.report.problems.append(
                Problem(path.name, lineno, "MAC mismatch: record forged or altered (needs the key)")
            )


def verify(directory: Path, key: bytes | None = None) -> VerifyReport:
    """Check the whole chain and the head; report every break (the first is the first bad
    record). With `key`, check every record's MAC and the head's."""
    report = VerifyReport(keyed=key is not None)
    files = log_files(directory)
    report.files = len(files)
    expected = GENESIS
    before: _Seen | None = None
    before2: _Seen | None = None
    macs = _MacCheck(key, report)
    for path in files:
        data = path.read_bytes()
        lines = data.split(b"\n")
        if data.endswith(b"\n"):
            lines.pop()  # the empty piece after the final newline
        last_index = len(lines) - 1
        for index, raw in enumerate(lines):
            lineno = index + 1
            if not raw.strip():
                continue
            match = _PREV_SUFFIX.search(raw, max(0, len(raw) - 80))
            if match is None:
                # Not a complete record: a torn write (or garbage a person typed in).
                if _parse_line(raw) is None:
                    where = "last line" if index == last_index else "line"
                    report.warnings.append(
                        Problem(
                            path.name,
                            lineno,
                            f"torn {where}: incomplete record (a write was interrupted); skipped",
                        )
                    )
                else:
                    report.problems.append(
                        Problem(path.name, lineno, "not an audit record (no prev hash)")
                    )
                continue
            got = match.group(1).decode("ascii")
            current = _Seen(path.name, lineno, raw, _hash(raw))
            if got != expected:
                if before is None:
                    report.problems.append(
                        Problem(
                            path.name,
                            lineno,
                            "the first record does not start the chain: earlier records or "
                            "files were removed",
                        )
                    )
                else:
                    report.problems.append(_diagnose(before2, before, current, got))
            macs.check(path, lineno, raw)
            if raw.find(b'"kind":"audit_head_created"', 0, 200) >= 0:
                report.warnings.append(
                    Problem(
                        path.name,
                        lineno,
                        "the head record was (re)created here over records already written: a "
                        "cut before this point cannot be ruled out",
                    )
                )
            report.count += 1
            before2, before = before, current
            expected = current.digest
    _check_head(Path(directory), report, expected, key)
    report.ok = not report.problems
    return report


def _check_head(directory: Path, report: VerifyReport, last: str, key: bytes | None) -> None:
    """Compare what the log holds (count, last hash) with what the head says it should."""
    head = read_head(directory)
    count = report.count
    if head is None:
        if report.files:
            report.problems.append(
                Problem(
                    HEAD_NAME,
                    0,
                    "the head record is missing (deleted?): a cut tail or removed files cannot "
                    "be ruled out",
                )
            )
        return
    report.head = {"count": head.count, "last": head.last, "keyed": head.keyed}
    if head.count < 0:
        report.problems.append(Problem(HEAD_NAME, 0, "the head record is damaged (unreadable)"))
        return
    if head.keyed and key is not None:
        if not hmac.compare_digest(mac_of(key, head.signed_part()), head.mac):
            report.problems.append(
                Problem(HEAD_NAME, 0, "the head's MAC does not match: it was rewritten")
            )
    elif head.keyed:
        report.warnings.append(Problem(HEAD_NAME, 0, "the head is keyed but no key was given"))
    if count == head.count and last == head.last:
        if head.pending:
            report.warnings.append(
                Problem(HEAD_NAME, 0, "the last write was interrupted before its record")
            )
        return
    if head.pending and last == head.pending and count == head.count + 1:
        report.warnings.append(
            Problem(HEAD_NAME, 0, "the last record was written but the head not yet updated")
        )
        return
    if count == 0:
        reason = f"the head says {head.count} records but no log file is left: files deleted"
    elif count < head.count:
        reason = (
            f"{head.count - count} record(s) missing: the head says {head.count}, the log has "
            f"{count} (the tail was cut or files deleted)"
        )
    elif count > head.count:
        reason = (
            f"{count - head.count} record(s) beyond the head: appended by something other than "
            "sagecoach"
        )
    else:
        reason = "the last record is not the one the head recorded (replaced)"
    report.problems.append(Problem(HEAD_NAME, 0, reason))


__all__ = ["Head", "Problem", "VerifyReport", "verify"]
