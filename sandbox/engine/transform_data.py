"""Batch transform's data handling, as SageMaker does it between S3 and the container:
split each object into records (SplitType Line), filter each record (InputFilter), pack records
into requests (BatchStrategy MultiRecord up to MaxPayloadInMB, or SingleRecord), split the
answers back into one output per record, join them with their input (JoinSource Input: a CSV
row gets the output as more columns, a JSON object gets it as "SageMakerOutput"), filter the
result (OutputFilter) and assemble the output object (AssembleWith Line or None)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from sandbox.engine.jsonpath import select


class TransformDataError(Exception):
    """The data cannot be processed as asked (a ClientError for the job)."""


@dataclass(frozen=True)
class Processing:
    content_type: str
    accept: str
    split: str
    strategy: str
    max_payload: int
    assemble: str
    input_filter: str
    output_filter: str
    join: bool

    @property
    def csv_input(self) -> bool:
        return self.content_type.split(";")[0].strip().lower() in ("text/csv", "csv")


def records(data: bytes, split: str) -> list[bytes]:
    if split == "Line":
        return [line for line in data.split(b"\n") if line.strip()]
    if split == "None":
        return [data]
    raise TransformDataError(
        f"SplitType {split} is not emulated by the sandbox (use Line or None)."
    )


def _parse(record: bytes, as_csv: bool) -> Any:
    text = record.decode("utf-8", "replace").rstrip("\r")
    if as_csv:
        return next(csv.reader([text]), [])
    try:
        return json.loads(text)
    except ValueError:
        raise TransformDataError(f"A record is not JSON: {text[:80]}") from None


def _dump(value: Any, as_csv: bool) -> bytes:
    if as_csv:
        cells = value if isinstance(value, list) else [value]
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="").writerow(
            [json.dumps(c) if isinstance(c, dict | list) else c for c in cells]
        )
        return buffer.getvalue().encode()
    return json.dumps(value, separators=(",", ":")).encode()


def filter_input(record: bytes, p: Processing) -> bytes:
    if p.input_filter in ("", "$"):
        return record
    return _dump(select(p.input_filter, _parse(record, p.csv_input)), p.csv_input)


def batches(items: list[bytes], p: Processing) -> list[list[bytes]]:
    """Requests: each holds one record (SingleRecord) or as many as fit (MultiRecord)."""
    out: list[list[bytes]] = []
    current: list[bytes] = []
    size = 0
    for item in items:
        if len(item) > p.max_payload:
            raise TransformDataError(
                f"A record of {len(item)} bytes is larger than MaxPayloadInMB "
                f"({p.max_payload // (1024 * 1024)} MB)."
            )
        if current and (p.strategy == "SingleRecord" or size + len(item) + 1 > p.max_payload):
            out.append(current)
            current, size = [], 0
        current.append(item)
        size += len(item) + 1
    if current:
        out.append(current)
    return out


def split_outputs(body: bytes, content_type: str, count: int) -> list[bytes] | None:
    """One output per record of the request, when the answer can be split (else None)."""
    if count == 1:
        return [body.rstrip(b"\n")]
    base = content_type.split(";")[0].strip().lower()
    if base in ("text/csv", "application/jsonlines", "text/plain"):
        lines = [line for line in body.split(b"\n") if line.strip()]
        return lines if len(lines) == count else None
    if base == "application/json":
        try:
            parsed = json.loads(body)
        except ValueError:
            return None
        items = parsed
        if isinstance(parsed, dict) and len(parsed) == 1:
            items = next(iter(parsed.values()))
        if isinstance(items, list) and len(items) == count:
            return [json.dumps(i, separators=(",", ":")).encode() for i in items]
    return None


def join_and_filter(source: bytes, output: bytes, p: Processing, output_type: str) -> bytes:
    if not p.join and p.output_filter in ("", "$"):
        return output
    out_csv = output_type.split(";")[0].strip().lower() == "text/csv"
    if p.join:
        if p.csv_input:
            if not out_csv:
                raise TransformDataError(
                    "JoinSource Input with CSV input needs CSV output from the model "
                    f"(it answered {output_type}); set Accept to text/csv."
                )
            joined: Any = _parse(source, True) + _parse(output, True)
        else:
            document = _parse(source, False)
            value: Any = _parse(output, False) if not out_csv else output.decode()
            if isinstance(document, dict):
                document["SageMakerOutput"] = value
                joined = document
            else:
                joined = [document, value]
        as_csv = p.csv_input
    else:
        joined, as_csv = _parse(output, out_csv), out_csv
    if p.output_filter not in ("", "$"):
        joined = select(p.output_filter, joined)
    return _dump(joined, as_csv)
