"""`sagecoach tools [--stage S] [--json]`: the registered tools, by stage."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Sequence
from typing import Annotated

import typer


def format_table(
    rows: Sequence[Sequence[object]],
    headers: Sequence[str],
    *,
    width: int | None = None,
    wrap_last: bool = False,
) -> str:
    """A plain-text table; the last column is cut (or wrapped) to fit the terminal width."""
    width = width or output_width()
    cells = [[str(c) for c in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    fixed = sum(widths[:-1]) + 2 * (len(headers) - 1)
    last = max(20, width - fixed)
    widths[-1] = min(widths[-1], last)
    lines = []
    for index, row in enumerate(cells):
        head = "  ".join(c.ljust(w) for c, w in zip(row[:-1], widths[:-1], strict=True))
        text = row[-1]
        pieces = [text]
        if len(text) > widths[-1]:
            pieces = _wrap(text, widths[-1]) if wrap_last else [text[: widths[-1] - 1] + "…"]
        pad = " " * (len(head) + 2) if head else ""
        lines.append((head + "  " if head else "") + pieces[0])
        lines.extend(pad + p for p in pieces[1:])
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def output_width() -> int:
    """COLUMNS, else the terminal's width; output to a pipe or file is not cut short."""
    if os.environ.get("COLUMNS", "").isdigit():
        return int(os.environ["COLUMNS"])
    if sys.stdout.isatty():
        return shutil.get_terminal_size((120, 24)).columns
    return 400


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width) or [""]


def resolve_tool_stage(text: str) -> str | None:
    """A stage as `stages` takes it — id, number or title ('training', '4', 'model
    training') — or 'general' for the knowledge and session tools; None when unknown."""
    from tools.catalog import lookup
    from tools.core.stages import STAGE_TITLES

    key = text.strip().lower()
    if key in STAGE_TITLES:
        return key
    stage = lookup.get_stage(key)
    return stage.id if stage is not None else None


def register(app: typer.Typer) -> None:
    @app.command("tools")
    def tools_command(
        stage: Annotated[
            str | None,
            typer.Option(
                "--stage", help="Only this stage: id, number or title (training, 4, general)."
            ),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """List the tools the assistant can call: name, stage, risk, description."""
        from tools.core.registry import load_all
        from tools.core.stages import STAGE_TITLES

        registry = load_all()
        order = list(STAGE_TITLES)
        specs = registry.all()
        if stage:
            stage_id = resolve_tool_stage(stage)
            if stage_id is None:
                typer.echo(
                    f"sagecoach: unknown stage '{stage}' (stages: {', '.join(order)}, or 1-9)",
                    err=True,
                )
                raise typer.Exit(2)
            specs = [s for s in specs if s.stage == stage_id]
        specs.sort(key=lambda s: (order.index(s.stage), s.name))
        if as_json:
            out = [
                {
                    "name": s.name,
                    "stage": s.stage,
                    "risk": s.risk,
                    "description": s.description,
                    "operations": list(s.operations),
                }
                for s in specs
            ]
            typer.echo(json.dumps(out, indent=2))
            return
        if not specs:
            typer.echo("No tools registered for that stage yet.")
            return
        rows = [(s.name, s.stage, s.risk, s.description) for s in specs]
        typer.echo(format_table(rows, ("TOOL", "STAGE", "RISK", "DESCRIPTION")))
        typer.echo(f"\n{len(specs)} tools. Risk: read runs freely; others ask first (see --mode).")
