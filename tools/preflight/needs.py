"""What a costly call needs from the world before it can succeed, in plain data.

Each tool's plan (tools/preflight/plans.py) turns validated arguments into Needs without any
AWS call; the checks then look at AWS (or the sandbox) to see whether the needs are met. Keeping
the two apart lets one set of checks serve every tool, and lets tests build Needs directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Usage = Literal["training", "spot training", "processing", "transform", "endpoint"]
QUOTA_WORDS: dict[str, str] = {
    "training": "training job usage",
    "spot training": "spot training job usage",
    "processing": "processing job usage",
    "transform": "transform job usage",
    "endpoint": "endpoint usage",
}
PRICE_COMPONENT: dict[str, str] = {
    "training": "training",
    "spot training": "training",
    "processing": "processing",
    "transform": "transform",
    "endpoint": "hosting",
}


@dataclass(frozen=True)
class Channel:
    """One input channel of a built-in algorithm (train, validation, test)."""

    name: str
    uri: str
    content_type: str = "text/csv"


@dataclass(frozen=True)
class DataContract:
    """A built-in algorithm reading its channels: what the first object must look like."""

    algorithm: str  # xgboost, linear-learner, kmeans, randomcutforest
    version: str | None
    hyperparameters: dict[str, str]
    channels: tuple[Channel, ...]


@dataclass(frozen=True)
class InstanceNeed:
    instance_type: str
    count: int
    usage: Usage


@dataclass(frozen=True)
class PayloadNeed:
    """Rows sent to a model (invoke) or an S3 input scored by one (transform)."""

    endpoint_name: str | None = None
    model_name: str | None = None
    body: bytes | None = None  # invoke: the payload
    input_uri: str | None = None  # transform: the input object or prefix
    content_type: str = "text/csv"
    encodes_raw: bool = False  # the tool encodes raw source rows with the manifest itself


@dataclass(frozen=True)
class PrepareNeed:
    """prepare_training_data: the source table and what to do with it."""

    source_uri: str
    target: str | None
    algorithm: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Needs:
    """Everything pre-flight looks at for one call; empty fields mean nothing to check."""

    service: str = "sagemaker.amazonaws.com"  # the principal that assumes the role
    role_arn: str | None = None  # resolved: the call's, else the session's default
    needs_role: bool = False
    reads: list[str] = field(default_factory=list)  # S3 URIs that must exist
    writes: list[str] = field(default_factory=list)  # S3 prefixes the job writes
    instances: list[InstanceNeed] = field(default_factory=list)
    contract: DataContract | None = None
    capture_endpoint: str | None = None  # monitoring: this endpoint must capture data
    model_names: list[str] = field(default_factory=list)  # their artifacts must exist
    payload: PayloadNeed | None = None
    prepare: PrepareNeed | None = None
    pipeline_name: str | None = None  # its steps' S3 inputs must exist
    glue_run: dict[str, Any] | None = None  # job_name, worker_type, number_of_workers
    notes: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (
            self.needs_role
            or self.reads
            or self.writes
            or self.instances
            or self.contract
            or self.capture_endpoint
            or self.model_names
            or self.payload
            or self.prepare
            or self.pipeline_name
            or self.glue_run
        )
