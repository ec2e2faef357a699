"""Small helpers for the engine tests: boto3 clients on a sandbox, data with a known signal,
waiting for a job, reading its log."""

from __future__ import annotations

import io
import tarfile
import time
from typing import Any

import boto3

XGB_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
LL_IMAGE = "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1"
KMEANS_IMAGE = "382416733822.dkr.ecr.us-east-1.amazonaws.com/kmeans:1"
RCF_IMAGE = "382416733822.dkr.ecr.us-east-1.amazonaws.com/randomcutforest:1"
ROLE = "arn:aws:iam::123456789012:role/sagecoach-sandbox-execution-role"
DONE = ("Completed", "Failed", "Stopped")


def clients(endpoint: str, *services: str) -> list[Any]:
    session = boto3.session.Session(
        aws_access_key_id="sandbox", aws_secret_access_key="sandbox", region_name="us-east-1"
    )
    return [session.client(s, endpoint_url=endpoint) for s in services]


def signal_rows(
    count: int, seed: int = 1, features: int = 5
) -> tuple[list[int], list[list[float]]]:
    """Rows whose label follows the first two features (a model can learn it)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(count, features))
    y = ((x[:, 0] + 0.7 * x[:, 1] + 0.3 * rng.normal(size=count)) > 0).astype(int)
    return y.tolist(), x.round(4).tolist()


def label_first_csv(labels: list[Any], rows: list[list[Any]], header: str | None = None) -> bytes:
    lines = [header] if header else []
    lines += [
        ",".join([str(label), *map(str, row)]) for label, row in zip(labels, rows, strict=True)
    ]
    return ("\n".join(lines) + "\n").encode()


def channel(
    name: str, uri: str, content_type: str = "text/csv", distribution: str = "FullyReplicated"
) -> dict[str, Any]:
    return {
        "ChannelName": name,
        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri,
                                        "S3DataDistributionType": distribution}},
        "ContentType": content_type,
    }  # fmt: skip


def training_request(name: str, image: str, hyperparameters: dict[str, str],
                     channels: list[dict[str, Any]], output: str, max_runtime: int = 600) -> dict[str, Any]:  # fmt: skip
    return {
        "TrainingJobName": name,
        "AlgorithmSpecification": {"TrainingImage": image, "TrainingInputMode": "File"},
        "RoleArn": ROLE,
        "HyperParameters": hyperparameters,
        "InputDataConfig": channels,
        "OutputDataConfig": {"S3OutputPath": output},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
        "StoppingCondition": {"MaxRuntimeInSeconds": max_runtime},
    }


def wait_training(sm: Any, name: str, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        desc = sm.describe_training_job(TrainingJobName=name)
        if desc["TrainingJobStatus"] in DONE or time.monotonic() > deadline:
            return dict(desc)
        time.sleep(0.1)


def wait_processing(sm: Any, name: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        desc = sm.describe_processing_job(ProcessingJobName=name)
        if desc["ProcessingJobStatus"] in DONE or time.monotonic() > deadline:
            return dict(desc)
        time.sleep(0.1)


def log_lines(logs: Any, group: str, job: str) -> list[str]:
    streams = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix=job + "/")
    lines: list[str] = []
    for stream in streams["logStreams"]:
        events = logs.get_log_events(
            logGroupName=group, logStreamName=stream["logStreamName"], startFromHead=True
        )["events"]
        lines += [e["message"] for e in events]
    return lines


def tar_gz(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def untar(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]
