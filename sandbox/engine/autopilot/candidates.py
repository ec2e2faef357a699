"""What Autopilot tries in the sandbox: a short ladder of real candidates per problem type
(XGBoost with a few settings, then Linear Learner), the training job each one is, and how the
containers' metric names map to Autopilot's objective metrics."""

from __future__ import annotations

from typing import Any

XGB_ACCOUNT = "683313688378"
FIRST_PARTY_ACCOUNT = "382416733822"
SKLEARN_ACCOUNT = "683313688378"

# Autopilot metric → (XGBoost eval_metric, Linear Learner metric, direction)
METRICS: dict[str, tuple[str | None, str | None, str]] = {
    "F1": ("f1", "binary_f_beta", "Maximize"),
    "Accuracy": ("accuracy", "accuracy", "Maximize"),
    "AUC": ("auc", "roc_auc_score", "Maximize"),
    "BalancedAccuracy": ("balanced_accuracy", None, "Maximize"),
    "Precision": ("precision", "precision", "Maximize"),
    "Recall": ("recall", "recall", "Maximize"),
    "F1macro": ("f1_macro", "macro_f_beta", "Maximize"),
    "PrecisionMacro": (None, "macro_precision", "Maximize"),
    "RecallMacro": (None, "macro_recall", "Maximize"),
    "LogLoss": ("logloss", "objective_loss", "Minimize"),
    "MSE": ("mse", "mse", "Minimize"),
    "RMSE": ("rmse", "rmse", "Minimize"),
    "MAE": ("mae", "absolute_loss", "Minimize"),
    "R2": ("r2", "r2", "Maximize"),
}
DEFAULT_OBJECTIVE = {"BinaryClassification": "F1", "MulticlassClassification": "Accuracy",
                     "Regression": "MSE"}  # fmt: skip
ALLOWED = {
    "BinaryClassification": {"F1", "Accuracy", "AUC", "BalancedAccuracy", "Precision", "Recall",
                             "LogLoss"},
    "MulticlassClassification": {"Accuracy", "F1macro", "PrecisionMacro", "RecallMacro",
                                 "BalancedAccuracy", "LogLoss"},
    "Regression": {"MSE", "RMSE", "MAE", "R2"},
}  # fmt: skip
# what each container emits (validation:<name>) → Autopilot's standard metric name
_XGB_NAMES = {"f1": "F1", "accuracy": "Accuracy", "auc": "AUC", "balanced_accuracy": "BalancedAccuracy",
              "precision": "Precision", "recall": "Recall", "f1_macro": "F1macro",
              "logloss": "LogLoss", "mlogloss": "LogLoss", "mse": "MSE", "rmse": "RMSE",
              "mae": "MAE", "r2": "R2"}  # fmt: skip
_LL_NAMES = {"binary_f_beta": "F1", "binary_classification_accuracy": "Accuracy",
             "multiclass_accuracy": "Accuracy", "roc_auc_score": "AUC", "precision": "Precision",
             "recall": "Recall", "macro_f_beta": "F1macro", "objective_loss": "LogLoss",
             "mse": "MSE", "rmse": "RMSE", "absolute_loss": "MAE", "r2": "R2"}  # fmt: skip
_XGB_LADDER = [
    {"max_depth": "4", "eta": "0.3", "num_round": "30", "subsample": "0.9"},
    {"max_depth": "2", "eta": "0.5", "num_round": "20"},
    {"max_depth": "6", "eta": "0.1", "num_round": "40", "min_child_weight": "2"},
]


def direction(metric: str) -> str:
    return METRICS.get(metric, (None, None, "Maximize"))[2]


def standard_metrics(
    family: str, final: list[dict[str, Any]], problem: str
) -> list[dict[str, Any]]:
    """CandidateMetrics from a training job's FinalMetricDataList (validation set)."""
    names = _XGB_NAMES if family == "xgboost" else _LL_NAMES
    found: dict[str, dict[str, Any]] = {}
    for item in final or []:
        channel, _, raw = str(item.get("MetricName", "")).partition(":")
        if channel != "validation" or raw not in names:
            continue
        standard = names[raw]
        if problem == "Regression" and raw == "objective_loss":
            continue
        value = float(item["Value"])
        found[standard] = {"MetricName": standard, "Value": value, "Set": "Validation",
                           "StandardMetricName": standard}  # fmt: skip
    return list(found.values())


def plan(
    problem: str, classes: list[str], objective: str, count: int, region: str
) -> list[dict[str, Any]]:
    """(family, hyperparameters, image) of the candidates to train, best guesses first."""
    xgb_image = f"{XGB_ACCOUNT}.dkr.ecr.{region}.amazonaws.com/sagemaker-xgboost:1.7-1"
    ll_image = f"{FIRST_PARTY_ACCOUNT}.dkr.ecr.{region}.amazonaws.com/linear-learner:1"
    xgb_metric = METRICS.get(objective, (None, None, ""))[0]
    if problem == "BinaryClassification":
        base = {"objective": "binary:logistic"}
        metrics = ["auc", "logloss", "f1", "accuracy"]
        ll = {"predictor_type": "binary_classifier", "epochs": "10"}
    elif problem == "MulticlassClassification":
        base = {"objective": "multi:softprob", "num_class": str(len(classes))}
        metrics = ["mlogloss", "accuracy", "f1_macro"]
        ll = {
            "predictor_type": "multiclass_classifier",
            "num_classes": str(len(classes)),
            "epochs": "10",
        }
    else:
        base = {"objective": "reg:squarederror"}
        metrics = ["rmse", "mse", "mae", "r2"]
        ll = {"predictor_type": "regressor", "epochs": "10"}
    if xgb_metric and xgb_metric not in metrics:
        metrics.append(xgb_metric)
    chosen: list[dict[str, Any]] = []
    ladder = [("xgboost", {**base, **step, "eval_metric": ",".join(metrics)}, xgb_image)
              for step in _XGB_LADDER]  # fmt: skip
    ladder.insert(2, ("linear-learner", ll, ll_image))
    for family, hyperparameters, image in ladder[: max(1, count)]:
        chosen.append({"family": family, "hyperparameters": hyperparameters, "image": image})
    return chosen


def inference_image(region: str) -> str:
    return f"{SKLEARN_ACCOUNT}.dkr.ecr.{region}.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
