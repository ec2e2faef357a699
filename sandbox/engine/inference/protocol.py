"""Framing between the server and a model host process: a JSON header line, then `length` raw
bytes. Requests: {"op": "load" | "invoke" | "load_target", ...}; replies: {"status": <HTTP
status>, "content_type": ..., "length": n, "model_us": ...}."""

from __future__ import annotations

import json
from typing import IO, Any


def write_frame(stream: IO[bytes], header: dict[str, Any], body: bytes = b"") -> None:
    header = {**header, "length": len(body)}
    stream.write(json.dumps(header).encode() + b"\n" + body)
    stream.flush()


def read_frame(stream: IO[bytes]) -> tuple[dict[str, Any], bytes] | None:
    """The next (header, body), or None when the other side closed the stream."""
    line = stream.readline()
    if not line:
        return None
    header = json.loads(line)
    length = int(header.get("length") or 0)
    body = _read_exact(stream, length) if length else b""
    return header, body


def _read_exact(stream: IO[bytes], length: int) -> bytes:
    chunks: list[bytes] = []
    remaining = length
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            raise EOFError("the stream closed in the middle of a frame")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
