"""The evaluation harness, and the offline planner's accuracy on the shipped cases."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.offline import OfflinePlanner
from agent.offline.evaluate import (
    Case,
    CaseFileError,
    Outcome,
    evaluate,
    in_top3,
    judge,
    load_cases,
    run_eval,
)
from tools.core.registry import all_tools

CASES = Path(__file__).parent / "eval" / "cases.jsonl"
NEW_CASES = Path(__file__).parent / "eval" / "new_phrasings.jsonl"
STAGES = (
    "collection",
    "preparation",
    "features",
    "training",
    "tuning",
    "evaluation",
    "deployment",
    "monitoring",
    "orchestration",
)


def test_shipped_cases_are_well_formed_and_cover_every_stage() -> None:
    cases = load_cases(CASES)
    assert len(cases) >= 200
    registry = {t.name: t for t in all_tools()}
    stages: Counter[str] = Counter()
    for case in cases:
        tool = case.expect.get("tool")
        if tool is None:
            continue
        assert tool in registry, f"{case.id}: {tool} is not a registered tool"
        fields = registry[tool].args_model.model_fields
        for key in case.expect.get("args") or {}:
            assert key in fields, f"{case.id}: {tool} has no argument {key}"
        stages[registry[tool].stage] += 1
    missing = [s for s in STAGES if stages[s] == 0]
    # Knowledge questions about a stage count for that stage too.
    for case in cases:
        stage = (case.expect.get("args") or {}).get("stage")
        if stage in missing:
            missing.remove(stage)
    assert not missing, f"no cases for stages {missing}"
    assert stages["general"] >= 20  # knowledge questions
    assert sum(1 for c in cases if c.expect.get("ask")) >= 10
    assert sum(1 for c in cases if c.context) >= 15


def test_offline_planner_accuracy_on_shipped_cases(moto_server) -> None:
    cases = load_cases(CASES)
    report = run_eval(cases, model=OfflinePlanner(), sandbox=moto_server, direct=True)
    assert report.total == len(cases)
    shown = json.dumps(report.failures[:10], indent=1, default=str)
    assert report.accuracy >= 0.9, f"accuracy {report.accuracy}; first failures: {shown}"


def test_offline_planner_on_requests_phrased_unlike_the_shipped_ones(moto_server) -> None:
    """78 requests written from a user's side (chatty, terse, typos, follow-ups, the first
    minute) before the planner was tuned; issue 17's bar is 0.9."""
    cases = load_cases(NEW_CASES)
    assert len(cases) >= 60
    shipped = {c.request.lower() for c in load_cases(CASES)}
    assert not [c.id for c in cases if c.request.lower() in shipped]
    report = run_eval(cases, model=OfflinePlanner(), sandbox=moto_server, direct=True)
    shown = json.dumps(report.failures[:10], indent=1, default=str)
    assert report.accuracy >= 0.9, f"accuracy {report.accuracy}; first failures: {shown}"
    assert report.top3_accuracy >= report.accuracy


def test_runtime_driver_matches_direct_on_a_sample(moto_server, tmp_path: Path) -> None:
    """Through the agent runtime (mode yes, the request itself in dry-run) the same calls come out."""
    from agent.settings import load_settings

    pytest.importorskip("agent.runtime")
    cases = [
        c
        for c in load_cases(CASES)
        if c.id in {"col-up-4", "dep-ep-1", "tr-desc-4", "kn-rec-1", "col-bucket-ask", "talk-1"}
    ]
    settings = load_settings(sandbox="on", mode="yes", model="offline", state_dir=tmp_path / "s")
    report = run_eval(
        cases, model=OfflinePlanner(), sandbox=moto_server, direct=False, settings=settings
    )
    assert report.total == 6
    assert report.failures == []
    # numbered choices are read back from the conversation through the runtime too
    from agent.offline.evaluate import RuntimeDriver, demo_workdir

    vague = next(c for c in load_cases(NEW_CASES) if c.id == "np-vague-1")
    with demo_workdir():
        driver = RuntimeDriver(settings, OfflinePlanner(), moto_server)
        try:
            outcome = driver.run_case(vague)
        finally:
            driver.close()
    assert outcome.tool is None and len(outcome.choices) >= 2 and judge(vague, outcome)


