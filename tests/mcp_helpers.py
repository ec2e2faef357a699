"""Shared pieces for the `sagecoach mcp` tests: a server on the test's moto sandbox, clients
that answer approvals in a chosen way, and readers for what reached moto and the audit log."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import boto3
from mcp import Client, types

from agent.audit import read_records
from agent.settings import Settings, load_settings
from tui.mcp_server.front import FrontEnd, McpOptions
from tui.mcp_server.server import build_server

CLIENT = types.Implementation(name="test-client", version="9.9")


def settings_for(tmp_path: Path, mode: str = "ask", **extra: Any) -> Settings:
    return load_settings(mode=mode, state_dir=str(tmp_path / "state"), **extra)


def make_server(
    tmp_path: Path,
    sandbox: Any,
    *,
    mode: str = "ask",
    stages: list[str] | None = None,
    tools: list[Any] | None = None,
    **settings: Any,
) -> Any:
    options = McpOptions(
        settings=settings_for(tmp_path, mode, **settings),
        stages=stages,
        sandbox_endpoint=sandbox.endpoint,
        tools=tools,
    )
    return build_server(options)


def front_of(server: Any) -> FrontEnd:
    return server.front


class Answers:
    """An elicitation callback that answers every question the same way and keeps them."""

    def __init__(self, action: str = "accept", content: dict[str, Any] | None = None) -> None:
        self.action = action
        self.content = {"confirm": True} if content is None and action == "accept" else content
        self.asked: list[Any] = []

    async def __call__(self, context: Any, params: Any) -> types.ElicitResult:
        self.asked.append(params)
        return types.ElicitResult(action=self.action, content=self.content)  # type: ignore[arg-type]


def client(server: Any, answers: Answers | None = None, *, mode: str = "legacy") -> Client:
    """The SDK's own client, in memory. legacy: pushed elicitation; auto: 2026-07-28 rounds."""
    return Client(
        server,
        mode=mode,
        elicitation_callback=answers,
        client_info=CLIENT,
        read_timeout_seconds=60,
    )


def s3(sandbox: Any) -> Any:
    return boto3.client(
        "s3", endpoint_url=sandbox.endpoint, region_name="us-east-1",
        aws_access_key_id="x", aws_secret_access_key="y",
    )  # fmt: skip


def buckets(sandbox: Any) -> set[str]:
    return {b["Name"] for b in s3(sandbox).list_buckets().get("Buckets", [])}


def streams(sandbox: Any) -> set[str]:
    kinesis = boto3.client(
        "kinesis", endpoint_url=sandbox.endpoint, region_name="us-east-1",
        aws_access_key_id="x", aws_secret_access_key="y",
    )  # fmt: skip
    return set(kinesis.list_streams().get("StreamNames", []))


def audit(tmp_path: Path, kind: str | None = None) -> list[dict[str, Any]]:
    """Records on disk (the session's writer thread flushes when the client disconnects)."""
    directory = tmp_path / "state" / "audit"
    deadline = time.monotonic() + 5
    records = read_records(directory, kind=kind)
    while not records and time.monotonic() < deadline:
        time.sleep(0.05)
        records = read_records(directory, kind=kind)
    return records


def mutating_aws_calls(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """aws_call records of operations that change something and were sent (not blocked)."""
    return [
        r
        for r in records
        if r.get("kind") == "aws_call" and r.get("op_class") == "mutating" and not r.get("blocked")
    ]
