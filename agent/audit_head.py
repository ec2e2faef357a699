"""The audit log's head record and its optional keyed (HMAC) chain.

A hash chain alone cannot tell that records were cut off the end, or that every file was
deleted: what is left still chains. The head (`audit-head.json`, beside the day files) holds
the number of records and the hash of the last one. It is written in two steps around each
append, under the log's lock: first `pending` (the hash of the line about to be written),
then, once the line is on disk, the new count and last hash. So a process killed between the
steps leaves a state `verify` recognises as an interrupted write, while a cut tail, a deleted
file or a line appended by anything but sagecoach leaves counts and hashes that disagree.
Each write is one 512-byte `pwrite` at offset 0 (a single disk sector).

Anyone who can write the log directory can also rewrite the head and recompute the SHA-256
chain. The keyed chain closes that: with a key file (kept outside the log directory, e.g.
`~/.config/sagecoach/audit.key`), every record carries `mac` = HMAC-SHA256(key, the record's
line without the mac) and the head carries a MAC too, so forging, editing or cutting records
without detection needs the key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

GENESIS = "0" * 64  # `prev` of the very first record in a directory
HEAD_NAME = "audit-head.json"
HEAD_SIZE = 512
KEY_NAME = "audit.key"


class AuditKeyError(ValueError):
    """A key file that cannot be used (inside the log directory, unreadable, too short)."""


@dataclass
class Head:
    count: int = 0  # complete records in the log
    last: str = GENESIS  # sha256 of the last record's line
    pending: str | None = None  # sha256 of the line being written right now
    keyed: bool = False  # records carry MACs from some point on
    mac: str = ""

    def signed_part(self) -> bytes:
        return f"{self.count}|{self.last}|{self.pending or ''}|{int(self.keyed)}".encode()

    def to_bytes(self, key: bytes | None) -> bytes:
        self.mac = mac_of(key, self.signed_part()) if key else ""
        data = json.dumps(asdict(self), separators=(",", ":")).encode()
        if len(data) >= HEAD_SIZE:  # pragma: no cover - fixed-size fields
            raise ValueError("audit head too large")
        return data.ljust(HEAD_SIZE - 1) + b"\n"


def head_path(directory: Path | str) -> Path:
    return Path(directory) / HEAD_NAME


def read_head(directory: Path | str) -> Head | None:
    """The head, None when there is none; an unreadable head reads as count -1 (damaged)."""
    try:
        raw = head_path(directory).read_bytes()
    except FileNotFoundError:
        return None
    except OSError:
        return Head(count=-1)
    try:
        data = json.loads(raw)
        return Head(
            count=int(data["count"]),
            last=str(data["last"]),
            pending=data.get("pending") or None,
            keyed=bool(data.get("keyed")),
            mac=str(data.get("mac") or ""),
        )
    except (ValueError, KeyError, TypeError):
        return Head(count=-1)


class HeadWriter:
    """Keeps the head file open and rewrites it in place (one sector, one write)."""

    def __init__(self, directory: Path, durable: bool) -> None:
        self.path = head_path(directory)
        self.durable = durable
        self._fd: int | None = None

    def write(self, head: Head, key: bytes | None, *, sync: bool) -> None:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        os.pwrite(self._fd, head.to_bytes(key), 0)
        if sync and self.durable:
            os.fdatasync(self._fd)  # same size every time: no metadata to flush

    def close(self) -> None:
        if self._fd is not None:
            try:
                os.close(self._fd)
            except OSError:
                pass
            self._fd = None


# --- keyed chain ------------------------------------------------------------------------------
def mac_of(key: bytes | None, data: bytes) -> str:
    if not key:
        return ""
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def with_mac(line: bytes, key: bytes) -> bytes:
    """Insert `"mac":"…"` before the trailing `"prev":"…"}` of a record line."""
    cut = line.rindex(b',"prev":"')
    mac = mac_of(key, line)
    return line[:cut] + f',"mac":"{mac}"'.encode() + line[cut:]


def default_key_file() -> Path:
    """SAGECOACH_AUDIT_KEY_FILE, else `audit.key` in the config directory (not the state dir)."""
    override = os.environ.get("SAGECOACH_AUDIT_KEY_FILE")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("sagecoach")) / KEY_NAME


def _inside(path: Path, directory: Path) -> bool:
    try:
        path.resolve().relative_to(directory.resolve())
        return True
    except ValueError:
        return False


def load_key(path: Path | str | None, log_dir: Path | str) -> bytes | None:
    """The key's bytes, or None when there is no key file. A key inside the log directory is
    refused: whoever can rewrite the log could then read it."""
    if path is None:
        return None
    path = Path(path).expanduser()
    if not path.is_file():
        return None
    if _inside(path, Path(log_dir)):
        raise AuditKeyError(
            f"the audit key {path} is inside the log directory {log_dir}; keep it elsewhere "
            "(for example ~/.config/sagecoach/audit.key)"
        )
    try:
        key = path.read_bytes().strip()
    except OSError as exc:
        raise AuditKeyError(f"cannot read the audit key {path}: {exc}") from None
    if len(key) < 32:
        raise AuditKeyError(f"the audit key {path} is too short (32 bytes or more)")
    return key


def create_key(path: Path | str) -> Path:
    """Write a new random key (0600, in a 0700 directory); refuses to overwrite one."""
    from tools.core.private_files import private_dir

    path = Path(path).expanduser()
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return path


def describe(head: Head | None) -> dict[str, Any]:
    return asdict(head) if head is not None else {}
