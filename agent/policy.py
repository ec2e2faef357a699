"""The approval policy: one function decides every tool call. It fails closed.

The gate lives here, in code, never in the prompt: whatever the model says, a call the policy
asks about does not run until a person approves it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from pydantic import BaseModel

from tools.core.declaration import ToolSpec
from tools.core.errors import ToolError
from tools.core.results import CostEstimate, format_usd
from tools.preflight.report import PreflightReport

Action = Literal["allow", "ask", "deny"]

# Why a risk level needs a person, in words for the approval dialog.
RISK_WHY: dict[str, str] = {
    "billable_read": "this read is billed per use",
    "write": "this creates or changes something",
    "costly": "this starts compute that bills by time",
    "destructive": "this deletes or stops something",
}


@dataclass(frozen=True)
class PolicyDecision:
    action: Action
    reason: str
    estimate: CostEstimate | None = None
    dry_run: bool = False  # deny because the session only shows what would run
    preflight: PreflightReport | None = None  # the checks run before this decision


@dataclass
class SessionBudget:
    """What the session has approved so far (for auto mode) and tools allowed for the session."""

    spent_usd: float = 0.0
    allowed_tools: set[str] = field(default_factory=set)

    def charge(self, estimate: CostEstimate | None) -> None:
        """Count an approved call's worst case against the session budget."""
        if estimate is not None and estimate.high_usd is not None:
            high = float(estimate.high_usd)
            # A NaN total would compare false with every budget; count a bad figure as infinite.
            self.spent_usd += high if math.isfinite(high) and high >= 0 else math.inf


def decide(
    spec: ToolSpec,
    args: BaseModel | dict[str, Any],
    *,
    mode: str,
    budget_per_call: float,
    budget_per_session: float,
    session: SessionBudget,
    region: str,
    aws: Any = None,
    preflight: PreflightReport | None = None,
) -> PolicyDecision:
    """allow, ask, or deny (with a reason the model and the person can read).

    `aws` (the session's AwsContext) goes to estimators that look things up; without it those
    estimates are unknown, which asks rather than runs. `preflight` is the call's pre-flight
    report: a failed check denies in every mode (nothing is asked, nothing runs), and in auto
    mode a warning asks so a person sees it."""
    try:
        args = spec.validate(args)  # every tool, not only those with an estimator
        estimate = spec.estimate(args, region, aws)
    except ToolError as exc:
        return PolicyDecision("deny", f"invalid arguments: {exc.message}")
    decision = _decide(spec, mode, budget_per_call, budget_per_session, session, estimate)
    if preflight is None:
        return decision
    if preflight.failed and decision.dry_run:
        reason = f"{decision.reason}\n{preflight.for_model()}"
        return replace(decision, reason=reason, preflight=preflight)
    if preflight.failed and decision.action != "deny":
        return PolicyDecision("deny", preflight.for_model(), estimate, preflight=preflight)
    if decision.action == "allow" and mode == "auto" and preflight.warnings:
        reason = f"auto mode asks: pre-flight warns ({preflight.warnings[0].line()})"
        return PolicyDecision("ask", reason, estimate, preflight=preflight)
    return replace(decision, preflight=preflight)


def _decide(
    spec: ToolSpec,
    mode: str,
    budget_per_call: float,
    budget_per_session: float,
    session: SessionBudget,
    estimate: CostEstimate | None,
) -> PolicyDecision:
    risk = spec.risk

    if mode == "dry-run":
        if risk == "read":
            return PolicyDecision("allow", "free read", estimate)
        cost = f"; estimated {estimate.summary()}" if estimate else ""
        return PolicyDecision(
            "deny",
            f"dry-run mode: would call {spec.name} ({', '.join(spec.operations) or 'no AWS call'}){cost}. Nothing was run.",
            estimate,
            dry_run=True,
        )
    if mode == "read-only":
        if risk == "read":
            return PolicyDecision("allow", "free read", estimate)
        if risk == "billable_read":
            return PolicyDecision("ask", "read-only mode: this read bills per use", estimate)
        return PolicyDecision(
            "deny",
            f"read-only mode: {spec.name} is a {risk} call and is not allowed. Switch mode to allow changes.",
            estimate,
        )
    if mode == "yes":
        return PolicyDecision("allow", "yes mode: everything runs", estimate)
    if mode == "ask":
        if risk == "read":
            return PolicyDecision("allow", "free read", estimate)
        if risk == "write" and spec.name in session.allowed_tools:
            return PolicyDecision("allow", "allowed for this session", estimate)
        return PolicyDecision("ask", f"ask mode: {RISK_WHY.get(risk, risk)}", estimate)
    if mode == "auto":
        if risk == "read":
            return PolicyDecision("allow", "free read", estimate)
        if risk == "write":
            return PolicyDecision("allow", "auto mode: writes run", estimate)
        if risk not in ("billable_read", "costly"):
            # destructive, or a risk this policy does not know: a person decides.
            return PolicyDecision("ask", f"{risk} calls always ask", estimate)
        # billable_read and costly: only under both budgets, and only with a known price.
        if estimate is None or not estimate.known:
            return PolicyDecision("ask", "no price known, so auto mode asks", estimate)
        high = float(estimate.high_usd or 0.0)
        if not math.isfinite(high) or high < 0:
            # NaN compares false with everything: without this it would slip under the budgets.
            return PolicyDecision("ask", f"estimate {high!r} is not a usable price", estimate)
        if high > budget_per_call:
            return PolicyDecision(
                "ask",
                f"estimate up to {format_usd(high)} is over the per-call budget {format_usd(budget_per_call)}",
                estimate,
            )
        if session.spent_usd + high > budget_per_session:
            return PolicyDecision(
                "ask",
                f"session total would reach {format_usd(session.spent_usd + high)}, over the session budget "
                f"{format_usd(budget_per_session)}",
                estimate,
            )
        return PolicyDecision(
            "allow", f"auto mode: within budget (up to {format_usd(high)})", estimate
        )
    return PolicyDecision("deny", f"unknown mode '{mode}'", estimate)  # fail closed


def allow_session_offered(spec: ToolSpec) -> bool:
    """'Allow this tool for the rest of the session' is only offered for write risk."""
    return spec.risk == "write"
