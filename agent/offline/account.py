"""What exists in the account, so a question can offer real choices ("Which bucket? You have
churn-data, sagecoach-demo.").

Free read-only list calls through the session's guarded AWS context (each one audited like
any other AWS call), a few names per kind, cached briefly. Any failure gives no choices, never
an error: the question is still asked.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

MAX_NAMES = 5
TTL_SECONDS = 20.0


def _buckets(aws: Any) -> list[str]:
    return [b["Name"] for b in aws.client("s3").list_buckets().get("Buckets", [])]


def _sm(method: str, key: str, name: str, **kw: Any) -> Callable[[Any], list[str]]:
    def run(aws: Any) -> list[str]:
        out = getattr(aws.client("sagemaker"), method)(
            MaxResults=MAX_NAMES, SortBy="CreationTime", SortOrder="Descending", **kw
        )
        return [item[name] for item in out.get(key, [])]

    return run


def _databases(aws: Any) -> list[str]:
    return [d["Name"] for d in aws.client("glue").get_databases().get("DatabaseList", [])]


def _functions(aws: Any) -> list[str]:
    return [f["FunctionName"] for f in aws.client("lambda").list_functions().get("Functions", [])]


def _streams(aws: Any) -> list[str]:
    return list(aws.client("kinesis").list_streams().get("StreamNames", []))


def _pipelines(aws: Any) -> list[str]:
    out = aws.client("sagemaker").list_pipelines(MaxResults=MAX_NAMES)
    return [p["PipelineName"] for p in out.get("PipelineSummaries", [])]


def _feature_groups(aws: Any) -> list[str]:
    out = aws.client("sagemaker").list_feature_groups(MaxResults=MAX_NAMES)
    return [g["FeatureGroupName"] for g in out.get("FeatureGroupSummaries", [])]


LISTERS: dict[str, Callable[[Any], list[str]]] = {
    "bucket": _buckets,
    "endpoint": _sm("list_endpoints", "Endpoints", "EndpointName"),
    "model": _sm("list_models", "Models", "ModelName"),
    "training_job": _sm("list_training_jobs", "TrainingJobSummaries", "TrainingJobName"),
    "tuning_job": _sm(
        "list_hyper_parameter_tuning_jobs",
        "HyperParameterTuningJobSummaries",
        "HyperParameterTuningJobName",
    ),
    "database": _databases,
    "function": _functions,
    "stream": _streams,
    "pipeline": _pipelines,
    "feature_group": _feature_groups,
}


class AccountLookup:
    """Names of things of one kind in the session's account (newest first, a few)."""

    def __init__(self, aws: Any) -> None:
        self.aws = aws
        self._cache: dict[str, tuple[float, list[str]]] = {}
        self._lock = threading.Lock()

    def names(self, kind: str) -> list[str]:
        lister = LISTERS.get(kind)
        if lister is None:
            return []
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(kind)
            if hit is not None and now - hit[0] < TTL_SECONDS:
                return hit[1]
        try:
            names = [str(n) for n in lister(self.aws)][:MAX_NAMES]
        except Exception:  # no permission, no network, not emulated: no choices
            names = []
        with self._lock:
            self._cache[kind] = (now, names)
        return names
