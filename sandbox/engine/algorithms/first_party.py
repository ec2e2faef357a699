"""What SageMaker's own (closed-source) built-ins share: Linear Learner, K-Means and Random Cut
Forest validate their hyperparameters and channels against a schema before training, read CSV
strictly (every cell a number, no header), and print `#quality_metric` lines.

Their failure messages follow the containers' shape: "Unable to initialize the algorithm.
Failed to validate hyperparameters. (caused by ValidationError)\\n\\nCaused by: ...".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.engine.algorithms.common import ContainerEnv, UserError, data_files, sniff_delimiter

log = logging.getLogger("algorithm")


@dataclass(frozen=True)
class Param:
    kind: str  # "int" | "float" | "enum" | "bool" | "text"
    required: bool = False
    default: Any = None
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    auto: bool = False  # accepts "auto"


def _schema_error(what: str, detail: str) -> UserError:
    return UserError(
        f"Unable to initialize the algorithm. Failed to validate {what}. (caused by "
        f"ValidationError)\n\nCaused by: {detail}"
    )


def validate(raw: dict[str, str], schema: dict[str, Param]) -> dict[str, Any]:
    """Hyperparameters checked and typed; defaults filled in."""
    values: dict[str, Any] = {}
    for name in raw:
        if name.startswith(("sagemaker_", "_")):
            continue
        if name not in schema:
            raise _schema_error(
                "hyperparameters",
                f"Additional properties are not allowed ('{name}' was unexpected)",
            )
    for name, param in schema.items():
        if name not in raw:
            if param.required:
                raise _schema_error("hyperparameters", f"'{name}' is a required property")
            values[name] = param.default
            continue
        text = str(raw[name]).strip()
        if param.auto and text == "auto":
            values[name] = "auto"
            continue
        try:
            if param.kind == "int":
                number: Any = int(float(text))
            elif param.kind == "float":
                number = float(text)
            elif param.kind == "bool":
                if text.lower() not in ("true", "false"):
                    raise ValueError
                number = text.lower() == "true"
            elif param.kind == "enum":
                if text not in param.choices:
                    raise _schema_error(
                        "hyperparameters", f"'{text}' is not one of {list(param.choices)}"
                    )
                number = text
            else:
                number = text
        except ValueError:
            raise _schema_error(
                "hyperparameters", f"'{text}' is not valid under any of the given schemas"
            ) from None
        if param.low is not None and number < param.low:
            raise _schema_error(
                "hyperparameters", f"{text} is less than the minimum of {param.low} ('{name}')"
            )
        if param.high is not None and number > param.high:
            raise _schema_error(
                "hyperparameters", f"{text} is greater than the maximum of {param.high} ('{name}')"
            )
        values[name] = number
    return values


def require_channel(env: ContainerEnv, name: str) -> dict[str, Any]:
    config = env.data_config
    if name not in config:
        raise _schema_error("input data configuration", f"'{name}' is a required property")
    return dict(config[name])


def label_size(content_type: str | None, default: int) -> int:
    base, _, params = (content_type or "text/csv").partition(";")
    if base.strip().lower() not in ("text/csv", "csv"):
        raise UserError(
            f"Unable to read data channel: content type {content_type} is not supported by the "
            "sandbox (it reads text/csv)."
        )
    for part in params.split(";"):
        key, _, value = part.partition("=")
        if key.strip() == "label_size":
            return int(value)
    return default


def read_strict_csv(channel: str, path: Path, labels: int) -> tuple[Any, Any]:
    """(features, labels or None): every cell must be a number, as the MXNet readers require."""
    import numpy as np

    files = data_files(path)
    if not files or sum(f.stat().st_size for f in files) == 0:
        raise UserError(f"No training data found in channel '{channel}' (the channel is empty).")
    with files[0].open("r", errors="ignore") as handle:
        delimiter = sniff_delimiter(handle.readline())
    rows: list[list[float]] = []
    for file in files:
        with file.open("r", errors="ignore") as handle:
            for number, line in enumerate(handle, start=1):
                line = line.strip()
                if not line:
                    continue
                try:
                    rows.append([float(cell) for cell in line.split(delimiter)])
                except ValueError:
                    raise UserError(
                        f"Unable to read data channel '{channel}'. Requested content-type is "
                        "'text/csv'. Please verify the data matches the requested content-type. "
                        f"(caused by MXNetError)\n\nCaused by: could not parse line {number} of "
                        f"{file.name} as numbers: '{line[:60]}'"
                    ) from None
    widths = {len(r) for r in rows}
    if len(widths) != 1:
        raise UserError(
            f"Unable to read data channel '{channel}': rows have different numbers of columns "
            f"({sorted(widths)})."
        )
    data = np.asarray(rows, dtype=np.float64)
    if labels:
        return data[:, labels:], data[:, 0]
    return data, None


def check_feature_dim(declared: Any, features: Any) -> None:
    if declared not in (None, "auto") and int(declared) != features.shape[1]:
        raise UserError(
            f"Customer Error: The feature_dim hyperparameter ({declared}) does not match the "
            f"number of features in the data ({features.shape[1]})."
        )


def quality(channel: str, metric: str, value: float) -> None:
    """A metric line in the 1P containers' format (SageMaker's regexes read these)."""
    log.info("#quality_metric: host=algo-1, %s %s <score>=%s", channel, metric, value)


def save_model(env: ContainerEnv, payload: dict[str, Any]) -> Path:
    """model_algo-1, as the containers name it (here a joblib file the sandbox serves from)."""
    import joblib

    env.model_dir.mkdir(parents=True, exist_ok=True)
    path = env.model_dir / "model_algo-1"
    joblib.dump(payload, path)
    return path
