"""The audit log: append-only JSON Lines, one file per UTC day, every record hash-chained.

Each line is one record::

    {"ts": ..., "session": ..., "seq": ..., "kind": ..., <payload keys>, ["mac": ...,] "prev": "<sha256 hex>"}

`prev` is the SHA-256 of the previous record's line (its UTF-8 bytes, without the newline), so
`verify()` finds the first edited, inserted or removed record. The chain runs across day files,
sessions and processes: every append takes an exclusive `fcntl` lock on the directory's lock
file and reads the last record's hash under it. Payloads are redacted (tools/core/redact.py) before
they are written; each record is flushed and fsynced.

The head record (agent/audit_head.py) counts the records and keeps the last hash, so a cut
tail, deleted files or a line appended by another program are found too; with a key file the
records and the head also carry HMACs (the keyed chain), so tampering needs the key.

A torn last line (a process killed mid-write) never stops the next append: it is terminated
with a newline, skipped, and the new record chains to the last complete one. `verify` reports
torn lines as warnings and goes on.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.audit_files import (
    _PREV_SUFFIX,
    FILE_PREFIX,
    FILE_SUFFIX,
    _hash,
    _last_valid_line,
    day_file,
    log_files,
)
from agent.audit_head import GENESIS, Head, HeadWriter, read_head, with_mac
from agent.audit_read import (
    follow_records,
    iter_records,
    last_session,
    parse_since,
    read_records,
    record_matches,
    record_time,
    record_tool,
)
from agent.audit_verify import Problem, VerifyReport, verify
from tools.core.private_files import private_dir
from tools.core.redact import redact

__all__ = [
    "FILE_PREFIX",
    "FILE_SUFFIX",
    "GENESIS",
    "AuditLog",
    "Problem",
    "VerifyReport",
    "day_file",
    "follow_records",
    "iter_records",
    "last_session",
    "log_files",
    "parse_since",
    "read_records",
    "record_matches",
    "record_time",
    "record_tool",
    "verify",
]

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
RESERVED = ("ts", "session", "seq", "kind", "prev", "mac")
HEAD_CREATED = "audit_head_created"  # written when a head starts over records already there


def _now() -> datetime:
    return datetime.now(UTC)


def _ts(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class AuditLog:
    """Appends hash-chained records for one session; safe across threads and processes."""

    def __init__(
        self,
        directory: Path,
        session_id: str,
        *,
        durable: bool = True,
        key: bytes | None = None,
    ) -> None:
        """durable=False skips fsync (benchmarks and bulk test data only); `key` turns on the
        keyed chain (agent/audit_head.load_key reads it from outside the log directory)."""
        self.directory = Path(directory)
        self.session_id = session_id
        self.durable = durable
        self.key = key
        self._head = HeadWriter(self.directory, durable)
        self._last_record: dict[str, Any] = {}
        self._head_cache: Head | None = None  # the head as we last wrote it
        self._tail_unchanged = False  # set by _previous_hash: the log ends with our last write
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
            self._head.close()
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
            self._head_cache = None

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
            self._head = HeadWriter(self.directory, self.durable)
            self._head_cache = None
            self._pid = os.getpid()
        if self._lock_fd is None:
            private_dir(self.directory)
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
            self._tail_unchanged = True
            return self._last[3], False
        self._tail_unchanged = False
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

    def _current_head(self, prev: str) -> tuple[Head, bool]:
        """The head to build on, and whether it starts now over records already written.

        An interrupted append is settled here: a record written before the head caught up
        (its hash is the head's `pending`) is counted. A log that no longer ends where the
        head says (cut, edited) is not "healed": the count goes on from the head, so
        `verify` keeps reporting the difference."""
        cached = self._head_cache
        if cached is not None and self._tail_unchanged and cached.last == prev:
            # Nobody appended since our last write: the head on disk is the one we wrote.
            return Head(
                cached.count, cached.last, None, cached.keyed or self.key is not None
            ), False
        head = read_head(self.directory)
        if head is None or head.count < 0:
            count = _count_records(self.directory)
            return Head(count=count, last=prev, keyed=self.key is not None), count > 0
        if head.pending and prev == head.pending:
            head.count += 1
            head.last = prev
        head.pending = None
        head.keyed = head.keyed or self.key is not None
        return head, False

    def _append_locked(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        now = _now()
        target = self._target(now)
        fd = self._open_data(target)
        prev, needs_newline = self._previous_hash(target, fd)
        head, started_over = self._current_head(prev)
        if started_over:
            note = {"records_before": head.count, "reason": "no head record was found"}
            prev, head = self._write(fd, target, HEAD_CREATED, note, prev, head, needs_newline)
            needs_newline = False
        self._write(fd, target, kind, payload, prev, head, needs_newline)
        return self._last_record

    def _write(
        self,
        fd: int,
        target: Path,
        kind: str,
        payload: dict[str, Any],
        prev: str,
        head: Head,
        needs_newline: bool,
    ) -> tuple[str, Head]:
        """Write one record with the two head updates around it; returns (its hash, head)."""
        record: dict[str, Any] = {
            "ts": _ts(_now()),
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
        if self.key:
            line = with_mac(line, self.key)
        digest = _hash(line)
        head.pending = digest
        self._head.write(head, self.key, sync=False)  # announce: a kill from here is explained
        data = (b"\n" if needs_newline else b"") + line + b"\n"
        written = 0
        while written < len(data):
            written += os.write(fd, data[written:])
        if self.durable:
            os.fsync(fd)
        head.count += 1
        head.last = digest
        head.pending = None
        self._head.write(head, self.key, sync=True)
        self._head_cache = Head(head.count, head.last, None, head.keyed)
        self._seq += 1
        st = os.fstat(fd)
        self._last = (target, st.st_ino, st.st_size, digest)
        self._last_record = json.loads(line)
        return digest, head


def _count_records(directory: Path) -> int:
    """Complete records in the log (to start a head over an older log)."""
    count = 0
    for path in log_files(directory):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        count += sum(
            1 for raw in data.split(b"\n") if _PREV_SUFFIX.search(raw, max(0, len(raw) - 80))
        )
    return count


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
