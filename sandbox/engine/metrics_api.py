"""SageMaker Metrics (`sagemaker-metrics` BatchGetMetrics / BatchPutMetrics): every value a
training job's metric definitions matched, by iteration or time, as SageMaker keeps them for
jobs with EnableSageMakerMetricsTimeSeries; trial components (SageMaker Experiments) can put
their own. moto has no such service; the engine answers it, and keeps the series with the
sandbox's state."""

from __future__ import annotations

import math
import statistics
import threading
from typing import Any

from sandbox.engine.core import Engine
from sandbox.engine.cwlogs import MetricCollector
from sandbox.engine.dispatch import HOOKS, ApiError, Call, Reply

KEY = "sagemaker-metrics"
_PERIODS = {"OneMinute": 60, "FiveMinute": 300, "OneHour": 3600}
_LOCK = threading.Lock()

HOOKS.route("sagemaker-metrics", "BatchGetMetrics", "POST", r"^/BatchGetMetrics$")
HOOKS.route("sagemaker-metrics", "BatchPutMetrics", "PUT", r"^/BatchPutMetrics$")

Series = dict[str, dict[str, list[tuple[float, int, float]]]]  # arn → metric → (ts, step, value)


def attach(engine: Engine) -> None:
    """Keep the series across restarts with the rest of the state."""
    engine.extensions.setdefault(KEY, {})
    if engine.persistence is not None:
        engine.persistence.register(KEY, lambda: _store(engine), lambda data: _load(engine, data))


def _store(engine: Engine) -> Series:
    return engine.extensions.setdefault(KEY, {})


def _load(engine: Engine, data: Any) -> None:
    if isinstance(data, dict):
        engine.extensions[KEY] = data


def record_job(engine: Engine, arn: str, metrics: MetricCollector) -> None:
    """A finished job's values (called by the training job)."""
    with _LOCK:
        store = _store(engine)
        store[arn] = {
            name: [(ts.timestamp(), step, value) for (ts, value), step
                   in zip(points, metrics.steps.get(name, []), strict=False)]
            for name, points in metrics.series.items()
        }  # fmt: skip


def _aggregate(values: list[float], stat: str) -> float:
    if stat == "Min":
        return min(values)
    if stat == "Max":
        return max(values)
    if stat == "Count":
        return float(len(values))
    if stat == "StdDev":
        return statistics.pstdev(values) if len(values) > 1 else 0.0
    if stat == "Last":
        return values[-1]
    return sum(values) / len(values)


def _query(store: Series, query: dict[str, Any]) -> dict[str, Any]:
    points = store.get(query.get("ResourceArn", ""), {}).get(query.get("MetricName", ""))
    if points is None:
        return {"Status": "ValidationError", "Message": "No metric data found for this query.",
                "XAxisValues": [], "MetricValues": []}  # fmt: skip
    start, end = query.get("Start"), query.get("End")
    chosen = [
        p for p in points if (start is None or p[0] >= start) and (end is None or p[0] <= end)
    ]
    period = query.get("Period", "IterationNumber")
    buckets: dict[float, list[float]] = {}
    for ts, step, value in chosen:
        if period == "IterationNumber":
            key: float = step
        else:
            width = _PERIODS.get(period, 60)
            key = math.floor(ts / width) * width
        buckets.setdefault(key, []).append(value)
    keys = sorted(buckets)
    x_axis = query.get("XAxisType", "IterationNumber")
    if x_axis == "Timestamp" and period == "IterationNumber":
        first_ts = {}
        for ts, step, _ in chosen:
            first_ts.setdefault(step, ts)
        xs: list[float] = [int(first_ts[k]) for k in keys]
    else:
        xs = [int(k) for k in keys]
    values = [_aggregate(buckets[k], query.get("MetricStat", "Avg")) for k in keys]
    return {"Status": "Complete", "Message": "", "XAxisValues": xs, "MetricValues": values}


@HOOKS.before("sagemaker-metrics", "BatchGetMetrics")
def batch_get_metrics(engine: Engine, call: Call) -> Reply:
    queries = call.params.get("MetricQueries") or []
    if not 1 <= len(queries) <= 100:
        raise ApiError("ValidationException", "MetricQueries must hold 1 to 100 queries.")
    with _LOCK:
        store = _store(engine)
        results = [_query(store, q) for q in queries]
    return Reply({"MetricQueryResults": results}, content_type="application/json")


@HOOKS.before("sagemaker-metrics", "BatchPutMetrics")
def batch_put_metrics(engine: Engine, call: Call) -> Reply:
    name = call.params.get("TrialComponentName", "")
    arn = f"arn:aws:sagemaker:{call.region}:{call.account}:experiment-trial-component/{name}"
    errors = []
    with _LOCK:
        series = _store(engine).setdefault(arn, {})
        for index, datum in enumerate(call.params.get("MetricData") or []):
            try:
                value = float(datum["Value"])
                ts = float(datum["Timestamp"])
            except (KeyError, TypeError, ValueError):
                errors.append({"Code": "VALIDATION_ERROR", "MetricIndex": index})
                continue
            points = series.setdefault(str(datum.get("MetricName", "")), [])
            points.append((ts, int(datum.get("Step", len(points))), value))
    return Reply({"Errors": errors} if errors else {}, content_type="application/json")
