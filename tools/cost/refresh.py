"""Refresh SageMaker instance prices from the AWS Price List API into a cache file.

`pricing:GetProducts` with ServiceCode `AmazonSageMaker`, productFamily `ML Instance`, per
region. Each product's `usagetype` (e.g. `USE1-Host:ml.m5.xlarge`) names the component by its
infix: Train, Host, Processing, Tsform (batch transform), Notebk (notebook). The cache is what
`tools.cost.prices.set_cache_path()` overlays on the bundled, dated table.

moto has no pricing backend, so this never runs in the sandbox (the command refuses).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tools.cost import prices

SERVICE_CODE = "AmazonSageMaker"
PRODUCT_FAMILY = "ML Instance"
PRICING_API_REGION = "us-east-1"  # the Price List API lives in a few regions; the data is global
# usagetype infix -> the table's component name. Others (TrSpt spot, AsyncInf, Studio...) are skipped.
INFIX_COMPONENT: dict[str, str] = {
    "Train": "training",
    "Host": "hosting",
    "Processing": "processing",
    "Tsform": "transform",
    "Notebk": "notebook",
}
CACHE_NAME = "prices.json"


def cache_path(state_dir: Path) -> Path:
    return Path(state_dir) / "cache" / CACHE_NAME


def use_cache(state_dir: Path) -> Path:
    """Point the price table at this state directory's cache (a missing file is fine)."""
    path = cache_path(state_dir)
    prices.set_cache_path(path)
    return path


def parse_usagetype(usagetype: str) -> tuple[str, str] | None:
    """'USE1-Host:ml.m5.xlarge' -> ('hosting', 'ml.m5.xlarge'); None for other components."""
    if ":" not in usagetype:
        return None
    head, instance = usagetype.split(":", 1)
    infix = head.rsplit("-", 1)[-1] if "-" in head else head
    component = INFIX_COMPONENT.get(infix)
    if component is None or not instance.startswith("ml."):
        return None
    return component, instance


def hourly_usd(item: dict[str, Any]) -> float | None:
    """The on-demand hourly price: the smallest non-zero USD rate in `Hrs` (skips free tiers)."""
    rates: list[float] = []
    for term in (item.get("terms", {}).get("OnDemand") or {}).values():
        for dim in (term.get("priceDimensions") or {}).values():
            unit = str(dim.get("unit", "")).lower()
            if unit not in ("hrs", "hours", "hour", "hr"):
                continue
            try:
                usd = float(dim.get("pricePerUnit", {}).get("USD", ""))
            except ValueError:
                continue
            if usd > 0:
                rates.append(usd)
    return min(rates) if rates else None


def parse_price_item(raw: str | dict[str, Any], region: str) -> tuple[str, str, float] | None:
    """One PriceList entry -> (instance type, component, USD/hour), or None when not usable."""
    item = json.loads(raw) if isinstance(raw, str) else raw
    product = item.get("product", {})
    if product.get("productFamily") != PRODUCT_FAMILY:
        return None
    attrs = product.get("attributes", {})
    if attrs.get("regionCode", region) != region:
        return None
    if attrs.get("locationType", "AWS Region") != "AWS Region":
        return None
    parsed = parse_usagetype(str(attrs.get("usagetype", "")))
    if parsed is None:
        return None
    component, instance = parsed
    instance = attrs.get("instanceName") or instance
    usd = hourly_usd(item)
    if usd is None:
        return None
    return instance, component, usd


@dataclass
class RefreshReport:
    path: Path
    fetched_at: str
    regions: dict[str, int] = field(default_factory=dict)  # region -> instance types priced
    prices: int = 0
    skipped: int = 0

    def summary(self) -> str:
        per_region = ", ".join(f"{r}: {n} instance types" for r, n in self.regions.items())
        return (
            f"{self.prices} prices from the AWS Price List API ({per_region}); "
            f"{self.skipped} other SKUs skipped; written to {self.path}"
        )


def fetch_region(
    client: Any, region: str, *, progress: Callable[[str], None] | None = None
) -> tuple[dict[str, dict[str, float]], int]:
    """All SageMaker ML-instance hourly prices for a region: {instance: {component: usd}}."""
    instances: dict[str, dict[str, float]] = {}
    skipped = 0
    paginator = client.get_paginator("get_products")
    pages = paginator.paginate(
        ServiceCode=SERVICE_CODE,
        Filters=[
            {"Type": "TERM_MATCH", "Field": "productFamily", "Value": PRODUCT_FAMILY},
            {"Type": "TERM_MATCH", "Field": "regionCode", "Value": region},
        ],
        FormatVersion="aws_v1",
    )
    for number, page in enumerate(pages, 1):
        for raw in page.get("PriceList", []):
            parsed = parse_price_item(raw, region)
            if parsed is None:
                skipped += 1
                continue
            instance, component, usd = parsed
            row = instances.setdefault(instance, {})
            # Two SKUs for the same component (rare): keep the lower, as the console shows.
            row[component] = min(usd, row.get(component, usd))
        if progress is not None:
            progress(f"{region}: page {number}, {len(instances)} instance types so far")
    return instances, skipped


def refresh(
    client: Any,
    regions: Iterable[str],
    path: Path,
    *,
    progress: Callable[[str], None] | None = None,
    now: datetime | None = None,
) -> RefreshReport:
    """Fetch each region and merge into the cache at `path` (other regions' entries are kept)."""
    fetched_at = (now or datetime.now(UTC)).isoformat(timespec="seconds").replace("+00:00", "Z")
    cache: dict[str, Any] = {}
    if path.is_file():
        try:
            cache = json.loads(path.read_text())
        except (OSError, ValueError):
            cache = {}
    cache.setdefault("regions", {})
    report = RefreshReport(path, fetched_at)
    for region in regions:
        instances, skipped = fetch_region(client, region, progress=progress)
        report.skipped += skipped
        if not instances:
            raise RuntimeError(
                f"the Price List API returned no SageMaker instance prices for {region}; "
                "is the region name right?"
            )
        entry = cache["regions"].setdefault(region, {})
        entry["instances"] = dict(sorted(instances.items()))
        entry["fetched_at"] = fetched_at
        report.regions[region] = len(instances)
        report.prices += sum(len(v) for v in instances.values())
    cache["fetched_at"] = fetched_at
    cache["source"] = "AWS Price List API (pricing:GetProducts, AmazonSageMaker, ML Instance)"
    _write_atomically(path, cache)
    prices.set_cache_path(path)  # later estimates in this process use the new prices
    return report


def _write_atomically(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".prices-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=1, sort_keys=True)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def read_cache(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None
