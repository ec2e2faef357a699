"""The audit log: append-only JSON Lines, one file per UTC day, every record hash-chained.

Each line is one record::

    {"ts": ..., "session": ..., "seq": ..., "kind": ..., <payload keys>, "prev": "<sha256 hex>"}

`prev` is the SHA-256 of the previous record's line (its UTF-8 bytes, without the newline), so
`verify()` finds the first edited, inserted or removed record. The chain runs across day files,
sessions and processes: every append takes an exclusive `fcntl` lock on the directory's lock
file and reads the last record's hash under it. Payloads are redacted (tools/core/redact.py) before
they are written; each record is flushed and fsynced.

A torn last line (a process killed mid-write) never stops the next append: it is terminated
with a newline, skipped, and the new record chains to the last complete one. `verify` reports
torn lines as warnings and goes on.

A hash chain cannot tell that the newest records were cut off the end of the log; everything
before the last record is covered.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from tools.core.redact import redact

GENESIS = "0" * 64  # `prev` of the very first record in a directory
FILE_PREFIX = "audit-"
FILE_SUFFIX = ".jsonl"
LOCK_NAME = ".audit.lock"
KINDS = (
    "session_start",
    "user_message",
    "model_call",
    "approval",
    "tool_call",
    "aws_call",
    "session_end",
)
RESERVED = ("ts", "session", "seq", "kind", "prev")
_FILE_RE = re.compile(r"^audit-(\d{4}-\d{2}-\d{2})\.jsonl$")
_TAIL_CHUNK = 64 * 1024
# Records are written with "prev" last, so a complete line ends with this shape.
_PREV_SUFFIX = re.compile(rb',"prev":"([0-9a-f]{64})"}$')


def _hash(line: bytes) -> str:
    return hashlib.sha256(line).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def _ts(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def day_file(directory: Path, day: date) -> Path:
    return Path(directory) / f"{FILE_PREFIX}{day.isoformat()}{FILE_SUFFIX}"


def log_files(directory: Path) -> list[Path]:
    """The day files in chronological order."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if _FILE_RE.match(p.name) and p.is_file())


def _file_day(path: Path) -> date | None:
    match = _FILE_RE.match(path.name)
    return date.fromisoformat(match.group(1)) if match else None


def _parse_line(line: bytes) -> dict[str, Any] | None:
    """The record on a line, or None when the line is not a complete JSON object."""
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _last_valid_line(fd: int, size: int) -> tuple[bytes | None, bool]:
    """(the last complete record line, whether the file ends with a newline), reading backwards."""
    if size == 0:
        return None, True
    ends_with_newline = os.pread(fd, 1, size - 1) == b"\n"
    end = size
    carry = b""
    while end > 0:
        start = max(0, end - _TAIL_CHUNK)
        chunk = os.pread(fd, end - start, start) + carry
        lines = chunk.split(b"\n")
        # The first piece may be cut in the middle unless we reached the start of the file.
        carry = lines.pop(0) if start > 0 else b""
        for line in reversed(lines if start > 0 else [*lines]):
            if line.strip() and _parse_line(line) is not None:
                return line, ends_with_newline
        end = start
    return None, ends_with_newline


