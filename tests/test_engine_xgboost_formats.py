"""Built-in XGBoost reads application/x-parquet and application/x-recordio-protobuf channels
as sagemaker-xgboost-container does (label first in parquet; `values` tensors in records).

The recordio-protobuf data is written with the protobuf library itself (the aialgs.data.Record
schema the SageMaker SDK writes), independently of the engine's own reader.
"""

from __future__ import annotations

import io
import struct
from typing import Any

import pytest

from sandbox.engine.algorithms.recordio_protobuf import RECORDIO_MAGIC, read_recordio_protobuf
from sandbox.server import Sandbox
from tests.engine_helpers import (
    XGB_IMAGE,
    channel,
    clients,
    log_lines,
    signal_rows,
    training_request,
    wait_training,
)

PARQUET = "application/x-parquet"
RECORDIO = "application/x-recordio-protobuf"
HYPERPARAMETERS = {"num_round": "20", "objective": "binary:logistic", "eval_metric": "auc",
                   "max_depth": "3"}  # fmt: skip


# --- the reference writer: protobuf's own encoder ----------------------------------------------
def _record_class() -> Any:
    from google.protobuf import descriptor_pb2 as d
    from google.protobuf import descriptor_pool, message_factory

    field = d.FieldDescriptorProto
    proto = d.FileDescriptorProto(name="test_record.proto", package="aialgs.data", syntax="proto2")
    for name, kind in (("Float32Tensor", field.TYPE_FLOAT), ("Float64Tensor", field.TYPE_DOUBLE),
                       ("Int32Tensor", field.TYPE_INT32)):  # fmt: skip
        message = proto.message_type.add(name=name)
        for number, fname, ftype in ((1, "values", kind), (2, "keys", field.TYPE_UINT64),
                                     (3, "shape", field.TYPE_UINT64)):  # fmt: skip
            message.field.add(name=fname, number=number, type=ftype, label=field.LABEL_REPEATED,
                              options=d.FieldOptions(packed=True))  # fmt: skip
    value = proto.message_type.add(name="Value")
    value.oneof_decl.add(name="value")
    for fname, number, tname in (("float32_tensor", 2, "Float32Tensor"),
                                 ("float64_tensor", 3, "Float64Tensor"),
                                 ("int32_tensor", 7, "Int32Tensor")):  # fmt: skip
        value.field.add(name=fname, number=number, type=field.TYPE_MESSAGE, oneof_index=0,
                        type_name=f".aialgs.data.{tname}", label=field.LABEL_OPTIONAL)  # fmt: skip
    record = proto.message_type.add(name="Record")
    for entry_name, fname, number in (("FeaturesEntry", "features", 1), ("LabelEntry", "label", 2)):
        entry = record.nested_type.add(name=entry_name, options=d.MessageOptions(map_entry=True))
        entry.field.add(name="key", number=1, type=field.TYPE_STRING, label=field.LABEL_OPTIONAL)
        entry.field.add(name="value", number=2, type=field.TYPE_MESSAGE,
                        type_name=".aialgs.data.Value", label=field.LABEL_OPTIONAL)  # fmt: skip
        record.field.add(name=fname, number=number, type=field.TYPE_MESSAGE,
                         type_name=f".aialgs.data.Record.{entry_name}",
                         label=field.LABEL_REPEATED)  # fmt: skip
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("aialgs.data.Record"))


def _frame(payload: bytes) -> bytes:
    padding = b"\0" * ((4 - len(payload) % 4) % 4)
    return struct.pack("<II", RECORDIO_MAGIC, len(payload)) + payload + padding


def recordio(labels: list[Any], rows: list[list[float]], *, sparse: bool = False,
             tensor: str = "float32_tensor") -> bytes:  # fmt: skip
    """Records as the SageMaker SDK writes them (dense rows, or keys + shape when sparse)."""
    record_class = _record_class()
    out = io.BytesIO()
    for label, row in zip(labels, rows, strict=True):
        record = record_class()
        features = getattr(record.features["values"], tensor)
        if sparse:
            keys = [i for i, v in enumerate(row) if v != 0]
            features.values.extend([row[i] for i in keys])
            features.keys.extend(keys)
            features.shape.extend([len(row)])
        else:
            features.values.extend(row)
        getattr(record.label["values"], tensor).values.extend([label])
        out.write(_frame(record.SerializeToString()))
    return out.getvalue()


def parquet(labels: list[Any], rows: list[list[Any]], names: list[str] | None = None) -> bytes:
    import pandas as pd

    width = len(rows[0])
    frame = pd.DataFrame(rows, columns=names or [f"f{i}" for i in range(width)])
    frame.insert(0, "label", labels)
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


