"""Safety as properties over the whole registry, not per stage.

Every mutating tool must be covered by one of the per-stage property suites (which prove that a
denied or rejected call sends nothing and that read-only mode blocks at the client), and the
policy's invariants must hold for every tool in every mode and budget.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.policy import SessionBudget, decide
from tests import test_deployment_property, test_stage1_3_flow, test_training_property
from tools.core.registry import all_tools, get_tool

MODES = ("ask", "read-only", "dry-run", "auto", "yes")


def _samples(tmp: Path) -> dict[str, dict[str, Any]]:
    samples: dict[str, dict[str, Any]] = {}
    samples.update(test_stage1_3_flow._valid_args(tmp))
    samples.update(test_training_property.SAMPLE_ARGS)
    samples.update(test_deployment_property.SAMPLE_ARGS)
    return samples


def test_every_mutating_tool_is_covered_by_a_safety_suite(tmp_path: Path) -> None:
    mutating = {t.name for t in all_tools() if t.mutating}
    assert mutating, "no mutating tools registered"
    missing = mutating - set(_samples(tmp_path))
    assert not missing, f"mutating tools without a safety property test: {sorted(missing)}"


def test_costly_and_billable_tools_all_have_estimators() -> None:
    for spec in all_tools():
        if spec.risk in ("costly", "billable_read"):
            assert spec.estimator is not None, spec.name


def test_every_tool_declares_its_aws_operations_and_phrases() -> None:
    for spec in all_tools():
        if spec.mutating:
            assert spec.operations, f"{spec.name} declares no AWS operations"
        assert spec.phrases, f"{spec.name} declares no phrases for the offline planner"


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.data(),
    mode=st.sampled_from(MODES),
    per_call=st.floats(min_value=0, max_value=1e6, allow_nan=False),
    per_session=st.floats(min_value=0, max_value=1e6, allow_nan=False),
    spent=st.floats(min_value=0, max_value=1e6, allow_nan=False),
    allowed_for_session=st.booleans(),
)
def test_policy_invariants_over_all_mutating_tools(
    tmp_path: Path,
    data: st.DataObject,
    mode: str,
    per_call: float,
    per_session: float,
    spent: float,
    allowed_for_session: bool,
) -> None:
    samples = _samples(tmp_path)
    name = data.draw(st.sampled_from(sorted(samples)))
    spec = get_tool(name)
    budget = SessionBudget(spent_usd=spent, allowed_tools={name} if allowed_for_session else set())
    verdict = decide(
        spec, samples[name], mode=mode, budget_per_call=per_call,
        budget_per_session=per_session, session=budget, region="us-east-1",
    )  # fmt: skip
    if verdict.action != "allow":
        return
    # Whatever runs unasked must be allowed by one of these rules, and no other.
    if mode == "yes":
        return
    assert mode in ("ask", "auto"), f"{name} allowed in {mode} mode"
    assert spec.risk != "destructive", f"destructive {name} allowed unasked in {mode}"
    if mode == "ask":
        assert spec.risk == "write" and allowed_for_session, name
        return
    if spec.risk == "write":
        return
    estimate = verdict.estimate
    assert estimate is not None and estimate.known, f"{name} ran in auto mode with no price"
    high = float(estimate.high_usd or 0)
    assert math.isfinite(high) and high <= per_call and spent + high <= per_session, name
