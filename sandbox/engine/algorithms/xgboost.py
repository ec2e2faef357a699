"""SageMaker's built-in XGBoost (algorithm mode), run with the `xgboost` package.

The data contract follows aws/sagemaker-xgboost-container: channels `train` (required) and
`validation`; content types text/csv (label in column 0, no header: a header row is data),
text/libsvm, application/x-parquet (label in column 0) and application/x-recordio-protobuf;
hyperparameters as strings with the container's names and ranges; per-round lines
`[i]\\ttrain-<metric>:<v>\\tvalidation-<metric>:<v>`; the model saved as `xgboost-model`; spot
checkpoints `xgboost-checkpoint.<i>` resumed from the newest.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from sandbox.engine.algorithms.common import (
    ContainerEnv,
    UserError,
    data_files,
    read_label_first_csv,
    total_size,
)

log = logging.getLogger("algorithm")

MODEL_NAME = "xgboost-model"
CHECKPOINT_NAME = "xgboost-checkpoint"
CUSTOMER_ERRORS = (
    "label must be in [0,1] for logistic regression",
    "label must be in [0, num_class)",
    "base_score must be in (0,1)",
    "label must be nonnegative",
    "feature_names mismatch",
    "Check failed: preds.size() == info.labels_.size()",
)

_OBJECTIVES = {
    "binary:logistic", "binary:logitraw", "binary:hinge", "reg:squarederror", "reg:logistic",
    "reg:absoluteerror", "reg:pseudohubererror", "reg:tweedie", "reg:gamma", "reg:squaredlogerror",
    "count:poisson", "multi:softmax", "multi:softprob", "rank:pairwise", "rank:ndcg", "rank:map",
    "survival:cox", "survival:aft", "reg:linear",
}  # fmt: skip
_INT = {"num_round": (1, None), "max_depth": (0, None), "num_class": (2, None),
        "early_stopping_rounds": (1, None), "csv_weights": (0, 1), "seed": (None, None),
        "max_leaves": (0, None), "max_bin": (0, None), "num_parallel_tree": (1, None),
        "verbosity": (0, 3), "nthread": (1, None)}  # fmt: skip
_FLOAT = {"eta": (0, 1), "gamma": (0, None), "min_child_weight": (0, None),
          "max_delta_step": (0, None), "subsample": (0, 1), "colsample_bytree": (0, 1),
          "colsample_bylevel": (0, 1), "colsample_bynode": (0, 1), "lambda": (0, None),
          "alpha": (0, None), "scale_pos_weight": (0, None), "base_score": (0, None),
          "tweedie_variance_power": (1, 2), "sketch_eps": (0, 1), "rate_drop": (0, 1),
          "skip_drop": (0, 1), "lambda_bias": (0, 1)}  # fmt: skip
_CATEGORICAL = {
    "objective": _OBJECTIVES,
    "booster": {"gbtree", "gblinear", "dart"},
    "tree_method": {"auto", "exact", "approx", "hist", "gpu_hist"},
    "grow_policy": {"depthwise", "lossguide"},
    "sample_type": {"uniform", "weighted"},
    "normalize_type": {"tree", "forest"},
    "save_model_on_termination": {"true", "false"},
}
_PASSTHROUGH = {"eval_metric", "_tuning_objective_metric", "updater", "monotone_constraints",
                "interaction_constraints", "process_type", "refresh_leaf", "dsplit",
                "predictor", "one_drop", "_kfold", "_num_cv_round", "deterministic_histogram",
                "sampling_method"}  # fmt: skip
_CUSTOM_METRICS = {"accuracy", "f1", "f1_binary", "f1_macro", "mse", "r2", "precision",
                   "recall", "balanced_accuracy"}  # fmt: skip


def validate_hyperparameters(raw: dict[str, str]) -> dict[str, Any]:
    """Parse and check hyperparameters with the container's rules and messages."""
    if "num_round" not in raw:
        raise UserError("Missing required hyperparameter: num_round")
    known = set(_INT) | set(_FLOAT) | set(_CATEGORICAL) | _PASSTHROUGH
    params: dict[str, Any] = {}
    for name, value in raw.items():
        if name.startswith("sagemaker_"):
            continue
        if name not in known:
            raise UserError(f"Extraneous hyperparameter found: {name}")
        try:
            if name in _INT:
                number: float = int(float(value))
                low, high = _INT[name]
            elif name in _FLOAT:
                number = float(value)
                low, high = _FLOAT[name]
            else:
                params[name] = value
                if name in _CATEGORICAL and value not in _CATEGORICAL[name]:
                    choices = sorted(_CATEGORICAL[name])
                    raise UserError(f"Hyperparameter {name}: {value} is not in {choices}")
                continue
        except ValueError:
            raise UserError(f"Hyperparameter {name}: could not parse value") from None
        if (low is not None and number < low) or (high is not None and number > high):
            bounds = (
                f"[{low if low is not None else '-inf'}, {high if high is not None else 'inf'}]"
            )
            raise UserError(f"Hyperparameter {name}: value {value} not in range {bounds}")
        params[name] = number
    objective = params.get("objective", "reg:squarederror")
    if objective.startswith("multi:") and "num_class" not in params:
        raise UserError("Require input for parameter num_class for multi-classification")
    return params


