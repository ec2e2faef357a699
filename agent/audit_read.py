"""Reading the audit log back: filters (session, kind, tool, since) and following new records."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from agent.audit_files import _file_day, _parse_line, log_files

_SINCE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str, *, now: datetime | None = None) -> datetime:
    """'90m', '2h', '1d', '1w', or an ISO date/time (UTC unless it says otherwise)."""
    now = now or datetime.now(UTC)
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
