"""Shared fixtures: an isolated environment (no real credentials, no network) and a sandbox.

One moto server per test process (started once), reset before each test that uses it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.server import Sandbox
from tools.aws.context import AwsContext
from tools.core.context import ToolContext


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No test sees the developer's AWS config, credentials or state directory."""
    for key in list(os.environ):
        if key.startswith(("AWS_", "SAGECOACH_")):
            monkeypatch.delenv(key, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local/state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local/share"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "aws-config-absent"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "aws-credentials-absent"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    yield home
    from sandbox import daemon

    # A session (here, or a `sagecoach` subprocess) that started the shared sandbox of a state
    # directory under this test's tmp_path leaves no process behind.
    daemon.stop_spawned()
    for info in tmp_path.rglob("sandbox/server.json"):
        daemon.stop(info.parent.parent)


@pytest.fixture(autouse=True)
def local_access(tmp_path: Path) -> Iterator[object]:
    """Tools may read the test's tmp_path as if it were the working directory (the local-path
    policy, tools/local_paths.py, still refuses hidden and credential files there)."""
    from tools.core.local_paths import LocalAccess, using_access

    access = LocalAccess(roots=[Path.cwd().resolve(), tmp_path.resolve()])
    with using_access(access):
        yield access


@pytest.fixture(scope="session")
def moto_server() -> Iterator[Sandbox]:
    sandbox = Sandbox(engine=False, seed=False)
    sandbox.start()
    yield sandbox
    sandbox.stop()


@pytest.fixture(scope="session")
def engine_server() -> Iterator[Sandbox]:
    """A sandbox with the execution engine (jobs really run), one per test process."""
    sandbox = Sandbox(seed=False, warm=True)
    sandbox.start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def engine_sandbox(engine_server: Sandbox) -> Iterator[Sandbox]:
    """The engine sandbox, wiped and seeded with the demo data for this test; jobs still
    running at the end are stopped."""
    engine_server.reset(seed=True)
    yield engine_server
    engine_server.engine.jobs.shutdown(wait_s=5)
    engine_server.engine.jobs.closed = False


@pytest.fixture
def sandbox(moto_server: Sandbox) -> Sandbox:
    """The shared moto server, wiped clean for this test."""
    moto_server.reset()
    return moto_server


@pytest.fixture
def aws_calls() -> list[dict]:
    """Every aws_call record the test's AwsContext emitted."""
    return []


@pytest.fixture
def aws(sandbox: Sandbox, aws_calls: list[dict]) -> AwsContext:
    return AwsContext(
        sandbox_endpoint=sandbox.endpoint, session_id="test-session", on_aws_call=aws_calls.append
    )


@pytest.fixture
def tool_ctx(aws: AwsContext, sandbox: Sandbox, tmp_path: Path) -> ToolContext:
    state = tmp_path / "state"
    state.mkdir()
    return ToolContext(aws, session_id="test-session", state_dir=state, sandbox=sandbox)
