"""The approval policy as a table: modes × risks × budgets, and the fail-closed edges."""

from __future__ import annotations

import math
from typing import Annotated

import pytest
from pydantic import BaseModel, ConfigDict, Field, field_validator

from agent.policy import SessionBudget, allow_session_offered, decide
from tools.core.declaration import ToolSpec
from tools.core.results import CostEstimate, ToolResult
from tools.core.stages import RISKS


class Args(BaseModel):
    model_config = ConfigDict(extra="forbid")
    usd: Annotated[float | None, Field(description="the estimate's high end; None = unknown")] = 1.0
    name: str = "ok"
    # An estimator bug's figure ("nan", "inf"): arguments themselves must be finite numbers.
    broken_estimate: str = ""

    @field_validator("name")
    @classmethod
    def _no_bad(cls, value: str) -> str:
        if value == "bad":
            raise ValueError("bad is not a valid name")
        return value


def estimator(args: Args, region: str) -> CostEstimate:
    if args.usd is None:
        return CostEstimate.unknown("ml.x9.huge × 1 h")
    usd = float(args.broken_estimate) if args.broken_estimate else args.usd
    return CostEstimate(usd / 2, usd, f"test basis in {region}")


def spec(risk: str, name: str | None = None) -> ToolSpec:
    return ToolSpec(
        name=name or f"svc_{risk}_thing",
        stage="training",
        description="test tool",
        risk=risk,  # type: ignore[arg-type]
        operations=("svc:DoThing",),
        args_model=Args,
        func=lambda ctx, args: ToolResult("done"),
        estimator=estimator if risk in ("billable_read", "costly") else None,
    )


def run(mode: str, risk: str, usd: float | None = 1.0, spent: float = 0.0, **kw):
    finite = usd is None or math.isfinite(usd)
    return decide(
        spec(risk),
        {"usd": usd} if finite else {"usd": 1.0, "broken_estimate": str(usd)},
        mode=mode,
        budget_per_call=kw.get("per_call", 5.0),
        budget_per_session=kw.get("per_session", 20.0),
        session=kw.get("session") or SessionBudget(spent_usd=spent),
        region="us-east-1",
    )


# mode -> the action for each risk, with a cheap known estimate well inside both budgets.
TABLE = {
    "ask": {
        "read": "allow",
        "billable_read": "ask",
        "write": "ask",
        "costly": "ask",
        "destructive": "ask",
    },
    "read-only": {
        "read": "allow",
        "billable_read": "ask",
        "write": "deny",
        "costly": "deny",
        "destructive": "deny",
    },
    "dry-run": {
        "read": "allow",
        "billable_read": "deny",
        "write": "deny",
        "costly": "deny",
        "destructive": "deny",
    },
    "auto": {
        "read": "allow",
        "billable_read": "allow",
        "write": "allow",
        "costly": "allow",
        "destructive": "ask",
    },
    "yes": {r: "allow" for r in RISKS},
    "nonsense": {r: "deny" for r in RISKS},
    "": {r: "deny" for r in RISKS},
    "ASK": {r: "deny" for r in RISKS},  # modes are exact; anything else fails closed
}


@pytest.mark.parametrize(
    ("mode", "risk", "expected"),
    [(m, r, a) for m, row in TABLE.items() for r, a in row.items()],
)
def test_mode_by_risk(mode: str, risk: str, expected: str) -> None:
    decision = run(mode, risk)
    assert decision.action == expected, decision.reason
    assert decision.reason
    if risk in ("billable_read", "costly"):
        assert decision.estimate is not None and decision.estimate.high_usd == 1.0
    else:
        assert decision.estimate is None


# auto mode, billable_read and costly: (estimate high, spent so far, per-call, per-session) -> action
BUDGETS = [
    (1.0, 0.0, 5.0, 20.0, "allow"),
    (5.0, 0.0, 5.0, 20.0, "allow"),  # exactly the per-call budget runs
    (5.01, 0.0, 5.0, 20.0, "ask"),  # over per call
    (4.0, 16.0, 5.0, 20.0, "allow"),  # reaches exactly the session budget
    (4.0, 16.5, 5.0, 20.0, "ask"),  # session total would pass the budget
    (0.0, 0.0, 0.0, 0.0, "allow"),  # free and known, zero budgets
    (0.01, 0.0, 0.0, 20.0, "ask"),  # zero per-call budget: anything that costs asks
    (None, 0.0, 5.0, 20.0, "ask"),  # unknown price never runs unasked
    (None, 0.0, 1e9, 1e9, "ask"),
    (math.nan, 0.0, 5.0, 20.0, "ask"),  # NaN compares false: must not slip under
    (math.inf, 0.0, 5.0, 20.0, "ask"),
    (-1.0, 0.0, 5.0, 20.0, "ask"),  # a negative estimate is a bug, not a refund
    (1.0, math.inf, 5.0, 20.0, "ask"),
]


