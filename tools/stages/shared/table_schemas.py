"""A previewed table's schema as AWS wants it: Glue columns and SerDe, Feature Store features."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from tools.stages.shared.tabular import ColumnInfo, Format

# --- schema conversions -------------------------------------------------------------------

GLUE_NAME = re.compile(r"[^a-z0-9_]")


def glue_column_name(name: str) -> str:
    """Athena-friendly: lower case, underscores."""
    cleaned = GLUE_NAME.sub("_", name.strip().lower()).strip("_") or "col"
    return cleaned if not cleaned[0].isdigit() else f"c_{cleaned}"


def glue_columns(
    columns: list[ColumnInfo] | list[tuple[str, str]], fmt: Format = "parquet"
) -> list[dict[str, str]]:
    """[{"Name", "Type"}] for a Glue StorageDescriptor.

    In text formats (CSV, TSV, JSON) Hive parses timestamps only as 'yyyy-MM-dd HH:mm:ss', so
    date and timestamp columns stay strings there (cast them in SQL); Parquet keeps its types.
    """
    out = []
    for col in columns:
        name, kind = (col.name, col.type) if isinstance(col, ColumnInfo) else col
        if fmt != "parquet" and kind == "timestamp":
            kind = "string"
        out.append({"Name": glue_column_name(name), "Type": kind})
    return out


@dataclass(frozen=True)
class StorageFormat:
    input_format: str
    output_format: str
    serde: str
    serde_params: dict[str, str]
    table_params: dict[str, str]


_TEXT_IN = "org.apache.hadoop.mapred.TextInputFormat"
_TEXT_OUT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"


def storage_format(fmt: Format, *, quoted: bool = False, header: bool = True) -> StorageFormat:
    """The Glue/Hive SerDe for a file format (what a crawler would pick)."""
    if fmt == "parquet":
        return StorageFormat(
            "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
            "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
            "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
            {"serialization.format": "1"},
            {"classification": "parquet"},
        )
    if fmt == "jsonl":
        return StorageFormat(
            _TEXT_IN,
            _TEXT_OUT,
            "org.openx.data.jsonserde.JsonSerDe",
            {},
            {"classification": "json"},
        )
    delim = "\t" if fmt == "tsv" else ","
    table_params = {"classification": "csv" if fmt == "csv" else "tsv"}
    if header:
        table_params["skip.header.line.count"] = "1"
    if quoted:
        return StorageFormat(
            _TEXT_IN,
            _TEXT_OUT,
            "org.apache.hadoop.hive.serde2.OpenCSVSerde",
            {"separatorChar": delim, "quoteChar": '"'},
            table_params,
        )
    return StorageFormat(
        _TEXT_IN,
        _TEXT_OUT,
        "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
        {"field.delim": delim, "serialization.format": delim},
        table_params,
    )


FeatureType = Literal["Integral", "Fractional", "String"]
_FEATURE_TYPES: dict[str, FeatureType] = {
    "bigint": "Integral",
    "double": "Fractional",
    "boolean": "String",
    "date": "String",
    "timestamp": "String",
    "string": "String",
}
FEATURE_NAME = re.compile(r"^[a-zA-Z0-9]([-_]*[a-zA-Z0-9]){0,63}$")
RESERVED_FEATURES = {"is_deleted", "write_time", "api_invocation_time"}


def feature_type(kind: str) -> FeatureType:
    return _FEATURE_TYPES.get(kind, "String")


def feature_definitions(
    columns: list[ColumnInfo] | list[tuple[str, str]],
) -> list[dict[str, str]]:
    """[{"FeatureName", "FeatureType"}] for CreateFeatureGroup; checks the naming rules."""
    out = []
    for col in columns:
        name, kind = (col.name, col.type) if isinstance(col, ColumnInfo) else col
        check_feature_name(name)
        out.append({"FeatureName": name, "FeatureType": feature_type(kind)})
    return out


def check_feature_name(name: str) -> str:
    if not FEATURE_NAME.match(name):
        raise ValueError(
            f"'{name}' is not a valid feature name: letters and digits, optionally joined by "
            "- or _, at most 64 characters"
        )
    if name.lower() in RESERVED_FEATURES:
        raise ValueError(f"'{name}' is reserved by Feature Store; rename the column")
    return name
