"""Shared checks for the per-stage safety property suites."""

from __future__ import annotations

from typing import Any

from agent.policy import SessionBudget, decide
from tools.aws.context import AwsContext
from tools.core.registry import all_tools, get_tool


def mutating_tools(modules: tuple[str, ...]) -> list[str]:
    """Names of the mutating tools declared in these modules."""
    return sorted(
        t.name for t in all_tools() if t.mutating and t.func.__module__.startswith(modules)
    )


def check_unapproved_call_sends_nothing(
    endpoint: str, name: str, args: dict[str, Any], mode: str, per_call: float
) -> None:
    """Deciding on a call (estimate included) sends nothing; only auto-mode writes run unasked."""
    calls: list[dict] = []
    aws = AwsContext(sandbox_endpoint=endpoint, on_aws_call=calls.append)
    spec = get_tool(name)
    decision = decide(
        spec, args, mode=mode, budget_per_call=per_call, budget_per_session=per_call,
        session=SessionBudget(), region=aws.region,
    )  # fmt: skip
    if spec.risk == "write" and mode == "auto":
        assert decision.action == "allow"  # writes run in auto mode by design
        return
    assert decision.action in ("ask", "deny")
    if mode in ("read-only", "dry-run"):
        assert decision.action == "deny"
    # Denied, or asked and rejected by the person: the tool is not run, and deciding
    # (which estimates the cost) sent nothing to AWS.
    assert calls == []
