"""The command line: `sagecoach` opens the app; subcommands do one job each.

`sagecoach` with nothing but the app's own flags (`--sandbox`, `--model`, `--region`,
`--profile`, `--mode`, `--conversation`) starts the app straight away: building the typer
command tree and parsing with it costs ~0.15 s (typer coerces values with pydantic), which the
first frame should not wait for. Anything else (a subcommand, `--help`, `--version`, a flag
this parser does not know) goes through the typer app in tui/cli_app.py, as before.
"""

from __future__ import annotations

import os
import sys
from typing import Any

# The root options that take a value, and the settings key (or `conversation`) each sets.
VALUE_FLAGS = {
    "--model": "model",
    "--region": "region",
    "--profile": "profile",
    "--mode": "mode",
    "--conversation": "conversation",
}


def app_flags(argv: list[str]) -> dict[str, Any] | None:
    """The app's flags from `argv`, or None when typer must handle the command line."""
    flags: dict[str, Any] = {}
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg == "--sandbox":
            flags["sandbox"] = "on"
            continue
        name, eq, value = arg.partition("=")
        if name not in VALUE_FLAGS:
            return None
        if not eq:
            if not args:
                return None
            value = args.pop(0)
        if not value or value.startswith("-"):
            return None  # let typer word the error
        flags[VALUE_FLAGS[name]] = value
    return flags


def completing() -> bool:
    """Shell completion runs the command with `_SAGECOACH_COMPLETE` (click's convention) set."""
    return any(k.startswith("_") and k.endswith("_COMPLETE") for k in os.environ)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    try:
        flags = None if completing() else app_flags(argv)
        if flags is not None:
            from tui.launch import launch_app

            conversation = flags.pop("conversation", None)
            sys.exit(launch_app(flags=flags, conversation=conversation, fast_exit=True))
        from tui.cli_app import app

        app(args=argv, prog_name="sagecoach")
    except KeyboardInterrupt:
        sys.exit(130)


def __getattr__(name: str) -> Any:
    """`from tui.cli import app` still gives the typer app (tests, completion)."""
    if name == "app":
        from tui.cli_app import app

        return app
    raise AttributeError(name)


if __name__ == "__main__":  # pragma: no cover
    main()
