"""One sandbox per state directory: started in the background, found by the next client,
reset and stopped; its state kept across the restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox import daemon
from sandbox.server import DEMO_BUCKET, probe
from tests.engine_helpers import clients

pytestmark = pytest.mark.slow


def test_connect_starts_one_shared_sandbox_that_keeps_its_state(tmp_path: Path) -> None:
    state = tmp_path / "state"
    assert daemon.status(state) is None
    endpoint = daemon.connect(state, idle_timeout_s=120)
    try:
        running = daemon.status(state)
        assert running is not None and running.endpoint == endpoint
        assert daemon.connect(state) == endpoint  # the second client finds the same one
        identity = probe(endpoint)
        assert identity and identity["state_dir"] == str(state) and identity["pid"] == running.pid
        (s3,) = clients(endpoint, "s3")
        assert DEMO_BUCKET in [b["Name"] for b in s3.list_buckets()["Buckets"]]
        s3.create_bucket(Bucket="survives")
        assert daemon.stop(state)
        assert daemon.status(state) is None
        assert (state / "sandbox" / "state.pickle").exists()

        endpoint = daemon.connect(state, idle_timeout_s=120)
        (s3,) = clients(endpoint, "s3")
        assert "survives" in [b["Name"] for b in s3.list_buckets()["Buckets"]]
        assert "reset" in daemon.reset(state)
        names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
        assert names == [DEMO_BUCKET]
    finally:
        daemon.stop(state)
    assert daemon.status(state) is None


def test_reset_without_a_running_sandbox_deletes_the_saved_state(tmp_path: Path) -> None:
    directory = tmp_path / "sandbox"
    directory.mkdir()
    (directory / "state.pickle").write_bytes(b"x")
    (tmp_path / "audit.jsonl").write_text("kept")
    assert "deleted" in daemon.reset(tmp_path)
    assert not (directory / "state.pickle").exists()
    assert (tmp_path / "audit.jsonl").read_text() == "kept"


def test_sandbox_commands_status_reset_and_stop(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "xdg")}
    state = tmp_path / "xdg" / "sagecoach"

    def cli(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "tui.cli", "sandbox", *args], env=env,
                              capture_output=True, text=True, timeout=60)  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "No sandbox is running" in cli("status")
    endpoint = daemon.connect(state, idle_timeout_s=120)
    try:
        shown = cli("status")
        assert f"Sandbox running at {endpoint}" in shown
        assert (
            "sagecoach-sandbox-execution-role" in shown
            and "s3://sagecoach-demo/churn/churn.csv" in shown
        )
        assert "was reset" in cli("reset", "--yes")
        assert "state is saved" in cli("stop")
    finally:
        daemon.stop(state)
    assert "restored on the next start" in cli("status")
