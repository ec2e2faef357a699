"""What the sidebar shows for a stage: its services and recommended next steps.

The stage catalog (tools/catalog/) is the source when it is importable; until then (or if its
shape changes) a short built-in summary keeps the sidebar useful.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The catalog is read on first use, after the app's first frame.


@dataclass
class StageInfo:
    id: str
    number: int
    title: str
    purpose: str = ""
    services: list[tuple[str, str]] = field(default_factory=list)  # (service, what it is for)
    next_steps: list[str] = field(default_factory=list)  # things to type


_FALLBACK: dict[str, tuple[str, list[tuple[str, str]], list[str]]] = {
    "collection": (
        "Gather and store raw data.",
        [
            ("Amazon S3", "object storage for raw and processed data"),
            ("AWS Glue", "crawl and catalog data sources"),
            ("AWS Data Exchange", "third-party data sets"),
            ("Amazon Kinesis", "streaming ingestion"),
        ],
        ["upload churn.csv to a new bucket", "list my buckets"],
    ),
    "preparation": (
        "Clean, explore and understand the data.",
        [
            ("SageMaker Data Wrangler", "visual data preparation"),
            ("AWS Glue DataBrew", "no-code cleaning and profiling"),
            ("Amazon Athena", "SQL over S3"),
            ("AWS Lambda", "serverless transformations"),
        ],
        ["profile the churn data", "run a SQL query on the churn table"],
    ),
    "features": (
        "Create and share features.",
        [
            ("SageMaker Feature Store", "online and offline feature groups"),
            ("SageMaker Processing", "feature scripts in Python or Spark"),
        ],
        ["create a feature group from the churn data"],
    ),
    "training": (
        "Train models.",
        [
            ("SageMaker Training Jobs", "managed training on chosen instances"),
            ("SageMaker Autopilot", "AutoML"),
            ("SageMaker JumpStart", "pre-built models"),
            ("AWS Batch", "large parallel jobs"),
        ],
        ["train an XGBoost model on the churn data"],
    ),
    "tuning": (
        "Find better hyperparameters.",
        [("SageMaker Automatic Model Tuning", "Bayesian, random, grid and Hyperband search")],
        ["tune the XGBoost model for AUC"],
    ),
    "evaluation": (
        "Measure the model on held-out data.",
        [
            ("SageMaker Experiments", "compare runs"),
            ("SageMaker Clarify", "bias and explanations"),
        ],
        ["compare my training jobs", "show the metrics of the last job"],
    ),
    "deployment": (
        "Serve predictions.",
        [
            ("SageMaker real-time endpoints", "low-latency inference"),
            ("SageMaker Serverless Inference", "pay per request"),
            ("SageMaker Batch Transform", "offline predictions"),
            ("AWS Lambda + API Gateway", "light models behind an API"),
        ],
        ["deploy the best model to a serverless endpoint", "invoke the endpoint"],
    ),
    "monitoring": (
        "Watch the model in production.",
        [
            ("SageMaker Model Monitor", "data and model quality drift"),
            ("Amazon CloudWatch", "metrics and alarms"),
            ("AWS CloudTrail", "who called what"),
        ],
        ["show the endpoint's latency", "set an alarm on endpoint errors"],
    ),
    "orchestration": (
        "Automate the pipeline.",
        [
            ("SageMaker Pipelines", "ML workflows"),
            ("AWS Step Functions", "general workflows"),
            ("Amazon EventBridge", "schedules and triggers"),
        ],
        ["build a pipeline that retrains weekly"],
    ),
}


def stage_infos() -> list[StageInfo]:
    from tools.core.stages import STAGES

    return [stage_info(sid) for sid, _, _ in STAGES]


def stage_info(stage_id: str) -> StageInfo:
    from tools.core.stages import STAGES

    number, title = next(((n, t) for s, n, t in STAGES if s == stage_id), (0, stage_id))
    purpose, services, steps = _FALLBACK.get(stage_id, ("", [], []))
    info = StageInfo(stage_id, number, title, purpose, list(services), list(steps))
    try:
        _from_catalog(info)
    except Exception:  # the catalog is optional here; the fallback stays
        pass
    return info


def _from_catalog(info: StageInfo) -> None:
    """Fill `info` from tools.catalog.lookup if it offers a stage entry we can read."""
    import importlib

    catalog = importlib.import_module("tools.catalog.lookup")
    listed = getattr(catalog, "stage_services", None)
    stage = getattr(catalog, "get_stage", None)
    if callable(listed) and callable(stage):
        found = stage(info.id)
        if found is not None and getattr(found, "purpose", ""):
            info.purpose = found.purpose
        services = []
        for svc in listed(info.id):
            role = svc.role_in(info.id) if hasattr(svc, "role_in") else ""
            services.append((svc.name, role or svc.purpose))
        if services:
            info.services = services
            return
    entry: Any = None
    for name in ("get_stage", "stage", "stage_entry"):
        func = getattr(catalog, name, None)
        if callable(func):
            entry = func(info.id)
            break
    if entry is None:
        for name in ("CATALOG", "STAGE_CATALOG", "STAGES"):
            table = getattr(catalog, name, None)
            if isinstance(table, dict) and info.id in table:
                entry = table[info.id]
                break
            if isinstance(table, list | tuple):
                entry = next((e for e in table if _get(e, "id", "stage") == info.id), None)
                if entry is not None:
                    break
    if entry is None:
        return
    purpose = _get(entry, "purpose", "summary")
    if isinstance(purpose, str) and purpose:
        info.purpose = purpose
    services = _get(entry, "services")
    if isinstance(services, list | tuple) and services:
        found: list[tuple[str, str]] = []
        for svc in services:
            if isinstance(svc, str):
                found.append((svc, ""))
                continue
            name = _get(svc, "name", "service")
            what = _get(svc, "what", "summary", "purpose", "description", "use_when")
            if isinstance(name, str):
                found.append((name, what if isinstance(what, str) else ""))
        if found:
            info.services = found
    steps = _get(entry, "next_steps", "try", "examples")
    if isinstance(steps, list | tuple) and steps and all(isinstance(s, str) for s in steps):
        info.next_steps = list(steps)


def _get(obj: Any, *names: str) -> Any:
    for name in names:
        if isinstance(obj, dict) and name in obj:
            return obj[name]
        if not isinstance(obj, dict) and hasattr(obj, name):
            return getattr(obj, name)
    return None
