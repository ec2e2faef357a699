"""`sagecoach mcp`: serve sagecoach's tools to MCP clients (Claude Code, Kiro / Amazon Q CLI,
VS Code, ...) over stdio, or over streamable HTTP on 127.0.0.1 with a bearer token.

The MCP SDK loads only when this command runs, never for `sagecoach --help`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from tui.cli_options import ModeOpt, ProfileOpt, RegionOpt, SandboxOpt, settings_or_exit

EXIT_USAGE = 2


def register(app: typer.Typer) -> None:
    @app.command("mcp")
    def mcp_command(
        stages: Annotated[
            str | None,
            typer.Option(
                "--stages",
                help="Serve only these stages' tools, e.g. training,deployment or 4,7 "
                "(the catalog and session tools are always served).",
            ),
        ] = None,
        mode: ModeOpt = None,
        sandbox: SandboxOpt = False,
        region: RegionOpt = None,
        profile: ProfileOpt = None,
        http: Annotated[
            bool,
            typer.Option(
                "--http",
                help="Streamable HTTP on 127.0.0.1 with a bearer token, instead of stdio.",
            ),
        ] = False,
        port: Annotated[
            int,
            typer.Option("--port", min=0, max=65535, help="--http port (0 picks a free one)."),
        ] = 8765,
        sandbox_endpoint: Annotated[
            str | None,
            typer.Option(
                "--sandbox-endpoint",
                help="Use a sandbox that is already running (`sagecoach sandbox serve`).",
            ),
        ] = None,
    ) -> None:
        """Serve the tools, approval gate and audit log to an MCP client (stdio by default)."""
        import anyio

        from tui.mcp_server.front import McpOptions
        from tui.mcp_server.listing import StagesError, parse_stages
        from tui.mcp_server.serve import (
            HOST,
            PATH,
            TOKEN_ENV,
            free_port,
            serve_http,
            serve_stdio,
            setup_logging,
            token_from_env,
        )

        settings = settings_or_exit(mode=mode, sandbox=sandbox, region=region, profile=profile)
        try:
            chosen = parse_stages(stages)
        except StagesError as exc:
            typer.echo(f"sagecoach: {exc}", err=True)
            raise typer.Exit(EXIT_USAGE) from None
        if sandbox_endpoint and not sandbox_endpoint.startswith(
            ("http://127.0.0.1", "http://localhost")
        ):
            typer.echo(
                "sagecoach: --sandbox-endpoint must be a loopback URL "
                "(http://127.0.0.1:PORT, as `sagecoach sandbox serve` prints)",
                err=True,
            )
            raise typer.Exit(EXIT_USAGE)
        setup_logging()
        options = McpOptions(
            settings=settings,
            stages=chosen,
            transport="http" if http else "stdio",
            sandbox_endpoint=sandbox_endpoint,
        )
        try:
            if not http:
                anyio.run(serve_stdio, options)
                return
            token, generated = token_from_env()
            port = port or free_port()
            typer.echo(
                f"sagecoach mcp: serving http://{HOST}:{port}{PATH} (mode {settings.mode})",
                err=True,
            )
            if generated:
                typer.echo(
                    f"sagecoach mcp: bearer token (set {TOKEN_ENV} to choose your own): {token}",
                    err=True,
                )
            anyio.run(lambda: serve_http(options, port=port, token=token))
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
