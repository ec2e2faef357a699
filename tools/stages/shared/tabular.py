"""Tabular previews shared by the S3, Glue, Athena and Feature Store tools.

Reads the head of a CSV, TSV, JSON Lines or Parquet file (Parquet only when pyarrow is
installed), infers column types from a sample, computes per-column stats and estimates the row
count from the byte size. Pure functions: no AWS here (S3 reads: `s3_reads`; Glue and Feature
Store schemas: `table_schemas`).
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Format = Literal["csv", "tsv", "jsonl", "parquet"]
ColumnType = Literal["boolean", "bigint", "double", "date", "timestamp", "string"]

FORMATS: tuple[str, ...] = ("csv", "tsv", "jsonl", "parquet")
PARQUET_MAGIC = b"PAR1"
_INT = re.compile(r"^[+-]?\d{1,18}$")
_FLOAT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TS = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$")
_NULLS = {"", "null", "NULL", "None", "NA", "N/A", "nan", "NaN"}


class TabularError(ValueError):
    """The data could not be read as the format it claims to be."""


@dataclass
class ColumnInfo:
    name: str
    type: ColumnType
    nulls: int = 0
    distinct: int = 0
    min: Any = None
    max: Any = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Preview:
    format: Format
    columns: list[ColumnInfo]
    rows: list[dict[str, Any]]  # the sample, typed
    sample_rows: int
    bytes_read: int
    total_bytes: int | None = None
    complete: bool = False  # the whole object was read, so sample_rows is the exact count
    quoted: bool = False  # CSV fields use quotes (matters for the Glue SerDe)
    notes: list[str] = field(default_factory=list)

    @property
    def row_estimate(self) -> int | None:
        """Exact when the whole file was read; otherwise total bytes / average row size."""
        if self.complete:
            return self.sample_rows
        if not self.total_bytes or not self.sample_rows or not self.bytes_read:
            return None
        return int(self.total_bytes / (self.bytes_read / self.sample_rows))

    @property
    def schema(self) -> list[tuple[str, ColumnType]]:
        return [(c.name, c.type) for c in self.columns]

    def to_dict(self, max_rows: int = 10) -> dict[str, Any]:
        return {
            "format": self.format,
            "columns": [c.to_dict() for c in self.columns],
            "rows": self.rows[:max_rows],
            "sample_rows": self.sample_rows,
            "row_estimate": self.row_estimate,
            "row_estimate_exact": self.complete,
            "bytes_read": self.bytes_read,
            "total_bytes": self.total_bytes,
            "notes": list(self.notes),
        }

    def summary(self, max_rows: int = 5, max_cols: int = 30) -> str:
        """Token-frugal text: schema with stats, then a few rows."""
        count = self.row_estimate
        if count is None:
            rows_text = f"{self.sample_rows} rows sampled"
        elif self.complete:
            rows_text = f"{count:,} rows"
        else:
            rows_text = f"~{count:,} rows (estimated from size; {self.sample_rows:,} sampled)"
        lines = [f"{self.format.upper()}, {len(self.columns)} columns, {rows_text}."]
        for col in self.columns[:max_cols]:
            stats = [f"nulls {col.nulls}", f"distinct {col.distinct}"]
            if col.min is not None and col.type != "string":
                stats.append(f"min {col.min} max {col.max}")
            lines.append(f"- {col.name}: {col.type} ({', '.join(stats)})")
        if len(self.columns) > max_cols:
            lines.append(f"- ... {len(self.columns) - max_cols} more columns not shown")
        if self.rows and max_rows:
            names = [c.name for c in self.columns[:max_cols]]
            lines.append("First rows:")
            lines.append(",".join(names))
            for row in self.rows[:max_rows]:
                lines.append(",".join(_cell(row.get(n)) for n in names))
        lines.extend(self.notes)
        return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


# --- format detection ------------------------------------------------------------------


def detect_format(name: str, head: bytes = b"") -> Format:
    """By extension first (ignoring .gz is not supported: compressed files are refused), then content."""
    lower = name.lower()
    if lower.endswith((".gz", ".bz2", ".zip", ".snappy", ".zst")):
        raise TabularError(
            f"'{name}' is compressed; preview reads uncompressed CSV, TSV, JSON Lines or Parquet"
        )
    if lower.endswith(".parquet") or head[:4] == PARQUET_MAGIC:
        return "parquet"
    if lower.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if lower.endswith((".tsv", ".tab")):
        return "tsv"
    if lower.endswith(".csv"):
        return "csv"
    text = head[:4096].decode("utf-8", errors="replace").lstrip()
    if text.startswith("{"):
        return "jsonl"
    first = text.splitlines()[0] if text else ""
    return "tsv" if first.count("\t") > first.count(",") else "csv"


# --- type inference ---------------------------------------------------------------------


def is_null(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() in _NULLS)


def _value_type(value: Any) -> ColumnType:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "bigint"
    if isinstance(value, float):
        return "double"
    if isinstance(value, dict | list):
        return "string"
    text = str(value).strip()
    if text.lower() in ("true", "false"):
        return "boolean"
    if _INT.match(text):
        return "bigint"
    if _FLOAT.match(text):
        return "double"
    if _DATE.match(text):
        return "date"
    if _TS.match(text):
        return "timestamp"
    return "string"


def _merge(a: ColumnType | None, b: ColumnType) -> ColumnType:
    if a is None or a == b:
        return b
    pair = {a, b}
    if pair == {"bigint", "double"}:
        return "double"
    if pair == {"date", "timestamp"}:
        return "timestamp"
    return "string"


def infer_type(values: list[Any]) -> ColumnType:
    """The narrowest type every non-null value fits; all-null columns are strings."""
    kind: ColumnType | None = None
    for value in values:
        if is_null(value):
            continue
        kind = _merge(kind, _value_type(value))
        if kind == "string":
            break
    return kind or "string"


def convert(value: Any, kind: ColumnType) -> Any:
    """A raw value as the inferred type (None for nulls)."""
    if is_null(value):
        return None
    if kind == "bigint":
        return int(value)
    if kind == "double":
        return float(value)
    if kind == "boolean":
        return value if isinstance(value, bool) else str(value).strip().lower() == "true"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value) if not isinstance(value, str) else value


# --- parsing ----------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    text = data.decode("utf-8-sig", errors="replace")
    return text


def _parse_delimited(
    data: bytes, delimiter: str, max_rows: int, partial: bool
) -> tuple[list[str], list[list[str]], int, bool]:
    """Header, rows, bytes consumed by header + rows, whether fields are quoted."""
    text = _decode(data)
    lines = text.splitlines(keepends=True)
    if partial and lines and not lines[-1].endswith(("\n", "\r")):
        lines = lines[:-1]  # a row cut by the byte range
    if not lines:
        raise TabularError("the file is empty")
    quoted = '"' in "".join(lines[: max_rows + 1])
    reader = csv.reader(lines, delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise TabularError("the file is empty") from None
    header = [h.strip() or f"col_{i}" for i, h in enumerate(header)]
    if len(set(header)) != len(header):
        raise TabularError(f"the header has duplicate column names: {', '.join(header)}")
    rows: list[list[str]] = []
    consumed = len(lines[0].encode())
    for index, row in enumerate(reader, start=1):
        if len(rows) >= max_rows:
            break
        if not row:
            continue
        rows.append(row)
        if index < len(lines):
            consumed += len(lines[index].encode())
    return header, rows, consumed, quoted


def parse_table(
    data: bytes,
    fmt: Format,
    *,
    max_rows: int = 1000,
    total_bytes: int | None = None,
) -> Preview:
    """Parse the head of a file (or all of it) into a typed Preview with column stats.

    `total_bytes` is the object's full size; when larger than `data`, the last partial line is
    dropped and the row count is estimated from the bytes per sampled row.
    """
    partial = total_bytes is not None and total_bytes > len(data)
    quoted = False
    notes: list[str] = []
    if fmt == "parquet":
        names, raw_rows, exact = _parse_parquet(data, max_rows)
        consumed = len(data)
        complete = True
        total_rows = exact
    elif fmt == "jsonl":
        names, raw_rows, consumed = _parse_jsonl(data, max_rows, partial)
        complete = not partial and len(raw_rows) < max_rows
        total_rows = None
    else:
        header, rows, consumed, quoted = _parse_delimited(
            data, "\t" if fmt == "tsv" else ",", max_rows, partial
        )
        names = header
        width = len(header)
        bad = sum(1 for r in rows if len(r) != width)
        if bad:
            notes.append(f"{bad} sampled rows have a different number of fields than the header.")
        raw_rows = [dict(zip(header, r + [""] * (width - len(r)), strict=False)) for r in rows]
        complete = not partial and len(raw_rows) < max_rows
        total_rows = None
    columns = column_stats(names, raw_rows)
    typed = [{c.name: convert(r.get(c.name), c.type) for c in columns} for r in raw_rows]
    preview = Preview(
        format=fmt,
        columns=columns,
        rows=typed,
        sample_rows=len(typed),
        bytes_read=consumed,
        total_bytes=total_bytes if total_bytes is not None else len(data),
        complete=complete,
        quoted=quoted,
        notes=notes,
    )
    if total_rows is not None:
        preview.sample_rows = len(typed)
        preview.complete = len(typed) >= total_rows
        if not preview.complete:
            preview.notes.append(f"Parquet metadata: {total_rows:,} rows in the file.")
            preview.total_bytes = None  # the exact count is in the note; avoid a size estimate
    return preview


def _parse_jsonl(
    data: bytes, max_rows: int, partial: bool
) -> tuple[list[str], list[dict[str, Any]], int]:
    text = _decode(data)
    stripped = text.lstrip()
    if stripped.startswith("[") and not partial:
        try:
            records = json.loads(stripped)
        except ValueError as exc:
            raise TabularError(f"not valid JSON: {exc}") from None
        if not all(isinstance(r, dict) for r in records):
            raise TabularError("a JSON array of objects was expected")
        records = records[:max_rows]
        return _names_of(records), records, len(data)
    lines = text.splitlines(keepends=True)
    if partial and lines and not lines[-1].endswith(("\n", "\r")):
        lines = lines[:-1]
    records: list[dict[str, Any]] = []
    consumed = 0
    for number, line in enumerate(lines, start=1):
        if len(records) >= max_rows:
            break
        consumed += len(line.encode())
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise TabularError(f"line {number} is not valid JSON: {exc}") from None
        if not isinstance(record, dict):
            raise TabularError(f"line {number} is not a JSON object")
        records.append(record)
    if not records:
        raise TabularError("no JSON records found")
    return _names_of(records), records, consumed


def _names_of(records: list[dict[str, Any]]) -> list[str]:
    names: dict[str, None] = {}
    for record in records:
        for key in record:
            names.setdefault(str(key), None)
    return list(names)


def _parse_parquet(data: bytes, max_rows: int) -> tuple[list[str], list[dict[str, Any]], int]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise TabularError(
            "previewing Parquet needs pyarrow, which is not installed (pip install pyarrow); "
            "CSV, TSV and JSON Lines work without it"
        ) from None
    try:
        file = pq.ParquetFile(io.BytesIO(data))
    except Exception as exc:
        raise TabularError(f"not a readable Parquet file: {exc}") from None
    total = file.metadata.num_rows
    batch = next(file.iter_batches(batch_size=max_rows), None)
    rows = batch.to_pylist() if batch is not None else []
    return list(file.schema_arrow.names), rows[:max_rows], total


# --- stats ------------------------------------------------------------------------------


def column_stats(names: list[str], rows: list[dict[str, Any]]) -> list[ColumnInfo]:
    columns: list[ColumnInfo] = []
    for name in names:
        values = [r.get(name) for r in rows]
        kind = infer_type(values)
        present = [convert(v, kind) for v in values if not is_null(v)]
        info = ColumnInfo(name=name, type=kind, nulls=len(values) - len(present))
        hashable = [json.dumps(v) if isinstance(v, dict | list) else v for v in present]
        info.distinct = len(set(hashable))
        if present and kind != "boolean":
            try:
                info.min, info.max = min(present), max(present)
            except TypeError:
                pass
        columns.append(info)
    return columns


def to_iso_event_time(value: Any) -> str:
    """Feature Store event times: ISO-8601 with 'T' and 'Z' (dates get midnight UTC)."""
    text = str(value).strip()
    if _DATE.match(text):
        return f"{text}T00:00:00Z"
    if _TS.match(text):
        text = text.replace(" ", "T", 1)
        if not text.endswith("Z") and not re.search(r"[+-]\d{2}:?\d{2}$", text):
            text += "Z"
        return text
    return text


def read_rows(data: bytes, fmt: Format) -> tuple[list[str], list[dict[str, Any]]]:
    """Every row of a whole file as dicts of raw values (for ingest and Kinesis samples)."""
    if fmt == "parquet":
        names, rows, _ = _parse_parquet(data, 10**9)
        return names, rows
    if fmt == "jsonl":
        names, rows, _ = _parse_jsonl(data, 10**9, False)
        return names, rows
    header, rows, _, _ = _parse_delimited(data, "\t" if fmt == "tsv" else ",", 10**9, False)
    width = len(header)
    return header, [dict(zip(header, r + [""] * (width - len(r)), strict=False)) for r in rows]
