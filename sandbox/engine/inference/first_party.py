"""Serving for SageMaker's own algorithms (Linear Learner, K-Means, Random Cut Forest), with the
common inference formats (docs: "Common data formats for inference"):

- requests: text/csv (features only, label_size=0), application/json
  ({"instances": [{"features": [...]}, {"data": {"features": {"values": [...]}}}]}),
  application/jsonlines (one such instance per line);
- answers per Accept: application/json ({"predictions": [...]}; RCF: {"scores": [...]}),
  application/jsonlines (one object per line), text/csv (the values of each object in order);
- Linear Learner answers {"score", "predicted_label"} (binary), {"score": [...],
  "predicted_label"} (multiclass) or {"score"} (regressor); K-Means {"closest_cluster",
  "distance_to_cluster"}; RCF {"score"}.

A payload the model cannot use is a 400 with the containers' terse "unable to evaluate payload
provided"; the details go to the log. The model file is `model_algo-1` as the sandbox's
training writes it.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from sandbox.engine.inference.errors import InferenceError, LoadError, parse_media_type

log = logging.getLogger("algorithm")
BAD_PAYLOAD = "unable to evaluate payload provided"
_ACCEPTS = ("application/json", "application/jsonlines", "text/csv")


def _instance_features(instance: Any) -> list[float]:
    if isinstance(instance, list):
        return [float(v) for v in instance]
    if isinstance(instance, dict):
        if "features" in instance:
            return [float(v) for v in instance["features"]]
        data = (instance.get("data") or {}).get("features") or {}
        if "values" in data:
            return [float(v) for v in data["values"]]
    raise ValueError(f"an instance needs 'features' or data.features.values: {str(instance)[:80]}")


def parse_rows(body: bytes, content_type: str | None) -> Any:
    """A 2-D float array from the request, or InferenceError as the container answers."""
    import numpy as np

    base, params = parse_media_type((content_type or "text/csv").lower())
    text = body.decode("utf-8", "replace").strip()
    try:
        if base == "text/csv":
            label_size = int(params.get("label_size", "0"))
            rows = [[float(c) for c in line.split(",")][label_size:]
                    for line in text.splitlines() if line.strip()]  # fmt: skip
        elif base == "application/json":
            instances = json.loads(text).get("instances")
            if not isinstance(instances, list):
                raise ValueError("the JSON request needs an 'instances' list")
            rows = [_instance_features(i) for i in instances]
        elif base in ("application/jsonlines", "application/jsonl"):
            rows = [_instance_features(json.loads(line)) for line in text.splitlines() if line]
        elif base == "application/x-recordio-protobuf":
            raise InferenceError(
                415, "the sandbox does not decode application/x-recordio-protobuf; send text/csv, "
                "application/json or application/jsonlines",
            )  # fmt: skip
        else:
            raise InferenceError(415, f"Content type {content_type} is not supported by this "
                                      "algorithm.")  # fmt: skip
        widths = {len(r) for r in rows}
        if not rows or len(widths) != 1:
            raise ValueError(f"rows of different lengths {sorted(widths)}" if rows else "no rows")
    except InferenceError:
        raise
    except Exception as exc:
        log.error("Failed to parse the request (%s): %s", content_type, exc)
        raise InferenceError(400, BAD_PAYLOAD, f"{BAD_PAYLOAD}: {exc}") from None
    return np.asarray(rows, dtype=np.float64)


def encode(
    predictions: list[dict[str, Any]], accept: str | None, top_key: str
) -> tuple[str, bytes]:
    base, _ = parse_media_type(accept)
    chosen = (base or "application/json").lower()
    if chosen == "*/*":
        chosen = "application/json"
    if chosen == "application/json":
        return chosen, json.dumps({top_key: predictions}).encode()
    if chosen == "application/jsonlines":
        return chosen, "".join(json.dumps(p) + "\n" for p in predictions).encode()
    if chosen == "text/csv":
        lines = [",".join(_csv_value(v) for v in p.values()) for p in predictions]
        return chosen, ("\n".join(lines) + "\n").encode()
    raise InferenceError(
        406, f"Accept type {accept} is not supported; use one of {list(_ACCEPTS)}."
    )


def _csv_value(value: Any) -> str:
    if isinstance(value, list):
        return '"' + ",".join(str(v) for v in value) + '"'
    return str(value)


class FirstPartyHandler:
    """Linear Learner, K-Means or RCF, from the `model_algo-1` the sandbox's training saved."""

    def __init__(self, model_dir: Path) -> None:
        import joblib

        path = model_dir / "model_algo-1"
        if not path.exists():
            raise LoadError(
                f"model_algo-1 not found in the model artifact ({sorted(p.name for p in model_dir.iterdir())})"
            )
        try:
            self.payload = joblib.load(path)
        except Exception as exc:
            raise LoadError(f"could not load model_algo-1: {exc}") from None
        self.algorithm = self.payload.get("algorithm")
        self.feature_dim = int(self.payload.get("feature_dim") or 0)
        log.info("Loaded %s model with feature_dim=%s", self.algorithm, self.feature_dim)

    def invoke(self, body: bytes, content_type: str | None, accept: str | None,
               target: str = "") -> tuple[str, bytes]:  # fmt: skip
        rows = parse_rows(body, content_type)
        if self.feature_dim and rows.shape[1] != self.feature_dim:
            detail = f"{BAD_PAYLOAD}: {rows.shape[1]} features per record, the model has {self.feature_dim}"
            log.error(detail)
            raise InferenceError(400, BAD_PAYLOAD, detail)
        model = self.payload["model"]
        if self.algorithm == "linear-learner":
            return encode(self._linear(model, rows), accept, "predictions")
        if self.algorithm == "kmeans":
            distances = model.transform(rows)
            closest = distances.argmin(axis=1)
            out = [{"closest_cluster": float(c), "distance_to_cluster": float(distances[i, c])}
                   for i, c in enumerate(closest)]  # fmt: skip
            return encode(out, accept, "predictions")
        scores = (-model.score_samples(rows)).tolist()
        return encode([{"score": float(s)} for s in scores], accept, "scores")

    def _linear(self, model: Any, rows: Any) -> list[dict[str, Any]]:
        kind = self.payload.get("predictor_type")
        if kind == "regressor":
            return [{"score": float(v)} for v in model.predict(rows)]
        probabilities = model.predict_proba(rows)
        classes = list(getattr(model, "classes_", range(probabilities.shape[1])))
        if kind == "binary_classifier":
            positive = probabilities[:, classes.index(1.0) if 1.0 in classes else -1]
            return [{"score": float(p), "predicted_label": int(p >= 0.5)} for p in positive]
        return [{"score": [float(p) for p in row], "predicted_label": int(classes[row.argmax()])}
                for row in probabilities]  # fmt: skip