# --- the reader, without a sandbox ----------------------------------------------------------
def test_the_reader_takes_dense_sparse_double_and_int_records() -> None:
    rows = [[1.5, 0.0, -2.0], [0.0, 0.0, 4.0]]
    for kwargs in ({}, {"sparse": True}, {"tensor": "float64_tensor"}):
        features, labels = read_recordio_protobuf(recordio([0, 1], rows, **kwargs))
        dense = features.toarray() if hasattr(features, "toarray") else features
        assert dense.tolist() == rows and labels.tolist() == [0.0, 1.0], kwargs
    features, labels = read_recordio_protobuf(
        recordio([-3, 7], [[1, -2], [0, 5]], tensor="int32_tensor")
    )
    assert features.tolist() == [[1.0, -2.0], [0.0, 5.0]] and labels.tolist() == [-3.0, 7.0]


def test_the_reader_rejects_what_is_not_recordio() -> None:
    with pytest.raises(ValueError, match="Invalid RecordIO magic"):
        read_recordio_protobuf(b"label,f0\n1,2\n")
    with pytest.raises(ValueError, match="No records found"):
        read_recordio_protobuf(b"")


# --- training jobs in the sandbox -----------------------------------------------------------
def _start(sandbox: Sandbox, name: str, content_type: str, bodies: dict[str, bytes]) -> Any:
    sm, s3 = clients(sandbox.endpoint, "sagemaker", "s3")
    s3.create_bucket(Bucket=name)
    for key, body in bodies.items():
        s3.put_object(Bucket=name, Key=key, Body=body)
    channels = [channel(c, f"s3://{name}/{c}/", content_type)
                for c in ("train", "validation") if any(k.startswith(c) for k in bodies)]  # fmt: skip
    sm.create_training_job(
        **training_request(name, XGB_IMAGE, HYPERPARAMETERS, channels, f"s3://{name}/out/")
    )
    return sm


def _auc(desc: dict) -> float:
    final = {m["MetricName"]: m["Value"] for m in desc["FinalMetricDataList"]}
    return float(final["validation:auc"])


@pytest.mark.slow
def test_xgboost_trains_on_parquet_and_on_recordio_protobuf(engine_sandbox: Sandbox) -> None:
    labels, rows = signal_rows(400)
    _start(engine_sandbox, "pq-signal", PARQUET, {
        "train/part-0.parquet": parquet(labels[:150], rows[:150]),
        "train/part-1.parquet": parquet(labels[150:300], rows[150:300]),
        "train/_SUCCESS": b"",  # Spark's marker file: not data
        "validation/part-0.parquet": parquet(labels[300:], rows[300:]),
    })  # fmt: skip
    sm = _start(engine_sandbox, "pb-signal", RECORDIO, {
        "train/part-0.pbr": recordio(labels[:300], rows[:300]),
        "validation/part-0.pbr": recordio(labels[300:], rows[300:], sparse=True),
    })  # fmt: skip
    (logs,) = clients(engine_sandbox.endpoint, "logs")
    for name in ("pq-signal", "pb-signal"):
        desc = wait_training(sm, name)
        assert desc["TrainingJobStatus"] == "Completed", (name, desc.get("FailureReason"))
        assert _auc(desc) > 0.85, name
        lines = log_lines(logs, "/aws/sagemaker/TrainingJobs", name)
        assert any("Train matrix has 300 rows and 5 columns" in line for line in lines), name


@pytest.mark.slow
def test_data_the_container_cannot_read_fails_the_job_with_its_reason(
    engine_sandbox: Sandbox,
) -> None:
    labels, rows = signal_rows(40)
    text_rows = [[*row[:2], "gold"] for row in rows]
    _start(engine_sandbox, "pq-text", PARQUET, {"train/data.parquet": parquet(labels, text_rows)})
    sm = _start(engine_sandbox, "pb-csv", RECORDIO, {"train/data.csv": b"1,0.5,0.2\n0,0.1,0.9\n"})
    parquet_job, recordio_job = wait_training(sm, "pq-text"), wait_training(sm, "pb-csv")
    assert parquet_job["TrainingJobStatus"] == "Failed"
    assert "Failed to load parquet data with exception" in parquet_job["FailureReason"]
    assert "gold" in parquet_job["FailureReason"]
    assert recordio_job["TrainingJobStatus"] == "Failed"
    assert "Failed to load recordio-protobuf data with exception" in recordio_job["FailureReason"]
    assert "Invalid RecordIO magic" in recordio_job["FailureReason"]
