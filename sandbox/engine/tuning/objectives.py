"""Which objective metrics a tuning job may optimise, as CreateHyperParameterTuningJob checks
them: a built-in algorithm's own metrics (with the direction each must be optimised in), or
for any other image a metric its MetricDefinitions extract from the log."""

from __future__ import annotations

from typing import Any

from sandbox.engine.images import XGB_MAXIMIZE, XGB_MINIMIZE, metric_definitions, resolve

_FIRST_PARTY_MAXIMIZE = ("accuracy", "f_beta", "precision", "recall", "roc_auc", "r2", "f1")


class ObjectiveError(ValueError):
    """The message is SageMaker's ValidationException."""


def expected_type(family: str, metric: str) -> str | None:
    """Maximize / Minimize for a built-in algorithm's metric (None: either)."""
    short = metric.split(":", 1)[-1]
    if family == "xgboost":
        if short in XGB_MAXIMIZE:
            return "Maximize"
        if short in XGB_MINIMIZE:
            return "Minimize"
        return None
    if family in ("linear-learner", "kmeans", "randomcutforest"):
        return "Maximize" if any(k in short for k in _FIRST_PARTY_MAXIMIZE) else "Minimize"
    return None


def check(definition: dict[str, Any], objective: dict[str, Any]) -> None:
    name = str(objective.get("MetricName", ""))
    kind = str(objective.get("Type", ""))
    spec = definition.get("AlgorithmSpecification") or {}
    image = resolve(str(spec.get("TrainingImage") or ""))
    user = [str(d.get("Name")) for d in spec.get("MetricDefinitions") or []]
    hyperparameters = definition.get("StaticHyperParameters") or {}
    script_mode = "sagemaker_program" in hyperparameters or image.family == "sklearn"
    if image.builtin and not script_mode:
        emitted = [d["Name"] for d in metric_definitions(image)]
        if name not in emitted:
            raise ObjectiveError(
                f"The objective metric [{name}] is not a metric the {image.family} algorithm "
                f"emits. Choose one of its objective metrics, e.g. "
                f"{', '.join(emitted[:8])}{', ...' if len(emitted) > 8 else ''}."
            )
        wanted = expected_type(image.family, name)
        if wanted and kind != wanted:
            raise ObjectiveError(
                f"The objective metric type, [{kind}], that you specified for objective metric, "
                f"[{name}], isn't valid for the [{image.family}] algorithm. Choose a valid "
                f"objective metric type ({wanted})."
            )
        return
    if name not in user:
        raise ObjectiveError(
            "A metric is required for this hyperparameter tuning job objective. Provide a metric "
            "in the metric definitions."
        )
