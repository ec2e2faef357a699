"""`sagecoach sandbox serve`: a standalone sandbox for other terminals and tools."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer

sandbox_app = typer.Typer(help="The local AWS sandbox (moto on 127.0.0.1).", no_args_is_help=True)


@sandbox_app.command("serve")
def serve(
    port: Annotated[
        int,
        typer.Option("--port", min=0, max=65535, help="Port on 127.0.0.1 (0 picks a free one)."),
    ] = 0,
    seed: Annotated[
        bool, typer.Option("--seed", help="Load the demo churn CSV into s3://sagecoach-demo/.")
    ] = False,
    region: Annotated[
        str, typer.Option("--region", help="Region the seeded bucket lives in.")
    ] = "us-east-1",
) -> None:
    """Run a sandbox in the foreground until Ctrl+C; prints the AWS_ENDPOINT_URL line to export."""
    from sandbox.server import DEMO_BUCKET, Sandbox, seed_demo
    from tools.aws.context import AwsContext

    sandbox = Sandbox(port)
    try:
        endpoint = sandbox.start()
    except OSError as exc:
        typer.echo(f"sagecoach: could not start the sandbox on port {port}: {exc}", err=True)
        raise typer.Exit(1) from None
    try:
        typer.echo(f"sandbox running at {endpoint} (loopback only; nothing goes to real AWS)")
        if seed:
            aws = AwsContext(region=region, sandbox_endpoint=endpoint)
            uri = seed_demo(aws.client("s3"))
            typer.echo(
                f"seeded {uri} (synthetic customer churn, 3000 rows) in bucket {DEMO_BUCKET}"
            )
        typer.echo("In another terminal:")
        typer.echo(f"  export AWS_ENDPOINT_URL={endpoint}")
        typer.echo(
            "  export AWS_ACCESS_KEY_ID=sandbox AWS_SECRET_ACCESS_KEY=sandbox AWS_REGION=" + region
        )
        typer.echo("Press Ctrl+C to stop.")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    finally:
        sandbox.stop()
        typer.echo("sandbox stopped")


def register(app: typer.Typer) -> None:
    app.add_typer(sandbox_app, name="sandbox")
