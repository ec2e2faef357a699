"""Autopilot's data analysis and feature engineering, as the processing job it runs first
(`python -m` in the warm container; image repository `sagemaker-sklearn-automl`).

Reads the CSV (header present) under /opt/ml/processing/input/data, checks the target column,
infers the problem type when none was given, fits the feature transform (numbers: median
imputation; few categories: one-hot; many: ordinal codes; identifiers and free text dropped),
splits rows into train and validation (seeded), and writes label-first numeric CSVs plus
transform.json (the fitted transform `inference.encode` applies at serving time).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from sandbox.engine.autopilot.inference import encode

log = logging.getLogger("autopilot")
ONE_HOT_LIMIT = 20


class DataError(Exception):
    pass


def infer_problem_type(values: list[str]) -> str:
    distinct = sorted(set(values))
    numbers = []
    for value in distinct:
        try:
            numbers.append(float(value))
        except ValueError:
            numbers = []
            break
    if len(distinct) <= 2:
        return "BinaryClassification"
    if not numbers:
        return "MulticlassClassification"
    if all(n.is_integer() for n in numbers) and len(distinct) <= ONE_HOT_LIMIT:
        return "MulticlassClassification"
    return "Regression"


def _column_spec(name: str, series: Any, rows: int) -> dict[str, Any]:
    import pandas as pd

    cells = series.astype(str).str.strip()
    present = cells[(cells != "") & (cells.str.lower() != "nan")]
    numbers = pd.to_numeric(present, errors="coerce")
    if len(present) and numbers.notna().mean() >= 0.95:
        return {"name": name, "kind": "numeric", "fill": float(numbers.median())}
    counts = present.value_counts()
    if len(counts) <= ONE_HOT_LIMIT:
        return {"name": name, "kind": "onehot", "categories": [str(c) for c in counts.index]}
    if len(counts) > 0.5 * rows:
        return {"name": name, "kind": "dropped", "why": "identifier or free text"}
    return {
        "name": name,
        "kind": "ordinal",
        "codes": {str(c): i for i, c in enumerate(counts.index)},
    }


def prepare(root: Path) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    processing = root / "processing"
    files = sorted(p for p in (processing / "input" / "data").rglob("*") if p.is_file())
    files = [f for f in files if f.stat().st_size and not f.name.startswith(".")]
    if not files:
        raise DataError("The input data location holds no data.")
    frame = pd.concat(
        [pd.read_csv(f, dtype=str, keep_default_na=False) for f in files], ignore_index=True
    )
    target = os.environ.get("AUTOML_TARGET", "")
    if target not in frame.columns:
        raise DataError(
            f"Target attribute name '{target}' is not in the dataset's header "
            f"({', '.join(map(str, frame.columns[:30]))}). TargetAttributeName must name a column "
            "of the CSV's header row."
        )
    frame = frame[frame[target].astype(str).str.strip() != ""].reset_index(drop=True)
    if len(frame) < 20:
        raise DataError(
            f"The dataset has {len(frame)} rows with a target value; Autopilot needs more data."
        )
    labels = frame[target].astype(str).str.strip()
    problem = os.environ.get("AUTOML_PROBLEM_TYPE") or infer_problem_type(labels.tolist())
    log.info("Problem type: %s (target '%s', %d rows)", problem, target, len(frame))
    features = frame.drop(columns=[target])
    columns = [_column_spec(str(c), features[c], len(frame)) for c in features.columns]
    width = sum(len(c["categories"]) if c["kind"] == "onehot" else 0 if c["kind"] == "dropped" else 1
                for c in columns)  # fmt: skip
    spec: dict[str, Any] = {
        "target": target,
        "problem_type": problem,
        "columns": columns,
        "width": width,
    }
    if problem == "Regression":
        y = pd.to_numeric(labels, errors="coerce").to_numpy(dtype=float)
        if np.isnan(y).any():
            raise DataError(f"Regression needs a numeric target; '{target}' holds text.")
    else:
        classes = sorted(set(labels.tolist()), key=lambda v: (_sort_key(v), v))
        if problem == "BinaryClassification" and len(classes) != 2:
            raise DataError(
                f"BinaryClassification needs 2 target values; '{target}' has {len(classes)}."
            )
        spec["classes"] = classes
        index = {c: i for i, c in enumerate(classes)}
        y = labels.map(index).to_numpy(dtype=float)
    x = encode(features.astype(str).values.tolist(), spec)
    fraction = float(os.environ.get("AUTOML_VALIDATION_FRACTION", "0.2"))
    order = np.random.default_rng(0).permutation(len(frame))
    cut = max(1, round(len(frame) * fraction))
    parts = {"validation": order[:cut], "train": order[cut:]}
    out = processing / "output"
    for part, rows in parts.items():
        folder = out / part
        folder.mkdir(parents=True, exist_ok=True)
        np.savetxt(
            folder / f"{part}.csv", np.column_stack([y[rows], x[rows]]), delimiter=",", fmt="%.6g"
        )
    spec["rows"] = {part: len(rows) for part, rows in parts.items()}
    (out / "transform.json").write_text(json.dumps(spec))
    dropped = [c["name"] for c in columns if c["kind"] == "dropped"]
    log.info("Features: %d columns → %d inputs%s", len(columns), width,
             f" (dropped: {', '.join(dropped)})" if dropped else "")  # fmt: skip
    return spec


def _sort_key(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return float("inf")


def main(argv: list[str]) -> int:
    logging.basicConfig(
        stream=sys.stdout, level=logging.INFO, format="%(levelname)s:%(name)s:%(message)s"
    )
    root = Path(argv[0])
    failure = root / "output" / "failure"
    failure.parent.mkdir(parents=True, exist_ok=True)
    try:
        prepare(root)
    except DataError as exc:
        log.error("%s", exc)
        failure.write_text(f"ClientError: {exc}")
        return 1
    except Exception as exc:
        log.exception("data preparation failed")
        failure.write_text(f"AlgorithmError: {type(exc).__name__}: {exc}")
        return 1
    return 0
