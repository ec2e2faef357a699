"""One sandbox per state directory, shared by every client while it runs.

Files under `<state dir>/sandbox/`:
- `server.json`: pid, port, endpoint and start time of the running sandbox;
- `server.lock`: held (flock) by the running sandbox for its whole life, so a crashed one
  never looks alive; `start.lock` serialises clients that start one at the same moment;
- `state.pickle`: the saved state (see `sandbox.engine.persistence`); `jobs/`: job directories;
- `daemon.log`: the background sandbox's own log.

`connect(state_dir)` returns the endpoint of the running sandbox, starting a detached one (which
stops by itself after `idle_timeout_s` without requests or running jobs) when there is none.
`serve(...)` runs one in the foreground (`sagecoach sandbox serve`, and the detached process).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from sandbox.server import IDENTITY_PATH, RESET_PATH, Sandbox, probe

DEFAULT_IDLE_TIMEOUT_S = 30 * 60

try:  # POSIX file locks; elsewhere the pid check alone decides
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


def sandbox_dir(state_dir: Path) -> Path:
    path = Path(state_dir) / "sandbox"
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass(frozen=True)
class RunningSandbox:
    pid: int
    endpoint: str
    started_at: float
    identity: dict[str, Any]


class SandboxBusy(RuntimeError):
    """Another sandbox already runs for this state directory."""


@contextlib.contextmanager
def _flock(path: Path, *, blocking: bool, timeout_s: float = 30.0) -> Iterator[TextIO]:
    handle = path.open("a+")
    try:
        if fcntl is not None:
            deadline = time.monotonic() + timeout_s
            while True:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if not blocking or time.monotonic() >= deadline:
                        raise SandboxBusy(str(path)) from None
                    time.sleep(0.05)
        yield handle
    finally:
        handle.close()


def _read_info(directory: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((directory / "server.json").read_text())
        return data if isinstance(data, dict) else None
    except (OSError, ValueError):
        return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _held(directory: Path) -> bool:
    """Whether a running sandbox holds this directory's server lock (a dead one never does)."""
    if fcntl is None:  # pragma: no cover - Windows: the pid check decides
        return True
    with (directory / "server.lock").open("a+") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return False


def status(state_dir: Path, timeout: float = 0.5) -> RunningSandbox | None:
    """The sandbox running for this state directory, if one answers."""
    directory = sandbox_dir(state_dir)
    info = _read_info(directory)
    if not info or not _pid_alive(int(info.get("pid", 0))) or not _held(directory):
        return None
    identity = probe(str(info.get("endpoint", "")), timeout=timeout)
    if identity is None or identity.get("pid") != info.get("pid"):
        return None
    return RunningSandbox(
        int(info["pid"]), str(info["endpoint"]), float(info["started_at"]), identity
    )


def connect(
    state_dir: Path,
    *,
    idle_timeout_s: float = DEFAULT_IDLE_TIMEOUT_S,
    wait_s: float = 30.0,
    start: bool = True,
) -> str:
    """The endpoint of this state directory's sandbox, started in the background if needed."""
    running = status(state_dir)
    if running is not None:
        return running.endpoint
    if not start:
        raise RuntimeError("no sandbox is running for this state directory")
    directory = sandbox_dir(state_dir)
    with _flock(directory / "start.lock", blocking=True, timeout_s=wait_s):
        running = status(state_dir)
        if running is not None:
            return running.endpoint
        (directory / "server.json").unlink(missing_ok=True)
        _spawn(state_dir, idle_timeout_s)
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            running = status(state_dir, timeout=1.0)
            if running is not None:
                return running.endpoint
            time.sleep(0.05)
    log_tail = (
        (directory / "daemon.log").read_text(errors="replace")[-600:]
        if (directory / "daemon.log").exists()
        else ""
    )
    raise RuntimeError(f"the sandbox did not start within {wait_s:.0f} s. {log_tail}".strip())


