"""Cost estimates from the price table: instance-hours, hourly resources, units, Athena scans.

Each figure says its arithmetic (basis), source and price date; an unknown price stays unknown.
"""

from __future__ import annotations

import math

from tools.core.results import CostEstimate
from tools.cost.prices import COMPONENT_WORDS, SPOT_SAVING, Component, table


def _fmt_rate(usd: float) -> str:
    """Enough significant digits that a tiny unit price never reads as $0."""
    if usd >= 0.1:
        return f"${usd:,.3f}".rstrip("0").rstrip(".")
    if usd >= 0.0001:
        return f"${usd:,.4f}".rstrip("0").rstrip(".")
    if usd <= 0:
        return "$0"
    decimals = -math.floor(math.log10(usd)) + 2  # three significant digits
    return f"${usd:.{decimals}f}".rstrip("0").rstrip(".")


def estimate_instances(
    instance_type: str,
    count: int,
    max_hours: float,
    component: Component,
    region: str,
    *,
    min_hours: float | None = None,
    spot: bool = False,
    jobs: int = 1,
) -> CostEstimate:
    """instance × count × hours × price; `jobs` multiplies for tuning; the low end assumes min_hours."""
    quote = table().instance_hourly(instance_type, component, region)
    jobs_text = f"{jobs} jobs × " if jobs > 1 else ""
    if quote is None:
        return CostEstimate.unknown(
            f"{jobs_text}{count} × {instance_type} × up to {max_hours:g} h; no {COMPONENT_WORDS[component]} price for {region}"
        )
    hourly = quote.usd * count
    high = hourly * max_hours * jobs
    low = (
        hourly
        * (min_hours if min_hours is not None else min(max_hours, 0.1))
        * (1 if jobs == 1 else jobs)
    )
    notes: list[str] = ["billed per second while running"]
    basis = (
        f"{jobs_text}{count} × {instance_type} × up to {max_hours:g} h × {_fmt_rate(quote.usd)}/h"
    )
    if spot:
        low, high = low * (1 - SPOT_SAVING[1]), high * (1 - SPOT_SAVING[0])
        basis += " with managed spot (50–90 % off)"
        notes.append("spot capacity may be interrupted; max wait time applies")
    return CostEstimate(
        round(low, 4), round(high, 4), basis, quote.source, quote.price_date, notes=tuple(notes)
    )


def estimate_hourly_resource(instance_type: str, count: int, region: str) -> CostEstimate:
    """For endpoints: bills every hour until deleted. Range: one hour to one day."""
    quote = table().instance_hourly(instance_type, "hosting", region)
    if quote is None:
        return CostEstimate.unknown(f"{count} × {instance_type} hosting; no price for {region}")
    hourly = quote.usd * count
    return CostEstimate(
        round(hourly, 4),
        round(hourly * 24, 4),
        f"{count} × {instance_type} × {_fmt_rate(quote.usd)}/h = {_fmt_rate(hourly)}/h, "
        f"${hourly * 24:,.2f}/day, ${hourly * 24 * 30:,.0f}/month; shown: first hour to first day",
        quote.source,
        quote.price_date,
        hourly_usd=round(hourly, 4),
        notes=("runs until deleted",),
    )


def estimate_units(
    key: str, quantity_low: float, quantity_high: float, region: str, describe: str
) -> CostEstimate:
    """quantity × unit price, e.g. DPU-hours, TB scanned, GB-seconds."""
    quote = table().unit(key, region)
    if quote is None:
        return CostEstimate.unknown(f"{describe}; no price for {key} in {region}")
    return CostEstimate(
        round(quantity_low * quote.usd, 6),
        round(quantity_high * quote.usd, 6),
        f"{describe} × {_fmt_rate(quote.usd)} per {key.replace('_', ' ')}",
        quote.source,
        quote.price_date,
    )


MIB = 1024**2
TIB = 1024**4


def estimate_athena_scan(bytes_high: int, region: str, *, bytes_low: int = 0) -> CostEstimate:
    """An Athena query: bytes scanned, rounded up to the MB with the per-query minimum, × $/TB."""
    quote = table().unit("athena_tb_scanned", region)
    minimum = int(table().minimum("athena_mb") * MIB)
    if quote is None:
        return CostEstimate.unknown(
            f"up to {bytes_high:,} bytes scanned; no Athena price for {region}"
        )

    def billed(n: int) -> int:
        return max(-(-max(n, 0) // MIB) * MIB, minimum)

    low, high = billed(bytes_low), billed(bytes_high)
    return CostEstimate(
        round(low / TIB * quote.usd, 10),
        round(high / TIB * quote.usd, 10),
        f"up to {high / MIB:,.0f} MB scanned (rounded up to the MB, {minimum // MIB} MB minimum) "
        f"× {_fmt_rate(quote.usd)}/TB",
        quote.source,
        quote.price_date,
    )


def usd(value: float | None) -> str:
    """Dollars for a message: cents under $1 get four decimals, unknown says so."""
    if value is None:
        return "unknown"
    if value == 0:
        return "$0"
    if value < 0.005:
        return "<$0.01"  # never "$0.0000" for something that costs
    return f"${value:,.4f}" if value < 1 else f"${value:,.2f}"
