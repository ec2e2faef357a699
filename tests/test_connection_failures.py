"""Connection failures: a reset, a closed port and an endpoint that never answers each give one
`aws_call` record and a readable message (never a TypeError from the audit hook), fail in
seconds, and a call that may have reached AWS is never sent twice."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore import exceptions as bx
from pydantic import BaseModel

from agent.settings import Settings
from tools.aws.context import (
    BEDROCK_READ_TIMEOUT_S,
    CONNECT_TIMEOUT_S,
    READ_TIMEOUT_S,
    SANDBOX_READ_TIMEOUT_S,
    AwsContext,
)
from tools.core.context import ToolContext
from tools.core.declaration import ToolSpec
from tools.core.errors import ToolError
from tools.core.results import ToolResult


class FaultServer:
    """A loopback TCP server that accepts and then stays silent, or resets the connection."""

    def __init__(self, behaviour: str) -> None:
        self.behaviour = behaviour
        self.accepted = 0
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._held: list[socket.socket] = []
        self._stop = False
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.accepted += 1
            if self.behaviour == "reset":
                conn.recv(65536)
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()  # RST instead of an answer
            else:
                self._held.append(conn)

    def close(self) -> None:
        self._stop = True
        self._sock.close()
        for conn in self._held:
            conn.close()


@pytest.fixture
def real_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEEXAMPLE12")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x" * 40)


@pytest.fixture
def silent(real_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultServer]:
    server = FaultServer("silent")
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
    yield server
    server.close()


@pytest.fixture
def resetting(real_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultServer]:
    server = FaultServer("reset")
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
    yield server
    server.close()


def context(records: list[dict[str, Any]], read_timeout: float = 0.3) -> AwsContext:
    return AwsContext(
        region="us-east-1",
        on_aws_call=records.append,
        connect_timeout=0.3,
        read_timeout=read_timeout,
    )


def test_default_timeouts_fail_a_dead_endpoint_in_seconds() -> None:
    aws = AwsContext(region="us-east-1")
    config = aws.client("s3").meta.config
    assert (config.connect_timeout, config.read_timeout) == (CONNECT_TIMEOUT_S, READ_TIMEOUT_S)
    assert CONNECT_TIMEOUT_S <= 5 and READ_TIMEOUT_S <= 20
    assert config.retries["total_max_attempts"] == 3
    assert aws.client("bedrock-runtime").meta.config.read_timeout == BEDROCK_READ_TIMEOUT_S
    settings = Settings(aws_connect_timeout_s=1.5, aws_read_timeout_s=4, sandbox="off")
    from agent.environment import open_environment

    env = open_environment(settings, session_id="t")
    config = env.aws.client("s3").meta.config
    assert (config.connect_timeout, config.read_timeout) == (1.5, 4)
    local = open_environment(settings, session_id="t", sandbox_endpoint="http://127.0.0.1:9")
    assert local.aws.client("s3").meta.config.read_timeout == SANDBOX_READ_TIMEOUT_S


def test_a_silent_endpoint_mutating_call_is_sent_once(silent: FaultServer) -> None:
    records: list[dict[str, Any]] = []
    aws = context(records)
    started = time.perf_counter()
    with pytest.raises(bx.ReadTimeoutError):
        aws.client("s3").create_bucket(Bucket="never-twice")
    assert time.perf_counter() - started < 10.0  # one 0.3 s read timeout, not minutes
    assert silent.accepted == 1  # it may have reached AWS: never resent
    (record,) = records
    assert (record["service"], record["operation"], record["status"]) == (
        "s3",
        "CreateBucket",
        None,
    )
    assert record["params"] == {"Bucket": "never-twice"} and record["no_answer"] is True
    assert "no answer within the read timeout" in record["error"]
    assert "may or may not have taken effect" in record["error"]


def test_a_silent_endpoint_read_is_retried_once(silent: FaultServer) -> None:
    records: list[dict[str, Any]] = []
    with pytest.raises(bx.ReadTimeoutError):
        context(records).client("s3").list_buckets()
    assert silent.accepted == 2
    assert [r["operation"] for r in records] == ["ListBuckets"]


def test_a_reset_connection_is_recorded_not_a_type_error(resetting: FaultServer) -> None:
    records: list[dict[str, Any]] = []
    with pytest.raises(bx.ConnectionClosedError):
        context(records).client("s3").put_object(Bucket="b", Key="k", Body=b"x")
    assert resetting.accepted == 1
    (record,) = records
    assert record["operation"] == "PutObject" and "closed or reset" in record["error"]
    assert record["params"]["Body"] == "<1 bytes>"


def test_a_closed_port_fails_fast_with_a_record(real_env: None, monkeypatch) -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    records: list[dict[str, Any]] = []
    started = time.perf_counter()
    with pytest.raises(bx.EndpointConnectionError):
        context(records).client("sts").get_caller_identity()
    assert time.perf_counter() - started < 10.0
    assert [r["operation"] for r in records] == ["GetCallerIdentity"]
    assert "could not connect" in records[0]["error"]


class BucketArgs(BaseModel):
    bucket: str


def _create(ctx: ToolContext, args: BucketArgs) -> ToolResult:
    ctx.client("s3").create_bucket(Bucket=args.bucket)
    return ToolResult("created")


def test_a_tool_gets_a_readable_error(silent: FaultServer) -> None:
    spec = ToolSpec("mk", "collection", "Make.", "write", ("s3:CreateBucket",), BucketArgs, _create)
    ctx = ToolContext(context([]), session_id="s")
    with pytest.raises(ToolError) as caught:
        spec.run(ctx, {"bucket": "b-1"})
    assert caught.value.kind == "network"
    assert "did not answer" in caught.value.message
    assert "check with a list or describe call" in caught.value.message


def test_bedrock_calls_are_recorded_as_hashes_and_sizes(real_env: None) -> None:
    from agent.models import make_chat_model
    from tests.bedrock_stub import BedrockStub

    records: list[dict[str, Any]] = []
    with BedrockStub() as stub:
        import os

        os.environ["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"] = stub.url
        try:
            aws = AwsContext(region="us-east-1", on_aws_call=records.append)
            model = make_chat_model("bedrock_converse:us.amazon.nova-pro-v1:0", aws)
            stub.push(text="Hi.")
            model.invoke("a long private question " * 50)
        finally:
            del os.environ["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"]
    (record,) = records
    params = record["params"]
    assert "private question" not in str(record)
    assert params["modelId"] == "us.amazon.nova-pro-v1:0"
    assert params["messages"]["count"] == 1 and params["messages"]["bytes"] > 1000
    assert len(params["messages"]["sha256"]) == 64