def _spawn(state_dir: Path, idle_timeout_s: float) -> None:
    directory = sandbox_dir(state_dir)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    with (directory / "daemon.log").open("ab") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sandbox.daemon",
                "--state-dir",
                str(state_dir),
                "--idle-timeout",
                str(idle_timeout_s),
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=str(directory),
            start_new_session=True,
            close_fds=True,
        )
    # Reap it when it exits, so a long-lived client (the app) leaves no zombie behind.
    threading.Thread(target=process.wait, name="sandbox-reaper", daemon=True).start()
    _SPAWNED.append((Path(state_dir), process))


_SPAWNED: list[tuple[Path, subprocess.Popen[bytes]]] = []


def stop_spawned() -> None:
    """Stop every sandbox this process started (tests; a client that wants no leftovers)."""
    while _SPAWNED:
        state_dir, process = _SPAWNED.pop()
        if process.poll() is None:
            stop(state_dir)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def stop(state_dir: Path, timeout_s: float = 20.0) -> bool:
    """Ask the running sandbox to save its state and exit; True when one was stopped."""
    running = status(state_dir)
    if running is None:
        return False
    os.kill(running.pid, signal.SIGTERM)
    directory = sandbox_dir(state_dir)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not _held(directory):  # the lock goes with the process, after its last save
            return True
        time.sleep(0.05)
    return False


def reset(state_dir: Path) -> str:
    """Empty the sandbox (jobs stopped, everything deleted) and put the demo data back."""
    running = status(state_dir)
    if running is not None:
        request = urllib.request.Request(running.endpoint + RESET_PATH, data=b"{}", method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
        return "the running sandbox was reset"
    directory = sandbox_dir(state_dir)
    (directory / "state.pickle").unlink(missing_ok=True)
    import shutil

    shutil.rmtree(directory / "jobs", ignore_errors=True)
    return "the saved sandbox state was deleted; the next start is a fresh sandbox"


def serve(
    state_dir: Path,
    *,
    port: int = 0,
    idle_timeout_s: float | None = None,
    on_ready: Callable[[Sandbox], None] | None = None,
    stop_event: threading.Event | None = None,
) -> None:
    """Run this state directory's sandbox until a signal, `stop_event` or the idle time-out."""
    directory = sandbox_dir(state_dir)
    with _flock(directory / "server.lock", blocking=False):
        sandbox = Sandbox(port, state_dir=Path(state_dir))
        stop_event = stop_event or threading.Event()
        sandbox.start()
        info = {"pid": os.getpid(), "port": sandbox.port, "endpoint": sandbox.endpoint,
                "started_at": sandbox.started_at, "idle_timeout_s": idle_timeout_s}  # fmt: skip
        tmp = directory / "server.json.tmp"
        tmp.write_text(json.dumps(info))
        tmp.replace(directory / "server.json")
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            with contextlib.suppress(ValueError, OSError):
                signal.signal(sig, lambda *_: stop_event.set())
        try:
            if on_ready is not None:
                on_ready(sandbox)
            while not stop_event.wait(0.5):
                if idle_timeout_s and _idle(sandbox, idle_timeout_s):
                    break
        finally:
            sandbox.stop()
            info_now = _read_info(directory)
            if info_now and info_now.get("pid") == os.getpid():
                (directory / "server.json").unlink(missing_ok=True)


def _idle(sandbox: Sandbox, idle_timeout_s: float) -> bool:
    if sandbox.engine is not None and sandbox.engine.jobs.running():
        return False
    return time.monotonic() - sandbox.last_request > idle_timeout_s


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.daemon")
    parser.add_argument("--state-dir", required=True, type=Path)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--idle-timeout", type=float, default=DEFAULT_IDLE_TIMEOUT_S)
    args = parser.parse_args(argv)
    try:
        serve(args.state_dir, port=args.port, idle_timeout_s=args.idle_timeout or None)
    except SandboxBusy:
        print("another sandbox already runs for this state directory", file=sys.stderr)
        return 1
    return 0


__all__ = ["IDENTITY_PATH", "RunningSandbox", "connect", "reset", "serve", "status", "stop"]

if __name__ == "__main__":
    raise SystemExit(main())
