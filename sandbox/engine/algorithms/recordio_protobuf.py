"""Reading `application/x-recordio-protobuf` channels as SageMaker's built-in algorithms do.

The data is RecordIO framing (a little-endian magic 0xCED7230A, a 32-bit length, the payload
padded to 4 bytes) around `aialgs.data.Record` protobuf messages: `features` and `label` are
maps from a name ("values") to a `Value` holding a Float32Tensor (2), Float64Tensor (3) or
Int32Tensor (7), each with packed `values` (1), sparse `keys` (2) and `shape` (3). Records are
read the way sagemaker-xgboost-container's `read_recordio_protobuf` reads them: a record with
`keys` is a sparse row (width `shape[0]`, else the largest key + 1), otherwise a dense row; a
record whose feature value holds no tensor is skipped. The protobuf wire format is decoded
here (no generated code, no protobuf runtime): only what that schema uses.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any

RECORDIO_MAGIC = 0xCED7230A
_TENSORS = {2: ("<f", 4, 5), 3: ("<d", 8, 1), 7: ("int32", 0, 0)}  # field: (format, size, wire)


def recordio_payloads(buffer: bytes) -> Iterator[bytes]:
    """The records of a RecordIO byte string."""
    offset = 0
    while offset + 8 <= len(buffer):
        magic, length = struct.unpack_from("<II", buffer, offset)
        if magic != RECORDIO_MAGIC:
            raise ValueError(f"Invalid RecordIO magic at offset {offset}")
        offset += 8
        padded = (length + 3) // 4 * 4
        if offset + padded > len(buffer):
            raise ValueError(f"Truncated record at offset {offset}")
        yield buffer[offset : offset + length]
        offset += padded


def _varint(data: bytes, offset: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if offset >= len(data):
            raise ValueError("truncated varint")
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, offset
        shift += 7


def _fields(data: bytes) -> Iterator[tuple[int, int, Any]]:
    """(field number, wire type, value) of one message: ints for varints, bytes otherwise."""
    offset = 0
    while offset < len(data):
        key, offset = _varint(data, offset)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, offset = _varint(data, offset)
        elif wire == 1:
            value, offset = data[offset : offset + 8], offset + 8
        elif wire == 2:
            size, offset = _varint(data, offset)
            value, offset = data[offset : offset + size], offset + size
        elif wire == 5:
            value, offset = data[offset : offset + 4], offset + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield number, wire, value


def _varints(chunk: bytes) -> list[int]:
    out, offset = [], 0
    while offset < len(chunk):
        value, offset = _varint(chunk, offset)
        out.append(value)
    return out


def _tensor(field: int, data: bytes) -> tuple[list[float], list[int], list[int]]:
    """(values, keys, shape) of a Float32/Float64/Int32 tensor message."""
    fmt, size, fixed_wire = _TENSORS[field]
    values: list[float] = []
    keys: list[int] = []
    shape: list[int] = []
    for number, wire, value in _fields(data):
        if number == 1:
            if fmt == "int32":  # varints, two's complement for negatives
                raw = _varints(value) if wire == 2 else [value]
                values += [v - (1 << 64) if v >= 1 << 63 else v for v in raw]
            elif wire == 2:  # packed
                values += list(struct.unpack(f"<{len(value) // size}{fmt[1]}", value))
            elif wire == fixed_wire:
                values.append(struct.unpack(fmt, value)[0])
        elif number in (2, 3):
            target = keys if number == 2 else shape
            target += _varints(value) if wire == 2 else [value]
    return values, keys, shape


def _map_value(entries: list[bytes], name: str) -> bytes | None:
    """The `Value` message stored under `name` in a map<string, Value> field."""
    found = None
    for entry in entries:
        key, value = "", None
        for number, _, item in _fields(entry):
            if number == 1:
                key = item.decode()
            elif number == 2:
                value = item
        if key == name:
            found = value if value is not None else b""
    return found


def _first_tensor(value: bytes) -> tuple[int, bytes] | None:
    for number, _, item in _fields(value):
        if number in _TENSORS:
            return number, item
    return None


def read_recordio_protobuf(buffer: bytes) -> tuple[Any, Any]:
    """(features, labels): a dense float array or a CSR matrix, and labels (None when no
    record has one). Raises ValueError on malformed data or when there are no records."""
    import numpy as np
    from scipy.sparse import csr_matrix, vstack

    rows: list[Any] = []
    labels: list[Any] = []
    sparse = False
    for payload in recordio_payloads(buffer):
        features: list[bytes] = []
        label: list[bytes] = []
        for number, _, item in _fields(payload):
            if number == 1:
                features.append(item)
            elif number == 2:
                label.append(item)
        value = _map_value(features, "values")
        if value is None:
            continue
        tensor = _first_tensor(value)
        if tensor is None:
            continue
        values, keys, shape = _tensor(*tensor)
        if keys:
            sparse = True
            width = int(shape[0]) if shape else max(keys) + 1
            rows.append(
                csr_matrix(
                    (np.asarray(values, dtype=np.float64), np.asarray(keys), [0, len(keys)]),
                    shape=(1, width),
                )
            )
        else:
            rows.append(np.asarray(values, dtype=np.float64).reshape(1, -1))
        label_value = _map_value(label, "values")
        label_tensor = _first_tensor(label_value) if label_value is not None else None
        if label_tensor is not None:
            labels.append(np.asarray(_tensor(*label_tensor)[0], dtype=np.float64))
    if not rows:
        raise ValueError("No records found in RecordIO-Protobuf data")
    features_out = vstack(rows).tocsr() if sparse else np.vstack(rows)
    return features_out, (np.concatenate(labels) if labels else None)
