"""Data-quality checks of Model Monitor: the current data's statistics against the baseline's
constraints and statistics, giving constraint_violations.json entries (feature_name,
constraint_check_type, description) and the per-feature drift distances the metrics carry.

Checks: data_type_check, completeness_check, baseline_drift_check (numeric: the largest gap
between the two cumulative distributions; strings: the L-infinity distance between category
shares), missing_column_check, extra_column_check, categorical_values_check.
"""

from __future__ import annotations

from typing import Any

from sandbox.engine.monitor.stats import present_values, type_match


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def _sketch(feature: dict[str, Any]) -> list[float]:
    kll = feature.get("numerical_statistics", {}).get("distribution", {}).get("kll", {})
    data = kll.get("sketch", {}).get("data") or [[]]
    return [float(v) for part in data for v in part]


def _categories(feature: dict[str, Any]) -> dict[str, float]:
    block = feature.get("string_statistics", {})
    buckets = block.get("distribution", {}).get("categorical", {}).get("buckets", [])
    total = sum(b["count"] for b in buckets) or 1
    return {str(b["value"]): b["count"] / total for b in buckets}


def numeric_distance(baseline: list[float], current: list[float]) -> float:
    """The largest gap between the two empirical CDFs (0: same distribution, 1: disjoint)."""
    import numpy as np

    if not baseline or not current:
        return 0.0
    a, b = np.sort(np.asarray(baseline)), np.sort(np.asarray(current))
    points = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, points, side="right") / len(a)
    cdf_b = np.searchsorted(b, points, side="right") / len(b)
    return float(np.max(np.abs(cdf_a - cdf_b)))


def categorical_distance(baseline: dict[str, float], current: dict[str, float]) -> float:
    keys = set(baseline) | set(current)
    return max((abs(baseline.get(k, 0.0) - current.get(k, 0.0)) for k in keys), default=0.0)


def check(
    frame: Any,
    current_stats: dict[str, Any],
    constraints: dict[str, Any],
    baseline_stats: dict[str, Any] | None,
) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """(violations, drift distance per feature)."""
    config = constraints.get("monitoring_config") or {}
    if str(config.get("evaluate_constraints", "Enabled")) == "Disabled":
        return [], {}
    distribution = config.get("distribution_constraints") or {}
    threshold = float(distribution.get("comparison_threshold", 0.1))
    categorical_threshold = float(distribution.get("categorical_comparison_threshold", threshold))
    type_threshold = float(config.get("datatype_check_threshold", 1.0))
    domain_threshold = float(config.get("domain_content_threshold", 1.0))
    compare = str(distribution.get("perform_comparison", "Enabled")) == "Enabled"
    expected = constraints.get("features") or []
    violations: list[dict[str, Any]] = []
    drift: dict[str, float] = {}
    columns = [str(c) for c in frame.columns]
    if len(columns) < len(expected):
        violations.append({
            "feature_name": expected[len(columns)]["name"],
            "constraint_check_type": "missing_column_check",
            "description": "There are missing columns in current dataset. Number of columns in "
            f"current dataset: {len(columns)}, Number of columns in baseline constraints: "
            f"{len(expected)}",
        })  # fmt: skip
    elif len(columns) > len(expected):
        violations.append({
            "feature_name": columns[len(expected)],
            "constraint_check_type": "extra_column_check",
            "description": "There are extra columns in current dataset. Number of columns in "
            f"current dataset: {len(columns)}, Number of columns in baseline constraints: "
            f"{len(expected)}",
        })  # fmt: skip
    current_by_name = {f["name"]: f for f in current_stats.get("features", [])}
    baseline_by_name = {f["name"]: f for f in (baseline_stats or {}).get("features", [])}
    for feature in expected:
        name = feature["name"]
        if name not in columns:
            continue
        values = present_values(frame[name])
        kind = feature.get("inferred_type", "String")
        matched = type_match(values, kind)
        if kind != "String" and matched < type_threshold:
            violations.append({
                "feature_name": name,
                "constraint_check_type": "data_type_check",
                "description": f"Data type match requirement is not met. Expected data type: "
                f"{kind}, Expected match: {_pct(type_threshold)}. Observed: Only "
                f"{_pct(matched)} of data is {kind}.",
            })  # fmt: skip
        completeness = len(values) / len(frame) if len(frame) else 1.0
        required = float(feature.get("completeness", 1.0))
        if completeness < required:
            violations.append({
                "feature_name": name,
                "constraint_check_type": "completeness_check",
                "description": f"Data completeness requirement is not met. Expected: "
                f"{_pct(required)}. Observed: Only {_pct(completeness)} of data is non-null.",
            })  # fmt: skip
        domains = (feature.get("string_constraints") or {}).get("domains")
        if domains is not None and values:
            inside = sum(v in set(domains) for v in values) / len(values)
            if inside < domain_threshold:
                violations.append({
                    "feature_name": name,
                    "constraint_check_type": "categorical_values_check",
                    "description": f"Data domain requirement is not met. Expected: "
                    f"{_pct(domain_threshold)} of values in the baseline's domain. Observed: "
                    f"Only {_pct(inside)} of data is in the domain.",
                })  # fmt: skip
        base = baseline_by_name.get(name)
        now = current_by_name.get(name)
        if not (compare and base and now):
            continue
        if "numerical_statistics" in base and "numerical_statistics" in now:
            distance, limit = numeric_distance(_sketch(base), _sketch(now)), threshold
        else:
            distance = categorical_distance(_categories(base), _categories(now))
            limit = categorical_threshold
        drift[name] = distance
        if distance > limit:
            violations.append({
                "feature_name": name,
                "constraint_check_type": "baseline_drift_check",
                "description": f"Baseline drift distance: {distance} exceeds threshold: {limit}",
            })  # fmt: skip
    return violations, drift
