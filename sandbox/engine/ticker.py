"""One background thread per engine that calls registered functions about once a second: the
serving modules flush data capture files, invocation metrics and endpoint logs with it, and
let go of endpoints that no longer exist (after a delete or a sandbox reset)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger("sandbox.engine.ticker")
KEY = "ticker"
INTERVAL_S = 1.0


class Ticker:
    def __init__(self, interval_s: float = INTERVAL_S) -> None:
        self.interval_s = interval_s
        self.tasks: dict[str, Callable[[], None]] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def add(self, name: str, task: Callable[[], None]) -> None:
        with self._lock:
            self.tasks[name] = task
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._run, name="engine-ticker",
                                                daemon=True)  # fmt: skip
                self._thread.start()

    def run_once(self) -> None:
        with self._lock:
            tasks = list(self.tasks.items())
        for name, task in tasks:
            try:
                task()
            except Exception:
                log.exception("periodic task %s failed", name)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.run_once()

    def stop(self) -> None:
        """Run every task a last time, then stop."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.run_once()


def ticker(engine: Any) -> Ticker:
    """The engine's ticker (created, and its final run hooked to shutdown, on first use)."""
    with engine.lock:
        found = engine.extensions.get(KEY)
        if found is None:
            found = engine.extensions[KEY] = Ticker()
            engine.shutdown_hooks.append(found.stop)
        return found  # type: ignore[no-any-return]
