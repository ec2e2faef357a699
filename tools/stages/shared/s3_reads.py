"""Reading tables and sizes from S3 through the session's guarded client."""

from __future__ import annotations

from typing import Any

from tools.stages.shared.tabular import Preview, TabularError, detect_format, parse_table

# --- reading from S3 (through a guarded client) --------------------------------------------

PREVIEW_BYTES = 256 * 1024
PARQUET_MAX_BYTES = 64 * 1024 * 1024


def preview_s3_object(
    s3: Any, bucket: str, key: str, *, max_rows: int = 1000, max_bytes: int = PREVIEW_BYTES
) -> Preview:
    """Read the head of an object (all of it for Parquet, whose schema is in the footer)."""
    size = object_size(s3, bucket, key)
    if size == 0:
        raise TabularError(f"s3://{bucket}/{key} is empty")
    fmt = detect_format(key)
    if fmt == "parquet":
        if size > PARQUET_MAX_BYTES:
            raise TabularError(
                f"s3://{bucket}/{key} is {human_bytes(size)}; Parquet preview reads at most "
                f"{human_bytes(PARQUET_MAX_BYTES)} (query it with Athena instead)"
            )
        data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    else:
        end = min(size, max_bytes) - 1
        data = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{end}")["Body"].read()
        if not key.lower().endswith((".csv", ".tsv", ".tab", ".json", ".jsonl", ".ndjson")):
            fmt = detect_format(key, data)
    return parse_table(data, fmt, max_rows=max_rows, total_bytes=size)


def object_size(s3: Any, bucket: str, key: str) -> int:
    """HeadObject's size (a missing object raises the ClientError; tools.core.explain says what it means)."""
    return int(s3.head_object(Bucket=bucket, Key=key).get("ContentLength", 0))


def human_bytes(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(size) < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"  # pragma: no cover


def prefix_size(s3: Any, bucket: str, prefix: str, *, max_keys: int = 100_000) -> tuple[int, int]:
    """(objects, bytes) under a prefix, listing at most max_keys objects."""
    count = total = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            count += 1
            total += int(obj.get("Size", 0))
            if count >= max_keys:
                return count, total
    return count, total
