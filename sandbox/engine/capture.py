"""Endpoint data capture as SageMaker writes it: with an endpoint's DataCaptureConfig enabled,
a sampled share of successful invocations (InitialSamplingPercentage) is kept in JSON Lines,
one record per invocation:

    {"captureData": {"endpointInput": {"observedContentType": "text/csv", "mode": "INPUT",
                                       "data": "1.0,2.0", "encoding": "CSV"},
                     "endpointOutput": {...,"mode": "OUTPUT", ...}},
     "eventMetadata": {"eventId": "<uuid>", "inferenceTime": "2024-05-01T12:00:00Z"},
     "eventVersion": "0"}

and delivered in files `<DestinationS3Uri>/<endpoint>/<variant>/yyyy/mm/dd/hh/
<mm>-<ss>-<mmm>-<uuid>.jsonl` (UTC hour of the records). CaptureOptions choose Input and/or
Output; CaptureContentTypeHeader decides which content types are written as text (CSV, JSON)
rather than BASE64. SageMaker delivers files every few minutes; the sandbox every second.
"""

from __future__ import annotations

import base64
import json
import logging
import random
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger("sandbox.engine.capture")
DEFAULT_CSV = ("text/csv",)
DEFAULT_JSON = ("application/json",)


@dataclass
class CaptureConfig:
    destination: str
    sampling_percentage: float
    capture_input: bool
    capture_output: bool
    csv_types: tuple[str, ...] = DEFAULT_CSV
    json_types: tuple[str, ...] = DEFAULT_JSON

    @classmethod
    def from_api(cls, config: dict[str, Any] | None) -> CaptureConfig | None:
        if not config or not config.get("EnableCapture", False):
            return None
        modes = {o.get("CaptureMode") for o in config.get("CaptureOptions") or []}
        header = config.get("CaptureContentTypeHeader") or {}
        return cls(
            destination=str(config.get("DestinationS3Uri", "")).rstrip("/"),
            sampling_percentage=float(config.get("InitialSamplingPercentage", 100)),
            capture_input="Input" in modes or not modes,
            capture_output="Output" in modes or not modes,
            csv_types=tuple(header.get("CsvContentTypes") or DEFAULT_CSV),
            json_types=tuple(header.get("JsonContentTypes") or DEFAULT_JSON),
        )

    def sampled(self, rng: random.Random = random._inst) -> bool:  # type: ignore[attr-defined]
        return rng.random() * 100.0 < self.sampling_percentage

    def _encode(self, data: bytes, content_type: str, mode: str) -> dict[str, Any]:
        base = content_type.split(";")[0].strip().lower()
        if base in (t.lower() for t in self.csv_types):
            encoding, text = "CSV", data.decode("utf-8", "replace")
        elif base in (t.lower() for t in self.json_types):
            encoding, text = "JSON", data.decode("utf-8", "replace")
        else:
            encoding, text = "BASE64", base64.b64encode(data).decode()
        return {"observedContentType": content_type, "mode": mode, "data": text,
                "encoding": encoding}  # fmt: skip

    def record(self, request: bytes, request_type: str, response: bytes, response_type: str,
               inference_id: str | None = None) -> dict[str, Any]:  # fmt: skip
        captured: dict[str, Any] = {}
        if self.capture_input:
            captured["endpointInput"] = self._encode(request, request_type, "INPUT")
        if self.capture_output:
            captured["endpointOutput"] = self._encode(response, response_type, "OUTPUT")
        metadata = {"eventId": str(uuid.uuid4()),
                    "inferenceTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}  # fmt: skip
        if inference_id:
            metadata["inferenceId"] = inference_id
        return {"captureData": captured, "eventMetadata": metadata, "eventVersion": "0"}


@dataclass
class _Buffer:
    destination: str
    endpoint: str
    variant: str
    region: str
    records: list[tuple[datetime, dict[str, Any]]] = field(default_factory=list)


class CaptureWriter:
    """Buffers records per (endpoint, variant, destination); `flush` writes one file per hour."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buffers: dict[tuple[str, str, str, str], _Buffer] = {}

    def add(self, region: str, endpoint: str, variant: str, config: CaptureConfig,
            record: dict[str, Any]) -> None:  # fmt: skip
        key = (region, endpoint, variant, config.destination)
        with self._lock:
            buffer = self._buffers.setdefault(
                key, _Buffer(config.destination, endpoint, variant, region)
            )
            buffer.records.append((datetime.now(UTC), record))

    def pending(self) -> int:
        with self._lock:
            return sum(len(b.records) for b in self._buffers.values())

    def flush(self, put: Any) -> int:
        """Write what is buffered with `put(uri, bytes)`; returns how many files were written."""
        with self._lock:
            batches = [(b, b.records) for b in self._buffers.values() if b.records]
            for buffer, _ in batches:
                buffer.records = []
        written = 0
        for buffer, records in batches:
            by_hour: dict[str, list[dict[str, Any]]] = {}
            first: dict[str, datetime] = {}
            for stamp, record in records:
                hour = stamp.strftime("%Y/%m/%d/%H")
                by_hour.setdefault(hour, []).append(record)
                first.setdefault(hour, stamp)
            for hour, items in by_hour.items():
                stamp = first[hour]
                name = f"{stamp:%M-%S}-{stamp.microsecond // 1000:03d}-{uuid.uuid4()}.jsonl"
                uri = f"{buffer.destination}/{buffer.endpoint}/{buffer.variant}/{hour}/{name}"
                body = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in items)
                try:
                    put(buffer.region, uri, body.encode())
                    written += 1
                except Exception as exc:  # a missing bucket: SageMaker drops the capture too
                    log.warning("data capture to %s failed: %s", uri, exc)
        return written
