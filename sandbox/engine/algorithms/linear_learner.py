"""SageMaker Linear Learner, with scikit-learn standing in for the MXNet trainer.

Contract: `predictor_type` is required (binary_classifier, multiclass_classifier, regressor);
CSV with the label in column 0 and no header; channels train (required), validation, test;
metrics as `#quality_metric: host=algo-1, <channel> <metric> <score>=<value>`.
"""

from __future__ import annotations

import logging
from typing import Any

from sandbox.engine.algorithms.common import ContainerEnv, UserError
from sandbox.engine.algorithms.first_party import (
    Param,
    check_feature_dim,
    label_size,
    quality,
    read_strict_csv,
    require_channel,
    save_model,
    validate,
)

log = logging.getLogger("algorithm")

SCHEMA = {
    "predictor_type": Param(
        "enum", required=True, choices=("binary_classifier", "multiclass_classifier", "regressor")
    ),
    "feature_dim": Param("int", default="auto", low=1, auto=True),
    "num_classes": Param("int", default=None, low=3),
    "epochs": Param("int", default=15, low=1),
    "mini_batch_size": Param("int", default=1000, low=1),
    "learning_rate": Param("float", default="auto", low=0, auto=True),
    "l1": Param("float", default="auto", low=0, auto=True),
    "wd": Param("float", default="auto", low=0, auto=True),
    "optimizer": Param("enum", default="auto", choices=("auto", "sgd", "adam", "rmsprop")),
    "loss": Param("text", default="auto"),
    "normalize_data": Param("bool", default=True),
    "normalize_label": Param("bool", default=None),
    "num_models": Param("text", default="auto"),
    "early_stopping_patience": Param("int", default=3, low=1),
    "early_stopping_tolerance": Param("float", default=0.001, low=0),
    "binary_classifier_model_selection_criteria": Param("text", default="accuracy"),
    "target_recall": Param("float", default=0.8, low=0, high=1),
    "target_precision": Param("float", default=0.8, low=0, high=1),
    "positive_example_weight_mult": Param("text", default="1.0"),
    "use_bias": Param("bool", default=True),
    "init_method": Param("text", default="uniform"),
    "unbias_data": Param("bool", default=None),
    "unbias_label": Param("bool", default=None),
    "num_point_for_scaler": Param("int", default=10000, low=1),
    "huber_delta": Param("float", default=1.0, low=0),
    "quantile": Param("float", default=0.5, low=0, high=1),
    "beta_1": Param("text", default="auto"),
    "beta_2": Param("text", default="auto"),
    "bias_lr_mult": Param("text", default="auto"),
    "bias_wd_mult": Param("text", default="auto"),
    "lr_scheduler_step": Param("text", default="auto"),
    "lr_scheduler_factor": Param("text", default="auto"),
    "lr_scheduler_minimum_lr": Param("text", default="auto"),
    "momentum": Param("text", default="auto"),
    "accuracy_top_k": Param("int", default=3, low=1),
    "f_beta": Param("float", default=1.0, low=0),
    "balance_multiclass_weights": Param("bool", default=False),
    "margin": Param("float", default=1.0, low=0),
    "loss_insensitivity": Param("float", default=0.01, low=0),
}


def _model(params: dict[str, Any]) -> Any:
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    wd = params["wd"]
    alpha = 1e-4 if wd == "auto" else max(float(wd), 1e-8)
    if params["predictor_type"] == "regressor":
        estimator: Any = Ridge(alpha=alpha)
    else:
        estimator = LogisticRegression(C=1.0 / alpha, max_iter=max(100, 20 * params["epochs"]))
    steps = [StandardScaler()] if params["normalize_data"] else []
    return make_pipeline(*steps, estimator)


def _report(channel: str, model: Any, params: dict[str, Any], x: Any, y: Any) -> None:
    import numpy as np
    from sklearn import metrics as skm

    kind = params["predictor_type"]
    if kind == "regressor":
        predictions = model.predict(x)
        mse = float(skm.mean_squared_error(y, predictions))
        quality(channel, "mse", mse)
        quality(channel, "objective_loss", mse)
        quality(channel, "absolute_loss", float(skm.mean_absolute_error(y, predictions)))
        quality(channel, "rmse", float(np.sqrt(mse)))
        quality(channel, "r2", float(skm.r2_score(y, predictions)))
        return
    labels = model.predict(x)
    probabilities = model.predict_proba(x)
    quality(channel, "objective_loss", float(skm.log_loss(y, probabilities, labels=model.classes_)))
    if kind == "binary_classifier":
        quality(channel, "binary_classification_accuracy", float(skm.accuracy_score(y, labels)))
        quality(channel, "precision", float(skm.precision_score(y, labels, zero_division=0)))
        quality(channel, "recall", float(skm.recall_score(y, labels, zero_division=0)))
        quality(channel, "binary_f_beta", float(skm.fbeta_score(y, labels, beta=params["f_beta"],
                                                                   zero_division=0)))  # fmt: skip
        if len(set(y.tolist())) == 2:
            quality(channel, "roc_auc_score", float(skm.roc_auc_score(y, probabilities[:, 1])))
    else:
        quality(channel, "multiclass_accuracy", float(skm.accuracy_score(y, labels)))
        quality(channel, "macro_f_beta", float(skm.f1_score(y, labels, average="macro")))


def train(env: ContainerEnv) -> None:
    params = validate(env.hyperparameters, SCHEMA)
    kind = params["predictor_type"]
    if kind == "multiclass_classifier" and params["num_classes"] is None:
        raise UserError(
            "Unable to initialize the algorithm. Failed to validate hyperparameters. (caused by "
            "ValidationError)\n\nCaused by: num_classes is required when predictor_type is "
            "multiclass_classifier"
        )
    train_config = require_channel(env, "train")
    x, y = read_strict_csv("train", env.channel_dir("train"),
                           label_size(train_config.get("ContentType"), 1))  # fmt: skip
    check_feature_dim(params["feature_dim"], x)
    if kind == "binary_classifier" and not set(y.tolist()) <= {0.0, 1.0}:
        raise UserError(
            "Customer Error: Label was not 0 or 1 for binary classifier. Please make sure the "
            "label in the first column is 0 or 1."
        )
    if kind == "multiclass_classifier" and (
        (y < 0).any() or (y >= params["num_classes"]).any() or (y != y.round()).any()
    ):
        raise UserError(
            f"Customer Error: Label must be an integer in [0, {params['num_classes']}) for "
            "multiclass_classifier."
        )
    log.info("Training on %d rows and %d features (predictor_type=%s)", *x.shape, kind)
    model = _model(params)
    if kind != "regressor" and len(set(y.tolist())) < 2:
        raise UserError("Customer Error: The training data has a single class; need at least two.")
    model.fit(x, y)
    _report("train", model, params, x, y)
    for channel in ("validation", "test"):
        if channel in env.data_config:
            content = env.data_config[channel].get("ContentType")
            vx, vy = read_strict_csv(channel, env.channel_dir(channel), label_size(content, 1))
            _report(channel, model, params, vx, vy)
    save_model(env, {"algorithm": "linear-learner", "predictor_type": kind, "model": model,
                     "feature_dim": int(x.shape[1])})  # fmt: skip
