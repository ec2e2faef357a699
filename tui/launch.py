"""Starts the Textual app; kept apart so the command line does not import Textual for --help."""

from __future__ import annotations

from agent.settings import Settings


def launch_app(settings: Settings, *, conversation: str | None = None) -> int:
    from tui.app import SagecoachApp

    app = SagecoachApp(settings, conversation=conversation)
    app.run()
    return int(app.return_code or 0)
