# ruff: noqa: B905, RUF007
# (this file also runs as the processing script on the image's older Python: no zip(strict=),
# no itertools.pairwise, no `X | Y` in isinstance)
"""Turn a table into a built-in algorithm's input, and write the manifest that says how.

One self-contained file on purpose: sagecoach runs it in-process for small data, and uploads
this same file as the script of a SageMaker Processing job (scikit-learn image) for large data,
so both paths produce byte-for-byte the same encoding. It imports only the standard library at
module level (pandas and numpy inside the functions that need them) and keeps to Python 3.8 and
pandas 1.x syntax, which the processing image has.

The contract it produces (checked against aws/sagemaker-xgboost-container and the SageMaker
built-in algorithm docs): CSV, no header row, label in the first column (supervised), numbers
only; XGBoost reads an empty cell as missing, the other built-ins need every cell filled.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from datetime import date, datetime
from typing import Any

MANIFEST_NAME = "schema.json"
MANIFEST_FORMAT = "sagecoach.prepared/1"
SUPERVISED = ("xgboost", "linear-learner")
UNSUPERVISED = ("kmeans", "randomcutforest")
ALGORITHMS = SUPERVISED + UNSUPERVISED
KEEPS_MISSING = ("xgboost",)  # reads an empty CSV cell as missing
NULLS = {"", "null", "none", "na", "n/a", "nan", "#n/a", "?"}
TRUE_WORDS = {"true", "yes", "y", "t"}
FALSE_WORDS = {"false", "no", "n", "f"}
POSITIVE_WORDS = ("1", "true", "yes", "y", "t", "positive", "churned", "fraud", "spam")
DATE_PARTS = ("year", "month", "day", "dayofweek")
_ID_NAME = re.compile(r"(^|[_\s-])(id|uuid|guid|key)$|[a-z]I[dD]$|^id[_\s-]", re.IGNORECASE)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")
DEFAULT_SPLIT = (0.7, 0.15, 0.15)


class PrepareError(ValueError):
    """The data cannot be prepared as asked; the message says what to change."""


# --- reading values ------------------------------------------------------------------------
def is_null(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip().lower() in NULLS


def as_number(value: Any) -> float | None:
    """A float for numeric-looking values; None for nulls and anything else."""
    if is_null(value):
        return None
    if isinstance(value, (bool, int, float)):
        return float(value)
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    return None if math.isinf(number) else number


def as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if not _DATE.match(text):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T"))
    except ValueError:
        return None


def _text(value: Any) -> str:
    return str(value).strip()


# --- planning ------------------------------------------------------------------------------
def _column_plan(
    name: str, values: list[Any], rows: int, *, algorithm: str, max_categories: int, encoding: str
) -> dict[str, Any]:
    """How one feature column is encoded (or why it is dropped), from its values."""
    present = [v for v in values if not is_null(v)]
    if not present:
        return {"column": name, "kind": "drop", "reason": "empty: no values"}
    distinct = {_text(v) for v in present}
    if len(distinct) == 1:
        return {
            "column": name,
            "kind": "drop",
            "reason": f"constant: always '{next(iter(distinct))}'",
        }
    numbers = [as_number(v) for v in present]
    all_unique = len(distinct) == len(present) == rows and rows >= 10
    fill_missing = algorithm not in KEEPS_MISSING and len(present) < rows
    if all(n is not None for n in numbers):
        integral = all(float(n).is_integer() for n in numbers)  # type: ignore[arg-type]
        steps = integral and all(b > a for a, b in zip(numbers, numbers[1:]))  # type: ignore[operator]
        if all_unique and integral and (steps or _ID_NAME.search(name)):
            return {
                "column": name,
                "kind": "drop",
                "reason": "id-like: a different value in every row",
            }
        ordered = sorted(numbers)  # type: ignore[type-var]
        median = ordered[len(ordered) // 2]
        plan: dict[str, Any] = {"column": name, "kind": "numeric"}
        if fill_missing:
            plan["fill"] = median
        return plan
    lowered = {d.lower() for d in distinct}
    if lowered <= TRUE_WORDS | FALSE_WORDS and lowered & TRUE_WORDS and lowered & FALSE_WORDS:
        plan = {"column": name, "kind": "boolean", "true": sorted(lowered & TRUE_WORDS)}
        if fill_missing:
            plan["fill"] = 0
        return plan
    dates = [as_date(v) for v in present]
    if all(d is not None for d in dates):
        plan = {"column": name, "kind": "date", "parts": list(DATE_PARTS)}
        if fill_missing:
            plan["fill"] = {p: _median([_date_part(d, p) for d in dates]) for p in DATE_PARTS}
        return plan
    if all_unique or (_ID_NAME.search(name) and len(distinct) > 0.9 * len(present)):
        if _looks_like_text(present):
            return {
                "column": name,
                "kind": "drop",
                "reason": "free text: a different value in every row",
            }
        return {"column": name, "kind": "drop", "reason": "id-like: a different value in every row"}
    if len(distinct) > max_categories and _looks_like_text(present):
        return {
            "column": name,
            "kind": "drop",
            "reason": f"free text: {len(distinct)} different values",
        }
    counts: dict[str, int] = {}
    for v in present:
        counts[_text(v)] = counts.get(_text(v), 0) + 1
    ranked = sorted(counts, key=lambda k: (-counts[k], k))
    kept = sorted(ranked[:max_categories])
    plan = {"column": name, "kind": encoding, "values": kept, "other": len(ranked) > len(kept)}
    return plan


def _looks_like_text(values: list[Any]) -> bool:
    texts = [_text(v) for v in values[:500]]
    spaced = sum(1 for t in texts if " " in t)
    average = sum(len(t) for t in texts) / max(1, len(texts))
    return spaced > len(texts) / 2 or average >= 25


def _median(numbers: list[float]) -> float:
    ordered = sorted(numbers)
    return ordered[len(ordered) // 2] if ordered else 0.0


def _date_part(value: Any, part: str) -> float:
    if part == "dayofweek":
        return float(value.weekday())
    return float(getattr(value, part))


def _target_plan(name: str, values: list[Any], problem_type: str) -> dict[str, Any]:
    present = [v for v in values if not is_null(v)]
    if not present:
        raise PrepareError(f"the target column '{name}' has no values")
    distinct = sorted({_text(v) for v in present})
    numeric = all(as_number(v) is not None for v in present)
    kind = problem_type
    if kind == "auto":
        if len(distinct) == 2:
            kind = "binary_classification"
        elif numeric and not all(float(as_number(v)).is_integer() for v in present):  # type: ignore[arg-type]
            kind = "regression"
        elif len(distinct) <= 20 and (not numeric or len(distinct) < len(present) / 5):
            kind = "multiclass_classification"
        elif numeric:
            kind = "regression"
        else:
            raise PrepareError(
                f"the target column '{name}' has {len(distinct)} different text values: too many "
                "classes; choose another target or give problem_type"
            )
    if kind == "regression":
        if not numeric:
            bad = next(_text(v) for v in present if as_number(v) is None)
            raise PrepareError(f"regression needs a numeric target; '{name}' has '{bad}'")
        return {"name": name, "problem_type": kind, "classes": None}
    if len(distinct) < 2:
        raise PrepareError(f"the target column '{name}' has one value only ('{distinct[0]}')")
    if kind == "binary_classification" and len(distinct) != 2:
        raise PrepareError(
            f"binary classification needs 2 target values; '{name}' has {len(distinct)}"
        )
    classes = sorted(distinct, key=float) if numeric else distinct
    if kind == "binary_classification":
        positive = next((c for c in classes if c.lower() in POSITIVE_WORDS), classes[1])
        classes = [c for c in classes if c != positive] + [positive]
    return {"name": name, "problem_type": kind, "classes": classes}


def make_plan(
    columns: list[str],
    rows: list[list[Any]],
    *,
    target: str | None,
    algorithm: str = "xgboost",
    problem_type: str = "auto",
    drop: tuple[str, ...] | list[str] = (),
    max_categories: int = 20,
    encoding: str = "onehot",
) -> dict[str, Any]:
    """The preparation plan (label, per-column encodings, drops) from the data's rows."""
    if algorithm not in ALGORITHMS:
        raise PrepareError(f"algorithm must be one of {', '.join(ALGORITHMS)}")
    if target is None and algorithm in SUPERVISED:
        raise PrepareError(f"{algorithm} learns from a label: name the target column")
    missing = [c for c in [target, *drop] if c and c not in columns]
    if missing:
        raise PrepareError(
            f"no column named {', '.join(repr(m) for m in missing)}; the columns are: "
            + ", ".join(columns)
        )
    if not rows:
        raise PrepareError("the data has a header but no rows")
    by_column = {c: [r[i] if i < len(r) else None for r in rows] for i, c in enumerate(columns)}
    label = _target_plan(target, by_column[target], problem_type) if target else None
    transforms = []
    for name in columns:
        if name == target:
            continue
        if name in drop:
            transforms.append({"column": name, "kind": "drop", "reason": "asked to drop"})
            continue
        transforms.append(
            _column_plan(
                name,
                by_column[name],
                len(rows),
                algorithm=algorithm,
                max_categories=max_categories,
                encoding=encoding,
            )
        )
    plan = {
        "format": MANIFEST_FORMAT,
        "algorithm": algorithm,
        "source_columns": list(columns),
        "label": label,
        "transforms": transforms,
        "features": feature_names(transforms),
        "missing": "empty cell" if algorithm in KEEPS_MISSING else "filled",
        "content_type": "text/csv",
        "header": False,
        "label_position": 0 if label and algorithm in SUPERVISED else None,
    }
    if not plan["features"]:
        raise PrepareError("every column would be dropped: nothing is left to learn from")
    plan["hyperparameters"] = suggested_hyperparameters(plan)
    return plan


