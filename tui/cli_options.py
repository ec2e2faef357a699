"""Options shared by the app and its subcommands, and the settings loader that exits cleanly."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from agent.settings import Settings

from tui.slash import MODES

ModelOpt = Annotated[
    str | None,
    typer.Option("--model", help="offline | bedrock_converse:<model id> | provider:model"),
]
RegionOpt = Annotated[
    str | None, typer.Option("--region", help="AWS region (default: the AWS config chain).")
]
ProfileOpt = Annotated[str | None, typer.Option("--profile", help="AWS named profile.")]
SandboxOpt = Annotated[
    bool, typer.Option("--sandbox", help="Use the local sandbox (moto) instead of real AWS.")
]
ModeOpt = Annotated[str | None, typer.Option("--mode", help=f"Approval mode: {' | '.join(MODES)}.")]


# Options given before the subcommand (`sagecoach --sandbox doctor`) apply to it too.
ROOT_FLAGS: dict[str, Any] = {}


def merged_flags(**flags: Any) -> dict[str, Any]:
    """The flags given (`--sandbox` as sandbox="on") over those given before a subcommand."""
    if flags.pop("sandbox", False):
        flags["sandbox"] = "on"
    return {**ROOT_FLAGS, **{k: v for k, v in flags.items() if v is not None}}


def settings_or_exit(**flags: Any) -> Settings:
    """Load settings, or print one line naming the bad key and exit 2.

    A subcommand's own flags win over the same flags given before the subcommand.
    """
    from agent.settings import SettingsError, load_settings

    flags = merged_flags(**flags)
    try:
        return load_settings(**flags)
    except SettingsError as exc:
        typer.echo(f"sagecoach: {exc}", err=True)
        raise typer.Exit(2) from None
