"""Polling any SageMaker job kind until it ends, with backoff, progress events and a timeout."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

from tools.core.context import ToolContext
from tools.core.errors import ToolError

JobKind = Literal[
    "training", "processing", "tuning", "transform", "autopilot", "endpoint", "pipeline_execution"
]


@dataclass(frozen=True)
class JobApi:
    describe: str  # boto3 method name
    name_param: str
    status_key: str
    done: frozenset[str]
    failed: frozenset[str]


JOB_APIS: dict[str, JobApi] = {
    "training": JobApi("describe_training_job", "TrainingJobName", "TrainingJobStatus", frozenset({"Completed", "Failed", "Stopped"}), frozenset({"Failed", "Stopped"})),
    "processing": JobApi("describe_processing_job", "ProcessingJobName", "ProcessingJobStatus", frozenset({"Completed", "Failed", "Stopped"}), frozenset({"Failed", "Stopped"})),
    "tuning": JobApi("describe_hyper_parameter_tuning_job", "HyperParameterTuningJobName", "HyperParameterTuningJobStatus", frozenset({"Completed", "Failed", "Stopped"}), frozenset({"Failed", "Stopped"})),
    "transform": JobApi("describe_transform_job", "TransformJobName", "TransformJobStatus", frozenset({"Completed", "Failed", "Stopped"}), frozenset({"Failed", "Stopped"})),
    "autopilot": JobApi("describe_auto_ml_job_v2", "AutoMLJobName", "AutoMLJobStatus", frozenset({"Completed", "Failed", "Stopped"}), frozenset({"Failed", "Stopped"})),
    "endpoint": JobApi("describe_endpoint", "EndpointName", "EndpointStatus", frozenset({"InService", "Failed", "OutOfService"}), frozenset({"Failed", "OutOfService"})),
    "pipeline_execution": JobApi("describe_pipeline_execution", "PipelineExecutionArn", "PipelineExecutionStatus", frozenset({"Succeeded", "Failed", "Stopped"}), frozenset({"Failed", "Stopped"})),
}  # fmt: skip


@dataclass
class WaitOutcome:
    status: str
    description: dict[str, Any]
    waited_s: float
    timed_out: bool = False


#: A training job's secondary statuses in the order SageMaker goes through them.
TRAINING_STEPS = ("Starting", "Downloading", "Training", "Uploading", "Completed")


def wait_for_job(
    ctx: ToolContext,
    kind: str,
    name: str,
    *,
    timeout_s: float = 3600,
    max_interval_s: float = 60,
) -> WaitOutcome:
    """Poll with exponential backoff until the job ends or the timeout passes."""
    api = JOB_APIS.get(kind)
    if api is None:
        raise ToolError(f"unknown job kind '{kind}' (one of: {', '.join(JOB_APIS)})")
    client = ctx.client("sagemaker")
    describe = getattr(client, api.describe)
    started = time.monotonic()
    interval = ctx.poll_interval
    last_status = ""
    while True:
        ctx.check_cancelled()
        desc = describe(**{api.name_param: name})
        status = str(desc.get(api.status_key, ""))
        secondary = str(desc.get("SecondaryStatus") or desc.get("AutoMLJobSecondaryStatus") or "")
        waited = time.monotonic() - started
        if status != last_status or secondary:
            message = f"{kind} {name}: {status}{f' ({secondary})' if secondary else ''}"
            step = TRAINING_STEPS.index(secondary) + 1 if secondary in TRAINING_STEPS else None
            if kind == "training" and step is not None:
                # The bar follows SageMaker's own stages: Starting → ... → Completed.
                ctx.report(message, step, len(TRAINING_STEPS), "steps")
            else:
                ctx.report(message, waited, timeout_s, "s")
            last_status = status
        if status in api.done:
            return WaitOutcome(status, desc, waited)
        if waited >= timeout_s:
            return WaitOutcome(status, desc, waited, timed_out=True)
        ctx.sleep(min(interval, max(0.0, timeout_s - waited)))
        interval = min(interval * 1.5, max_interval_s)


def newest_first_params(
    max_results: int, name_contains: str | None, status: str | None, created_after: Any = None
) -> dict[str, Any]:
    """The shared filter shape of SageMaker's List*Jobs calls, newest first."""
    params: dict[str, Any] = {
        "MaxResults": max_results,
        "SortBy": "CreationTime",
        "SortOrder": "Descending",
    }
    if name_contains:
        params["NameContains"] = name_contains
    if status:
        params["StatusEquals"] = status
    if created_after:
        params["CreationTimeAfter"] = created_after
    return params
