"""What a running tool may use: the guarded AWS context, progress, the ledger, cancellation."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from tools.aws.context import AwsContext
from tools.core.errors import ToolError
from tools.core.results import ProgressEvent, Resource


class Ledger(Protocol):
    """Where created resources are recorded (the resource ledger implements this)."""

    def record(self, resource: Resource, *, session_id: str) -> None: ...


class ToolContext:
    """What a tool may use: AWS (through the guarded context), progress, the ledger, cancellation."""

    def __init__(
        self,
        aws: AwsContext,
        *,
        session_id: str = "",
        state_dir: Path | None = None,
        progress: Callable[[ProgressEvent], None] | None = None,
        ledger: Ledger | None = None,
        sandbox: Any = None,
        poll_interval: float = 5.0,
        default_role_arn: str | None = None,
    ) -> None:
        self.aws = aws
        self.session_id = session_id or aws.session_id
        self.state_dir = state_dir
        self._progress = progress
        self.ledger = ledger
        self.sandbox = sandbox  # sandbox.server.Sandbox when in the sandbox, for canned responses
        # The IAM role jobs run as when a call names none (tools.aws.roles.resolve_role).
        self.default_role_arn = default_role_arn
        self.cancel_event = threading.Event()
        self.current_tool = ""
        # Waits poll at this interval; the sandbox (where nothing takes time) polls fast.
        self.poll_interval = 0.05 if aws.is_sandbox else poll_interval

    @property
    def region(self) -> str:
        return self.aws.region

    def client(self, service: str) -> Any:
        return self.aws.client(service)

    def report(
        self, message: str, done: float | None = None, total: float | None = None, unit: str = ""
    ) -> None:
        if self._progress is not None:
            try:
                self._progress(ProgressEvent(self.current_tool, message, done, total, unit))
            except Exception:
                pass

    def sleep(self, seconds: float) -> None:
        """Sleep that wakes early on cancel and raises ToolError('cancelled')."""
        if self.cancel_event.wait(seconds):
            raise ToolError("cancelled by the user", kind="cancelled")

    def check_cancelled(self) -> None:
        if self.cancel_event.is_set():
            raise ToolError("cancelled by the user", kind="cancelled")
