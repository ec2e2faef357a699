"""Starts the Textual app; kept apart so the command line does not import Textual for --help.

SAGECOACH_EXIT_AFTER_FIRST_FRAME=1 makes the app quit right after its first frame and print
`first frame: <seconds since the process started>` on stderr (bench/cli_bench.py uses it);
SAGECOACH_EXIT_WHEN_READY=1 makes it quit once its session is open (it can act) and print
`ready: <seconds since the process started>` (bench/startup_bench.py).
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent.settings import Settings

FIRST_FRAME_ENV = "SAGECOACH_EXIT_AFTER_FIRST_FRAME"
READY_ENV = "SAGECOACH_EXIT_WHEN_READY"


def _flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0")


def launch_app(
    settings: Settings | None = None,
    *,
    flags: dict[str, Any] | None = None,
    conversation: str | None = None,
    fast_exit: bool = False,
) -> int:
    """Run the app. Without `settings`, the app loads them from `flags` after its first frame;
    a bad value prints `sagecoach: <what is wrong>` and returns 2, as the subcommands do.
    `fast_exit` ends the process right after the app (the `sagecoach` command)."""
    from tui.gc_pause import pause_collection, resume_collection

    pause_collection()  # until the session is open (tui/runtime_opener.py resumes it)
    from tui.app import SagecoachApp

    first_frame_exit = _flag(FIRST_FRAME_ENV)
    opener = _exit_when_ready() if _flag(READY_ENV) else None
    app = SagecoachApp(
        settings,
        settings_loader=None if settings is not None else _loader(flags or {}),
        conversation=conversation,
        session_factory=opener,
        exit_after_first_frame=first_frame_exit,
    )
    if opener is not None:
        opener.app = app
    try:
        app.run()
    finally:
        resume_collection()  # the app ended before its session opened
    if first_frame_exit:
        age = app.first_frame_at
        print(f"first frame: {age:.3f}" if age is not None else "first frame: ?", file=sys.stderr)
    if opener is not None:
        age = opener.ready_at
        print(f"ready: {age:.3f}" if age is not None else "ready: ?", file=sys.stderr)
    code = int(app.return_code or 0)
    if app.settings_error:
        print(f"sagecoach: {app.settings_error}", file=sys.stderr)
        code = 2
    if fast_exit:
        # The app closed its session (audit log flushed, conversation saved) on unmount;
        # tearing down langchain, botocore and moto module by module takes ~1 s more.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def _loader(flags: dict[str, Any]) -> Any:
    def load() -> Settings:
        from agent.settings import load_settings

        return load_settings(**flags)

    return load


def _exit_when_ready() -> Any:
    """The app's opener, noting the process's age once the session is open, then quitting."""
    from tui.process_clock import process_age
    from tui.runtime_opener import RuntimeOpener

    class ExitWhenReady(RuntimeOpener):
        def __init__(self) -> None:
            super().__init__()
            self.app: Any = None
            self.ready_at: float | None = None

        async def __call__(self, settings: Settings, conversation: str | None) -> Any:
            session = await super().__call__(settings, conversation)
            self.ready_at = process_age()
            if self.app is not None:
                self.app.call_later(self.app.exit)
            return session

    return ExitWhenReady()
