""" "The best model": best by the metric the job optimised, never simply the last one.

A tuning job knows its best training job (by its objective metric). Plain training runs are
ranked by their shared validation metric in the direction that metric improves (AUC and
accuracy up, error, loss and RMSE down). When the conversation has not looked yet, the planner
first makes the free read that finds out (describe the tuning job, or compare the runs).
"""

from __future__ import annotations

import re
from typing import Any

from agent.offline.memory import Call, Memory

BEST = re.compile(
    r"(?i)\b(?:best|winning|top|strongest|most accurate|highest[- ]scoring|better)"
    r"(?=\s+(?:\w+\s+)?(?:model|job|run|one|candidate|version|training)s?\b)"
)
_LOWER_IS_BETTER = re.compile(
    r"(?i)(error|loss|rmse|mse|mae|mape|logloss|merror|mlogloss|wmape|rmsle|quantile)"
)
LOOKUPS = ("sagemaker_describe_tuning_job", "sagemaker_compare_training_jobs")


def wants_best(text: str) -> bool:
    return bool(BEST.search(text))


def higher_is_better(metric: str) -> bool:
    return not _LOWER_IS_BETTER.search(metric or "")


def _data(call: Call) -> dict[str, Any]:
    artifact = call.artifact if isinstance(call.artifact, dict) else {}
    data = artifact.get("data")
    return data if isinstance(data, dict) else {}


def best_known(memory: Memory) -> tuple[str, str] | None:
    """(training job, why) from a lookup the conversation already made, newest first."""
    for call in reversed(memory.calls):
        if call.status != "success":
            continue
        data = _data(call)
        if call.name == "sagemaker_describe_tuning_job" and data.get("best_job"):
            why = f"best of tuning job {call.args.get('job_name')} by {data.get('best_metric')}"
            return str(data["best_job"]), f"{why} = {data.get('best_value')}"
        if call.name == "sagemaker_compare_training_jobs":
            metric = str(data.get("sort_by") or "")
            rows = [r for r in data.get("rows") or [] if isinstance(r, dict)]
            scored = [r for r in rows if isinstance(r.get(f"metric:{metric}"), int | float)]
            if metric and scored:
                up = higher_is_better(metric)
                top = (max if up else min)(scored, key=lambda r: float(r[f"metric:{metric}"]))
                value = top[f"metric:{metric}"]
                direction = "highest" if up else "lowest"
                return str(top["job"]), f"{direction} {metric} = {value}"
    return None


def lookup_call(memory: Memory, already: set[str]) -> tuple[str, dict[str, Any]] | None:
    """The free read that finds the best job: the latest tuning job's description, else a
    comparison of the conversation's training runs (two or more)."""
    tuning = memory.latest("tuning_job")
    if tuning and "sagemaker_describe_tuning_job" not in already:
        return "sagemaker_describe_tuning_job", {"job_name": tuning}
    runs = memory.recent("training_job", 5, prefer="training")
    if len(runs) >= 2 and "sagemaker_compare_training_jobs" not in already:
        return "sagemaker_compare_training_jobs", {"job_names": runs}
    return None
