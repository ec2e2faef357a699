"""Tabular previews: format detection, type inference, stats, row estimates, schema conversions."""

from __future__ import annotations

import json

import pytest

from sandbox.demo_data import churn_csv
from tools.stages.shared import table_schemas, tabular


def test_infer_types_and_stats_on_the_churn_sample() -> None:
    data = churn_csv(300).encode()
    preview = tabular.parse_table(data, "csv", max_rows=1000, total_bytes=len(data))
    types = dict(preview.schema)
    assert types == {
        "customer_id": "string",
        "signup_date": "date",
        "state": "string",
        "tenure_months": "bigint",
        "monthly_charges": "double",
        "total_charges": "double",
        "contract": "string",
        "support_calls": "bigint",
        "data_gb": "double",
        "has_partner": "string",
        "churned": "bigint",
    }
    assert preview.complete and preview.row_estimate == 300
    churned = next(c for c in preview.columns if c.name == "churned")
    assert (churned.min, churned.max, churned.distinct, churned.nulls) == (0, 1, 2, 0)
    contract = next(c for c in preview.columns if c.name == "contract")
    assert contract.distinct == 3
    assert preview.rows[0]["tenure_months"] == int(data.splitlines()[1].split(b",")[3])


def test_partial_read_drops_the_cut_row_and_estimates_rows_from_size() -> None:
    data = churn_csv(3000).encode()
    head = data[:10_000]
    preview = tabular.parse_table(head, "csv", max_rows=1000, total_bytes=len(data))
    assert not preview.complete
    # every sampled row is whole: the customer ids are consecutive and well formed
    assert all(len(r["customer_id"]) == 7 for r in preview.rows)
    assert 2700 <= preview.row_estimate <= 3300
    assert "estimated from size" in preview.summary()


def test_nulls_counted_and_mixed_numbers_widen_to_double() -> None:
    data = b"a,b,c\n1,x,\n2.5,y,NULL\n3,,7\n"
    preview = tabular.parse_table(data, "csv")
    cols = {c.name: c for c in preview.columns}
    assert cols["a"].type == "double" and cols["a"].max == 3.0
    assert cols["b"].nulls == 1 and cols["b"].type == "string"
    assert cols["c"].nulls == 2 and cols["c"].type == "bigint"


def test_tsv_jsonl_detection_and_parsing() -> None:
    assert tabular.detect_format("x.tsv") == "tsv"
    assert tabular.detect_format("data", b'{"a": 1}\n') == "jsonl"
    assert tabular.detect_format("data", b"a\tb\n1\t2\n") == "tsv"
    assert tabular.detect_format("f.parquet") == "parquet"
    with pytest.raises(tabular.TabularError, match="compressed"):
        tabular.detect_format("x.csv.gz")
    lines = "\n".join(
        json.dumps({"id": i, "ok": i % 2 == 0, "ts": f"2024-01-0{i + 1} 10:00:00"})
        for i in range(3)
    )
    preview = tabular.parse_table(lines.encode(), "jsonl")
    assert dict(preview.schema) == {"id": "bigint", "ok": "boolean", "ts": "timestamp"}
    tsv = tabular.parse_table(b"x\ty\n1\ta\n", "tsv")
    assert dict(tsv.schema) == {"x": "bigint", "y": "string"}


def test_bad_inputs_are_explained() -> None:
    with pytest.raises(tabular.TabularError, match="duplicate"):
        tabular.parse_table(b"a,a\n1,2\n", "csv")
    with pytest.raises(tabular.TabularError, match="line 2"):
        tabular.parse_table(b'{"a": 1}\nnot json\n', "jsonl")
    with pytest.raises(tabular.TabularError, match="empty"):
        tabular.parse_table(b"", "csv")


def test_parquet_without_pyarrow_says_so() -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        with pytest.raises(tabular.TabularError, match="pyarrow"):
            tabular.parse_table(b"PAR1....PAR1", "parquet")
    else:  # pragma: no cover - pyarrow is optional
        pytest.skip("pyarrow installed")


def test_glue_columns_storage_format_and_feature_definitions() -> None:
    cols = [("Customer ID", "string"), ("2nd", "bigint"), ("ts", "timestamp"), ("d", "date")]
    assert table_schemas.glue_columns(cols, "csv") == [
        {"Name": "customer_id", "Type": "string"},
        {"Name": "c_2nd", "Type": "bigint"},
        {"Name": "ts", "Type": "string"},  # Hive cannot parse ISO timestamps in text files
        {"Name": "d", "Type": "date"},
    ]
    assert table_schemas.glue_columns(cols, "parquet")[2] == {"Name": "ts", "Type": "timestamp"}
    csv_fmt = table_schemas.storage_format("csv")
    assert csv_fmt.serde.endswith("LazySimpleSerDe")
    assert csv_fmt.table_params["skip.header.line.count"] == "1"
    assert table_schemas.storage_format("csv", quoted=True).serde.endswith("OpenCSVSerde")
    assert table_schemas.storage_format("parquet").serde.endswith("ParquetHiveSerDe")
    defs = table_schemas.feature_definitions(
        [("id", "string"), ("n", "bigint"), ("x", "double"), ("d", "date")]
    )
    assert [d["FeatureType"] for d in defs] == ["String", "Integral", "Fractional", "String"]
    with pytest.raises(ValueError, match="reserved"):
        table_schemas.feature_definitions([("write_time", "string")])
    with pytest.raises(ValueError, match="not a valid feature name"):
        table_schemas.feature_definitions([("bad name", "string")])


def test_event_time_iso_conversion() -> None:
    assert tabular.to_iso_event_time("2024-03-01") == "2024-03-01T00:00:00Z"
    assert tabular.to_iso_event_time("2024-03-01 10:11:12") == "2024-03-01T10:11:12Z"
    assert tabular.to_iso_event_time("2024-03-01T10:11:12+02:00") == "2024-03-01T10:11:12+02:00"


def test_read_rows_returns_every_row() -> None:
    names, rows = tabular.read_rows(churn_csv(120).encode(), "csv")
    assert len(rows) == 120 and names[0] == "customer_id"
    assert rows[0]["customer_id"] == "C100000"