def _content_type(raw: str | None) -> str:
    """The channel's ContentType as the container reads it (training and serving share the
    container's parser, so they share ours)."""
    from sandbox.engine.inference.xgboost import content_kind

    try:
        return content_kind(raw)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def load_matrix(path: Path, content_type: str, csv_weights: int = 0) -> Any:
    """A DMatrix from a channel directory, or None when the channel holds no bytes."""
    import numpy as np
    import xgboost as xgb

    files = data_files(path)
    if total_size(files) == 0:
        return None
    if content_type == "csv":
        features, labels = read_label_first_csv(files)
        weights = None
        if csv_weights == 1 and features.shape[1]:
            weights, features = features[:, 0], features[:, 1:]
        matrix = xgb.DMatrix(features, label=labels, weight=weights, missing=np.nan)
    elif content_type == "libsvm":
        from scipy.sparse import vstack
        from sklearn.datasets import load_svmlight_file

        try:
            parts = [load_svmlight_file(str(f), zero_based=True) for f in files]
        except ValueError as exc:
            raise UserError(f"Failed to load libsvm data with exception:\n{exc}") from None
        width = max(p[0].shape[1] for p in parts)
        blocks = [p[0] for p in parts]
        for i, block in enumerate(blocks):
            if block.shape[1] < width:
                block.resize((block.shape[0], width))
                blocks[i] = block
        matrix = xgb.DMatrix(vstack(blocks).tocsr(), label=np.concatenate([p[1] for p in parts]))
    elif content_type == "parquet":
        matrix = _parquet_matrix(files)
    else:
        matrix = _recordio_protobuf_matrix(files)
    if matrix.get_label().size == 0:
        raise UserError(
            "Got input data without labels. Please check the input data set. If training job is "
            "running on multiple instances, please switch to using single instance if number of "
            "records in the data set is less than number of workers (16 * number of instance) in "
            "the cluster."
        )
    return matrix


def _parquet_matrix(files: list[Path]) -> Any:
    """The container's parquet reading: one table from every file (names starting with '_',
    such as Spark's _SUCCESS, are skipped), the first column the label, the rest features."""
    import xgboost as xgb

    try:
        import pyarrow.parquet as pq

        paths = [str(f) for f in files if not f.name.startswith("_")]
        data = pq.read_table(paths if len(paths) > 1 else paths[0]).to_pandas().to_numpy()
        return xgb.DMatrix(data[:, 1:], label=data[:, 0])
    except Exception as exc:
        raise UserError(f"Failed to load parquet data with exception:\n{exc}") from None


