"""The ledger writes what a create call is about to make *before* the call is sent.

A tool records what it created when it finishes; a process killed in between, or a reply lost
on the way back (the resource exists, the tool saw an error), used to leave a billing resource
nobody knew about. So every create operation first leaves a `pending` entry (kind, name,
session, pid). An answer confirms it (`active`) or, for a plain refusal, removes it; no answer
leaves it pending. At the next start `reconcile` settles what dead processes left pending: it
looks the session's resources up by their `sagecoach:session` tag (one GetResources call per
session and region), falls back to a describe/head call by name, and marks each found entry
active, or drops it when AWS has no such resource.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tools.ledger.store import PENDING

__all__ = ["CREATES", "PENDING", "LedgerIntents", "Settled", "reconcile"]

# "service:Operation" -> (ledger kind, the request parameter naming the resource)
CREATES: dict[str, tuple[str, str]] = {
    "s3:CreateBucket": ("s3_bucket", "Bucket"),
    "sagemaker:CreateEndpoint": ("sagemaker_endpoint", "EndpointName"),
    "sagemaker:CreateEndpointConfig": ("sagemaker_endpoint_config", "EndpointConfigName"),
    "sagemaker:CreateModel": ("sagemaker_model", "ModelName"),
    "sagemaker:CreateTrainingJob": ("sagemaker_training_job", "TrainingJobName"),
    "sagemaker:CreateProcessingJob": ("sagemaker_processing_job", "ProcessingJobName"),
    "sagemaker:CreateTransformJob": ("sagemaker_transform_job", "TransformJobName"),
    "sagemaker:CreateHyperParameterTuningJob": (
        "sagemaker_tuning_job",
        "HyperParameterTuningJobName",
    ),
    "sagemaker:CreateAutoMLJob": ("sagemaker_automl_job", "AutoMLJobName"),
    "sagemaker:CreateAutoMLJobV2": ("sagemaker_automl_job", "AutoMLJobName"),
    "sagemaker:CreatePipeline": ("sagemaker_pipeline", "PipelineName"),
    "sagemaker:CreateMonitoringSchedule": (
        "sagemaker_monitoring_schedule",
        "MonitoringScheduleName",
    ),
    "sagemaker:CreateFeatureGroup": ("feature_group", "FeatureGroupName"),
    "glue:CreateCrawler": ("glue_crawler", "Name"),
    "glue:CreateJob": ("glue_job", "Name"),
    "kinesis:CreateStream": ("kinesis_stream", "StreamName"),
    "lambda:CreateFunction": ("lambda_function", "FunctionName"),
}
# An error answer after a retry may mean "your first attempt did it" (the reply was lost).
MAYBE_OURS = {
    "BucketAlreadyOwnedByYou",
    "ResourceInUse",
    "ResourceInUseException",
    "AlreadyExistsException",
    "ResourceConflictException",
    "ResourceAlreadyExistsException",
}


def _process_alive(pid: int, host: str) -> bool:
    if host != socket.gethostname():
        return True  # cannot tell: leave it to that machine
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class LedgerIntents:
    """An AwsContext listener (AwsContext.add_listener) writing intents into a ledger."""

    ledger: Any  # tools.ledger.ResourceLedger
    session_id: str
    region: str

    def before_call(self, service: str, operation: str, params: dict[str, Any]) -> None:
        target = CREATES.get(f"{service}:{operation}")
        if target is None or not isinstance(params.get(target[1]), str):
            return
        kind, key = target
        self.ledger.record_intent(
            kind,
            params[key],
            session_id=self.session_id,
            region=self.region,
            extra={
                "operation": f"{service}:{operation}",
                "pid": os.getpid(),
                "host": socket.gethostname(),
            },
        )

    def after_call(
        self, service: str, operation: str, params: dict[str, Any], outcome: dict[str, Any]
    ) -> None:
        target = CREATES.get(f"{service}:{operation}")
        if target is None or not isinstance(params.get(target[1]), str):
            return
        kind, key = target
        if outcome.get("ok"):
            self.ledger.confirm_intent(kind, params[key], self.session_id)
        elif outcome.get("no_answer") or (
            outcome.get("code") in MAYBE_OURS and outcome.get("retries")
        ):
            return  # may exist: reconcile decides at the next start
        else:
            self.ledger.drop_intent(kind, params[key], self.session_id)


Lookup = Callable[[Any, str], bool | None]


def _sm(describe: str, param: str) -> Lookup:
    def look(aws: Any, name: str) -> bool | None:
        try:
            getattr(aws.client("sagemaker"), describe)(**{param: name})
            return True
        except Exception as exc:
            return _missing(exc)

    return look


def _s3_bucket(aws: Any, name: str) -> bool | None:
    try:
        aws.client("s3").head_bucket(Bucket=name)
        return True
    except Exception as exc:
        return _missing(exc)


def _missing(exc: Exception) -> bool | None:
    """False when AWS said 'no such resource', None when it could not tell (no access...)."""
    code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
    if code in ("404", "NoSuchBucket", "NotFound", "ResourceNotFound", "ValidationException"):
        return False
    return None


PROBES: dict[str, Lookup] = {
    "s3_bucket": _s3_bucket,
    "sagemaker_endpoint": _sm("describe_endpoint", "EndpointName"),
    "sagemaker_endpoint_config": _sm("describe_endpoint_config", "EndpointConfigName"),
    "sagemaker_model": _sm("describe_model", "ModelName"),
    "sagemaker_training_job": _sm("describe_training_job", "TrainingJobName"),
    "sagemaker_processing_job": _sm("describe_processing_job", "ProcessingJobName"),
    "sagemaker_transform_job": _sm("describe_transform_job", "TransformJobName"),
    "sagemaker_tuning_job": _sm(
        "describe_hyper_parameter_tuning_job", "HyperParameterTuningJobName"
    ),
}


def _tagged_names(aws: Any, session_id: str) -> set[str] | None:
    """Names (last ARN part) of everything tagged with this session; None when unavailable."""
    try:
        paginator = aws.client("resourcegroupstaggingapi").get_paginator("get_resources")
        names: set[str] = set()
        for page in paginator.paginate(
            TagFilters=[{"Key": "sagecoach:session", "Values": [session_id]}]
        ):
            for item in page.get("ResourceTagMappingList", []):
                arn = str(item.get("ResourceARN", ""))
                names.add(arn.rsplit("/", 1)[-1].rsplit(":", 1)[-1])
        return names
    except Exception:
        return None


@dataclass
class Settled:
    found: list[str]
    dropped: list[str]
    unknown: list[str]

    def notice(self) -> str:
        if not (self.found or self.unknown):
            return ""
        parts = []
        if self.found:
            parts.append(
                f"{len(self.found)} resource(s) created before sagecoach stopped unexpectedly "
                f"are now in the ledger: {', '.join(self.found[:5])}"
            )
        if self.unknown:
            parts.append(
                f"{len(self.unknown)} create call(s) could not be confirmed either way: "
                f"{', '.join(self.unknown[:5])} (check them in the console)"
            )
        return "; ".join(parts) + ". See /resources."


def reconcile(ledger: Any, aws: Any, *, current_session: str = "") -> Settled:
    """Settle pending intents that dead processes left behind (tags first, then by name)."""
    settled = Settled([], [], [])
    pending = [
        e
        for e in ledger.entries(status=PENDING)
        if e.session_id != current_session
        and not _process_alive(int(e.extra.get("pid") or 0), str(e.extra.get("host") or ""))
    ]
    tagged: dict[str, set[str] | None] = {}
    for entry in pending:
        if entry.session_id not in tagged:
            tagged[entry.session_id] = _tagged_names(aws, entry.session_id)
        names = tagged[entry.session_id]
        exists: bool | None = True if names is not None and entry.name in names else None
        if exists is None and entry.kind in PROBES:
            exists = PROBES[entry.kind](aws, entry.name)
        elif exists is None and names is not None:
            exists = False  # the tag lookup answered and it was not there
        label = f"{entry.kind} {entry.name}"
        if exists:
            ledger.confirm_entry(entry.id)
            settled.found.append(label)
        elif exists is False:
            ledger.remove_entry(entry.id)
            settled.dropped.append(label)
        else:
            settled.unknown.append(label)
    return settled