def feature_names(transforms: list[dict[str, Any]]) -> list[str]:
    names: list[str] = []
    for t in transforms:
        kind = t["kind"]
        if kind in ("numeric", "boolean", "ordinal"):
            names.append(t["column"])
        elif kind == "onehot":
            names += [f"{t['column']}={v}" for v in t["values"]]
            if t.get("other"):
                names.append(f"{t['column']}=(other)")
        elif kind == "date":
            names += [f"{t['column']}_{p}" for p in t["parts"]]
    return names


def suggested_hyperparameters(plan: dict[str, Any]) -> dict[str, Any]:
    """The hyperparameters the prepared data implies (objective, class count, feature_dim)."""
    label, algorithm, dim = plan["label"], plan["algorithm"], len(plan["features"])
    kind = label["problem_type"] if label else None
    if algorithm == "xgboost":
        if kind == "binary_classification":
            return {"objective": "binary:logistic", "eval_metric": "auc"}
        if kind == "multiclass_classification":
            return {"objective": "multi:softprob", "num_class": len(label["classes"])}
        return {"objective": "reg:squarederror"}
    if algorithm == "linear-learner":
        if kind == "binary_classification":
            return {"predictor_type": "binary_classifier", "feature_dim": dim}
        if kind == "multiclass_classification":
            return {
                "predictor_type": "multiclass_classifier",
                "num_classes": len(label["classes"]),
                "feature_dim": dim,
            }
        return {"predictor_type": "regressor", "feature_dim": dim}
    return {"feature_dim": dim}


