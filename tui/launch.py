"""Starts the Textual app; kept apart so the command line does not import Textual for --help.

SAGECOACH_EXIT_AFTER_FIRST_FRAME=1 makes the app quit right after its first frame and print
`first frame: <seconds since the process started>` on stderr (bench/cli_bench.py uses it).
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent.settings import Settings

FIRST_FRAME_ENV = "SAGECOACH_EXIT_AFTER_FIRST_FRAME"


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
    from tui.app import SagecoachApp

    first_frame_exit = os.environ.get(FIRST_FRAME_ENV, "") not in ("", "0")
    app = SagecoachApp(
        settings,
        settings_loader=None if settings is not None else _loader(flags or {}),
        conversation=conversation,
        exit_after_first_frame=first_frame_exit,
    )
    app.run()
    if first_frame_exit:
        age = app.first_frame_at
        print(f"first frame: {age:.3f}" if age is not None else "first frame: ?", file=sys.stderr)
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
