"""Starts the Textual app; kept apart so the command line does not import Textual for --help.

SAGECOACH_EXIT_AFTER_FIRST_FRAME=1 makes the app quit right after its first frame and print
`first frame: <seconds since the process started>` on stderr (bench/cli_bench.py uses it).
"""

from __future__ import annotations

import os
import sys

from agent.settings import Settings

FIRST_FRAME_ENV = "SAGECOACH_EXIT_AFTER_FIRST_FRAME"


def process_age() -> float | None:
    """Seconds since this process started (Linux /proc), or None where that is unknown."""
    try:
        with open("/proc/self/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        start_ticks = int(fields[19])  # field 22, starttime, in clock ticks after boot
        with open("/proc/uptime", encoding="ascii") as fh:
            uptime = float(fh.read().split()[0])
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def launch_app(settings: Settings, *, conversation: str | None = None) -> int:
    from tui.app import SagecoachApp

    first_frame_exit = os.environ.get(FIRST_FRAME_ENV, "") not in ("", "0")
    app = SagecoachApp(settings, conversation=conversation, exit_after_first_frame=first_frame_exit)
    app.run()
    if first_frame_exit:
        age = app.first_frame_at
        print(f"first frame: {age:.3f}" if age is not None else "first frame: ?", file=sys.stderr)
    return int(app.return_code or 0)