def _recordio_protobuf_matrix(files: list[Path]) -> Any:
    """Every file's RecordIO-protobuf records, read as one (the container's reader)."""
    import xgboost as xgb

    from sandbox.engine.algorithms.recordio_protobuf import read_recordio_protobuf

    try:
        buffer = b"".join(f.read_bytes() for f in files if not f.name.startswith("_"))
        features, labels = read_recordio_protobuf(buffer)
        return xgb.DMatrix(features, label=labels)
    except Exception as exc:
        raise UserError(f"Failed to load recordio-protobuf data with exception:\n{exc}") from None


def _eval_metrics(params: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(xgboost metrics, container-computed metrics) from eval_metric and the tuning objective."""
    names = [m for m in str(params.pop("eval_metric", "") or "").split(",") if m]
    objective_metric = params.pop("_tuning_objective_metric", None)
    if objective_metric:
        names.append(objective_metric.split(":", 1)[-1])
    native, custom = [], []
    for name in dict.fromkeys(names):
        (custom if name in _CUSTOM_METRICS else native).append(name)
    return native, custom


def _custom_metric(names: list[str], objective: str) -> Any:
    if not names:
        return None
    import numpy as np
    from sklearn import metrics as skm

    def evaluate(predt: Any, dmatrix: Any) -> list[tuple[str, float]]:
        y = dmatrix.get_label()
        if objective.startswith("multi:"):
            labels = predt.argmax(axis=1) if predt.ndim > 1 else predt
        elif objective.startswith(("binary:", "reg:logistic")):
            labels = (predt > 0.5).astype(int)
        else:
            labels = predt
        out = []
        for name in names:
            if name == "accuracy":
                out.append((name, float(skm.accuracy_score(y, labels))))
            elif name == "balanced_accuracy":
                out.append((name, float(skm.balanced_accuracy_score(y, labels))))
            elif name in ("f1", "f1_binary"):
                out.append((name, float(skm.f1_score(y, labels, zero_division=0))))
            elif name == "f1_macro":
                out.append((name, float(skm.f1_score(y, labels, average="macro"))))
            elif name == "precision":
                out.append((name, float(skm.precision_score(y, labels, zero_division=0))))
            elif name == "recall":
                out.append((name, float(skm.recall_score(y, labels, zero_division=0))))
            elif name == "mse":
                out.append((name, float(np.mean((y - predt) ** 2))))
            elif name == "r2":
                out.append((name, float(skm.r2_score(y, predt))))
        return out

    return evaluate


def _latest_checkpoint(directory: Path | None) -> tuple[Path | None, int]:
    if directory is None or not directory.exists():
        return None, 0
    pattern = re.compile(rf"^{CHECKPOINT_NAME}\.(\d+)$")
    found = sorted(
        (int(m.group(1)), p)
        for p in directory.iterdir()
        if (m := pattern.match(p.name)) is not None
    )
    if not found:
        return None, 0
    iteration, path = found[-1]
    return path, iteration + 1


def _check_labels(matrix: Any, objective: str, version: str, params: dict[str, Any]) -> None:
    """XGBoost 1.x's label checks, with its messages (2.x+ reports base_score instead)."""
    import numpy as np

    if not version.startswith("1."):
        return
    labels = matrix.get_label()
    if objective in ("binary:logistic", "reg:logistic", "binary:logitraw") and (
        (labels < 0).any() or (labels > 1).any()
    ):
        raise RuntimeError("label must be in [0,1] for logistic regression")
    if objective.startswith("multi:"):
        classes = int(params.get("num_class", 0))
        if (labels < 0).any() or (labels >= classes).any() or not np.all(labels == labels // 1):
            raise RuntimeError("label must be in [0, num_class).")


def train(env: ContainerEnv) -> None:
    import xgboost as xgb

    log.info("Running XGBoost Sagemaker in algorithm mode")
    params = validate_hyperparameters(env.hyperparameters)
    config = env.data_config
    if "train" not in config:
        raise UserError("Missing required channel: train")
    content_type = _content_type(config["train"].get("ContentType"))
    csv_weights = int(params.pop("csv_weights", 0))
    train_matrix = load_matrix(env.channel_dir("train"), content_type, csv_weights)
    if train_matrix is None:
        raise UserError(f"No data in training channel path {env.channel_dir('train')}")
    validation = None
    if "validation" in config:
        validation = load_matrix(env.channel_dir("validation"), content_type, csv_weights)
        if validation is None:
            raise UserError(f"No data in validation channel path {env.channel_dir('validation')}")
    log.info("Single node training.")
    log.info(
        "Train matrix has %d rows and %d columns", train_matrix.num_row(), train_matrix.num_col()
    )
    if validation is not None:
        log.info("Validation matrix has %d rows", validation.num_row())

    num_round = int(params.pop("num_round"))
    early_stopping = params.pop("early_stopping_rounds", None)
    params.pop("save_model_on_termination", None)
    for private in ("_kfold", "_num_cv_round"):
        params.pop(private, None)
    native, custom = _eval_metrics(params)
    if native:
        params["eval_metric"] = native
    objective = str(params.get("objective", "reg:squarederror"))
    params.setdefault("nthread", 1)
    _check_labels(train_matrix, objective, env.version, params)

    checkpoint_dir = env.checkpoint_dir
    resume_from, done_rounds = _latest_checkpoint(checkpoint_dir)
    if resume_from is not None:
        log.info("Checkpoint loaded from %s", resume_from)
        log.info("Resuming from iteration %s", done_rounds)
    watchlist = [(train_matrix, "train")]
    if validation is not None:
        watchlist.append((validation, "validation"))
    callbacks: list[Any] = [xgb.callback.EvaluationMonitor()]
    if checkpoint_dir is not None:
        callbacks.append(_checkpoint_callback(checkpoint_dir))
    if early_stopping and validation is not None:
        metric = (custom or native or [None])[-1]
        callbacks.append(
            xgb.callback.EarlyStopping(
                rounds=int(early_stopping),
                data_name="validation",
                metric_name=metric,
                maximize=metric in ("auc", "aucpr", "map", "ndcg", *_CUSTOM_METRICS - {"mse"}),
                save_best=True,
            )
        )
    try:
        booster = xgb.train(
            params,
            train_matrix,
            num_boost_round=max(0, num_round - done_rounds),
            evals=watchlist,
            custom_metric=_custom_metric(custom, objective),
            callbacks=callbacks,
            xgb_model=str(resume_from) if resume_from else None,
            verbose_eval=False,
        )
    except Exception as exc:
        message = str(exc).split("\nStack trace:")[0]
        if any(known in message for known in CUSTOMER_ERRORS):
            raise UserError(message) from exc
        raise RuntimeError(f"XGB train call failed with exception:\n {message}") from exc
    env.model_dir.mkdir(parents=True, exist_ok=True)
    booster.save_model(str(env.model_dir / MODEL_NAME))


def _checkpoint_callback(directory: Path) -> Any:
    """Save `xgboost-checkpoint.<iteration>` after every round, keeping the newest five."""
    import xgboost as xgb

    class SaveCheckpoint(xgb.callback.TrainingCallback):  # type: ignore[misc]
        def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
            directory.mkdir(parents=True, exist_ok=True)
            iteration = model.num_boosted_rounds() - 1  # counts the rounds of a resumed model
            path = directory / f"{CHECKPOINT_NAME}.{iteration}"
            model.save_model(str(path) + ".tmp")
            Path(str(path) + ".tmp").replace(path)
            stale = directory / f"{CHECKPOINT_NAME}.{iteration - 5}"
            stale.unlink(missing_ok=True)
            return False

    return SaveCheckpoint()
