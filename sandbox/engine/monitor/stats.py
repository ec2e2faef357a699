"""Statistics and suggested constraints of a table, in the layout of SageMaker Model Monitor's
analyzer (statistics.json, constraints.json; "version": 0.0).

Per column: the inferred type (Integral, Fractional or String), completeness, numeric summary
with a 10-bucket histogram and the raw-value sketch (KLL in the real analyzer; exact values, at
most 2048 of them, here), or the distinct values of a string column with their counts.
"""

from __future__ import annotations

from typing import Any

SKETCH_LIMIT = 2048
DOMAIN_LIMIT = 20  # string columns with at most this many values get a domain constraint
MONITORING_CONFIG = {
    "evaluate_constraints": "Enabled",
    "emit_metrics": "Enabled",
    "datatype_check_threshold": 1.0,
    "domain_content_threshold": 1.0,
    "distribution_constraints": {
        "perform_comparison": "Enabled",
        "comparison_threshold": 0.1,
        "comparison_method": "Robust",
        "categorical_comparison_threshold": 0.1,
        "categorical_drift_method": "LInfinity",
    },
}


def _is_int(text: str) -> bool:
    try:
        int(text)
        return True
    except ValueError:
        try:
            value = float(text)
        except ValueError:
            return False
        return value.is_integer() and "." not in text and "e" not in text.lower()


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def present_values(series: Any) -> list[str]:
    """The column's non-empty cells as text."""
    return [
        str(v).strip()
        for v in series.tolist()
        if v is not None and str(v).strip() not in ("", "nan", "None")
    ]


def infer_type(values: list[str]) -> str:
    if not values:
        return "Unknown"
    if all(_is_int(v) for v in values):
        return "Integral"
    if all(_is_number(v) for v in values):
        return "Fractional"
    return "String"


def type_match(values: list[str], expected: str) -> float:
    """The share of values of the expected type (an integer counts as Fractional too)."""
    if not values:
        return 1.0
    if expected == "Integral":
        good = sum(_is_int(v) for v in values)
    elif expected == "Fractional":
        good = sum(_is_number(v) for v in values)
    else:
        good = len(values)
    return good / len(values)


def _numeric(name: str, kind: str, values: list[str], total: int) -> dict[str, Any]:
    import numpy as np

    numbers = np.array([float(v) for v in values if _is_number(v)], dtype=float)
    low, high = (float(numbers.min()), float(numbers.max())) if numbers.size else (0.0, 0.0)
    edges = np.linspace(low, high, 11) if high > low else np.array([low] * 11)
    counts = np.histogram(numbers, bins=10, range=(low, high if high > low else low + 1))[0]
    buckets = [
        {"lower_bound": float(edges[i]), "upper_bound": float(edges[i + 1]), "count": float(c)}
        for i, c in enumerate(counts)
    ]
    sketch = numbers if numbers.size <= SKETCH_LIMIT else np.random.default_rng(0).choice(
        numbers, SKETCH_LIMIT, replace=False
    )  # fmt: skip
    return {
        "name": name,
        "inferred_type": kind,
        "numerical_statistics": {
            "common": {"num_present": len(values), "num_missing": total - len(values)},
            "mean": float(numbers.mean()) if numbers.size else 0.0,
            "sum": float(numbers.sum()),
            "std_dev": float(numbers.std()) if numbers.size else 0.0,
            "min": low,
            "max": high,
            "distribution": {
                "kll": {
                    "buckets": buckets,
                    "sketch": {"parameters": {"c": 0.64, "k": 2048.0},
                               "data": [[float(v) for v in sketch]]},
                }
            },
        },
    }  # fmt: skip


def _string(name: str, values: list[str], total: int) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return {
        "name": name,
        "inferred_type": "String",
        "string_statistics": {
            "common": {"num_present": len(values), "num_missing": total - len(values)},
            "distinct_count": float(len(counts)),
            "distribution": {
                "categorical": {"buckets": [{"value": v, "count": c} for v, c in ranked]}
            },
        },
    }


def feature_statistics(name: str, series: Any) -> dict[str, Any]:
    values = present_values(series)
    kind = infer_type(values)
    if kind in ("Integral", "Fractional"):
        return _numeric(name, kind, values, len(series))
    entry = _string(name, values, len(series))
    entry["inferred_type"] = kind if kind != "Unknown" else "String"
    return entry


def statistics(frame: Any) -> dict[str, Any]:
    return {
        "version": 0.0,
        "dataset": {"item_count": len(frame)},
        "features": [feature_statistics(str(c), frame[c]) for c in frame.columns],
    }


def constraints(stats: dict[str, Any]) -> dict[str, Any]:
    """The constraints the analyzer suggests from a baseline's statistics."""
    features = []
    for feature in stats["features"]:
        kind = feature["inferred_type"]
        block = feature.get("numerical_statistics") or feature.get("string_statistics") or {}
        common = block.get("common", {})
        total = common.get("num_present", 0) + common.get("num_missing", 0)
        entry: dict[str, Any] = {
            "name": feature["name"],
            "inferred_type": kind,
            "completeness": (common.get("num_present", 0) / total) if total else 1.0,
        }
        if "numerical_statistics" in feature:
            entry["num_constraints"] = {"is_non_negative": block.get("min", 0) >= 0}
        else:
            buckets = block.get("distribution", {}).get("categorical", {}).get("buckets", [])
            if len(buckets) <= DOMAIN_LIMIT:
                entry["string_constraints"] = {"domains": [b["value"] for b in buckets]}
        features.append(entry)
    return {"version": 0.0, "features": features, "monitoring_config": dict(MONITORING_CONFIG)}
