"""`sagecoach --help`, `doctor --sandbox` and `sandbox serve --seed`, as a person runs them."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import boto3

CLI = [sys.executable, "-m", "tui.cli"]


def run(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=timeout, env=os.environ.copy()
    )


def test_help_lists_commands() -> None:
    proc = run("--help")
    assert proc.returncode == 0
    for word in ("doctor", "sandbox", "--sandbox", "--mode", "--model"):
        assert word in proc.stdout


def test_doctor_in_sandbox_is_ready_and_does_not_start_one() -> None:
    from agent.settings import load_settings
    from sandbox import daemon

    state_dir = load_settings().state_dir
    proc = run("doctor", "--sandbox", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    checks = {c["name"]: c for c in report["checks"]}
    assert report["usable"] is True
    assert checks["mode"]["value"].startswith("SANDBOX")
    assert checks["sandbox"]["value"].startswith("not running") and checks["sandbox"]["ok"]
    assert "`sagecoach sandbox serve`" in checks["sandbox"]["value"]
    assert checks["account"]["value"] == "sandbox (123456789012)"
    assert "offline" in checks["model"]["value"]
    assert checks["execution role"]["value"].endswith(":role/sagecoach-sandbox-execution-role")
    assert daemon.status(state_dir) is None  # doctor started nothing
    assert not (state_dir / "sandbox" / "server.json").exists()


def test_doctor_reports_on_the_running_sandbox() -> None:
    from agent.settings import load_settings
    from sandbox import daemon

    state_dir = load_settings().state_dir
    endpoint = daemon.connect(state_dir, idle_timeout_s=120)
    running = daemon.status(state_dir)
    assert running is not None
    proc = run("doctor", "--sandbox", "--json")
    assert proc.returncode == 0, proc.stderr
    checks = {c["name"]: c for c in json.loads(proc.stdout)["checks"]}
    assert checks["sandbox"]["value"].startswith(f"running at {endpoint} (pid {running.pid})")
    assert "running jobs: none" in checks["sandbox"]["value"]
    assert checks["endpoints"]["value"] == f"all services → {endpoint}"
    assert checks["account"]["value"] == "sandbox (123456789012)"
    assert checks["execution role"]["value"].endswith(":role/sagecoach-sandbox-execution-role")
    assert daemon.status(state_dir).pid == running.pid  # the same sandbox, still running


def test_doctor_with_bedrock_model_in_sandbox_says_what_to_fix() -> None:
    proc = run(
        "doctor",
        "--sandbox",
        "--model",
        "bedrock_converse:us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    )
    assert proc.returncode == 1
    assert "fix:" in proc.stdout and "--model offline" in proc.stdout


def test_doctor_without_credentials_falls_back_to_sandbox_and_says_why() -> None:
    proc = run("doctor")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no AWS credentials found" in proc.stdout


def test_sandbox_serve_seed_prints_endpoint_and_serves_demo_csv() -> None:
    proc = subprocess.Popen(
        [*CLI, "sandbox", "serve", "--seed"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 60
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if "Press Ctrl+C" in line:
                break
        text = "".join(lines)
        match = re.search(r"export AWS_ENDPOINT_URL=(http://127\.0\.0\.1:\d+)", text)
        assert match, text
        s3 = boto3.client(
            "s3", endpoint_url=match.group(1), region_name="us-east-1",
            aws_access_key_id="sandbox", aws_secret_access_key="sandbox",
        )  # fmt: skip
        body = s3.get_object(Bucket="sagecoach-demo", Key="churn/churn.csv")["Body"].read().decode()
        rows = body.strip().splitlines()
        assert rows[0].startswith("customer_id,") and len(rows) == 3001
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "sandbox stopped" in out
