"""SageMaker XGBoost serving in algorithm mode (aws/sagemaker-xgboost-container,
`algorithm_mode/serve.py` and `serve_utils.py`): the model is the first file of the model
directory (pickle, else XGBoost's own format); requests are text/csv without the label,
text/libsvm (or recordio-protobuf, which the sandbox does not decode); the answer follows
Accept: text/csv (one value per line), application/json ({"predictions": [{"score": ...}]}),
and with SAGEMAKER_INFERENCE_OUTPUT the selectable keys (predicted_label, probability, ...).
A multi-model endpoint runs the container's model-server handler, whose CSV is comma-joined.

Status codes as the container gives them: an unreadable payload 415, a prediction that fails
(e.g. more columns than the model has features) 400 "Unable to evaluate payload provided",
an Accept it does not know 406, an empty payload 204.
"""

from __future__ import annotations

import csv
import json
import logging
import pickle
import re
from pathlib import Path
from typing import Any

from sandbox.engine.inference.encoders import array_to_csv, flask_mimetype
from sandbox.engine.inference.errors import FLASK_500, InferenceError, LoadError, parse_media_type

log = logging.getLogger("sagemaker_xgboost_container.serve")

SUPPORTED_ACCEPTS = ["application/json", "application/jsonlines",
                     "application/x-recordio-protobuf", "text/csv"]  # fmt: skip
_CONTENT_TYPES = ["csv", "libsvm", "parquet", "recordio-protobuf", "text/csv", "text/libsvm",
                  "text/x-libsvm", "application/x-parquet", "application/x-recordio-protobuf"]  # fmt: skip
_SELECTABLE = {
    "reg:squarederror": ["predicted_score"], "reg:logistic": ["predicted_score"],
    "reg:gamma": ["predicted_score"], "reg:absoluteerror": ["predicted_score"],
    "reg:tweedie": ["predicted_score"],
    "binary:logistic": ["predicted_label", "labels", "probability", "probabilities", "raw_score",
                        "raw_scores"],
    "binary:logitraw": ["predicted_label", "labels", "raw_score", "raw_scores"],
    "binary:hinge": ["predicted_label", "labels", "raw_score", "raw_scores"],
    "multi:softmax": ["predicted_label", "labels", "raw_score", "raw_scores"],
    "multi:softprob": ["predicted_label", "labels", "probability", "probabilities", "raw_score",
                       "raw_scores"],
}  # fmt: skip


def content_kind(content_type: str | None) -> str:
    """csv | libsvm | parquet | recordio-protobuf, with the container's error for anything else."""
    if content_type is None:
        return "libsvm"
    base, params = parse_media_type(content_type.lower())
    if base in ("csv", "text/csv"):
        if params.get("label_size", "1") != "1":
            raise ValueError(
                f"{content_type} is not an accepted csv ContentType. Optional parameter "
                "label_size must be equal to 1"
            )
        return "csv"
    if base in ("libsvm", "text/libsvm", "text/x-libsvm"):
        return "libsvm"
    if base in ("parquet", "application/x-parquet"):
        return "parquet"
    if base in ("recordio-protobuf", "application/x-recordio-protobuf"):
        return "recordio-protobuf"
    raise ValueError(f"{content_type} is not an accepted ContentType: {', '.join(_CONTENT_TYPES)}.")


def csv_to_dmatrix(text: str) -> Any:
    """The container's CSV decoder: delimiter sniffed from the first line, every cell a float
    (an empty cell is NaN); a header row or ragged rows fail."""
    import numpy as np
    import xgboost as xgb

    sniffed = csv.Sniffer().sniff(text.split("\n")[0][:512]).delimiter
    delimiter = "," if sniffed.isalnum() else sniffed
    rows = [["nan" if cell == "" else cell for cell in line.split(delimiter)]
            for line in text.split("\n")]  # fmt: skip
    return xgb.DMatrix(np.array(rows).astype(float))


def libsvm_to_dmatrix(text: str) -> Any:
    import numpy as np
    import xgboost as xgb
    from scipy.sparse import csr_matrix

    rows, cols, values = [], [], []
    for index, line in enumerate(text.split("\n")):
        for item in line.split(" "):
            if ":" in item:
                column, value = item.split(":")[:2]
                rows.append(index)
                cols.append(int(column))
                values.append(value)
    col = np.array(cols).astype(int)
    if len(col) and col.min() >= 1:
        col = col - 1
    return xgb.DMatrix(csr_matrix((np.array(values).astype(float), (np.array(rows), col))))


