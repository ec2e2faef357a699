"""`sagecoach prices` (filled in by its issue)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Adds the command to the app; nothing yet."""
