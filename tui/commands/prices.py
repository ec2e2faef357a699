"""`sagecoach prices show` and `sagecoach prices refresh`: the price table behind cost estimates."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from tui.cli_options import ProfileOpt, RegionOpt, SandboxOpt, settings_or_exit

prices_app = typer.Typer(
    help="The dated price table used for cost estimates, and its refresh from AWS.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
COMPONENTS = ("training", "processing", "hosting", "transform", "notebook")


def _rate(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.4f}".rstrip("0").rstrip(".") if value < 1 else f"{value:.3f}"


@prices_app.command("show")
def show(
    region: RegionOpt = None,
    family: Annotated[
        str | None, typer.Option("--family", help="Only instance types containing this, e.g. g5.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show SageMaker instance prices (USD/hour) and per-use prices for a region."""
    from tools.cost import prices
    from tools.cost import refresh as price_refresh

    settings = settings_or_exit(region=region)
    cache = price_refresh.use_cache(settings.state_dir)
    table = prices.table()
    chosen = region or settings.region or "us-east-1"
    bundled_regions = table.regions()
    cached_regions = sorted((table.cache.get("regions") or {}).keys())
    if chosen not in bundled_regions and chosen not in cached_regions:
        typer.echo(
            f"sagecoach: no prices for {chosen} (bundled: {', '.join(bundled_regions)}; "
            "run `sagecoach prices refresh --region REGION` with AWS credentials to add it)",
            err=True,
        )
        raise typer.Exit(2)
    rows = []
    for name in table.instance_types(chosen):
        if family and family not in name:
            continue
        quotes = {c: table.instance_hourly(name, c, chosen) for c in COMPONENTS}  # type: ignore[arg-type]
        rows.append((name, {c: (q.usd if q else None) for c, q in quotes.items()}))
    units = {}
    region_units = (table.data["regions"].get(chosen) or {}).get("units", {})
    for key in sorted(region_units):
        quote = table.unit(key, chosen)
        if quote is not None:
            units[key] = quote.usd
    source = (table.data["regions"].get(chosen) or {}).get("source", "")
    cache_note = (
        f"cache {cache} (fetched {str(table.cache.get('fetched_at', ''))[:10]})"
        if chosen in cached_regions
        else "no refreshed cache for this region"
    )
    if as_json:
        out = {
            "region": chosen,
            "price_date": table.price_date,
            "source": source,
            "cache": str(cache) if chosen in cached_regions else None,
            "instances": {name: comps for name, comps in rows},
            "units": units,
            "minimums": table.data.get("minimums", {}),
        }
        typer.echo(json.dumps(out, indent=2))
        return
    from tui.commands.tools import format_table

    typer.echo(
        f"SageMaker on-demand prices, USD per hour, {chosen}. Bundled table dated "
        f"{table.price_date}; {cache_note}.\n"
    )
    typer.echo(
        format_table(
            [(name, *(_rate(comps[c]) for c in COMPONENTS)) for name, comps in rows],
            ("INSTANCE", "TRAINING", "PROCESSING", "HOSTING", "TRANSFORM", "NOTEBOOK"),
        )
    )
    if units:
        typer.echo("\nPer-use prices:")
        typer.echo(
            format_table(
                [(key, "$" + f"{usd:.10f}".rstrip("0").rstrip(".")) for key, usd in units.items()],
                ("UNIT", "USD"),
                width=80,
            )
        )
    typer.echo("\n— means no such SKU (e.g. ml.t3 has no training price). Estimates never use 0.")


@prices_app.command("refresh")
def refresh(
    region: Annotated[
        list[str] | None,
        typer.Option("--region", help="Region(s) to refresh; default: the bundled regions."),
    ] = None,
    profile: ProfileOpt = None,
    sandbox: SandboxOpt = False,
) -> None:
    """Fetch current SageMaker instance prices from the AWS Price List API (needs credentials)."""
    from agent.environment import choose_sandbox
    from tools.aws.context import AwsContext
    from tools.core.explain import explain_exception
    from tools.cost import prices
    from tools.cost import refresh as price_refresh

    settings = settings_or_exit(profile=profile, sandbox=sandbox)
    use_sandbox, _ = choose_sandbox(settings)
    if use_sandbox:
        why = "--sandbox was given" if settings.sandbox == "on" else "no AWS credentials found"
        typer.echo(
            f"sagecoach: prices refresh needs real AWS ({why}); the sandbox has no Price List "
            f"API. Estimates keep using the bundled table dated {prices.table().price_date}.",
            err=True,
        )
        raise typer.Exit(1)
    regions = region or ([settings.region] if settings.region else prices.table().regions())
    aws = AwsContext(profile=settings.profile, region=settings.region)
    client = aws.client("pricing", region=price_refresh.PRICING_API_REGION)
    path = price_refresh.cache_path(settings.state_dir)
    try:
        report = price_refresh.refresh(
            client, regions, path, progress=lambda msg: typer.echo(msg, err=True)
        )
    except Exception as exc:
        message = explain_exception(exc).message if not isinstance(exc, RuntimeError) else exc
        typer.echo(f"sagecoach: prices refresh failed: {message}", err=True)
        raise typer.Exit(1) from None
    typer.echo(report.summary())


def register(app: typer.Typer) -> None:
    app.add_typer(prices_app, name="prices")