class AuditLog:
    """Appends hash-chained records for one session; safe across threads and processes."""

    def __init__(self, directory: Path, session_id: str, *, durable: bool = True) -> None:
        """durable=False skips fsync (benchmarks and bulk test data only)."""
        self.directory = Path(directory)
        self.session_id = session_id
        self.durable = durable
        self._seq = 0
        self._thread_lock = threading.Lock()
        self._lock_fd: int | None = None
        self._fd: int | None = None
        self._fd_path: Path | None = None
        # (path, inode, size after our last write, hash of our last line): skips the tail read
        # when nobody else wrote since.
        self._last: tuple[Path, int, int, str] | None = None
        self._pid = os.getpid()

    # --- public API ---------------------------------------------------------------------
    @property
    def seq(self) -> int:
        return self._seq

    def append(self, kind: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        """Write one record (redacted, chained, fsynced) and return it as written."""
        clean = redact(dict(payload or {}))
        with self._thread_lock:
            self._open_lock()
            assert self._lock_fd is not None
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
            try:
                return self._append_locked(kind, clean)
            finally:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def aws_call_sink(self, record: dict[str, Any]) -> None:
        """For `AwsContext(on_aws_call=...)`: one `aws_call` record per AWS API call."""
        self.append("aws_call", record)

    def close(self) -> None:
        with self._thread_lock:
            for attr in ("_fd", "_lock_fd"):
                fd = getattr(self, attr)
                if fd is not None:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
                    setattr(self, attr, None)
            self._fd_path = None
            self._last = None

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- internals ----------------------------------------------------------------------
    def _open_lock(self) -> None:
        if self._pid != os.getpid():
            # A forked child shares the parent's open files, and so its flock: take our own.
            self._lock_fd = self._fd = None
            self._fd_path = None
            self._last = None
            self._pid = os.getpid()
        if self._lock_fd is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._lock_fd = os.open(self.directory / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)

    def _target(self, now: datetime) -> Path:
        """Today's file, unless a later-dated file exists (clock moved back): keep order."""
        today = day_file(self.directory, now.date())
        if self._fd_path == today and today.exists():
            return today
        files = log_files(self.directory)
        if files and files[-1].name > today.name:
            return files[-1]
        return today

    def _open_data(self, path: Path) -> int:
        if self._fd_path != path or self._fd is None:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            created = not path.exists()
            self._fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            self._fd_path = path
            if created:
                _fsync_dir(self.directory)
        return self._fd

    def _previous_hash(self, target: Path, fd: int) -> tuple[str, bool]:
        """(hash of the last complete record, whether a newline must be written first)."""
        st = os.fstat(fd)
        if (
            self._last is not None
            and self._last[0] == target
            and self._last[1] == st.st_ino
            and self._last[2] == st.st_size
        ):
            return self._last[3], False
        line, ends_ok = _last_valid_line(fd, st.st_size)
        needs_newline = st.st_size > 0 and not ends_ok
        if line is not None:
            return _hash(line), needs_newline
        # Nothing complete in this file: the chain continues from the newest earlier file.
        for path in reversed(log_files(self.directory)):
            if path.name >= target.name:
                continue
            with open(path, "rb") as handle:
                prev_line, _ = _last_valid_line(handle.fileno(), os.fstat(handle.fileno()).st_size)
            if prev_line is not None:
                return _hash(prev_line), needs_newline
        return GENESIS, needs_newline

    def _append_locked(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        now = _now()
        target = self._target(now)
        fd = self._open_data(target)
        prev, needs_newline = self._previous_hash(target, fd)
        record: dict[str, Any] = {
            "ts": _ts(now),
            "session": self.session_id,
            "seq": self._seq + 1,
            "kind": kind,
        }
        for key, value in payload.items():
            record[f"payload_{key}" if key in RESERVED else key] = value
        record["prev"] = prev
        line = json.dumps(record, separators=(",", ":"), ensure_ascii=False, default=str).encode(
            "utf-8"
        )
        data = (b"\n" if needs_newline else b"") + line + b"\n"
        written = 0
        while written < len(data):
            written += os.write(fd, data[written:])
        if self.durable:
            os.fsync(fd)
        self._seq += 1
        st = os.fstat(fd)
        self._last = (target, st.st_ino, st.st_size, _hash(line))
        return record


def _fsync_dir(directory: Path) -> None:
    try:
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


# --- verify ---------------------------------------------------------------------------------
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
    warnings: list[Problem] = field(default_factory=list)  # torn lines (incomplete writes)

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


def verify(directory: Path) -> VerifyReport:
    """Check the whole chain; report every break (the first is the first bad record)."""
    report = VerifyReport()
    files = log_files(directory)
    report.files = len(files)
    expected = GENESIS
    before: _Seen | None = None
    before2: _Seen | None = None
    for path in files:
        data = path.read_bytes()
        lines = data.split(b"\n")
        ends_with_newline = data.endswith(b"\n")
        if ends_with_newline:
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
            report.count += 1
            before2, before = before, current
            expected = current.digest
    report.ok = not report.problems
    return report


# --- reading ----------------------------------------------------------------------------------
_SINCE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str, *, now: datetime | None = None) -> datetime:
    """'90m', '2h', '1d', '1w', or an ISO date/time (UTC unless it says otherwise)."""
    now = now or _now()
    match = _SINCE_RE.match(text)
    if match:
        amount = float(match.group(1))
        return now - timedelta(**{_UNITS[match.group(2).lower()]: amount})
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"'{text}' is not a time: use e.g. 30m, 2h, 1d, 1w or an ISO date like 2026-11-24"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def record_time(record: dict[str, Any]) -> datetime | None:
    ts = record.get("ts")
    if not isinstance(ts, str):
        return None
    try:
        return datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return None


def record_tool(record: dict[str, Any]) -> str | None:
    """The tool a record is about: tool_call and approval records, or an aws_call tagged with one."""
    value = record.get("tool")
    if isinstance(value, str):
        return value
    if record.get("kind") in ("tool_call", "approval") and isinstance(record.get("name"), str):
        return record["name"]
    request = record.get("request")
    if isinstance(request, dict) and isinstance(request.get("tool"), str):
        return request["tool"]
    return None


def record_matches(
    record: dict[str, Any],
    *,
    session: str | None = None,
    kinds: set[str] | None = None,
    tool: str | None = None,
    since: datetime | None = None,
) -> bool:
    if session is not None and record.get("session") != session:
        return False
    if kinds is not None and record.get("kind") not in kinds:
        return False
    if tool is not None and record_tool(record) != tool:
        return False
    if since is not None:
        moment = record_time(record)
        if moment is None or moment < since:
            return False
    return True


def follow_records(
    directory: Path,
    *,
    stop: Callable[[], bool],
    poll_s: float = 0.5,
    from_start: bool = False,
) -> Iterator[dict[str, Any]]:
    """Records appended after the call (or all, from_start), as they arrive, until stop()."""
    directory = Path(directory)
    offsets: dict[Path, int] = {}
    if not from_start:
        for path in log_files(directory):
            offsets[path] = path.stat().st_size
    while True:
        for path in log_files(directory):
            start = offsets.get(path, 0)
            try:
                size = path.stat().st_size
                if size <= start:
                    continue
                with open(path, "rb") as handle:
                    handle.seek(start)
                    chunk = handle.read(size - start)
            except OSError:
                continue
            end = chunk.rfind(b"\n")
            if end < 0:
                continue  # only part of a line so far
            offsets[path] = start + end + 1
            for raw in chunk[:end].split(b"\n"):
                rec = _parse_line(raw) if raw.strip() else None
                if rec is not None:
                    yield rec
        if stop():
            return
        time.sleep(poll_s)


def iter_records(directory: Path, *, reverse: bool = False) -> Iterator[dict[str, Any]]:
    """Complete records, oldest first (or newest first); torn lines are skipped."""
    files = log_files(directory)
    if reverse:
        files = files[::-1]
    for path in files:
        try:
            lines = path.read_bytes().split(b"\n")
        except OSError:
            continue
        if reverse:
            lines.reverse()
        for raw in lines:
            if raw.strip():
                rec = _parse_line(raw)
                if rec is not None:
                    yield rec


def last_session(directory: Path) -> str | None:
    for rec in iter_records(directory, reverse=True):
        session = rec.get("session")
        if isinstance(session, str):
            return session
    return None


def read_records(
    directory: Path,
    *,
    session: str | None = None,
    kind: str | None = None,
    tool: str | None = None,
    since: datetime | str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Matching records in chronological order; `limit` keeps the newest N.

    session: an id, or "last" for the session of the newest record.
    """
    directory = Path(directory)
    if session == "last":
        session = last_session(directory)
        if session is None:
            return []
    since_dt = parse_since(since) if isinstance(since, str) else since
    if since_dt is not None and since_dt.tzinfo is None:
        since_dt = since_dt.replace(tzinfo=UTC)
    kinds = {k.strip() for k in kind.split(",")} if kind else None
    out: list[dict[str, Any]] = []
    for path in reversed(log_files(directory)):
        day = _file_day(path)
        if since_dt is not None and day is not None and day < since_dt.astimezone(UTC).date():
            # Files are per UTC day: everything in older files is older than `since`.
            # (A clock moved back can put later records in older files; that is rare and harmless.)
            break
        try:
            lines = path.read_bytes().split(b"\n")
        except OSError:
            continue
        for raw in reversed(lines):
            if not raw.strip():
                continue
            rec = _parse_line(raw)
            if rec is None:
                continue
            if not record_matches(rec, session=session, kinds=kinds, tool=tool, since=since_dt):
                continue
            out.append(rec)
            if limit is not None and len(out) >= limit:
                out.reverse()
                return out
    out.reverse()
    return out
