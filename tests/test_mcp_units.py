"""The pieces of `sagecoach mcp` on their own: stages, annotations, answers, progress values,
the approval text, and that the SDK stays off the `--help` path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from mcp import types
from typer.testing import CliRunner

from agent.events import ApprovalRequest
from tools.core.registry import all_tools
from tools.core.results import CostEstimate, ProgressEvent
from tui.mcp_server import approval
from tui.mcp_server.listing import (
    StagesError,
    annotations_for,
    parse_stages,
    served_specs,
    tool_title,
)
from tui.mcp_server.progress import ProgressRelay

REPO = Path(__file__).resolve().parent.parent


def test_stages_by_id_number_or_title_and_a_clear_error() -> None:
    assert parse_stages("training, 7 ,Model monitoring,training") == [
        "training",
        "deployment",
        "monitoring",
    ]
    assert parse_stages(None) is None and parse_stages(" ") is None
    with pytest.raises(StagesError) as err:
        parse_stages("training,labelling")
    assert "unknown stage 'labelling'" in str(err.value) and "deployment (7)" in str(err.value)
    served = served_specs(all_tools(), ["tuning"])
    assert {s.stage for s in served} == {"tuning", "general"}


def test_bad_stages_on_the_command_line_exit_2() -> None:
    from tui.cli import app

    result = CliRunner().invoke(app, ["mcp", "--stages", "nope"])
    assert result.exit_code == 2 and "unknown stage 'nope'" in result.output


def test_annotations_follow_the_risk_of_every_tool() -> None:
    for spec in all_tools():
        hints = annotations_for(spec)
        assert hints.read_only_hint is (spec.risk in ("read", "billable_read")), spec.name
        assert hints.destructive_hint is (spec.risk == "destructive"), spec.name
        assert hints.open_world_hint is bool(spec.operations), spec.name
        assert hints.title == tool_title(spec) and hints.title
    titles = {s.name: tool_title(s) for s in all_tools()}
    assert titles["sagemaker_start_training_job"] == "SageMaker: start training job"
    assert titles["list_stages"] == "List stages"


def test_only_an_accepted_ticked_form_approves() -> None:
    def answer(action: str, content: dict | None = None) -> str:
        return approval.decision_from(types.ElicitResult(action=action, content=content)).type  # type: ignore[arg-type]

    assert answer("accept", {"confirm": True}) == "approve"
    assert answer("accept", {"confirm": True, "always_allow": True}) == "approve"
    assert answer("accept", {"confirm": "true"}) == "reject"  # not a ticked box
    assert answer("accept", {}) == "reject"
    assert answer("decline") == "reject" and answer("cancel") == "reject"
    assert approval.decision_from(None).type == "reject"
    assert approval.decision_from(types.ElicitResult(action="accept")).who == "mcp client"


def _request(**changes: object) -> ApprovalRequest:
    estimate = CostEstimate(
        0.23,
        1.15,
        "ml.m5.xlarge × 1 × 1–5 h × $0.23/h",
        source="bundled price table",
        price_date="2026-01-15",
    )
    fields: dict = {
        "call_id": "call-1",
        "tool": "sagemaker_start_training_job",
        "stage": "training",
        "risk": "costly",
        "args": {"job_name": "j1"},
        "description": "",
        "operations": ["sagemaker:CreateTrainingJob"],
        "estimate": estimate.to_dict(),
        "account": "123456789012",
        "region": "eu-west-1",
        "profile": "ml",
        "sandbox": False,
        "mode": "ask",
        "reason": "ask mode: this starts compute that bills by time",
    }
    fields.update(changes)
    return ApprovalRequest(**fields)


def test_the_question_shows_what_runs_where_and_what_it_costs() -> None:
    text = approval.approval_message(_request())
    for shown in (
        "sagemaker_start_training_job",
        "costly",
        "REAL AWS · account 123456789012 · region eu-west-1 · profile ml",
        "sagemaker:CreateTrainingJob",
        "$0.23–$1.15",
        "basis: ml.m5.xlarge",
        "prices: bundled price table, as of 2026-01-15",
        '"job_name": "j1"',
        "bills by time",
    ):
        assert shown in text
    sandbox = approval.approval_message(_request(sandbox=True, estimate=None))
    assert "SANDBOX" in sandbox and "free (no compute billed by this call)" in sandbox
    unknown = approval.estimate_label(CostEstimate.unknown("no price for ml.x").to_dict())
    assert unknown.startswith("no price known, treat as costly")


def test_progress_values_always_grow() -> None:
    relay = ProgressRelay(session=None, loop=object())  # type: ignore[arg-type]
    values = [
        relay.value(ProgressEvent("t", "starting")),
        relay.value(ProgressEvent("t", "sent", 100, 1000, "bytes")),
        relay.value(ProgressEvent("t", "status only")),
        relay.value(ProgressEvent("t", "sent", 100, 1000, "bytes")),  # no new bytes
        relay.value(ProgressEvent("t", "sent", 1000, 1000, "bytes")),
    ]
    numbers = [v[0] for v in values]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    assert values[1] == (100.0, 1000.0) and values[-1] == (1000.0, 1000.0)
    assert values[2][1] is None  # a status message claims no total


def test_help_does_not_load_the_mcp_sdk() -> None:
    code = (
        "import sys\n"
        "from tui.cli_app import app\n"
        "try:\n    app(['mcp', '--help'], prog_name='sagecoach')\n"
        "except SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m == 'mcp' or m.startswith(('mcp.', 'langchain'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"
    assert "--stages" in out.stdout


def test_preflight_warnings_are_in_the_question() -> None:
    from tools.preflight.report import warned

    check = warned(
        "quota", "2 of 2 ml.m5.xlarge training instances in use", "stop a job or ask for more"
    )
    text = approval.approval_message(_request(preflight=[check.to_dict()]))
    assert "Pre-flight checks:" in text and "2 of 2 ml.m5.xlarge" in text
    assert text.rstrip().endswith("Approving runs exactly this call, once.")
