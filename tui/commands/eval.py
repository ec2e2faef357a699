"""`sagecoach eval`: how often a model routes the shipped (or your) requests correctly.

    sagecoach eval --cases tests/eval/cases.jsonl            # the offline planner
    sagecoach eval --model bedrock_converse:<id> --cases FILE --json

Every case runs against a freshly reset local sandbox (moto), never real AWS; a Bedrock model
itself is called with the real credentials.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from tui.cli_options import ModelOpt, settings_or_exit


def _make_model(spec: str, settings: object) -> object:
    from agent.model_choice import OFFLINE

    if spec == OFFLINE:
        from agent.offline import OfflinePlanner

        return OfflinePlanner()
    from agent.models import ModelError, make_chat_model
    from tools.aws.context import AwsContext

    aws = AwsContext(profile=settings.profile, region=settings.region)  # type: ignore[attr-defined]
    try:
        return make_chat_model(spec, aws)
    except ModelError as exc:
        typer.echo(f"sagecoach eval: {exc}", err=True)
        raise typer.Exit(2) from None


def register(app: typer.Typer) -> None:
    @app.command("eval")
    def eval_command(
        cases: Annotated[
            Path,
            typer.Option("--cases", help="JSON Lines case file.", exists=True, dir_okay=False),
        ],
        model: ModelOpt = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
        direct: Annotated[
            bool,
            typer.Option("--direct", help="Call the model directly instead of the agent runtime."),
        ] = False,
        limit: Annotated[int, typer.Option("--limit", help="Only the first N cases (0: all).")] = 0,
    ) -> None:
        """Run each case against a fresh sandbox and report how many were routed correctly."""
        from agent.offline.evaluate import CaseFileError, load_cases, run_eval
        from sandbox.server import Sandbox

        try:
            loaded = load_cases(cases)
        except CaseFileError as exc:
            typer.echo(f"sagecoach eval: {exc}", err=True)
            raise typer.Exit(2) from None
        if limit > 0:
            loaded = loaded[:limit]
        with tempfile.TemporaryDirectory(prefix="sagecoach-eval-") as state:
            settings = settings_or_exit(model=model, sandbox=True, mode="yes", state_dir=state)
            spec = settings.model or "offline"
            chat_model = _make_model(spec, settings)
            sandbox = Sandbox()
            sandbox.start()
            try:

                def progress(case: object, ok: bool) -> None:
                    if not as_json:
                        typer.echo("." if ok else "F", nl=False)

                report = run_eval(
                    loaded,
                    model=chat_model,
                    sandbox=sandbox,
                    direct=direct,
                    settings=settings,
                    progress=progress,
                )
            finally:
                sandbox.stop()
        if as_json:
            typer.echo(json.dumps(report.to_dict(), indent=2, default=str))
        else:
            typer.echo("")
            for failure in report.failures:
                typer.echo(
                    f"✗ {failure['id']}: expected {json.dumps(failure['expected'])}, "
                    f"got {json.dumps(failure['got'], default=str)}"
                )
            typer.echo(
                f"{spec}: {report.correct}/{report.total} routed correctly "
                f"(accuracy {report.accuracy:.1%}; top-3 with offered choices "
                f"{report.top3}/{report.total}, {report.top3_accuracy:.1%})"
            )
        sys.stdout.flush()
