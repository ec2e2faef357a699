"""Job lifecycle plumbing shared by every kind of job: a thread per job, stop and time limits,
and running a container process whose output becomes the job's log.

A job body is a function `body(job: RunningJob) -> None` that the runner calls on its own
thread. It calls `job.check()` between phases (raises `JobInterrupted` once a stop was asked or
the time limit passed) and `job.run_process(...)` for the container; it never blocks the server.
Anything the body raises is caught by the kind-specific code that called `JobRunner.start`.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("sandbox.engine.jobs")

#: Seconds a container gets between SIGTERM and SIGKILL (SageMaker gives 120; the sandbox is quick).
STOP_GRACE_S = 2.0


class JobInterrupted(Exception):
    """Raised inside a job body when it must end: `reason` is "stop" or "timeout"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class RunningJob:
    """What a job body can see and do."""

    kind: str
    name: str
    region: str
    account: str
    workdir: Path
    max_runtime_s: float | None = None
    started: float = field(default_factory=time.monotonic)
    stop_requested: threading.Event = field(default_factory=threading.Event)
    interrupt_reason: str | None = None
    process: subprocess.Popen[bytes] | None = None
    thread: threading.Thread | None = None

    @property
    def deadline(self) -> float | None:
        return self.started + self.max_runtime_s if self.max_runtime_s else None

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def interrupted(self) -> str | None:
        if self.stop_requested.is_set():
            return self.interrupt_reason or "stop"
        deadline = self.deadline
        if deadline is not None and time.monotonic() >= deadline:
            self.interrupt_reason = "timeout"
            self.stop_requested.set()
            return "timeout"
        return None

    def check(self) -> None:
        reason = self.interrupted()
        if reason:
            raise JobInterrupted(reason)

    def request_stop(self, reason: str = "stop") -> None:
        if not self.stop_requested.is_set():
            self.interrupt_reason = reason
            self.stop_requested.set()
        _terminate(self.process)

    def run_process(
        self,
        command: list[str],
        *,
        env: dict[str, str],
        cwd: Path,
        on_line: Callable[[str], None],
        stdin_text: str | None = None,
        process: subprocess.Popen[bytes] | None = None,
    ) -> int:
        """Run (or adopt an already started) container process; each output line goes to
        on_line; returns its exit code; raises JobInterrupted after a stop or time-out."""
        self.check()
        if process is None:
            process = subprocess.Popen(
                command,
                cwd=str(cwd),
                env=env,
                stdin=subprocess.PIPE if stdin_text is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.process = process
        if stdin_text is not None and process.stdin is not None:
            try:
                process.stdin.write(stdin_text.encode())
                process.stdin.close()
            except OSError:
                pass
        reader = threading.Thread(
            target=_pump, args=(process, on_line), name=f"log-{self.name}", daemon=True
        )
        reader.start()
        while process.poll() is None:
            if self.interrupted():
                _terminate(process)
            time.sleep(0.05)
        reader.join(timeout=5)
        self.process = None
        reason = self.interrupted()
        if reason:
            raise JobInterrupted(reason)
        return int(process.returncode)


def _pump(process: subprocess.Popen[bytes], on_line: Callable[[str], None]) -> None:
    assert process.stdout is not None
    for raw in iter(process.stdout.readline, b""):
        try:
            on_line(raw.decode("utf-8", "replace").rstrip("\n"))
        except Exception:  # a log sink must not kill the reader
            log.exception("log line handler failed")
    process.stdout.close()


def _terminate(process: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM the container's process group, SIGKILL after a grace period."""
    if process is None or process.poll() is not None:
        return

    def signal_group(sig: int) -> None:
        try:
            os.killpg(process.pid, sig)
        except (ProcessLookupError, PermissionError, OSError):
            try:
                process.send_signal(sig)
            except OSError:
                pass

    signal_group(signal.SIGTERM)

    def escalate() -> None:
        try:
            process.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            signal_group(signal.SIGKILL)

    threading.Thread(target=escalate, daemon=True).start()


class JobRunner:
    """Starts job bodies on threads, finds them by (kind, name), stops them."""

    def __init__(self, max_concurrent: int | None = None) -> None:
        self._jobs: dict[tuple[str, str, str], RunningJob] = {}
        self._lock = threading.Lock()
        slots = max_concurrent or max(2, os.cpu_count() or 2)
        #: How many containers run at once; others wait in their Starting status for "capacity".
        self.capacity = threading.BoundedSemaphore(slots)
        self.closed = False

    def start(self, job: RunningJob, body: Callable[[RunningJob], None]) -> RunningJob:
        key = (job.kind, job.region, job.name)

        def run() -> None:
            try:
                body(job)
            except Exception:  # the kind-specific body reports its own failures
                log.exception("job %s %s crashed outside its handler", job.kind, job.name)
            finally:
                with self._lock:
                    if self._jobs.get(key) is job:
                        del self._jobs[key]

        with self._lock:
            self._jobs[key] = job
        job.thread = threading.Thread(target=run, name=f"job-{job.kind}-{job.name}", daemon=True)
        job.thread.start()
        return job

    @contextmanager
    def slot(self, job: RunningJob) -> Iterator[None]:
        """Hold one of the container slots; waiting for it can be stopped like the job."""
        while not self.capacity.acquire(timeout=0.1):
            job.check()
        try:
            yield
        finally:
            self.capacity.release()

    def get(self, kind: str, region: str, name: str) -> RunningJob | None:
        with self._lock:
            return self._jobs.get((kind, region, name))

    def running(self) -> list[RunningJob]:
        with self._lock:
            return list(self._jobs.values())

    def stop(self, kind: str, region: str, name: str, reason: str = "stop") -> bool:
        job = self.get(kind, region, name)
        if job is None:
            return False
        job.request_stop(reason)
        return True

    def shutdown(self, wait_s: float = 5.0) -> None:
        """Stop every job (the sandbox is going away) and wait a little for them to end."""
        self.closed = True
        jobs = self.running()
        for job in jobs:
            job.request_stop("shutdown")
        deadline = time.monotonic() + wait_s
        for job in jobs:
            if job.thread is not None:
                job.thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def wait_idle(self, timeout_s: float = 30.0) -> bool:
        """Block until no job runs (tests and benchmarks use this)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.running():
                return True
            time.sleep(0.02)
        return False


def tail_text(lines: list[str], limit: int = 900) -> str:
    """The end of a log, at most `limit` characters, whole lines first."""
    text = "\n".join(lines).strip()
    return text if len(text) <= limit else text[-limit:].split("\n", 1)[-1]


def fmt_failure(prefix: str, message: str, limit: int = 1024) -> str:
    """FailureReason: SageMaker caps it at 1024 characters; keep the head and the end."""
    text = f"{prefix}: {message}".strip()
    if len(text) <= limit:
        return text
    keep = limit - 5
    return text[: keep // 3] + "\n...\n" + text[-(keep - keep // 3) :]


def describe_process(process: Any) -> str:
    return f"pid {getattr(process, 'pid', '?')}"
