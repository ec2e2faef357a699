"""Prices for cost estimates: a dated table shipped with the package, optionally refreshed.

An estimate is only as good as its price, so every figure carries its source and date, and an
unknown price is reported as unknown, never as zero.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

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
            data = json.loads(
                resources.files("tools.cost").joinpath("data/prices.json").read_text()
            )
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


def unit_price(key: str, region: str) -> PriceQuote | None:
    return table().unit(key, region)


def instance_hourly(instance_type: str, component: Component, region: str) -> PriceQuote | None:
    return table().instance_hourly(instance_type, component, region)
