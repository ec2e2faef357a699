"""`sagecoach mcp` as a real subprocess, driven by the SDK's own client: over stdio (as Claude
Code, Kiro and VS Code start it) and over streamable HTTP with its bearer token."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, types
from mcp.client.stdio import StdioServerParameters

from agent.audit import verify
from tests.mcp_helpers import CLIENT, Answers, audit, buckets, mutating_aws_calls, s3, streams
from tools.core.registry import all_tools

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "SAGECOACH_STATE_DIR": str(tmp_path / "state"), **extra}


def _stdio(tmp_path: Path, sandbox: Any, *args: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "tui.cli", "mcp", "--sandbox-endpoint", sandbox.endpoint, *args],
        env=_env(tmp_path),
        cwd=str(REPO),
    )


async def test_over_stdio_tools_list_read_decline_and_accept(tmp_path: Path, sandbox: Any) -> None:
    s3(sandbox).create_bucket(Bucket="stdio-existing")
    answers = Answers("decline")
    async with Client(
        _stdio(tmp_path, sandbox),
        mode="legacy",
        elicitation_callback=answers,
        client_info=CLIENT,
        read_timeout_seconds=60,
    ) as c:
        tools = {t.name: t for t in (await c.list_tools()).tools}
        read = await c.call_tool("s3_list_buckets", {})
        declined = await c.call_tool("kinesis_create_stream", {"name": "stdio-stream"})
        answers.action, answers.content = "accept", {"confirm": True}
        accepted = await c.call_tool("s3_create_bucket", {"bucket": "stdio-accepted"})
    assert set(tools) == {t.name for t in all_tools()}
    hints = tools["sagemaker_delete_endpoint"].annotations
    assert hints is not None and hints.destructive_hint is True
    assert not read.is_error and "stdio-existing" in read.content[0].text
    assert declined.is_error and "declined in the MCP client" in declined.content[0].text
    assert "stdio-stream" not in streams(sandbox)
    assert not accepted.is_error and "stdio-accepted" in buckets(sandbox)
    assert [q.message.split(" (")[0] for q in answers.asked] == [
        "sagecoach asks before running kinesis_create_stream",
        "sagecoach asks before running s3_create_bucket",
    ]
    (start,) = audit(tmp_path, "session_start")
    assert start["client"] == {"name": "test-client", "version": "9.9"}
    assert start["transport"] == "stdio" and start["protocol_version"] == "2025-11-25"
    assert [(a["decision"], a["who"]) for a in audit(tmp_path, "approval")] == [
        ("reject", "mcp client"),
        ("approve", "mcp client"),
    ]
    assert audit(tmp_path, "session_end")
    assert verify(tmp_path / "state" / "audit").ok


async def test_over_stdio_a_client_that_vanishes_mid_approval_leaves_a_closed_log(
    tmp_path: Path, sandbox: Any
) -> None:
    asked = anyio.Event()

    async def vanish(context: Any, params: Any) -> types.ElicitResult:
        asked.set()
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def call() -> None:
        async with Client(
            _stdio(tmp_path, sandbox), mode="legacy", elicitation_callback=vanish
        ) as c:  # type: ignore[arg-type]
            await c.call_tool("s3_create_bucket", {"bucket": "stdio-vanished"})

    async with anyio.create_task_group() as tg:
        tg.start_soon(call)
        with anyio.fail_after(30):
            await asked.wait()
        tg.cancel_scope.cancel()  # closes the server's stdin mid-approval
    assert "stdio-vanished" not in buckets(sandbox)
    deadline = time.monotonic() + 10
    while not audit(tmp_path, "session_end") and time.monotonic() < deadline:
        await anyio.sleep(0.1)
    (approval,) = audit(tmp_path, "approval")
    assert approval["decision"] == "reject"
    assert audit(tmp_path, "session_end"), "the server did not close its session"
    assert mutating_aws_calls(audit(tmp_path)) == []
    assert verify(tmp_path / "state" / "audit").ok


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"sagecoach mcp --http exited: {proc.stderr.read()!r}")  # type: ignore[union-attr]
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("sagecoach mcp --http did not start listening")


async def test_over_http_the_token_is_required(tmp_path: Path, sandbox: Any) -> None:
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    port, token = _free_port(), "test-token-123"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "mcp", "--http", "--port", str(port),
         "--sandbox-endpoint", sandbox.endpoint],
        env=_env(tmp_path, SAGECOACH_MCP_TOKEN=token), cwd=str(REPO),
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        _wait_for_port(port, proc)
        url = f"http://127.0.0.1:{port}/mcp"
        request = urllib.request.Request(url, data=b"{}", method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert refused.value.code == 401
        assert b"bearer token" in refused.value.read()
        headers = {"Authorization": f"Bearer {token}"}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=30) as http,
            Client(streamable_http_client(url, http_client=http), client_info=CLIENT) as c,
        ):
            tools = await c.list_tools()
            listing = await c.call_tool("list_stages", {})
            refused_call = await c.call_tool("s3_create_bucket", {"bucket": "http-no-elicit"})
        assert len(tools.tools) == len(all_tools())
        assert not listing.is_error and "Model training" in listing.content[0].text
        assert refused_call.is_error and "--mode auto" in refused_call.content[0].text
        assert "http-no-elicit" not in buckets(sandbox)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            proc.kill()
            proc.wait()
    (start,) = audit(tmp_path, "session_start")
    assert start["transport"] == "http" and start["client"]["name"] == "test-client"
    assert audit(tmp_path, "session_end")  # SIGTERM shuts down cleanly
    assert verify(tmp_path / "state" / "audit").ok
