"""The stage catalog's words, for recognising services and stages in a request.

Prefers the project's catalog (tools/catalog/lookup.py) when it is importable; falls back to the
service names of the nine seed stages so the planner works on its own.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

# service id -> names people use for it (the seed's services)
FALLBACK_SERVICES: dict[str, tuple[str, ...]] = {
    "s3": ("s3", "amazon s3", "simple storage service", "object storage"),
    "glue": ("glue", "aws glue", "glue etl", "etl", "glue crawler", "data catalog"),
    "kinesis": ("kinesis", "amazon kinesis", "kinesis data streams", "streaming", "stream"),
    "data_exchange": ("data exchange", "aws data exchange", "dataexchange", "third-party data"),
    "data_wrangler": ("data wrangler", "sagemaker data wrangler", "wrangler"),
    "databrew": ("databrew", "glue databrew", "data brew"),
    "lambda": ("lambda", "aws lambda", "lambda function", "serverless function"),
    "athena": ("athena", "amazon athena"),
    "quicksight": ("quicksight", "amazon quicksight"),
    "feature_store": ("feature store", "sagemaker feature store", "featurestore"),
    "processing": ("processing job", "processing jobs", "sagemaker processing"),
    "training_jobs": ("training job", "training jobs", "sagemaker training"),
    "sagemaker": ("sagemaker", "amazon sagemaker"),
    "studio": ("studio", "sagemaker studio", "notebooks", "jupyter"),
    "experiments": ("experiments", "sagemaker experiments"),
    "debugger": ("debugger", "sagemaker debugger"),
    "batch": ("aws batch", "batch"),
    "autopilot": ("autopilot", "sagemaker autopilot", "automl"),
    "jumpstart": ("jumpstart", "sagemaker jumpstart", "pretrained models"),
    "automatic_model_tuning": (
        "automatic model tuning",
        "hyperparameter tuning",
        "amt",
        "tuning job",
    ),
    "model_monitor": ("model monitor", "sagemaker model monitor"),
    "clarify": ("clarify", "sagemaker clarify"),
    "endpoints": ("endpoint", "endpoints", "real-time endpoint", "real-time inference"),
    "batch_transform": ("batch transform", "transform job"),
    "multi_model_endpoints": ("multi-model endpoint", "multi model endpoint", "mme"),
    "serverless_inference": ("serverless inference", "serverless endpoint"),
    "api_gateway": ("api gateway", "amazon api gateway", "rest api"),
    "cloudwatch": ("cloudwatch", "amazon cloudwatch"),
    "cloudtrail": ("cloudtrail", "aws cloudtrail"),
    "pipelines": ("sagemaker pipelines", "pipelines", "pipeline"),
}


# Other ways people name a service (matched after light stemming: "serverless endpoints").
EXTRA_NAMES: dict[str, tuple[str, ...]] = {
    "s3": ("s3 bucket", "bucket"),
    "glue": ("glue crawler", "glue job", "data catalog"),
    "feature-store": ("feature store", "featurestore", "feature group", "online store"),
    "processing": ("processing job", "sagemaker processing job"),
    "training-jobs": ("training job", "sagemaker training job"),
    "autopilot": ("autopilot job", "automl job", "auto ml"),
    "automatic-model-tuning": ("tuning job", "hyperparameter tuning job", "hpo"),
    "endpoints": ("endpoint", "real-time endpoint", "realtime endpoint", "sagemaker endpoint"),
    "serverless-inference": ("serverless endpoint", "serverless inference endpoint"),
    "batch-transform": ("transform job", "batch transform job"),
    "multi-model-endpoints": ("multi-model endpoint", "multi model endpoint"),
    "model-monitor": ("monitoring schedule", "data quality monitor"),
    "clarify": ("clarify job", "bias job"),
    "pipelines": ("sagemaker pipeline",),
    "kinesis": ("kinesis stream", "data stream"),
    "lambda": ("lambda function",),
}
_KEYWORDS: dict[str, tuple[str, ...]] = {}


def _from_catalog() -> dict[str, tuple[str, ...]] | None:
    try:
        import importlib

        catalog: Any = importlib.import_module("tools.catalog.lookup")
    except Exception:
        return None
    entries = None
    for attr in ("SERVICES", "services", "CATALOG_SERVICES"):
        value = getattr(catalog, attr, None)
        if callable(value):
            try:
                value = value()
            except Exception:
                value = None
        if value:
            entries = value
            break
    if not entries:
        return None
    items = entries.items() if isinstance(entries, dict) else ((None, e) for e in entries)
    out: dict[str, tuple[str, ...]] = {}
    for key, entry in items:
        sid = key or _get(entry, "id") or _get(entry, "key") or _get(entry, "name")
        if not sid:
            continue
        names = [str(sid).replace("_", " ").replace("-", " ")]
        for attr in ("name", "title", "short_name"):
            v = _get(entry, attr)
            if isinstance(v, str):
                names.append(v)
                names.append(
                    v.removeprefix("Amazon ").removeprefix("AWS ").removeprefix("SageMaker ")
                )
        for attr in ("aliases", "also_known_as"):
            v = _get(entry, attr)
            if isinstance(v, list | tuple):
                names.extend(str(x) for x in v)
        names.extend(EXTRA_NAMES.get(str(sid), ()))
        # Keywords ("store", "upload") describe what a service is for; they do not name it.
        kw = _get(entry, "keywords")
        if isinstance(kw, list | tuple):
            _KEYWORDS[str(sid)] = tuple(str(x).lower() for x in kw)
        out[str(sid)] = tuple(dict.fromkeys(n.lower() for n in names if n))
    return out or None


def _get(entry: Any, attr: str) -> Any:
    if isinstance(entry, dict):
        return entry.get(attr)
    return getattr(entry, attr, None)


@lru_cache(maxsize=1)
def services() -> dict[str, tuple[str, ...]]:
    return _from_catalog() or FALLBACK_SERVICES


def keywords() -> dict[str, tuple[str, ...]]:
    services()
    return dict(_KEYWORDS)


def all_service_words() -> list[str]:
    words: list[str] = []
    for aliases in services().values():
        words.extend(aliases)
    return words
