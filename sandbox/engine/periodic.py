"""Work the sandbox does on a clock (alarm evaluation, monitoring schedules): a daemon thread
per task that runs until the engine stops, never letting one failure end the loop."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger("sandbox.engine.periodic")


def every(engine: Any, seconds: float, name: str, task: Callable[[], None]) -> threading.Thread:
    """Run `task()` every `seconds` on a thread of its own until `engine.stopping` is set."""

    def loop() -> None:
        while not engine.stopping.wait(seconds):
            if engine.endpoint is None:
                continue
            try:
                task()
            except Exception:
                log.exception("periodic task %s failed", name)

    thread = threading.Thread(target=loop, name=f"sandbox-{name}", daemon=True)
    thread.start()
    return thread
