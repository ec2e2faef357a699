"""`sagecoach sandbox serve | status | stop | reset`: the one sandbox of your state directory.

The app and `sagecoach ask` start it in the background when they need it (it stops by itself
after 30 idle minutes); `serve` runs it in the foreground for other terminals and tools.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated

import typer

sandbox_app = typer.Typer(
    help="The local AWS sandbox (moto + the execution engine on 127.0.0.1).",
    no_args_is_help=True,
)


def _state_dir() -> Path:
    from agent.settings import SettingsError, load_settings

    try:
        return load_settings().state_dir
    except SettingsError as exc:
        typer.echo(f"sagecoach: {exc}", err=True)
        raise typer.Exit(2) from None


@sandbox_app.command("serve")
def serve(
    port: Annotated[
        int,
        typer.Option("--port", min=0, max=65535, help="Port on 127.0.0.1 (0 picks a free one)."),
    ] = 0,
    seed: Annotated[
        bool,
        typer.Option(
            "--seed", help="Kept for scripts: a fresh sandbox always holds the demo churn CSV."
        ),
    ] = False,
    region: Annotated[
        str, typer.Option("--region", help="Region to print in the export line.")
    ] = "us-east-1",
) -> None:
    """Run your state directory's sandbox in the foreground until Ctrl+C (state saved on exit);
    prints the AWS_ENDPOINT_URL line to export."""
    from sandbox import daemon
    from sandbox.server import DEMO_URI

    state_dir = _state_dir()
    running = daemon.status(state_dir)
    if running is not None:
        typer.echo(
            f"sagecoach: a sandbox for {state_dir} already runs at {running.endpoint} (pid "
            f"{running.pid}); use it, or stop it first with `sagecoach sandbox stop`.",
            err=True,
        )
        raise typer.Exit(1)
    stop = threading.Event()

    def ready(sandbox: object) -> None:
        from sandbox.server import Sandbox

        assert isinstance(sandbox, Sandbox)
        typer.echo(
            f"sandbox running at {sandbox.endpoint} (loopback only; nothing goes to real AWS)"
        )
        typer.echo(f"state: {state_dir / 'sandbox'} ({sandbox.restore_message})")
        typer.echo(f"demo data: {DEMO_URI} (synthetic customer churn, 3000 rows)")
        typer.echo("In another terminal:")
        typer.echo(f"  export AWS_ENDPOINT_URL={sandbox.endpoint}")
        typer.echo(
            "  export AWS_ACCESS_KEY_ID=sandbox AWS_SECRET_ACCESS_KEY=sandbox AWS_REGION=" + region
        )
        typer.echo(
            "Press Ctrl+C to stop.",
        )

    try:
        daemon.serve(state_dir, port=port, on_ready=ready, stop_event=stop)
    except daemon.SandboxBusy:
        typer.echo("sagecoach: another sandbox is starting for this state directory.", err=True)
        raise typer.Exit(1) from None
    except OSError as exc:
        typer.echo(f"sagecoach: could not start the sandbox on port {port}: {exc}", err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        pass
    typer.echo("sandbox stopped (state saved)")


@sandbox_app.command("status")
def status() -> None:
    """Whether your sandbox runs, where, and what it is doing."""
    from sandbox import daemon

    state_dir = _state_dir()
    running = daemon.status(state_dir)
    saved = state_dir / "sandbox" / "state.pickle"
    if running is None:
        typer.echo("No sandbox is running for this state directory.")
        if saved.exists():
            typer.echo(
                f"Saved state: {saved} ({saved.stat().st_size // 1024} KiB); it is restored on the next start."
            )
        return
    identity = running.identity
    jobs = identity.get("running_jobs") or []
    typer.echo(f"Sandbox running at {running.endpoint} (pid {running.pid}).")
    typer.echo(f"State: {state_dir / 'sandbox'} — {identity.get('restore_message', '')}")
    typer.echo(f"Execution role: {identity.get('execution_role_arn')}")
    typer.echo(f"Demo data: {identity.get('demo_data')}")
    typer.echo(
        "Running jobs: " + (", ".join(f"{j['kind']} {j['name']}" for j in jobs) if jobs else "none")
    )


@sandbox_app.command("stop")
def stop() -> None:
    """Stop your sandbox (its state is saved and comes back on the next start)."""
    from sandbox import daemon

    state_dir = _state_dir()
    if daemon.status(state_dir) is None:
        typer.echo("No sandbox is running for this state directory.")
        return
    if daemon.stop(state_dir):
        typer.echo("Sandbox stopped; its state is saved.")
    else:
        typer.echo("sagecoach: the sandbox did not stop in time.", err=True)
        raise typer.Exit(1)


@sandbox_app.command("reset")
def reset(
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Empty your sandbox (every bucket, job, role... goes) and put the demo data back.
    The audit log and conversations are not touched."""
    from sandbox import daemon

    if not yes and not typer.confirm("Delete everything in the sandbox?", default=False):
        raise typer.Exit(1)
    typer.echo(daemon.reset(_state_dir()).capitalize() + ".")


def register(app: typer.Typer) -> None:
    app.add_typer(sandbox_app, name="sandbox")
