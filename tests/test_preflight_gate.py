"""Property: no costly call is approved or sent when a pre-flight check fails, in any mode.

First over the policy (random modes, risks, budgets, estimates and reports), then through the
agent runtime with a model that insists on a costly call whose data pre-flight rejects."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.events import ApprovalRequested, ToolCallFinished
from agent.policy import SessionBudget, decide
from agent.settings import MODES, Settings
from agent.startup import open_session
from sandbox.demo_data import churn_csv
from sandbox.server import Sandbox
from tests.scripted_model import ScriptedChatModel, tool_turn
from tests.test_policy import spec as make_spec
from tools.aws.context import AwsContext
from tools.core.registry import get_tool
from tools.preflight.report import CheckResult, PreflightReport

STATUSES = ("pass", "warn", "fail", "skip")
check = st.builds(
    CheckResult,
    name=st.sampled_from(["data.header", "s3.exists", "iam.trust", "quota", "model.artifact"]),
    status=st.sampled_from(STATUSES),
    message=st.text(min_size=1, max_size=20),
    fix=st.text(max_size=20),
)


@settings(max_examples=300, deadline=None)
@given(
    mode=st.sampled_from(MODES),
    risk=st.sampled_from(["costly", "billable_read"]),
    usd=st.one_of(st.none(), st.floats(min_value=0, max_value=100)),
    per_call=st.floats(min_value=0, max_value=1000),
    per_session=st.floats(min_value=0, max_value=1000),
    spent=st.floats(min_value=0, max_value=1000),
    checks=st.lists(check, max_size=6),
)
def test_policy_never_allows_or_asks_when_a_check_failed(
    mode: str,
    risk: str,
    usd: float | None,
    per_call: float,
    per_session: float,
    spent: float,
    checks: list[CheckResult],
) -> None:
    report = PreflightReport("svc_tool", list(checks))
    verdict = decide(
        make_spec(risk),
        {"usd": usd},
        mode=mode,
        budget_per_call=per_call,
        budget_per_session=per_session,
        session=SessionBudget(spent_usd=spent),
        region="us-east-1",
        preflight=report,
    )
    if report.failed:
        assert verdict.action == "deny"
        if mode != "read-only":
            assert report.failures[0].line() in verdict.reason
    elif mode == "auto" and report.warnings:
        assert verdict.action != "allow"  # a person sees the warning first
    assert verdict.preflight is report


def _seed(endpoint: str) -> str:
    aws = AwsContext(sandbox_endpoint=endpoint, session_id="seed")
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="raw-data")
    s3.put_object(Bucket="raw-data", Key="raw/churn.csv", Body=churn_csv(80).encode())
    return "s3://raw-data/raw/churn.csv"


async def _insist(
    state_dir: Path, sandbox: Sandbox, mode: str, args: dict[str, Any]
) -> tuple[list, list]:
    name = "sagemaker_start_training_job"
    model = ScriptedChatModel(script=[tool_turn(name, args), tool_turn(name, args), "I stop here."])
    session = await open_session(
        Settings(state_dir=state_dir, sandbox="on", mode=mode),
        model=model,
        sandbox_endpoint=sandbox.endpoint,
        tools=[get_tool(name)],
        retry_delay=0.0,
    )
    try:
        events = [e async for e in session.send("train on my raw csv")]
        return events, list(session.audit.of_kind("aws_call"))
    finally:
        await session.aclose()


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(mode=st.sampled_from(["ask", "auto", "yes"]), spot=st.booleans())
def test_runtime_never_asks_for_or_sends_a_call_preflight_stopped(
    moto_server: Sandbox, tmp_path_factory: pytest.TempPathFactory, mode: str, spot: bool
) -> None:
    moto_server.reset()
    uri = _seed(moto_server.endpoint)
    args = {"train_s3_uri": uri, "hyperparameters": {"num_round": 10}, "use_spot": spot}
    events, calls = asyncio.run(_insist(tmp_path_factory.mktemp("state"), moto_server, mode, args))
    assert not [e for e in events if isinstance(e, ApprovalRequested)]
    finished = [e for e in events if isinstance(e, ToolCallFinished)]
    assert [f.status for f in finished] == ["denied", "denied"]
    assert all("data.header" in f.summary or "Pre-flight" in f.summary for f in finished)
    assert not [c for c in calls if c["operation"] == "CreateTrainingJob"]
    assert [c for c in calls if c.get("op_class") == "mutating"] == []