def test_judge_rules() -> None:
    case = Case("x", "r", {"tool": "t", "args": {"name": "ABC", "n": 2, "items": ["A", "b"]}})
    assert judge(case, Outcome("t", {"name": "abc", "n": 2.0, "items": ["a", "B"], "extra": 1}))
    assert not judge(case, Outcome("t", {"name": "abd", "n": 2, "items": ["a", "b"]}))
    assert not judge(case, Outcome("u", {"name": "abc", "n": 2, "items": ["a", "b"]}))
    assert not judge(case, Outcome("t", {"name": "abc", "n": 3, "items": ["a", "b"]}))
    ask = Case("a", "r", {"ask": True})
    assert judge(ask, Outcome(reply="Which bucket should I use?"))
    assert not judge(ask, Outcome(reply="Done."))
    assert not judge(ask, Outcome("t", {}))
    # numbered choices count as a question, and for top-3 when the right tool is offered
    offered = Outcome(reply="Which one? 1. … 2. …", choices=["t", "u"])
    assert judge(ask, offered) and judge(Case("c", "r", {"choices": True}), offered)
    assert not judge(case, offered) and in_top3(case, offered)
    assert not in_top3(Case("y", "r", {"tool": "v"}), offered)
    answer = Case("n", "r", {"tool": None})
    assert judge(answer, Outcome(reply="Hello"))
    assert not judge(answer, Outcome("t", {}))
    assert not judge(answer, Outcome(error="boom"))


def test_evaluate_counts_failures_and_survives_a_crashing_case() -> None:
    cases = [
        Case("ok", "a", {"tool": "t"}),
        Case("bad", "b", {"tool": "t"}),
        Case("boom", "c", {"tool": "t"}),
    ]

    def run(case: Case) -> Outcome:
        if case.id == "boom":
            raise RuntimeError("driver broke")
        return Outcome("t" if case.id == "ok" else "u", {})

    report = evaluate(cases, run)
    assert report.to_dict()["total"] == 3 and report.correct == 1 and report.top3 == 1
    assert report.accuracy == pytest.approx(0.3333, abs=1e-4)
    assert [f["id"] for f in report.failures] == ["bad", "boom"]
    assert report.failures[1]["got"] == {"error": "RuntimeError: driver broke"}


def test_load_cases_rejects_bad_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "request": "x"}\n')
    with pytest.raises(CaseFileError, match="needs 'request' and 'expect'"):
        load_cases(bad)
    bad.write_text('{"id": "a", "request": "x", "expect": {"tool": "t"}}\n' * 2)
    with pytest.raises(CaseFileError, match="duplicate id"):
        load_cases(bad)
    bad.write_text("not json\n")
    with pytest.raises(CaseFileError, match="not JSON"):
        load_cases(bad)


def test_cli_eval_json(tmp_path: Path) -> None:
    from tui.cli import app

    cases = tmp_path / "cases.jsonl"
    cases.write_text(
        "\n".join(
            json.dumps(c)
            for c in [
                {"id": "a", "request": "list my buckets", "expect": {"tool": "s3_list_buckets"}},
                {
                    "id": "b",
                    "request": "create a bucket named eval-bucket-1",
                    "expect": {"tool": "s3_create_bucket", "args": {"bucket": "eval-bucket-1"}},
                },
                {"id": "c", "request": "hello", "expect": {"tool": "s3_list_buckets"}},
            ]
        )
        + "\n"
    )
    result = CliRunner().invoke(app, ["eval", "--cases", str(cases), "--json", "--direct"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["total"] == 3 and out["correct"] == 2
    assert out["accuracy"] == pytest.approx(0.6667, abs=1e-4)
    assert out["failures"][0]["id"] == "c"
    assert out["failures"][0]["got"]["tool"] is None