# --- encoding rows (pure Python: invoke and transform use this without pandas) --------------
def encode_value(transform: dict[str, Any], value: Any) -> list[Any]:
    """The feature values one source cell becomes; None means missing (an empty CSV cell)."""
    kind = transform["kind"]
    if kind == "drop":
        return []
    if kind == "numeric":
        number = as_number(value)
        return [transform.get("fill") if number is None else number]
    if kind == "boolean":
        if is_null(value):
            return [transform.get("fill")]
        return [1 if _text(value).lower() in transform["true"] else 0]
    if kind == "onehot":
        text = None if is_null(value) else _text(value)
        cells = [1 if text == v else 0 for v in transform["values"]]
        if transform.get("other"):
            cells.append(1 if text is not None and text not in transform["values"] else 0)
        return cells
    if kind == "ordinal":
        text = None if is_null(value) else _text(value)
        return [transform["values"].index(text) + 1 if text in transform["values"] else 0]
    if kind == "date":
        parsed = None if is_null(value) else as_date(value)
        fill = transform.get("fill") or {}
        return [
            _date_part(parsed, p) if parsed is not None else fill.get(p) for p in transform["parts"]
        ]
    raise PrepareError(f"unknown encoding '{kind}' in the manifest")


def encode_label(label: dict[str, Any], value: Any) -> Any:
    if is_null(value):
        return None
    if label["classes"] is None:
        return as_number(value)
    text = _text(value)
    if text not in label["classes"]:
        number = as_number(text)  # "1.0" for class "1"
        match = [c for c in label["classes"] if as_number(c) is not None and as_number(c) == number]
        if not match:
            return None
        text = match[0]
    return label["classes"].index(text)