def parse_payload(payload: bytes, content_type: str | None) -> tuple[Any, str]:
    kind = content_kind(content_type)
    text = payload.strip().decode("utf-8", "replace")
    if kind == "csv":
        try:
            return csv_to_dmatrix(text), kind
        except Exception as exc:
            detail = re.sub(r"np\.str_\((.*?)\)", r"\1", str(exc))  # numpy 1.x's wording
            raise RuntimeError(
                "Loading csv data failed with Exception, please ensure data is in csv format:\n "
                f"{type(exc)}\n {detail}"
            ) from None
    if kind == "libsvm":
        try:
            return libsvm_to_dmatrix(text), kind
        except Exception as exc:
            raise RuntimeError(
                "Loading libsvm data failed with Exception, please ensure data is in libsvm "
                f"format:\n {type(exc)}\n {exc}"
            ) from None
    if kind == "recordio-protobuf":
        raise RuntimeError(
            "Loading recordio-protobuf data failed: the sandbox does not decode "
            "application/x-recordio-protobuf; send text/csv or text/libsvm."
        )
    raise RuntimeError(f"Content-type {content_type} is not supported.")


def load_booster(model_dir: Path) -> Any:
    """The first (non-hidden) file of the model directory, as the container loads it."""
    import xgboost as xgb

    files = sorted(p for p in model_dir.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise LoadError(f"Unable to load model: no model file in {model_dir}")
    path = files[0]
    log.info("Loading the model from %s", path)
    try:
        with path.open("rb") as handle:
            booster = pickle.load(handle)  # the user's own model, as the container loads it
    except Exception as pickle_error:
        try:
            booster = xgb.Booster()
            booster.load_model(str(path))
        except Exception as xgb_error:
            raise LoadError(
                f"Unable to load model: Model {path} cannot be loaded:\nPickle load error="
                f"{pickle_error}\nXGB load model error={_short(xgb_error)}"
            ) from None
    booster.set_param("nthread", 1)
    return booster


def _short(exc: BaseException) -> str:
    return str(exc).split("\nStack trace:")[0].strip()


class XGBoostHandler:
    """One loaded model (or, for a multi-model endpoint, the models loaded so far)."""

    def __init__(self, model_dir: Path | None, env: dict[str, str], *, multi_model: bool,
                 batch: bool) -> None:  # fmt: skip
        self.env = env
        self.multi_model = multi_model
        self.batch = batch
        self.models: dict[str, Any] = {}
        if model_dir is not None:
            self.models[""] = load_booster(model_dir)
            log.info("Model objective : %s", self.objective(self.models[""]))

    def load_target(self, name: str, model_dir: Path) -> None:
        self.models[name] = load_booster(model_dir)

    @staticmethod
    def objective(booster: Any) -> str:
        config = json.loads(booster.save_config())
        return str(config["learner"]["objective"]["name"])

    def invoke(self, body: bytes, content_type: str | None, accept: str | None,
               target: str = "") -> tuple[str, bytes]:  # fmt: skip
        if not body:
            raise InferenceError(204, "")
        booster = self.models[target]
        if self.multi_model:
            return self._invoke_mms(booster, body, content_type, accept)
        try:
            dtest, _ = parse_payload(body, content_type)
        except Exception as exc:
            raise InferenceError(415, str(exc)) from None
        try:
            predictions = booster.predict(dtest, validate_features=False)
        except Exception as exc:
            message = f"Unable to evaluate payload provided: {_short(exc)}"
            raise InferenceError(400, message) from None
        chosen = self._accept(accept)
        if "SAGEMAKER_INFERENCE_OUTPUT" in self.env:
            return flask_mimetype(chosen), self._selected(booster, predictions, chosen)
        values = predictions.tolist()
        if self.batch:
            return flask_mimetype(chosen), ("\n".join(map(str, values)) + "\n").encode()
        if chosen == "application/json":
            data = json.dumps({"predictions": [{"score": v} for v in values]})
            return chosen, data.encode()
        if chosen == "text/csv":
            return flask_mimetype(chosen), array_to_csv(values).encode()
        # The Flask server hands jsonlines/recordio to an encoder that has none for them.
        log.error("UnsupportedFormatError: Content type %s is not supported by this framework.",
                  chosen)  # fmt: skip
        raise InferenceError(500, FLASK_500, f"UnsupportedFormatError: {chosen}")

    def _accept(self, accept: str | None) -> str:
        base, _ = parse_media_type(accept)
        if not base or base == "*/*":
            return self.env.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT", "text/csv")
        if base.lower() not in SUPPORTED_ACCEPTS:
            raise InferenceError(
                406,
                f"Accept type {base} is not supported. Please use supported accept types: "
                f"{SUPPORTED_ACCEPTS}.",
            )
        return base.lower()

    def _selected(self, booster: Any, predictions: Any, accept: str) -> bytes:
        objective = self.objective(booster)
        keys = self.env["SAGEMAKER_INFERENCE_OUTPUT"].replace(" ", "").lower().split(",")
        if objective not in _SELECTABLE:
            message = f"Objective `{objective}` unsupported for selectable inference predictions."
            raise InferenceError(500, message)
        config = json.loads(booster.save_config())
        num_class = config["learner"]["learner_model_param"].get("num_class", "")
        rows = [_select(objective, p, keys, num_class) for p in predictions]
        if accept == "application/json":
            return json.dumps({"predictions": rows}).encode()
        if accept == "application/jsonlines":
            return "".join(json.dumps(r) + "\n" for r in rows).encode()
        if accept == "text/csv":
            lines = [",".join(f'"{r[k]}"' if isinstance(r[k], list) else str(r[k]) for k in keys)
                     for r in rows]  # fmt: skip
            return ("\n".join(lines) + ("\n" if self.batch else "")).encode()
        raise InferenceError(
            500, f"Cannot encode selected predictions into accept type '{accept}'."
        )

    def _invoke_mms(self, booster: Any, body: bytes, content_type: str | None,
                    accept: str | None) -> tuple[str, bytes]:  # fmt: skip
        """The multi-model server's handler (handler_service.py): CSV comma-joined, JSON a list."""
        try:
            dtest, _ = parse_payload(body, content_type)
        except Exception as exc:
            raise InferenceError(500, str(exc)) from None
        try:
            values = booster.predict(dtest, validate_features=False).tolist()
        except Exception as exc:
            raise InferenceError(
                400, f"Unable to evaluate payload provided: {_short(exc)}"
            ) from None
        base, _ = parse_media_type(accept)
        chosen = (
            base or self.env.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT", "application/json")
        ).lower()
        if chosen in ("*/*",):
            chosen = "application/json"
        if chosen in ("text/csv", "csv"):
            joined = (
                "\n".join(map(str, values)) + "\n" if self.batch else ",".join(map(str, values))
            )
            return "text/csv", joined.encode()
        if chosen in ("application/json", "json"):
            return "application/json", json.dumps(values).encode()
        message = (
            f"Encoding to accept type {accept} failed with exception: {accept} is not an accepted "
            "Accept type. Please choose one of the following: ['text/csv', 'application/json']."
        )
        raise InferenceError(415, message)


def _select(objective: str, raw: Any, keys: list[str], num_class: str) -> dict[str, Any]:
    import numpy as np

    valid = _SELECTABLE[objective]
    out: dict[str, Any] = {}
    value = np.asarray(raw)
    for key in keys:
        if key not in valid:
            out[key] = float("nan")
        elif key == "predicted_label":
            if objective in ("binary:hinge", "multi:softmax"):
                out[key] = value.item()
            elif objective == "binary:logistic":
                out[key] = int(value > 0.5)
            elif objective == "binary:logitraw":
                out[key] = int(value > 0)
            else:
                out[key] = int(np.argmax(value))
        elif key == "labels":
            out[key] = [0, 1] if "binary:" in objective else list(range(int(num_class or 0)))
        elif key == "probability":
            out[key] = float(value.max()) if objective == "multi:softprob" else value.item()
        elif key == "probabilities":
            out[key] = (
                value.tolist()
                if objective == "multi:softprob"
                else [1 - value.item(), value.item()]
            )
        elif key == "raw_score":
            out[key] = float(value.max()) if objective == "multi:softprob" else value.item()
        elif key == "raw_scores":
            out[key] = (
                value.tolist()
                if objective == "multi:softprob"
                else [1 - value.item(), value.item()]
            )
        elif key == "predicted_score":
            out[key] = value.item()
    return out