@pytest.mark.parametrize("risk", ["billable_read", "costly"])
@pytest.mark.parametrize(("usd", "spent", "per_call", "per_session", "expected"), BUDGETS)
def test_auto_mode_budgets(risk, usd, spent, per_call, per_session, expected) -> None:
    decision = run("auto", risk, usd, spent, per_call=per_call, per_session=per_session)
    assert decision.action == expected, decision.reason


@pytest.mark.parametrize("mode", ["ask", "read-only", "dry-run", "yes"])
@pytest.mark.parametrize("risk", ["billable_read", "costly"])
@pytest.mark.parametrize("usd", [0.5, 500.0, None])
def test_budgets_do_not_change_other_modes(mode: str, risk: str, usd: float | None) -> None:
    assert run(mode, risk, usd).action == TABLE[mode][risk]


@pytest.mark.parametrize("mode", ["ask", "auto", "yes", "dry-run", "read-only"])
@pytest.mark.parametrize("risk", RISKS)
def test_invalid_arguments_are_denied_in_every_mode(mode: str, risk: str) -> None:
    decision = decide(
        spec(risk),
        {"usd": 1.0, "name": "bad"},
        mode=mode,
        budget_per_call=5,
        budget_per_session=20,
        session=SessionBudget(),
        region="us-east-1",
    )
    assert decision.action == "deny"
    assert "name: bad is not a valid name" in decision.reason


def test_over_budget_reasons_name_the_figures() -> None:
    per_call = run("auto", "costly", 12.5)
    assert "$12.50" in per_call.reason and "per-call budget $5.00" in per_call.reason
    session = run("auto", "costly", 3.0, spent=18.0)
    assert "$21.00" in session.reason and "session budget $20.00" in session.reason
    assert "no price known" in run("auto", "costly", None).reason


def test_dry_run_reports_the_would_be_call_and_its_estimate() -> None:
    decision = run("dry-run", "costly", 2.0)
    assert decision.action == "deny" and decision.dry_run
    assert "svc_costly_thing" in decision.reason and "svc:DoThing" in decision.reason
    assert "$1.00–$2.00" in decision.reason and "Nothing was run" in decision.reason
    assert not run("dry-run", "read").dry_run


def test_read_only_denial_says_how_to_get_out() -> None:
    decision = run("read-only", "destructive")
    assert "read-only mode" in decision.reason and "Switch mode" in decision.reason


def test_allow_for_session_only_covers_write_tools_in_ask_mode() -> None:
    session = SessionBudget(allowed_tools={"svc_write_thing", "svc_costly_thing"})
    assert run("ask", "write", session=session).action == "allow"
    assert run("ask", "costly", session=session).action == "ask"  # never for costly
    other = decide(
        spec("write", name="svc_write_other"),
        {},
        mode="ask",
        budget_per_call=5,
        budget_per_session=20,
        session=session,
        region="us-east-1",
    )
    assert other.action == "ask"
    assert run("read-only", "write", session=session).action == "deny"


@pytest.mark.parametrize(("risk", "offered"), [(r, r == "write") for r in RISKS])
def test_allow_session_offered_only_for_write(risk: str, offered: bool) -> None:
    assert allow_session_offered(spec(risk)) is offered


def test_unknown_risk_never_runs_unasked() -> None:
    assert run("ask", "mystery").action == "ask"
    assert run("auto", "mystery").action == "ask"
    assert run("read-only", "mystery").action == "deny"
    assert run("dry-run", "mystery").action == "deny"


def test_session_budget_charges_the_high_end_and_fails_closed() -> None:
    budget = SessionBudget()
    budget.charge(CostEstimate(1.0, 3.0, "x"))
    budget.charge(None)
    budget.charge(CostEstimate.unknown("y"))
    assert budget.spent_usd == 3.0
    budget.charge(CostEstimate(0, math.nan, "broken"))
    assert budget.spent_usd == math.inf
    assert run("auto", "costly", 0.01, session=budget).action == "ask"


def test_auto_mode_spends_down_the_session_budget() -> None:
    budget = SessionBudget()
    actions = []
    for _ in range(6):
        decision = run("auto", "costly", 4.0, session=budget)
        actions.append(decision.action)
        if decision.action == "allow":
            budget.charge(decision.estimate)
    assert actions == ["allow"] * 5 + ["ask"]
    assert budget.spent_usd == 20.0


def test_estimator_crash_is_unknown_not_free() -> None:
    def broken(args, region):
        raise ZeroDivisionError("oops")

    s = ToolSpec(
        name="svc_broken",
        stage="training",
        description="d",
        risk="costly",
        operations=(),
        args_model=Args,
        func=lambda ctx, args: ToolResult("x"),
        estimator=broken,
    )
    decision = decide(
        s,
        {},
        mode="auto",
        budget_per_call=1e9,
        budget_per_session=1e9,
        session=SessionBudget(),
        region="us-east-1",
    )
    assert decision.action == "ask"
    assert decision.estimate is not None and not decision.estimate.known
    assert "estimate failed: oops" in decision.estimate.basis