def encode_record(plan: dict[str, Any], record: dict[str, Any]) -> list[Any]:
    """Features (in training order) for one row given by column name."""
    out: list[Any] = []
    for transform in plan["transforms"]:
        out += encode_value(transform, record.get(transform["column"]))
    return out


def format_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, float):
        return repr(round(value, 10))
    return str(value)


def csv_line(values: list[Any]) -> str:
    return ",".join(format_cell(v) for v in values)


# --- the whole table (pandas) --------------------------------------------------------------
def read_table(path: str, fmt: str | None = None) -> tuple[list[str], list[list[Any]]]:
    """Columns and rows (cells as read: text for CSV/TSV/JSON Lines, typed for Parquet)."""
    import pandas as pd

    files = [path]
    if os.path.isdir(path):
        files = sorted(
            os.path.join(root, f)
            for root, _, names in os.walk(path)
            for f in names
            if not f.startswith((".", "_")) and f != MANIFEST_NAME and not f.endswith(".crc")
        )
    frames = []
    for file in files:
        kind = fmt or _format_of(file)
        if kind == "parquet":
            frame = pd.read_parquet(file)
        elif kind == "jsonl":
            frame = pd.read_json(file, lines=True, dtype=False)
        else:
            sep = "\t" if kind == "tsv" else ","
            frame = pd.read_csv(file, sep=sep, dtype=str, keep_default_na=False)
        frames.append(frame)
    if not frames:
        raise PrepareError(f"no data files under {path}")
    columns = [str(c) for c in frames[0].columns]
    for file, frame in zip(files, frames):
        if [str(c) for c in frame.columns] != columns:
            raise PrepareError(f"{os.path.basename(file)} has other columns than {files[0]}")
    table = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    table = table.astype(object).where(table.notna(), None)  # NaN, NaT and pd.NA become None
    rows = [[_plain(v) for v in row] for row in table.itertuples(index=False, name=None)]
    return columns, rows


def _plain(value: Any) -> Any:
    if hasattr(value, "item") and not isinstance(value, str):
        try:
            return value.item()
        except (ValueError, AttributeError):
            return value
    return value


def _format_of(path: str) -> str:
    lower = path.lower()
    if lower.endswith(".parquet"):
        return "parquet"
    if lower.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if lower.endswith((".tsv", ".tab")):
        return "tsv"
    return "csv"


def split_indices(
    labels: list[Any], fractions: tuple[float, float, float], seed: int, stratify: bool
) -> dict[str, list[int]]:
    """Seeded train/validation/test row indices; stratified keeps class shares in each part."""
    import numpy as np

    rng = np.random.RandomState(seed)
    groups: dict[Any, list[int]] = {}
    for index, label in enumerate(labels):
        groups.setdefault(label if stratify else 0, []).append(index)
    parts: dict[str, list[int]] = {"train": [], "validation": [], "test": []}
    for key in sorted(groups, key=str):
        members = np.array(groups[key])
        rng.shuffle(members)
        n = len(members)
        n_val = round(n * fractions[1])
        n_test = round(n * fractions[2])
        n_val, n_test = (min(n_val, max(0, n - 1)), min(n_test, max(0, n - 1 - n_val)))
        parts["validation"] += members[:n_val].tolist()
        parts["test"] += members[n_val : n_val + n_test].tolist()
        parts["train"] += members[n_val + n_test :].tolist()
    return {name: sorted(idx) for name, idx in parts.items()}


def prepare(
    columns: list[str], rows: list[list[Any]], plan: dict[str, Any], *, split: tuple, seed: int
) -> tuple[dict[str, list[str]], dict[str, Any]]:
    """CSV lines per channel and the split facts; rows without a label are left out."""
    label = plan["label"]
    index = {c: i for i, c in enumerate(columns)}
    encoded: list[tuple[Any, list[Any]]] = []
    skipped = 0
    for row in rows:
        record = {c: row[i] if i < len(row) else None for c, i in index.items()}
        y = encode_label(label, record[label["name"]]) if label else None
        if label and y is None:
            skipped += 1
            continue
        encoded.append((y, encode_record(plan, record)))
    if not encoded:
        raise PrepareError("no row has a usable label value")
    stratify = bool(label and label["classes"])
    parts = split_indices([y for y, _ in encoded], split, seed, stratify)
    with_label = plan["algorithm"] in SUPERVISED
    lines: dict[str, list[str]] = {}
    for name, indices in parts.items():
        if not indices:
            continue
        lines[name] = []
        for i in indices:
            y, x = encoded[i]
            # K-Means and RCF train on features only; RCF's test channel carries the label first.
            keep_label = with_label or (label is not None and name == "test")
            lines[name].append(csv_line([y, *x] if keep_label else x))
    facts = {
        "seed": seed,
        "fractions": dict(zip(("train", "validation", "test"), split)),
        "stratified": stratify,
        "rows": {name: len(idx) for name, idx in parts.items()},
        "rows_without_label": skipped,
    }
    return lines, facts


