"""`sagecoach stages` and `sagecoach tools` from the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from tools.core.registry import load_all
from tools.core.stages import STAGES
from tui.cli import app


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def test_stages_prints_the_nine_stages() -> None:
    result = invoke("stages")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:3] == ["#", "STAGE", "TITLE"]
    for sid, number, title in STAGES:
        row = next(x for x in lines if x.startswith(f"{number}  {sid}"))
        assert title in row
    flat = " ".join(result.output.split())  # the services column wraps to the terminal width
    assert "Amazon Kinesis" in flat and "Amazon SageMaker Pipelines" in flat
    assert "sagecoach stages <stage>" in result.output


def test_stages_json() -> None:
    result = invoke("stages", "--json")
    data = json.loads(result.output)
    assert [d["stage"] for d in data] == [sid for sid, _, _ in STAGES]
    assert "AWS Glue DataBrew" in data[1]["services"]


def test_one_stage_shows_its_services_and_what_sagecoach_can_do() -> None:
    result = invoke("stages", "preparation")
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("2. Data preparation & exploration")
    for name in ("Amazon SageMaker Data Wrangler", "AWS Glue DataBrew", "Amazon Athena"):
        assert f"\n{name}\n" in out
    wrangler = out.split("Amazon SageMaker Data Wrangler\n", 1)[1].split("\n\n", 1)[0]
    assert "console:" in wrangler and "billing:" in wrangler and "use when:" in wrangler
    # by number and by title too
    assert invoke("stages", "7").output.startswith("7. Model deployment")
    assert invoke("stages", "model training").output.startswith("4. Model training")


def test_one_stage_lists_only_registered_tools() -> None:
    registry = load_all()
    data = json.loads(invoke("stages", "deployment", "--json").output)
    assert data["stage"] == "deployment"
    for svc in data["services"]:
        assert all(t in registry for t in svc["available_tools"])
        assert set(svc["available_tools"]) <= set(svc["tools"])


def test_unknown_stage_exits_2() -> None:
    result = invoke("stages", "astrology")
    assert result.exit_code == 2
    assert "unknown stage 'astrology'" in result.output


def test_tools_lists_the_registry() -> None:
    registry = load_all()
    result = invoke("tools", "--json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert {d["name"] for d in data} == {s.name for s in registry.all()}
    for d in data:
        assert d["risk"] in ("read", "billable_read", "write", "costly", "destructive")
        assert d["description"]
    table = invoke("tools", "--stage", "general")
    assert table.exit_code == 0
    lines = table.output.splitlines()
    assert lines[0].split() == ["TOOL", "STAGE", "RISK", "DESCRIPTION"]
    names = [x.split()[0] for x in lines[2:] if x and not x.startswith(" ")]
    for name in ("describe_service", "list_stages", "recommend_services"):
        assert name in names
    assert "tools." in lines[-1]


def test_tools_unknown_stage() -> None:
    result = invoke("tools", "--stage", "nope")
    assert result.exit_code == 2 and "unknown stage 'nope'" in result.output


def test_stages_runs_as_a_real_command() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tui.cli", "stages", "tuning"],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ.copy(),
    )
    assert proc.returncode == 0, proc.stderr
    assert "Amazon SageMaker Automatic Model Tuning" in proc.stdout
