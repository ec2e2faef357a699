"""A property over every mutating tool, through `sagecoach mcp` with the SDK's client: no
mutating AWS operation is sent unless a person accepted the elicitation for that call, or the
server's mode lets the policy run it unasked.

Each example: one tool (with valid sample arguments from the per-stage safety suites), one mode,
one client that does not approve (declines, dismisses, leaves the box unticked, or cannot elicit
at all), on either protocol era. The audit log's aws_call records are the witness: the client
layer records every call it sends, and every call it blocks.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import anyio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.policy import SessionBudget, decide
from sandbox.server import Sandbox
from tests.mcp_helpers import Answers, audit, client, make_server, mutating_aws_calls
from tests.test_safety_all_tools import _samples
from tools.core.registry import all_tools, get_tool

MODES = ("ask", "read-only", "dry-run", "auto")
# (elicitation answer or None for a client without elicitation, protocol era)
CLIENTS: tuple[tuple[Answers | None, str], ...] = (
    (Answers("decline"), "legacy"),
    (Answers("cancel"), "legacy"),
    (Answers("accept", {"confirm": False}), "legacy"),
    (None, "legacy"),
    (Answers("decline"), "auto"),
    (None, "auto"),
)
_run = itertools.count()


def test_the_samples_cover_every_mutating_tool(tmp_path: Path) -> None:
    assert {t.name for t in all_tools() if t.mutating} <= set(_samples(tmp_path))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.data(),
    mode=st.sampled_from(MODES),
    client_index=st.integers(min_value=0, max_value=len(CLIENTS) - 1),
)
def test_no_mutating_aws_operation_without_an_accepted_elicitation(
    tmp_path: Path, moto_server: Sandbox, data: st.DataObject, mode: str, client_index: int
) -> None:
    samples = _samples(tmp_path)
    mutating = sorted(t.name for t in all_tools() if t.mutating)
    name = data.draw(st.sampled_from(mutating))
    args = samples[name]
    answers, era = CLIENTS[client_index]
    if answers is not None:
        answers.asked.clear()
    run_dir = tmp_path / f"run-{next(_run)}"
    moto_server.reset()
    # Budgets of $0: in auto mode every call with a cost asks, only plain writes run unasked.
    server = make_server(
        run_dir, moto_server, mode=mode, budget_usd_per_call=0.0, budget_usd_per_session=0.0
    )

    async def call() -> Any:
        async with client(server, answers, mode=era) as c:
            return await c.call_tool(name, args)

    result = anyio.run(call)
    spec = get_tool(name)
    verdict = decide(
        spec, args, mode=mode, budget_per_call=0.0, budget_per_session=0.0,
        session=SessionBudget(), region="us-east-1",
    )  # fmt: skip
    records = audit(run_dir)
    started = next(i for i, r in enumerate(records) if r["kind"] == "session_start")
    sent = mutating_aws_calls(records[started:])
    if verdict.action == "allow":  # the mode lets it run unasked (auto mode, a write)
        assert (mode, spec.risk) == ("auto", "write")
        return
    assert sent == [], f"{name} in {mode} mode sent {[r['operation'] for r in sent]}"
    assert result.is_error
    assert result.structured_content["status"] in ("rejected", "denied", "dry_run")
    if answers is not None:  # at most once when the policy asks (a failed pre-flight check
        # stops the call before anyone is asked); never when the policy refuses
        assert len(answers.asked) <= (1 if verdict.action == "ask" else 0)
    approvals = [r for r in records if r["kind"] == "approval"]
    assert approvals and all(a["decision"] != "approve" for a in approvals)
