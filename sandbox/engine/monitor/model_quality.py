"""Model-quality statistics and constraints as Model Monitor's analyzer writes them
(binary_classification_metrics, multiclass_classification_metrics, regression_metrics, each
value with a bootstrap standard deviation) and the checks of a run against a baseline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

BOOTSTRAPS = 10
_LOWER_IS_BAD = "LessThanThreshold"
_HIGHER_IS_BAD = "GreaterThanThreshold"
BINARY_CONSTRAINTS = {
    "recall": _LOWER_IS_BAD, "precision": _LOWER_IS_BAD, "accuracy": _LOWER_IS_BAD,
    "true_positive_rate": _LOWER_IS_BAD, "true_negative_rate": _LOWER_IS_BAD,
    "false_positive_rate": _HIGHER_IS_BAD, "false_negative_rate": _HIGHER_IS_BAD,
    "auc": _LOWER_IS_BAD, "f0_5": _LOWER_IS_BAD, "f1": _LOWER_IS_BAD, "f2": _LOWER_IS_BAD,
}  # fmt: skip
MULTICLASS_CONSTRAINTS = {
    "accuracy": _LOWER_IS_BAD, "weighted_recall": _LOWER_IS_BAD,
    "weighted_precision": _LOWER_IS_BAD, "weighted_f0_5": _LOWER_IS_BAD,
    "weighted_f1": _LOWER_IS_BAD, "weighted_f2": _LOWER_IS_BAD,
}  # fmt: skip
REGRESSION_CONSTRAINTS = {"mae": _HIGHER_IS_BAD, "mse": _HIGHER_IS_BAD, "rmse": _HIGHER_IS_BAD,
                          "r2": _LOWER_IS_BAD}  # fmt: skip
SECTIONS = {
    "BinaryClassification": ("binary_classification_metrics", "binary_classification_constraints",
                             BINARY_CONSTRAINTS),
    "MulticlassClassification": ("multiclass_classification_metrics",
                                 "multiclass_classification_constraints", MULTICLASS_CONSTRAINTS),
    "Regression": ("regression_metrics", "regression_constraints", REGRESSION_CONSTRAINTS),
}  # fmt: skip


def _binary(truth: Any, predicted: Any, scores: Any) -> dict[str, float]:
    from sklearn import metrics as m

    out = {
        "recall": m.recall_score(truth, predicted, zero_division=0),
        "precision": m.precision_score(truth, predicted, zero_division=0),
        "accuracy": m.accuracy_score(truth, predicted),
        "f0_5": m.fbeta_score(truth, predicted, beta=0.5, zero_division=0),
        "f1": m.f1_score(truth, predicted, zero_division=0),
        "f2": m.fbeta_score(truth, predicted, beta=2, zero_division=0),
    }
    tn, fp, fn, tp = m.confusion_matrix(truth, predicted, labels=[0, 1]).ravel()
    out["true_positive_rate"] = tp / (tp + fn) if tp + fn else 0.0
    out["true_negative_rate"] = tn / (tn + fp) if tn + fp else 0.0
    out["false_positive_rate"] = fp / (fp + tn) if fp + tn else 0.0
    out["false_negative_rate"] = fn / (fn + tp) if fn + tp else 0.0
    if scores is not None and len(set(truth.tolist())) == 2:
        out["auc"] = m.roc_auc_score(truth, scores)
    return {k: float(v) for k, v in out.items()}


def _multiclass(truth: Any, predicted: Any, scores: Any) -> dict[str, float]:
    from sklearn import metrics as m

    def weighted(fn: Callable[..., float], **kw: Any) -> float:
        return float(fn(truth, predicted, average="weighted", zero_division=0, **kw))

    return {
        "accuracy": float(m.accuracy_score(truth, predicted)),
        "weighted_recall": weighted(m.recall_score),
        "weighted_precision": weighted(m.precision_score),
        "weighted_f0_5": weighted(m.fbeta_score, beta=0.5),
        "weighted_f1": weighted(m.f1_score),
        "weighted_f2": weighted(m.fbeta_score, beta=2),
    }


def _regression(truth: Any, predicted: Any, scores: Any) -> dict[str, float]:
    import numpy as np
    from sklearn import metrics as m

    mse = float(m.mean_squared_error(truth, predicted))
    return {"mae": float(m.mean_absolute_error(truth, predicted)), "mse": mse,
            "rmse": float(np.sqrt(mse)), "r2": float(m.r2_score(truth, predicted))}  # fmt: skip


_COMPUTE = {"BinaryClassification": _binary, "MulticlassClassification": _multiclass,
            "Regression": _regression}  # fmt: skip


def statistics(problem: str, truth: Any, predicted: Any, scores: Any = None) -> dict[str, Any]:
    """statistics.json of a model-quality baseline or run (each metric with a bootstrap
    standard deviation)."""
    import numpy as np

    if problem not in _COMPUTE:
        raise ValueError(
            f"problem_type must be BinaryClassification, MulticlassClassification or Regression "
            f"(got {problem!r})"
        )
    compute = _COMPUTE[problem]
    values = compute(truth, predicted, scores)
    rng = np.random.default_rng(0)
    samples: dict[str, list[float]] = {k: [] for k in values}
    for _ in range(BOOTSTRAPS):
        pick = rng.integers(0, len(truth), len(truth))
        try:
            again = compute(truth[pick], predicted[pick], None if scores is None else scores[pick])
        except ValueError:
            continue
        for key, value in again.items():
            samples.setdefault(key, []).append(value)
    section: dict[str, Any] = {
        key: {"value": value,
              "standard_deviation": float(np.std(samples[key])) if samples.get(key) else "NaN"}
        for key, value in values.items()
    }  # fmt: skip
    if problem == "BinaryClassification":
        matrix: dict[str, dict[str, int]] = {}
        for t, p in zip(truth.tolist(), predicted.tolist(), strict=True):
            row = matrix.setdefault(str(int(t)), {})
            row[str(int(p))] = row.get(str(int(p)), 0) + 1
        section["confusion_matrix"] = matrix
    return {
        "version": 0.0,
        "dataset": {"item_count": len(truth)},
        SECTIONS[problem][0]: section,
    }


def constraints(problem: str, stats: dict[str, Any]) -> dict[str, Any]:
    metrics_key, constraints_key, operators = SECTIONS[problem]
    section = stats.get(metrics_key) or {}
    return {
        "version": 0.0,
        constraints_key: {
            name: {"threshold": section[name]["value"], "comparison_operator": operator}
            for name, operator in operators.items()
            if name in section
        },
    }


def check(problem: str, stats: dict[str, Any], baseline: dict[str, Any]) -> list[dict[str, Any]]:
    metrics_key, constraints_key, _ = SECTIONS[problem]
    current = stats.get(metrics_key) or {}
    violations = []
    for name, rule in (baseline.get(constraints_key) or {}).items():
        if name not in current:
            continue
        value = float(current[name]["value"])
        deviation = current[name].get("standard_deviation", 0.0)
        threshold = float(rule["threshold"])
        operator = rule.get("comparison_operator", _LOWER_IS_BAD)
        broken = {
            "LessThanThreshold": value < threshold,
            "GreaterThanThreshold": value > threshold,
            "LessThanOrEqualToThreshold": value <= threshold,
            "GreaterThanOrEqualToThreshold": value >= threshold,
        }.get(operator, False)
        if broken:
            violations.append({
                "constraint_check_type": operator,
                "description": f"Metric {name} with {value} +/- {deviation} was {operator} "
                f"'{threshold}'",
                "metric_name": name,
            })  # fmt: skip
    return violations
