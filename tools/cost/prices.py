"""Prices for cost estimates: a dated table shipped with the package, optionally refreshed.

An estimate is only as good as its price, so every figure carries its source and date, and an
unknown price is reported as unknown, never as zero.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from tools.base import CostEstimate

Component = Literal["training", "hosting", "processing", "transform", "notebook"]
COMPONENT_WORDS: dict[str, str] = {
    "training": "training",
    "hosting": "hosting",
    "processing": "processing",
    "transform": "batch transform",
    "notebook": "notebook",
}
SPOT_SAVING = (0.5, 0.9)  # managed spot typically saves 50-90 % of on-demand


@dataclass(frozen=True)
class PriceQuote:
    usd: float
    unit: str
    source: str
    price_date: str


class PriceTable:
    """The bundled table overlaid with a refreshed cache when one exists."""

    def __init__(self, data: dict[str, Any], cache: dict[str, Any] | None = None) -> None:
        self.data = data
        self.cache = cache or {}

    @property
    def price_date(self) -> str:
        return str(self.data.get("price_date", ""))

    def regions(self) -> list[str]:
        return sorted(self.data["regions"])

    def instance_types(
        self, region: str = "us-east-1", component: Component | None = None
    ) -> list[str]:
        rows = self.data["regions"].get(region, self.data["regions"]["us-east-1"])["instances"]
        cached = (self.cache.get("regions", {}).get(region, {}) or {}).get("instances", {})
        names = set(rows) | set(cached)
        if component:
            names = {
                n for n in names if component in rows.get(n, {}) or component in cached.get(n, {})
            }
        return sorted(names, key=_instance_sort_key)

    def instance_hourly(
        self, instance_type: str, component: Component, region: str
    ) -> PriceQuote | None:
        cached = ((self.cache.get("regions", {}).get(region) or {}).get("instances") or {}).get(
            instance_type, {}
        )
        if component in cached:
            return PriceQuote(
                float(cached[component]),
                "hour",
                "AWS Price List API (cached)",
                str(self.cache.get("fetched_at", ""))[:10],
            )
        region_data = self.data["regions"].get(region)
        if region_data is None:
            return None
        row = region_data["instances"].get(instance_type, {})
        if component not in row:
            return None
        return PriceQuote(float(row[component]), "hour", region_data["source"], self.price_date)

    def unit(self, key: str, region: str) -> PriceQuote | None:
        cached = ((self.cache.get("regions", {}).get(region) or {}).get("units") or {}).get(key)
        if cached is not None:
            return PriceQuote(
                float(cached),
                key,
                "AWS Price List API (cached)",
                str(self.cache.get("fetched_at", ""))[:10],
            )
        region_data = self.data["regions"].get(region)
        if region_data is None or key not in region_data["units"]:
            return None
        return PriceQuote(
            float(region_data["units"][key]), key, region_data["source"], self.price_date
        )

    def minimum(self, key: str) -> float:
        return float(self.data.get("minimums", {}).get(key, 0))


def _instance_sort_key(name: str) -> tuple[str, int, str]:
    parts = name.split(".")
    size = parts[2] if len(parts) > 2 else ""
    order = ["medium", "large", "xlarge"]
    if size in order:
        rank = order.index(size)
    else:
        digits = "".join(ch for ch in size if ch.isdigit())
        rank = 2 + int(digits or 0)
    return (parts[1] if len(parts) > 1 else name, rank, size)


_table: PriceTable | None = None
_lock = threading.Lock()
_cache_path: Path | None = None


def set_cache_path(path: Path | None) -> None:
    """Where `sagecoach prices refresh` writes; read on next table load."""
    global _cache_path, _table
    with _lock:
        _cache_path = path
        _table = None


def table() -> PriceTable:
    global _table
    with _lock:
        if _table is None:
            data = json.loads(resources.files("tools").joinpath("data/prices.json").read_text())
            cache = None
            if _cache_path is not None and _cache_path.is_file():
                try:
                    cache = json.loads(_cache_path.read_text())
                except (OSError, ValueError):
                    cache = None
            _table = PriceTable(data, cache)
        return _table


def known_instance_types(component: Component, region: str = "us-east-1") -> list[str]:
    return table().instance_types(region, component)


def check_instance_for(component: Component, instance_type: str, region: str = "us-east-1") -> str:
    """Raise ValueError when the instance type is not offered for the component (e.g. ml.t3 training)."""
    offered = known_instance_types(component, region) or known_instance_types(component)
    if instance_type in offered:
        return instance_type
    family = ".".join(instance_type.split(".")[:2])
    same_family = [t for t in offered if t.startswith(family + ".")]
    hint = (
        f" ({', '.join(same_family[:4])} are)"
        if same_family
        else f" (for example {', '.join(offered[:3])})"
    )
    raise ValueError(
        f"{instance_type} is not a known SageMaker {COMPONENT_WORDS[component]} instance type{hint}"
    )


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


def unit_price(key: str, region: str) -> PriceQuote | None:
    return table().unit(key, region)


def instance_hourly(instance_type: str, component: Component, region: str) -> PriceQuote | None:
    return table().instance_hourly(instance_type, component, region)


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
