"""The source table of prepare_training_data in S3: its objects, its size, and a sample.

Small data is prepared on this machine; above LOCAL_LIMIT_BYTES the same code runs as a
SageMaker Processing job, so the route is decided from the size before anything runs.
"""

from __future__ import annotations

from typing import Any

from tools.core.validators import parse_s3_uri
from tools.stages.shared.tabular import FORMATS, TabularError, detect_format, read_rows

LOCAL_LIMIT_BYTES = 64 * 1024 * 1024  # above this, a Processing job does the work
SAMPLE_BYTES = 512 * 1024  # what the preview reads before approval
SKIP_SUFFIXES = ("schema.json", "_SUCCESS", ".crc", "/")


class SourceError(ValueError):
    """The source cannot be read as a table; the message says what to fix."""


def source_objects(s3: Any, uri: str, max_keys: int = 1000) -> list[tuple[str, int]]:
    """(key, size) of the data objects the URI names: one object, or every file under a prefix."""
    bucket, key = parse_s3_uri(uri)
    found: list[tuple[str, int]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key):
        for obj in page.get("Contents", []):
            found.append((obj["Key"], int(obj.get("Size", 0))))
        if len(found) >= max_keys:
            break
    exact = [f for f in found if f[0] == key]
    if exact and not key.endswith("/"):
        return exact
    if key and not key.endswith("/"):
        found = [f for f in found if f[0][len(key) :].startswith("/")]
    return [f for f in found if f[1] > 0 and not f[0].endswith(SKIP_SUFFIXES)]


def sample_table(
    s3: Any, bucket: str, objects: list[tuple[str, int]]
) -> tuple[str, list[str], list[list[Any]], bool]:
    """(format, columns, rows, complete) from the head of the first object."""
    if not objects:
        raise SourceError("nothing to read there")
    key, size = objects[0]
    fmt = detect_format(key)
    if fmt not in FORMATS:
        raise SourceError(f"{key}: read CSV, TSV, JSON Lines or Parquet only")
    if fmt == "parquet":
        data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        complete = True
    else:
        end = min(size, SAMPLE_BYTES) - 1
        data = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{end}")["Body"].read()
        complete = size <= SAMPLE_BYTES
        if not complete:
            data = data[: data.rfind(b"\n") + 1] if b"\n" in data else data
    try:
        columns, records = read_rows(data, fmt)
    except TabularError as exc:
        raise SourceError(f"{key}: {exc}") from None
    rows = [[r.get(c) for c in columns] for r in records]
    return fmt, columns, rows, complete and len(objects) == 1