def run(
    input_path: str,
    output_dir: str,
    *,
    target: str | None,
    algorithm: str = "xgboost",
    problem_type: str = "auto",
    drop: tuple[str, ...] = (),
    max_categories: int = 20,
    encoding: str = "onehot",
    split: tuple[float, float, float] = DEFAULT_SPLIT,
    seed: int = 42,
    output_uri: str = "",
    source_uri: str = "",
) -> dict[str, Any]:
    """Read, plan, encode, split and write train/, validation/, test/ and schema.json."""
    columns, rows = read_table(input_path)
    plan = make_plan(
        columns,
        rows,
        target=target,
        algorithm=algorithm,
        problem_type=problem_type,
        drop=drop,
        max_categories=max_categories,
        encoding=encoding,
    )
    lines, facts = prepare(columns, rows, plan, split=split, seed=seed)
    base = output_uri.rstrip("/") + "/" if output_uri else ""
    channels = {}
    for name, channel_lines in lines.items():
        os.makedirs(os.path.join(output_dir, name), exist_ok=True)
        with open(os.path.join(output_dir, name, f"{name}.csv"), "w", encoding="utf-8") as out:
            out.write("\n".join(channel_lines) + "\n")
        channels[name] = f"{base}{name}/" if base else f"{name}/"
    manifest = dict(plan, source={"uri": source_uri, "rows": len(rows)}, split=facts)
    manifest["channels"] = channels
    manifest["content_types"] = content_types(manifest)
    with open(os.path.join(output_dir, MANIFEST_NAME), "w", encoding="utf-8") as out:
        json.dump(manifest, out, indent=1, sort_keys=True)
    return manifest


def content_types(manifest: dict[str, Any]) -> dict[str, str]:
    """Each channel's ContentType: K-Means and RCF declare how many label columns lead."""
    algorithm, label = manifest["algorithm"], manifest["label"]
    out = {}
    for name in manifest.get("channels", {}):
        if algorithm in SUPERVISED:
            out[name] = "text/csv"
        else:
            has_label = label is not None and name == "test"
            out[name] = f"text/csv;label_size={1 if has_label else 0}"
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="sagecoach: prepare a table for a built-in")
    parser.add_argument("--input", default="/opt/ml/processing/input/data")
    parser.add_argument("--output", default="/opt/ml/processing/output/prepared")
    parser.add_argument("--target", default="")
    parser.add_argument("--algorithm", default="xgboost", choices=ALGORITHMS)
    parser.add_argument("--problem-type", default="auto")
    parser.add_argument("--drop", default="")
    parser.add_argument("--max-categories", type=int, default=20)
    parser.add_argument("--encoding", default="onehot", choices=("onehot", "ordinal"))
    parser.add_argument("--split", default=",".join(str(f) for f in DEFAULT_SPLIT))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--output-uri", default="")
    parser.add_argument("--source-uri", default="")
    args = parser.parse_args(argv)
    try:
        manifest = run(
            args.input,
            args.output,
            target=args.target or None,
            algorithm=args.algorithm,
            problem_type=args.problem_type,
            drop=tuple(d for d in args.drop.split(",") if d),
            max_categories=args.max_categories,
            encoding=args.encoding,
            split=tuple(float(f) for f in args.split.split(",")),  # type: ignore[arg-type]
            seed=args.seed,
            output_uri=args.output_uri,
            source_uri=args.source_uri,
        )
    except PrepareError as exc:
        print(f"sagecoach prepare failed: {exc}", file=sys.stderr)
        return 2
    print(
        f"sagecoach prepared {manifest['split']['rows']} rows, {len(manifest['features'])} features"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
