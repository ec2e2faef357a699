"""One writer per conversation: an exclusive `flock` per conversation id, held by the session
that has it open.

Two processes continuing one conversation would each start from the same checkpoint and the
later turn would silently drop the earlier one. With the lock, a second process waits (the
headless `sagecoach ask` for a while, the app briefly) and then says who holds it. The lock
lives in the kernel: a process killed with -9 releases it, so there are no stale locks; the
file only carries who held it last (pid, command, since when) for the message.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

from tools.core.private_files import private_dir

LOCK_DIR = "locks"
POLL_S = 0.05


class ConversationBusy(RuntimeError):
    """Another sagecoach process is writing to this conversation."""

    def __init__(self, conversation_id: str, holder: dict[str, Any], waited_s: float) -> None:
        self.conversation_id = conversation_id
        self.holder = holder
        who = (
            f"sagecoach pid {holder.get('pid')} ({holder.get('command', '?')}) on "
            f"{holder.get('host', '?')} since {holder.get('since', '?')}"
            if holder
            else "another sagecoach process"
        )
        super().__init__(
            f"conversation {conversation_id} is open in {who}; waited {waited_s:.0f} s. "
            "Close it there, wait for its turn to end, or start a new conversation."
        )


def lock_path(state_dir: Path, conversation_id: str) -> Path:
    safe = "".join(c for c in conversation_id if c.isalnum() or c in "-_.")[:120] or "default"
    return Path(state_dir) / LOCK_DIR / f"{safe}.lock"


class ConversationLock:
    """Held from `acquire` to `release`; re-acquiring the same id is a no-op."""

    def __init__(self, state_dir: Path, conversation_id: str) -> None:
        self.conversation_id = conversation_id
        self.path = lock_path(state_dir, conversation_id)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        private_dir(self.path.parent)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        info = json.dumps(
            {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "command": " ".join(
                    Path(a).name if i == 0 else a for i, a in enumerate(sys.argv[:3])
                ),
                "since": time.strftime("%Y-%m-%d %H:%M:%S"),
            }
        ).encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, info, 0)
        return True

    async def acquire(self, wait_s: float) -> None:
        """Take the lock, polling for up to `wait_s` seconds; ConversationBusy otherwise."""
        started = time.monotonic()
        while not self.try_acquire():
            waited = time.monotonic() - started
            if waited >= wait_s:
                raise ConversationBusy(self.conversation_id, self.holder(), waited)
            await asyncio.sleep(POLL_S)

    def holder(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_bytes() or b"{}")
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        with contextlib.suppress(OSError):
            os.close(self._fd)
        self._fd = None
