"""The typer command tree: the root options and every subcommand (`tui/commands/<name>.py`).

`tui.cli.main` builds it only when the command line needs more than the app's own flags.
Imports stay light here so `sagecoach --help` is fast: every command imports what it needs
when it runs.
"""

from __future__ import annotations

import importlib
from typing import Annotated

import typer

from tui.cli_options import (
    ROOT_FLAGS,
    ModelOpt,
    ModeOpt,
    ProfileOpt,
    RegionOpt,
    SandboxOpt,
    merged_flags,
    settings_or_exit,
)

COMMAND_MODULES = ("doctor", "sandbox", "ask", "mcp", "log", "stages", "tools", "prices", "eval")

app = typer.Typer(
    name="sagecoach",
    help="A terminal assistant for machine learning on AWS. Run with no command to open the app.",
    no_args_is_help=False,
    add_completion=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    model: ModelOpt = None,
    region: RegionOpt = None,
    profile: ProfileOpt = None,
    sandbox: SandboxOpt = False,
    mode: ModeOpt = None,
    conversation: Annotated[
        str | None, typer.Option("--conversation", help="Resume a conversation by id.")
    ] = None,
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        from tools.aws.context import VERSION

        typer.echo(f"sagecoach {VERSION}")
        raise typer.Exit(0)
    if ctx.invoked_subcommand is None:
        # The app loads the settings itself, after its first frame (pydantic-settings is
        # ~0.1 s of imports); a bad value still ends it with the one-line error and exit 2.
        from tui.launch import launch_app

        flags = merged_flags(
            model=model, region=region, profile=profile, sandbox=sandbox, mode=mode
        )
        raise typer.Exit(launch_app(flags=flags, conversation=conversation, fast_exit=True))
    settings_or_exit(model=model, region=region, profile=profile, sandbox=sandbox, mode=mode)
    given = {"model": model, "region": region, "profile": profile, "mode": mode}
    ROOT_FLAGS.update({k: v for k, v in given.items() if v})
    if sandbox:
        ROOT_FLAGS["sandbox"] = "on"


for _name in COMMAND_MODULES:
    importlib.import_module(f"tui.commands.{_name}").register(app)
