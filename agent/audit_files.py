"""The audit log's files: day-file names, listing, and reading lines back (shared by the
writer, `verify` and the readers)."""

from __future__ import annotations

import hashlib
import json
import os
import re
from datetime import date
from pathlib import Path
from typing import Any

from agent.audit_head import GENESIS

__all__ = ["GENESIS", "day_file", "log_files"]

FILE_PREFIX = "audit-"
FILE_SUFFIX = ".jsonl"
_FILE_RE = re.compile(r"^audit-(\d{4}-\d{2}-\d{2})\.jsonl$")
_TAIL_CHUNK = 64 * 1024
# Records are written with "prev" last, so a complete line ends with this shape.
_PREV_SUFFIX = re.compile(rb',"prev":"([0-9a-f]{64})"}$')


def _hash(line: bytes) -> str:
    return hashlib.sha256(line).hexdigest()


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
