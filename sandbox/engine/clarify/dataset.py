"""The Clarify container's view of its inputs: the analysis config, the dataset as a table, and
the facet / label columns turned into the boolean groups the metrics compare.

Follows Clarify's rules: a column is categorical unless it is floating point, or integer-like
with at least 5% distinct values (and more than two: a 0/1 column stays categorical in a small
table too) (then it is continuous and its value is a threshold: the group
is (threshold, max]); categorical facets without values are compared one value against all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

UNIQUENESS_THRESHOLD = 0.05


class ConfigError(Exception):
    """A problem with the analysis config or the data the user can fix (a ClientError)."""


def load_config(path: Path) -> dict[str, Any]:
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    named = [p for p in files if p.name == "analysis_config.json"] or files
    if not named:
        raise ConfigError(
            "No analysis configuration: the job needs an input named 'analysis_config' holding "
            "analysis_config.json at /opt/ml/processing/input/config."
        )
    try:
        config = json.loads(named[0].read_text())
    except ValueError as exc:
        raise ConfigError(f"analysis_config.json is not valid JSON: {exc}") from None
    if not isinstance(config, dict):
        raise ConfigError("analysis_config.json must hold a JSON object")
    if not config.get("methods"):
        raise ConfigError("analysis_config.json has no 'methods': nothing to compute")
    return config


def _column_names(
    config: dict[str, Any], first_row: list[str], width: int
) -> tuple[list[str], bool]:
    """(column names, whether the first row is a header row)."""
    headers = config.get("headers")
    if headers:
        if len(headers) != width:
            raise ConfigError(
                f"The analysis config lists {len(headers)} headers but the dataset has {width} "
                f"columns (headers: {', '.join(map(str, headers[:20]))})."
            )
        return [str(h) for h in headers], [c.strip() for c in first_row] == [
            str(h) for h in headers
        ]
    if all(not _is_number(c) for c in first_row):
        return [c.strip() for c in first_row], True
    return [str(i) for i in range(width)], False


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def load_dataset(path: Path, config: dict[str, Any]) -> Any:
    """The dataset as a pandas DataFrame with named columns (CSV files under the input path)."""
    import csv

    import pandas as pd

    kind = str(config.get("dataset_type", "text/csv")).split(";")[0].strip()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    files = [f for f in files if not f.name.startswith(".") and f.stat().st_size > 0]
    if not files:
        raise ConfigError(
            "The dataset input is empty: the job needs a non-empty input named 'dataset' at "
            "/opt/ml/processing/input/data."
        )
    if kind == "application/x-parquet":
        frame = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
        return frame
    if kind != "text/csv":
        raise ConfigError(
            f"dataset_type {kind} is not emulated in the sandbox (it reads text/csv and "
            "application/x-parquet); run this analysis on AWS or convert the data to CSV."
        )
    with files[0].open(newline="", errors="replace") as handle:
        first_row = next(csv.reader(handle), [])
    names, has_header = _column_names(config, first_row, len(first_row))
    frames = [
        pd.read_csv(f, header=None, skiprows=1 if has_header else 0, names=names,
                    skipinitialspace=True)
        for f in files
    ]  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def column(frame: Any, name_or_index: Any, role: str) -> str:
    """The name of the column a config refers to by name or index; a missing one is an error
    that names the columns there are."""
    columns = [str(c) for c in frame.columns]
    if isinstance(name_or_index, int) and not isinstance(name_or_index, bool):
        if 0 <= name_or_index < len(columns):
            return columns[name_or_index]
    elif str(name_or_index) in columns:
        return str(name_or_index)
    raise ConfigError(
        f"The {role} column '{name_or_index}' is not in the dataset. Its columns are: "
        f"{', '.join(columns[:30])}{' …' if len(columns) > 30 else ''}. Fix the name in the "
        "analysis config (or the headers list)."
    )


def is_continuous(series: Any, values: list[Any] | None) -> bool:
    """Clarify's rule for continuous columns (thresholds) versus categorical ones (values)."""
    from pandas.api import types

    if isinstance(values, list) and len(values) > 1:
        return False
    count = series.count()
    unique = series.nunique() / count if count else 0.0
    if types.is_bool_dtype(series.dtype):
        return False
    if types.is_float_dtype(series.dtype):
        return True
    if types.is_integer_dtype(series.dtype):
        # two values (0/1 labels) stay categorical even in a small table
        return unique >= UNIQUENESS_THRESHOLD and series.nunique() > 2
    return False


@dataclass
class Group:
    """One sensitive group: its mask and how analysis.json names it."""

    mask: Any
    value_or_threshold: str


def _categorical_mask(series: Any, values: list[Any]) -> Any:
    mask = series.isin(values)
    if mask.any():
        return mask.to_numpy(dtype=bool)
    converted: list[Any] = []
    for value in values:  # as Clarify does: try the column's own type
        for cast in (int, float, str):
            try:
                converted.append(cast(value))
            except (TypeError, ValueError):
                continue
    return series.isin(converted).to_numpy(dtype=bool)


def _interval(series: Any, threshold: Any) -> tuple[Any, str]:
    """(mask of values in (threshold, max], the interval as Clarify writes it)."""
    try:
        low = float(threshold)
    except (TypeError, ValueError):
        raise ConfigError(
            f"'{series.name}' is a continuous column, so its value must be one numeric threshold "
            f"(got {threshold!r})."
        ) from None
    numbers = series.astype(float)
    high = float(numbers.max())
    mask = ((numbers > low) & (numbers <= high)).to_numpy(dtype=bool)
    return mask, f"({_num(low)}, {_num(high)}]"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def facet_groups(series: Any, values: list[Any] | None) -> list[Group]:
    """The facet's sensitive groups: one per value set, one per value (one-vs-all), or the
    interval above a threshold for a continuous facet."""
    if is_continuous(series, values):
        if not values:
            raise ConfigError(
                f"Facet '{series.name}' is continuous (numbers with many distinct values): give "
                "value_or_threshold, e.g. [40], so the group is the values above it."
            )
        mask, interval = _interval(series, values[0])
        return [Group(mask, interval)]
    if values:
        return [Group(_categorical_mask(series, values), ",".join(map(str, values)))]
    return [
        Group((series == value).to_numpy(dtype=bool), str(value))
        for value in series.dropna().unique().tolist()
    ]


def positive_mask(series: Any, values: list[Any] | None, role: str = "label") -> tuple[Any, str]:
    """(mask of positive outcomes, label_value_or_threshold) for the label column."""
    if not values:
        raise ConfigError("Positive label values or thresholds are empty for Label column")
    if is_continuous(series, values):
        return _interval(series, values[0])
    mask = _categorical_mask(series, values)
    if not mask.any():
        present = ", ".join(map(str, series.dropna().unique().tolist()[:10]))
        raise ConfigError(
            f"None of the {role} values {values} occur in column '{series.name}' (it holds: "
            f"{present}). Set label_values_or_threshold to the positive outcome."
        )
    return mask, ",".join(map(str, values))
