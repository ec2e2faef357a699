"""A job's log and metrics, where SageMaker puts them.

Logs: group `/aws/sagemaker/TrainingJobs` (or ProcessingJobs, TransformJobs, Endpoints/<name>),
stream `<job>/algo-1-<epoch seconds>`, one event per container output line. A tab in a line
shows up as `#011`, as it does in the real CloudWatch output of the containers.

Metrics: namespace `/aws/sagemaker/TrainingJobs`, dimensions `Host=algo-1` and
`TrainingJobName=<job>`, one datum per value the job's metric definitions matched in its log.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sandbox.engine.s3io import client

TRAINING_LOG_GROUP = "/aws/sagemaker/TrainingJobs"
PROCESSING_LOG_GROUP = "/aws/sagemaker/ProcessingJobs"
TRANSFORM_LOG_GROUP = "/aws/sagemaker/TransformJobs"
TRAINING_METRICS_NAMESPACE = "/aws/sagemaker/TrainingJobs"


def stream_name(job_name: str, host: str = "algo-1") -> str:
    return f"{job_name}/{host}-{int(time.time())}"


class JobLog:
    """Buffered writer of one log stream; thread-safe; flushes every line batch or on close."""

    def __init__(
        self, endpoint: str, region: str, group: str, stream: str, flush_every: int = 50
    ) -> None:
        self.logs = client(endpoint, "logs", region)
        self.group = group
        self.stream = stream
        self.flush_every = flush_every
        self.lines: list[str] = []  # everything written, for failure messages and tests
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._last_ts = 0
        self._ensure()

    def _ensure(self) -> None:
        try:
            self.logs.create_log_group(logGroupName=self.group)
        except self.logs.exceptions.ResourceAlreadyExistsException:
            pass
        try:
            self.logs.create_log_stream(logGroupName=self.group, logStreamName=self.stream)
        except self.logs.exceptions.ResourceAlreadyExistsException:
            pass

    def write(self, line: str) -> None:
        """One container output line (tabs become #011, as CloudWatch shows them)."""
        message = line.rstrip("\n").replace("\t", "#011")
        with self._lock:
            self.lines.append(message)
            stamp = max(int(time.time() * 1000), self._last_ts)
            self._last_ts = stamp
            self._pending.append({"timestamp": stamp, "message": message or " "})
            due = len(self._pending) >= self.flush_every
        if due:
            self.flush()

    def info(self, text: str) -> None:
        """A line in the containers' logging format: [2024-01-31:12:00:00:INFO] text."""
        now = datetime.now(UTC).strftime("%Y-%m-%d:%H:%M:%S")
        self.write(f"[{now}:INFO] {text}")

    def error(self, text: str) -> None:
        now = datetime.now(UTC).strftime("%Y-%m-%d:%H:%M:%S")
        self.write(f"[{now}:ERROR] {text}")

    def flush(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
        if batch:
            self.logs.put_log_events(
                logGroupName=self.group, logStreamName=self.stream, logEvents=batch
            )

    def tail(self, count: int = 20) -> list[str]:
        with self._lock:
            return self.lines[-count:]


# A captured value is read up to where the number ends ("0.91#011validation-auc:0.88" → 0.91).
_LEADING_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf)", re.I)


@dataclass(frozen=True)
class MetricDefinition:
    name: str
    regex: re.Pattern[str]


def compile_definitions(definitions: list[dict[str, str]]) -> list[MetricDefinition]:
    """The job's MetricDefinitions; a regex that does not compile is skipped (SageMaker rejects
    those at CreateTrainingJob, which the training hook checks first)."""
    compiled = []
    for item in definitions or []:
        try:
            compiled.append(MetricDefinition(item["Name"], re.compile(item["Regex"])))
        except (KeyError, re.error):
            continue
    return compiled


_ITERATION = re.compile(r"^\[(\d+)\]")


class MetricCollector:
    """Applies metric regexes to log lines, as SageMaker does, and keeps every value seen with
    its time and iteration (the `[i]` a line starts with, else the how-manieth value it is)."""

    def __init__(self, definitions: list[MetricDefinition]) -> None:
        self.definitions = definitions
        self.series: dict[str, list[tuple[datetime, float]]] = {}
        self.steps: dict[str, list[int]] = {}

    def feed(self, line: str) -> None:
        now = datetime.now(UTC)
        iteration = _ITERATION.match(line)
        for definition in self.definitions:
            found = definition.regex.search(line)
            if not found or not found.groups():
                continue
            number = _LEADING_NUMBER.match(found.group(1) or "")
            if number is None:
                continue
            value = float(number.group(0))
            points = self.series.setdefault(definition.name, [])
            steps = self.steps.setdefault(definition.name, [])
            steps.append(int(iteration.group(1)) if iteration else len(points))
            points.append((now, value))

    def final(self) -> list[dict[str, Any]]:
        """FinalMetricDataList: the last value of each metric (NaN is kept, as AWS shows it)."""
        return [
            {"MetricName": name, "Value": points[-1][1], "Timestamp": points[-1][0]}
            for name, points in self.series.items()
            if points
        ]

    def publish(self, endpoint: str, region: str, job_name: str) -> None:
        """Put every value into CloudWatch (NaN and infinities are skipped: CloudWatch rejects them)."""
        cw = client(endpoint, "cloudwatch", region)
        dims = [{"Name": "Host", "Value": "algo-1"}, {"Name": "TrainingJobName", "Value": job_name}]
        data = [
            {"MetricName": name, "Dimensions": dims, "Timestamp": ts, "Value": value}
            for name, points in self.series.items()
            for ts, value in points
            if value == value and abs(value) != float("inf")
        ]
        for start in range(0, len(data), 500):
            cw.put_metric_data(
                Namespace=TRAINING_METRICS_NAMESPACE, MetricData=data[start : start + 500]
            )
