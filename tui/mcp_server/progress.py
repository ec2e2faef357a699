"""Tool progress, reported from the tool's worker thread, as MCP progress notifications.

Tools report `(message, done, total, unit)`; MCP wants a number that grows with every
notification. Counted progress (bytes uploaded, seconds waited) keeps its numbers; a status-only
message nudges the last value up a little so it still counts as progress.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tools.core.results import ProgressEvent

STATUS_STEP = 1e-3


class ProgressRelay:
    """Thread-safe `report(event)`; `pump()` sends the events in order on the event loop."""

    def __init__(self, session: Any, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._session = session
        self._loop = loop or asyncio.get_running_loop()
        self._queue: asyncio.Queue[ProgressEvent | None] = asyncio.Queue()
        self.last = 0.0
        self.sent = 0

    def report(self, event: ProgressEvent) -> None:
        """Called from the tool's thread."""
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is listening
            self._loop.call_soon_threadsafe(self._queue.put_nowait, event)

    def value(self, event: ProgressEvent) -> tuple[float, float | None]:
        """(progress, total) for this event, strictly above the last one sent."""
        if event.done is not None and float(event.done) > self.last:
            progress = float(event.done)
            total = float(event.total) if event.total is not None else None
        else:
            progress, total = self.last + STATUS_STEP, None
        if total is not None and total < progress:
            total = None
        self.last = progress
        return progress, total

    async def pump(self) -> None:
        """Forward events until `close()`; a failed send never fails the call."""
        while True:
            event = await self._queue.get()
            if event is None:
                return
            progress, total = self.value(event)
            message = event.message
            with contextlib.suppress(Exception):
                await self._session.report_progress(progress, total, message)
                self.sent += 1

    def close(self) -> None:
        """Let `pump()` finish after the events already queued."""
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._queue.put_nowait, None)
