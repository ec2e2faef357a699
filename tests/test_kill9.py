"""kill -9 at a point of each turn phase (model call, approval, AWS call in flight, tool after
its create), then: `log verify` passes, the conversation goes on (through
the Bedrock wire stub, which refuses an unpaired toolUse/toolResult), and the ledger holds
every bucket that exists (intents reconciled at the next start).
"""

from __future__ import annotations

import http.client
import os
import select
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from agent.audit import verify
from agent.events import TurnFinished
from agent.settings import Settings
from agent.startup import open_session
from tests import kill_child
from tests.bedrock_stub import BedrockStub, pairing_problem
from tools.ledger.store import ResourceLedger

MODEL = "bedrock_converse:us.anthropic.claude-sonnet-4-5-20250929-v1:0"
REPO = Path(__file__).resolve().parent.parent
PHASES = ["model", "approval", "in_flight", "after_create"]
CREATED = {"in_flight", "after_create"}  # phases where the bucket exists


class HoldingProxy:
    """Forwards to the sandbox; holds back the reply to CreateBucket for `kill-b`."""

    def __init__(self, target: str) -> None:
        self.target = urllib.parse.urlsplit(target)
        self.held = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                conn = http.client.HTTPConnection(proxy.target.hostname, proxy.target.port)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                conn.request(self.command, self.path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                if self.command == "PUT" and self.path.rstrip("/") == f"/{kill_child.BUCKET}":
                    proxy.held.set()  # created at the sandbox; the reply never comes back
                    time.sleep(30)
                    return
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy(sandbox: Any) -> Iterator[HoldingProxy]:
    holding = HoldingProxy(sandbox.endpoint)
    yield holding
    holding.close()


class Child:
    def __init__(self, state: Path, endpoint: str, phase: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.kill_child", str(state), endpoint, phase],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=REPO,
            env=env,
            text=True,
        )

    def wait_for(self, prefix: str, timeout: float = 60.0) -> str:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if ready:
                line = self.proc.stdout.readline()
                if not line:
                    raise AssertionError(f"the child ended before {prefix!r}")
                if line.startswith(prefix):
                    return line.strip()
        raise AssertionError(f"no {prefix!r} from the child in {timeout} s")

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        assert self.proc.returncode == -signal.SIGKILL


@pytest.mark.slow
@pytest.mark.parametrize("phase", PHASES)
async def test_kill_9_then_verify_continue_and_reconcile(
    phase: str,
    sandbox: Any,
    proxy: HoldingProxy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    state = tmp_path / "state"
    child = Child(state, proxy.url if phase == "in_flight" else sandbox.endpoint, phase)
    try:
        conversation = child.wait_for("CONVERSATION").split()[1]
        if phase == "in_flight":
            child.wait_for("PHASE deciding")
            assert proxy.held.wait(30), "CreateBucket never reached the sandbox"
        else:
            child.wait_for(f"PHASE {phase}")
    finally:
        child.kill()

    # 1. The audit log verifies (a torn line or an interrupted head update are warnings).
    report = verify(state / "audit")
    assert report.ok, report.problems
    monkeypatch.setenv("SAGECOACH_STATE_DIR", str(state))
    cli = CliRunner().invoke(__import__("tui.cli", fromlist=["app"]).app, ["log", "verify"])
    assert cli.exit_code == 0, cli.output

    # 2. The conversation goes on, with a model that checks toolUse/toolResult pairing.
    with BedrockStub() as stub:
        monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", stub.url)
        stub.push(text="Carrying on.")
        session = await open_session(
            Settings(state_dir=state, sandbox="on", model=MODEL),
            conversation=conversation,
            sandbox_endpoint=sandbox.endpoint,
            tools=kill_child.TOOLS,
            retry_delay=0.0,
            lock_wait_s=5.0,  # the kernel released the dead child's lock
        )
        try:
            events = [e async for e in session.send("carry on")]
            notices = [n.message for n in session.notices]
        finally:
            await session.aclose()
        assert isinstance(events[-1], TurnFinished) and events[-1].reply == "Carrying on."
        assert pairing_problem(stub.bodies()[-1]) == ""

    # 3. The ledger knows every bucket that exists (reconciled at that start).
    s3 = boto3.client(
        "s3", endpoint_url=sandbox.endpoint, region_name="us-east-1",
        aws_access_key_id="x", aws_secret_access_key="y",
    )  # fmt: skip
    exists = kill_child.BUCKET in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert exists == (phase in CREATED)
    entries = [
        e for e in ResourceLedger.in_state_dir(state).entries() if e.name == kill_child.BUCKET
    ]
    assert [e.status for e in entries] == (["active"] if exists else [])
    if phase == "in_flight":
        assert any("stopped unexpectedly" in n for n in notices)
    assert verify(state / "audit").ok
