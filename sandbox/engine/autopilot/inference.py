"""Inference for an Autopilot candidate in the sandbox: the scikit-learn container's script-mode
hooks (model_fn, input_fn, predict_fn, output_fn) around the candidate's model and the feature
transform Autopilot fitted, so a raw CSV row of the original columns (without the target) gets a
prediction, as a deployed Autopilot candidate answers.

Self-contained on purpose (numpy, joblib, xgboost only): it ships inside the candidate's
model.tar.gz and is what the endpoint runs. `SAGEMAKER_INFERENCE_OUTPUT` chooses what each row
answers (predicted_label, probability, probabilities, labels), as Autopilot's containers do.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

TRANSFORM = "transform.json"


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if value == value else None


def encode(rows: list[list[str]], spec: dict[str, Any]) -> Any:
    """The feature matrix for rows of the original columns (target excluded), with the fitted
    imputation, one-hot and ordinal encodings."""
    import numpy as np

    columns = spec["columns"]
    out = []
    for row in rows:
        values: list[float] = []
        for position, column in enumerate(columns):
            cell = (
                row[position].strip() if position < len(row) and row[position] is not None else ""
            )
            kind = column["kind"]
            if kind == "numeric":
                number = _number(cell)
                values.append(column["fill"] if number is None else number)
            elif kind == "onehot":
                values.extend(1.0 if cell == c else 0.0 for c in column["categories"])
            elif kind == "ordinal":
                values.append(float(column["codes"].get(cell, -1)))
        out.append(values)
    return np.asarray(out, dtype=float).reshape(len(rows), spec["width"])


def model_fn(model_dir: str) -> dict[str, Any]:
    root = Path(model_dir)
    spec = json.loads((root / TRANSFORM).read_text())
    model: dict[str, Any] = {"spec": spec}
    if (root / "xgboost-model").exists():
        import xgboost

        booster = xgboost.Booster()
        booster.load_model(str(root / "xgboost-model"))
        model["booster"] = booster
    else:
        import joblib

        model["estimator"] = joblib.load(root / "model_algo-1")["model"]
    return model


def input_fn(body: Any, content_type: str) -> list[list[str]]:
    kind = (content_type or "text/csv").split(";")[0].strip().lower()
    text = body.decode("utf-8") if isinstance(body, (bytes, bytearray)) else str(body)
    if kind == "application/json":
        data = json.loads(text)
        instances = data.get("instances", data) if isinstance(data, dict) else data
        return [
            [str(v) for v in (i.get("features", i) if isinstance(i, dict) else i)]
            for i in instances
        ]
    if kind != "text/csv":
        raise ValueError(f"Content type {content_type} is not supported; send text/csv rows.")
    return [row for row in csv.reader(io.StringIO(text)) if row]


def predict_fn(rows: list[list[str]], model: dict[str, Any]) -> list[dict[str, Any]]:
    import numpy as np

    spec = model["spec"]
    names = [c["name"] for c in spec["columns"]]
    if rows and [c.strip() for c in rows[0]] == names:
        rows = rows[1:]  # a header row is not a record
    for row in rows:
        if len(row) != len(names):
            raise ValueError(
                f"Each row needs {len(names)} values ({', '.join(names)}), got {len(row)}: the "
                f"original columns without the target '{spec['target']}'."
            )
    matrix = encode(rows, spec)
    problem = spec["problem_type"]
    if "booster" in model:
        import xgboost

        raw = model["booster"].predict(xgboost.DMatrix(matrix))
    else:
        estimator = model["estimator"]
        raw = (
            estimator.predict_proba(matrix)
            if problem != "Regression"
            else estimator.predict(matrix)
        )
        if problem == "BinaryClassification":
            raw = raw[:, 1]
    classes = spec.get("classes") or []
    answers = []
    for index in range(len(rows)):
        if problem == "Regression":
            answers.append({"predicted_label": float(raw[index])})
            continue
        if problem == "BinaryClassification":
            p = float(raw[index])
            probabilities = [1 - p, p]
        else:
            probabilities = [float(v) for v in np.atleast_1d(raw[index])]
        best = int(np.argmax(probabilities))
        answers.append({"predicted_label": classes[best], "probability": max(probabilities),
                        "probabilities": probabilities, "labels": classes})  # fmt: skip
    return answers


def output_fn(prediction: list[dict[str, Any]], accept: str) -> tuple[str, str]:
    keys = [
        k.strip()
        for k in os.environ.get("SAGEMAKER_INFERENCE_OUTPUT", "predicted_label").split(",")
    ]
    kind = (accept or "text/csv").split(";")[0].strip().lower()
    if kind in ("application/json", "application/jsonlines"):
        records = [{k: p[k] for k in keys if k in p} for p in prediction]
        if kind == "application/jsonlines":
            return "\n".join(json.dumps(r) for r in records), "application/jsonlines"
        return json.dumps({"predictions": records}), "application/json"

    def cell(value: Any) -> str:
        return '"' + str(value).replace('"', "'") + '"' if isinstance(value, list) else str(value)

    return "\n".join(
        ",".join(cell(p[k]) for k in keys if k in p) for p in prediction
    ) + "\n", "text/csv"
