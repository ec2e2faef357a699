"""Reading what Model Monitor reads: datasets in the formats `dataset_format` names (CSV with or
without a header, JSON Lines, SageMaker's data-capture JSON) and ground truth merged with the
captured records by event id."""

from __future__ import annotations

import base64
import csv
import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any


class DataError(Exception):
    """The inputs cannot be read as the dataset format says (a ClientError for the job)."""


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))


def _decode(block: dict[str, Any]) -> str:
    data = str(block.get("data", ""))
    if str(block.get("encoding", "CSV")).upper() == "BASE64":
        return base64.b64decode(data).decode("utf-8", "replace")
    return data


def _rows(text: str, content_type: str) -> list[list[str]]:
    """The records of a captured payload (several rows per request for CSV and JSON Lines)."""
    kind = content_type.split(";")[0].strip().lower()
    if kind in ("application/json", "application/jsonlines"):
        rows: list[list[str]] = []
        for line in text.splitlines() if kind == "application/jsonlines" else [text]:
            if not line.strip():
                continue
            value = json.loads(line)
            if isinstance(value, dict):
                value = value.get("instances") or value.get("predictions") or list(value.values())
            if isinstance(value, list) and value and isinstance(value[0], list):
                rows += [[str(v) for v in row] for row in value]
            elif isinstance(value, list):
                rows.append([str(v) for v in value])
            else:
                rows.append([str(value)])
        return rows
    return [row for row in csv.reader(io.StringIO(text)) if row]


def _when(record: dict[str, Any]) -> datetime | None:
    stamp = (record.get("eventMetadata") or {}).get("inferenceTime")
    if not stamp:
        return None
    try:
        return datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        return None


def captured_records(
    path: Path, start: datetime | None = None, end: datetime | None = None
) -> list[dict[str, Any]]:
    """Every capture record under the path whose inference time is in [start, end)."""
    found = []
    for file in _files(path):
        if not file.name.endswith(".jsonl"):
            continue
        for line in file.read_text(errors="replace").splitlines():
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if "captureData" not in record:
                continue
            when = _when(record)
            if when is not None and ((start and when < start) or (end and when >= end)):
                continue
            found.append(record)
    return found


def capture_frame(records: list[dict[str, Any]], names: list[str] | None = None) -> Any:
    """One row per predicted record: the output columns first, then the input columns (as the
    analyzer lays out captured CSV), named like the baseline's columns by position."""
    import pandas as pd

    rows: list[list[str]] = []
    for record in records:
        data = record["captureData"]
        source = data.get("endpointInput") or {}
        target = data.get("endpointOutput") or {}
        inputs = _rows(_decode(source), source.get("observedContentType", "text/csv"))
        outputs = _rows(_decode(target), target.get("observedContentType", "text/csv"))
        if len(outputs) == 1 and len(inputs) > 1 and len(outputs[0]) == len(inputs):
            outputs = [[value] for value in outputs[0]]  # "0.1,0.9" answering two rows
        for position, row in enumerate(inputs):
            answer = outputs[position] if position < len(outputs) else []
            rows.append(answer + row)
    width = max((len(r) for r in rows), default=0)
    columns = [f"_c{i}" for i in range(width)]
    if names:
        columns = [names[i] if i < len(names) else f"_c{i}" for i in range(width)]
    return pd.DataFrame(
        [r + [None] * (width - len(r)) for r in rows], columns=columns, dtype=object
    )


def ground_truth(path: Path) -> dict[str, str]:
    """eventId → the label a ground-truth record carries."""
    truth: dict[str, str] = {}
    for file in _files(path):
        for line in file.read_text(errors="replace").splitlines():
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            event = (record.get("eventMetadata") or {}).get("eventId")
            data = record.get("groundTruthData") or {}
            if event is not None and data:
                truth[str(event)] = _decode(data).strip()
    return truth


def read_table(path: Path, dataset_format: dict[str, Any]) -> Any:
    """A baseline dataset (CSV, JSON Lines or Parquet) as a table of text cells."""
    import pandas as pd

    files = _files(path)
    if not files or all(f.stat().st_size == 0 for f in files):
        raise DataError("Job inputs had no data: the baseline dataset is empty.")
    if "csv" in dataset_format:
        header = bool((dataset_format.get("csv") or {}).get("header", False))
        frames = [pd.read_csv(f, header=0 if header else None, dtype=str, keep_default_na=False)
                  for f in files if f.stat().st_size]  # fmt: skip
        frame = pd.concat(frames, ignore_index=True)
        if not header:
            frame.columns = [f"_c{i}" for i in range(frame.shape[1])]
        return frame
    if "json" in dataset_format:
        lines = bool((dataset_format.get("json") or {}).get("lines", True))
        frames = [pd.read_json(f, lines=lines, dtype=False) for f in files if f.stat().st_size]
        return pd.concat(frames, ignore_index=True).astype(str)
    if "parquet" in dataset_format:
        return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True).astype(str)
    raise DataError(
        f"dataset_format {json.dumps(dataset_format)} is not one the analyzer reads (csv, json, "
        "parquet, sagemakerCaptureJson)."
    )
