"""The server's side of the model host processes (see `sandbox.engine.inference`).

Built-in algorithms' models share one host process per sandbox (the libraries load once; a
model is loaded into it in milliseconds); a script-mode model runs user code and gets a
process of its own. `Hosts.load(...)` returns a `LoadedModel`: invoke it, unload it. Requests
to one process are serialised (a container's single worker). A process that dies fails the
requests in flight with a 5xx, never the sandbox; a shared one is started again and its models
reloaded on their next request.
"""

from __future__ import annotations

import itertools
import logging
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.engine.inference.protocol import read_frame, write_frame

log = logging.getLogger("sandbox.engine.serving")

HOST_COMMAND = [sys.executable, "-m", "sandbox.engine.inference.host"]
#: How long one invocation may take (SageMaker's real-time limit is 60 s).
INVOKE_TIMEOUT_S = 60.0
LOAD_TIMEOUT_S = 300.0

LogSink = Callable[[str], None]


class HostDied(Exception):
    """The model host process is gone (crashed, killed, or never started)."""


@dataclass
class HostReply:
    status: int
    content_type: str
    body: bytes
    model_us: int


class HostProcess:
    """One model host process; `on_stderr` receives what it prints outside the protocol."""

    def __init__(self, on_stderr: LogSink) -> None:
        from sandbox.engine.warm import container_env

        self.process = subprocess.Popen(
            HOST_COMMAND, cwd=str(Path.home()), env=container_env(), stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        )  # fmt: skip
        self._lock = threading.Lock()
        self.on_stderr = on_stderr
        threading.Thread(target=self._pump, daemon=True, name="model-host-stderr").start()

    def _pump(self) -> None:
        stream = self.process.stderr
        assert stream is not None
        for raw in iter(stream.readline, b""):
            try:
                self.on_stderr(raw.decode("utf-8", "replace").rstrip("\n"))
            except Exception:  # a log sink must not stop the reader
                log.exception("model host log line handler failed")

    def alive(self) -> bool:
        return self.process.poll() is None

    def request(self, header: dict[str, Any], body: bytes = b"",
                timeout_s: float = INVOKE_TIMEOUT_S) -> tuple[dict[str, Any], bytes]:  # fmt: skip
        with self._lock:
            if not self.alive():
                raise HostDied(f"the model container exited (code {self.process.returncode})")
            assert self.process.stdin is not None and self.process.stdout is not None
            timer = threading.Timer(timeout_s, self.kill)
            timer.start()
            try:
                write_frame(self.process.stdin, header, body)
                frame = read_frame(self.process.stdout)
            except (OSError, ValueError, EOFError) as exc:
                raise HostDied(f"the model container stopped answering ({exc})") from None
            finally:
                timer.cancel()
            if frame is None:
                raise HostDied("the model container exited while answering")
            return frame

    def kill(self) -> None:
        try:
            self.process.kill()
        except OSError:
            pass

    def close(self) -> None:
        """Stop the process (closing its stdin ends it; killed if it lingers)."""
        process = self.process
        try:
            if process.stdin is not None:
                process.stdin.close()
        except OSError:
            pass

        def reap() -> None:
            try:
                process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=2)

        threading.Thread(target=reap, daemon=True).start()


class LoadedModel:
    """A model loaded in a host process; its log lines go to `on_log`."""

    def __init__(self, hosts: Hosts, model_id: str, spec: dict[str, Any], on_log: LogSink,
                 dedicated: HostProcess | None) -> None:  # fmt: skip
        self.hosts = hosts
        self.model_id = model_id
        self.spec = spec
        self.on_log = on_log
        self.dedicated = dedicated
        self.process = dedicated or hosts.shared()
        self.targets: dict[str, Path] = {}

    def _send(self, header: dict[str, Any], body: bytes = b"",
              timeout_s: float = INVOKE_TIMEOUT_S) -> tuple[dict[str, Any], bytes]:  # fmt: skip
        reply, data = self.process.request({**header, "model_id": self.model_id}, body, timeout_s)
        for line in reply.get("log") or []:
            self.on_log(line)
        return reply, data

    def load(self) -> str | None:
        """None when the model is ready, else why it cannot serve."""
        try:
            reply, _ = self._send({"op": "load", **self.spec}, timeout_s=LOAD_TIMEOUT_S)
        except HostDied as exc:
            return str(exc)
        return None if reply.get("status") == 200 else str(reply.get("message") or "failed")

    def load_target(self, target: str, model_dir: Path) -> str | None:
        try:
            reply, _ = self._send({"op": "load_target", "target": target,
                                   "model_dir": str(model_dir)}, timeout_s=LOAD_TIMEOUT_S)  # fmt: skip
        except HostDied as exc:
            return str(exc)
        if reply.get("status") != 200:
            return str(reply.get("message") or "failed")
        self.targets[target] = model_dir
        return None

    def _revive(self) -> bool:
        """After the shared process died: load this model (and its targets) in a new one."""
        if self.dedicated is not None:
            return False
        self.process = self.hosts.shared()
        if self.load() is not None:
            return False
        return all(self.load_target(t, d) is None for t, d in list(self.targets.items()))

    def invoke(self, body: bytes, content_type: str | None, accept: str | None,
               target: str = "") -> HostReply:  # fmt: skip
        header = {"op": "invoke", "content_type": content_type, "accept": accept, "target": target}
        try:
            reply, data = self._send(header, body)
        except HostDied:
            if not self._revive():
                raise
            reply, data = self._send(header, body)
        return HostReply(int(reply.get("status", 500)), str(reply.get("content_type") or ""),
                         data, int(reply.get("model_us") or 0))  # fmt: skip

    def unload(self) -> None:
        if self.dedicated is not None:
            self.dedicated.close()
            return
        try:
            if self.process.alive():
                self.process.request({"op": "unload", "model_id": self.model_id}, timeout_s=10)
        except HostDied:
            pass


class Hosts:
    """The shared host process (started on first use) and the dedicated ones."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._shared: HostProcess | None = None
        self._ids = itertools.count(1)
        self._dedicated: list[HostProcess] = []
        self.closed = False

    def shared(self) -> HostProcess:
        with self._lock:
            if self._shared is None or not self._shared.alive():
                self._shared = HostProcess(lambda line: log.info("model host: %s", line))
            return self._shared

    def load(
        self, spec: dict[str, Any], on_log: LogSink, *, dedicated: bool
    ) -> tuple[LoadedModel, str | None]:
        """Load a model; returns it and None, or it (unloaded) and why it cannot serve."""
        process = None
        if dedicated:
            process = HostProcess(on_log)
            with self._lock:
                self._dedicated = [p for p in self._dedicated if p.alive()] + [process]
        model = LoadedModel(self, f"m{next(self._ids)}", spec, on_log, process)
        problem = model.load()
        if problem is not None:
            model.unload()
        return model, problem

    def close(self) -> None:
        with self._lock:
            self.closed = True
            processes = ([self._shared] if self._shared else []) + self._dedicated
            self._shared, self._dedicated = None, []
        for process in processes:
            process.close()
