"""Who stops a sandbox: the shared background sandbox outlives the app and `doctor`; a sandbox
the app's opener started in its own process (tests) is the opener's, and stops with it."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from agent.settings import load_settings
from sandbox import daemon
from sandbox.server import probe
from tui.runtime_opener import RuntimeOpener


@pytest.mark.slow
def test_the_app_starts_the_shared_sandbox_and_leaves_it_running_when_it_quits(
    tmp_path: Path,
) -> None:
    """The real `sagecoach --sandbox` in a terminal, with no sandbox running: it starts the
    state directory's shared sandbox, opens its session (it can act), quits, and the sandbox
    keeps running for the next client (it stops by itself when idle)."""
    from tests.test_tui_usage import run_in_pty

    state_dir = tmp_path / "state" / "sagecoach"
    assert daemon.status(state_dir) is None
    code, err = run_in_pty(["--sandbox"], {"SAGECOACH_EXIT_WHEN_READY": "1"}, tmp_path)
    assert code == 0, err
    assert re.match(r"ready: \d+\.\d+", err.strip()), err
    running = daemon.status(state_dir)
    assert running is not None and probe(running.endpoint) is not None


async def test_the_opener_uses_the_shared_sandbox_and_close_leaves_it(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    endpoint = daemon.connect(state_dir, idle_timeout_s=120)
    opener = RuntimeOpener()
    session = await opener(load_settings(state_dir=state_dir, sandbox="on"), None)
    try:
        assert session.is_sandbox and session.env.aws.sandbox_endpoint == endpoint
        assert opener.owned_sandbox is None
    finally:
        await session.aclose()
    opener.close()
    time.sleep(0.5)
    assert probe(endpoint) is not None and daemon.status(state_dir) is not None


async def test_a_sandbox_the_opener_started_in_process_is_its_own_and_stops_with_it(
    tmp_path: Path,
) -> None:
    state_dir = tmp_path / "state"
    opener = RuntimeOpener(sandbox_in_process=True)
    settings = load_settings(state_dir=state_dir, sandbox="on")
    session = await opener(settings, None)
    owned = opener.owned_sandbox
    try:
        assert owned is not None and owned.running
        assert session.env.aws.sandbox_endpoint == owned.endpoint
        assert daemon.status(state_dir) is None  # no shared sandbox was started
    finally:
        await session.aclose()
    again = await opener(settings, None)  # the app reopens its session: the same sandbox
    try:
        assert opener.owned_sandbox is owned and again.env.aws.sandbox_endpoint == owned.endpoint
    finally:
        await again.aclose()
    endpoint = owned.endpoint
    opener.close()
    assert opener.owned_sandbox is None
    deadline = time.monotonic() + 10
    while owned.running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not owned.running and probe(endpoint, timeout=0.2) is None
