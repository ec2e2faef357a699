"""A local Bedrock Runtime stand-in on 127.0.0.1 speaking the real Converse wire formats.

- `POST /model/<id>/converse` answers JSON (`output.message`, `stopReason`, `usage`, `metrics`).
- `POST /model/<id>/converse-stream` answers `application/vnd.amazon.eventstream`: binary frames
  (prelude with lengths, prelude CRC32, string headers, JSON payload, message CRC32), in the
  order messageStart → contentBlockDelta… → contentBlockStop → (contentBlockStart toolUse →
  contentBlockDelta toolUse input…) → messageStop → metadata; an exception is a frame with
  `:message-type: exception` and `:exception-type`.

    with BedrockStub() as stub:
        stub.push(text="Checking.", tool_uses=[tool_use("s3_list_buckets", {})])
        stub.push(text="Done.")
        os.environ["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"] = stub.url

`stub.requests` keeps every request (path, model id, parsed JSON body, headers). Like Bedrock,
the stub refuses (400 ValidationException) a conversation whose toolUse/toolResult blocks do not
pair up: ids unique per message, every toolUse answered in the next user message, no stray
toolResult, roles alternating.
Nothing here reaches the network: the server binds to loopback only.
"""

from __future__ import annotations

import binascii
import itertools
import json
import struct
import threading
import time
import urllib.parse
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_ids = itertools.count(1)


# --- the event-stream encoder -------------------------------------------------------------
def encode_headers(headers: dict[str, str]) -> bytes:
    out = b""
    for name, value in headers.items():
        raw_name, raw_value = name.encode("utf-8"), value.encode("utf-8")
        out += struct.pack("B", len(raw_name)) + raw_name
        out += b"\x07" + struct.pack(">H", len(raw_value)) + raw_value  # 7 = string
    return out


def encode_frame(headers: dict[str, str], payload: bytes) -> bytes:
    """One AWS event-stream message: total_len | headers_len | prelude_crc | headers | payload | crc."""
    raw_headers = encode_headers(headers)
    total = 12 + len(raw_headers) + len(payload) + 4
    prelude = struct.pack(">II", total, len(raw_headers))
    prelude_crc = struct.pack(">I", binascii.crc32(prelude) & 0xFFFFFFFF)
    message = prelude + prelude_crc + raw_headers + payload
    return message + struct.pack(">I", binascii.crc32(message) & 0xFFFFFFFF)


def event_frame(event_type: str, payload: dict[str, Any]) -> bytes:
    return encode_frame(
        {
            ":event-type": event_type,
            ":content-type": "application/json",
            ":message-type": "event",
        },
        json.dumps(payload).encode(),
    )


def exception_frame(exception_type: str, message: str) -> bytes:
    return encode_frame(
        {
            ":exception-type": exception_type,
            ":content-type": "application/json",
            ":message-type": "exception",
        },
        json.dumps({"message": message}).encode(),
    )


# --- scripted replies ------------------------------------------------------------------------
def tool_use(
    name: str, input: dict[str, Any] | None = None, tool_use_id: str | None = None
) -> dict:
    return {
        "toolUseId": tool_use_id or f"tooluse_{next(_ids):04d}",
        "name": name,
        "input": input or {},
    }


