"""Endpoint invocation metrics in CloudWatch, as SageMaker publishes them: namespace
`AWS/SageMaker`, dimensions `EndpointName` and `VariantName`:

- `Invocations` (Count; Sum is the number of requests), `InvocationsPerInstance`,
- `ModelLatency` and `OverheadLatency` (Microseconds),
- `Invocation4XXErrors` / `Invocation5XXErrors` (Count; one datum per request, 1 for an error
  and 0 otherwise, so Sum counts errors and Average is the error rate).

Values are aggregated in memory and put about once a second (SageMaker: once a minute).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

NAMESPACE = "AWS/SageMaker"


@dataclass
class _Series:
    invocations: int = 0
    model_us: list[float] = field(default_factory=list)
    overhead_us: list[float] = field(default_factory=list)
    errors_4xx: int = 0
    errors_5xx: int = 0
    instances: int = 1


class InvocationMetrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._series: dict[tuple[str, str, str], _Series] = {}

    def add(self, region: str, endpoint: str, variant: str, *, model_us: float | None,
            overhead_us: float, status: int, instances: int = 1) -> None:  # fmt: skip
        """One request the variant answered (`status` is the container's HTTP status)."""
        with self._lock:
            series = self._series.setdefault((region, endpoint, variant), _Series())
            series.invocations += 1
            series.instances = max(1, instances)
            if model_us is not None:
                series.model_us.append(float(model_us))
            series.overhead_us.append(float(overhead_us))
            if 400 <= status < 500:
                series.errors_4xx += 1
            elif status >= 500:
                series.errors_5xx += 1

    def flush(self, put: Callable[[str, list[dict[str, Any]]], None]) -> int:
        """Put the aggregated data with `put(region, metric_data)`; returns datums sent."""
        with self._lock:
            drained, self._series = self._series, {}
        now = datetime.now(UTC)
        sent = 0
        by_region: dict[str, list[dict[str, Any]]] = {}
        for (region, endpoint, variant), series in drained.items():
            dims = [{"Name": "EndpointName", "Value": endpoint},
                    {"Name": "VariantName", "Value": variant}]  # fmt: skip
            data = [{"MetricName": name, "Dimensions": dims, "Timestamp": now, "Unit": unit,
                     "Values": [v for v, c in pairs if c > 0],
                     "Counts": [float(c) for _, c in pairs if c > 0]}
                    for name, pairs, unit in _datums(series)]  # fmt: skip
            by_region.setdefault(region, []).extend(d for d in data if d["Values"])
        for region, data in by_region.items():
            for start in range(0, len(data), 500):
                put(region, data[start : start + 500])
                sent += len(data[start : start + 500])
        return sent


def _datums(series: _Series) -> list[tuple[str, list[tuple[float, float]], str]]:
    """(metric, [(value, count)], unit) for one variant's aggregated requests; a zero count
    carries nothing and is left out."""
    count = series.invocations
    out = [
        ("Invocations", [(1.0, count)], "Count"),
        ("InvocationsPerInstance", [(1.0 / series.instances, count)], "Count"),
        ("Invocation4XXErrors", [(1.0, series.errors_4xx), (0.0, count - series.errors_4xx)], "Count"),
        ("Invocation5XXErrors", [(1.0, series.errors_5xx), (0.0, count - series.errors_5xx)], "Count"),
    ]  # fmt: skip
    if series.model_us:
        out.append(("ModelLatency", [(v, 1) for v in series.model_us], "Microseconds"))
    if series.overhead_us:
        out.append(("OverheadLatency", [(v, 1) for v in series.overhead_us], "Microseconds"))
    return out
