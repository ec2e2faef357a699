"""`sagecoach stages [STAGE]`: the pipeline stages and the AWS services for each."""

from __future__ import annotations

import json
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command("stages")
    def stages_command(
        stage: Annotated[
            str | None,
            typer.Argument(
                help="A stage id, number or title (e.g. training, 4, 'model training')."
            ),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Show the nine ML pipeline stages, or one stage's services with what sagecoach can do."""
        from tools.catalog import lookup
        from tui.commands.tools import format_table

        if stage is None:
            rows = []
            for st in lookup.stages():
                names = [lookup.get_service(i).name for i in st.services]
                rows.append((st.number, st.id, st.title, ", ".join(names)))
            if as_json:
                keys = ("number", "stage", "title", "services")
                out = [dict(zip(keys, (*r[:3], r[3].split(", ")), strict=True)) for r in rows]
                typer.echo(json.dumps(out, indent=2))
                return
            typer.echo(format_table(rows, ("#", "STAGE", "TITLE", "SERVICES"), wrap_last=True))
            typer.echo("\nMore: sagecoach stages <stage>   (e.g. sagecoach stages deployment)")
            return

        st = lookup.get_stage(stage)
        if st is None:
            names = ", ".join(s.id for s in lookup.stages())
            typer.echo(f"sagecoach: unknown stage '{stage}' (stages: {names})", err=True)
            raise typer.Exit(2)
        services = [lookup.get_service(i) for i in st.services]
        available = _registered()
        if as_json:
            out = {
                "number": st.number,
                "stage": st.id,
                "title": st.title,
                "purpose": st.purpose,
                "services": [
                    s.to_dict()
                    | {
                        "role": s.role_in(st.id),
                        "available_tools": [t for t in s.tools if t in available],
                    }
                    for s in services
                ],
            }
            typer.echo(json.dumps(out, indent=2))
            return
        typer.echo(f"{st.number}. {st.title} — {st.purpose}\n")
        for svc in services:
            tools = [t for t in svc.tools if t in available]
            typer.echo(svc.name)
            typer.echo(f"  what:     {svc.role_in(st.id)}")
            typer.echo(f"  use when: {svc.use_when}")
            typer.echo(f"  not when: {svc.avoid_when}")
            typer.echo(f"  billing:  {svc.billing}")
            if tools:
                typer.echo(f"  tools:    {', '.join(tools)}")
            if svc.console:
                typer.echo(f"  console:  {svc.console}")
            elif not tools:
                typer.echo("  tools:    none in this build yet")
            typer.echo("")


def _registered() -> set[str]:
    from tools.core.registry import load_all

    return {s.name for s in load_all().all()}