@dataclass
class Reply:
    text: str = ""
    tool_uses: list[dict[str, Any]] = field(default_factory=list)
    stop_reason: str | None = None
    usage: dict[str, int] = field(
        default_factory=lambda: {"inputTokens": 120, "outputTokens": 30, "totalTokens": 150}
    )
    # Failures: an HTTP error before the stream, or an exception frame after `fail_after` deltas.
    http_error: tuple[int, str, str] | None = None  # (status, error type, message)
    stream_exception: tuple[str, str] | None = None  # (exception type, message)
    fail_after: int = 1
    chunk: int = 5  # characters per text delta
    delay: float = 0.0  # seconds between frames (for cancel tests)
    drop_after: int | None = None  # close the connection after this many frames (no end)

    @property
    def stop(self) -> str:
        return self.stop_reason or ("tool_use" if self.tool_uses else "end_turn")

    def content(self) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = [{"text": self.text}] if self.text else []
        blocks += [{"toolUse": dict(t)} for t in self.tool_uses]
        return blocks

    def converse_body(self) -> dict[str, Any]:
        return {
            "output": {"message": {"role": "assistant", "content": self.content()}},
            "stopReason": self.stop,
            "usage": self.usage,
            "metrics": {"latencyMs": 12},
        }

    def frames(self) -> list[bytes]:
        frames = [event_frame("messageStart", {"role": "assistant"})]
        index = 0
        deltas = 0
        if self.text:
            for start in range(0, len(self.text), self.chunk):
                if self.stream_exception and deltas >= self.fail_after:
                    break
                piece = self.text[start : start + self.chunk]
                frames.append(
                    event_frame(
                        "contentBlockDelta", {"delta": {"text": piece}, "contentBlockIndex": index}
                    )
                )
                deltas += 1
            if self.stream_exception:
                return [*frames, exception_frame(*self.stream_exception)]
            frames.append(event_frame("contentBlockStop", {"contentBlockIndex": index}))
            index += 1
        elif self.stream_exception:
            return [*frames, exception_frame(*self.stream_exception)]
        for use in self.tool_uses:
            frames.append(
                event_frame(
                    "contentBlockStart",
                    {
                        "start": {"toolUse": {"toolUseId": use["toolUseId"], "name": use["name"]}},
                        "contentBlockIndex": index,
                    },
                )
            )
            raw = json.dumps(use["input"])
            half = max(1, len(raw) // 2)
            for piece in (raw[:half], raw[half:]):
                if piece:
                    frames.append(
                        event_frame(
                            "contentBlockDelta",
                            {"delta": {"toolUse": {"input": piece}}, "contentBlockIndex": index},
                        )
                    )
            frames.append(event_frame("contentBlockStop", {"contentBlockIndex": index}))
            index += 1
        frames.append(event_frame("messageStop", {"stopReason": self.stop}))
        frames.append(event_frame("metadata", {"usage": self.usage, "metrics": {"latencyMs": 12}}))
        return frames


def pairing_problem(body: dict[str, Any]) -> str:
    """What real Bedrock would reject in a request's messages ('' when it is well formed)."""
    messages = body.get("messages") or []
    previous_uses: list[str] = []
    for index, message in enumerate(messages):
        role = message.get("role")
        if index and role == messages[index - 1].get("role"):
            return "A conversation must alternate between user and assistant roles."
        content = message.get("content") or []
        uses = [b["toolUse"]["toolUseId"] for b in content if "toolUse" in b]
        results = [b["toolResult"]["toolUseId"] for b in content if "toolResult" in b]
        if len(uses) != len(set(uses)) or len(results) != len(set(results)):
            return f"messages.{index}.content: tool use ids must be unique."
        if role == "user":
            missing = set(previous_uses) - set(results)
            if missing:
                return (
                    f"Expected toolResult blocks at messages.{index}.content for the following "
                    f"Ids: {', '.join(sorted(missing))}"
                )
            if set(results) - set(previous_uses):
                return (
                    f"The number of toolResult blocks at messages.{index}.content exceeds the "
                    "number of toolUse blocks of previous turn."
                )
        previous_uses = uses if role == "assistant" else []
    if previous_uses:
        return "The conversation ends with toolUse blocks that have no toolResult."
    return ""


class BedrockStub:
    """The server; `push(...)` queues replies; `requests` records what arrived."""

    def __init__(self) -> None:
        self.replies: deque[Reply] = deque()
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- script ----------------------------------------------------------------------------
    def push(
        self, text: str = "", tool_uses: list[dict[str, Any]] | None = None, **kw: Any
    ) -> Reply:
        reply = Reply(text=text, tool_uses=list(tool_uses or []), **kw)
        with self._lock:
            self.replies.append(reply)
        return reply

    def _next(self) -> Reply:
        with self._lock:
            if not self.replies:
                return Reply(
                    http_error=(500, "InternalServerException", "BedrockStub: no reply queued")
                )
            return self.replies.popleft()

    def bodies(self, operation: str = "converse-stream") -> list[dict[str, Any]]:
        return [r["body"] for r in self.requests if r["operation"] == operation]

    # --- server ----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._server is not None, "the stub is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> str:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                parts = self.path.split("/")
                model_id = urllib.parse.unquote(parts[2]) if len(parts) > 3 else ""
                operation = parts[3] if len(parts) > 3 else ""
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {"_raw": raw.decode("utf-8", "replace")}
                with stub._lock:
                    stub.requests.append(
                        {
                            "path": self.path,
                            "model_id": model_id,
                            "operation": operation,
                            "body": body,
                            "headers": dict(self.headers),
                        }
                    )
                problem = pairing_problem(body) if operation.startswith("converse") else ""
                if problem:  # Bedrock refuses before generating anything
                    self._send_json(
                        400, {"message": problem}, {"x-amzn-ErrorType": "ValidationException"}
                    )
                    return
                reply = stub._next()
                if reply.http_error:
                    status, error_type, message = reply.http_error
                    self._send_json(status, {"message": message}, {"x-amzn-ErrorType": error_type})
                elif operation == "converse":
                    self._send_json(200, reply.converse_body())
                elif operation == "converse-stream":
                    self._send_stream(reply)
                else:
                    self._send_json(
                        404,
                        {"message": f"unknown path {self.path}"},
                        {"x-amzn-ErrorType": "UnknownOperationException"},
                    )

            def _send_json(
                self, status: int, payload: dict[str, Any], extra: dict[str, str] | None = None
            ) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("x-amzn-RequestId", f"stub-{next(_ids)}")
                for key, value in (extra or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def _send_stream(self, reply: Reply) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/vnd.amazon.eventstream")
                self.send_header("Transfer-Encoding", "chunked")
                self.send_header("x-amzn-RequestId", f"stub-{next(_ids)}")
                self.end_headers()
                try:
                    for index, frame in enumerate(reply.frames()):
                        if reply.drop_after is not None and index >= reply.drop_after:
                            self.close_connection = True
                            self.wfile.flush()
                            self.connection.shutdown(2)  # the stream stops mid-message
                            return
                        if reply.delay:
                            time.sleep(reply.delay)
                        self.wfile.write(f"{len(frame):x}\r\n".encode() + frame + b"\r\n")
                        self.wfile.flush()
                    self.wfile.write(b"0\r\n\r\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError, OSError):
                    pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="bedrock-stub", daemon=True
        )
        self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> BedrockStub:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
