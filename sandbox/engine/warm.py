"""A warm container process: importing xgboost, numpy and pandas takes seconds, so the engine
keeps one process that already did, ready for the next built-in algorithm job."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

CONTAINER_COMMAND = [sys.executable, "-m", "sandbox.engine.container"]


def container_env() -> dict[str, str]:
    """The container's environment: no credentials of the user's, unbuffered output, one thread
    per library (several jobs share a small machine)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "SAGECOACH_")) and key != "PYTHONPATH"
    }
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = package_root
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONWARNINGS"] = "ignore"
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


class WarmPool:
    """Hands out container processes; keeps one spare started in the background."""

    def __init__(self) -> None:
        self._spare: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._closed = False

    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            CONTAINER_COMMAND,
            cwd=str(Path.home()),
            env=container_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def prewarm(self) -> None:
        """Start the spare now (in the background) if there is none."""
        with self._lock:
            if self._closed or (self._spare is not None and self._spare.poll() is None):
                return
            self._spare = self._spawn()

    def take(self) -> subprocess.Popen[bytes]:
        """A container process waiting for its job line on stdin.

        The next spare starts once this one exits, so its imports never compete for the CPU
        with the job that is running (call `prewarm` to start one at once)."""
        with self._lock:
            spare, self._spare = self._spare, None
        if spare is None or spare.poll() is not None:
            spare = self._spawn()

        def replace_when_done(process: subprocess.Popen[bytes] = spare) -> None:
            process.wait()
            self.prewarm()

        threading.Thread(target=replace_when_done, daemon=True).start()
        return spare

    def close(self) -> None:
        with self._lock:
            self._closed = True
            spare, self._spare = self._spare, None
        if spare is not None and spare.poll() is None:
            try:
                assert spare.stdin is not None
                spare.stdin.close()  # an empty line: the process exits by itself
                spare.wait(timeout=2)
            except Exception:
                spare.kill()
