"""An approval request as an MCP elicitation, and the client's answer as a Decision.

The form asks one thing: run exactly this call, once. Only an accepted form with the box ticked
approves; decline, cancel, an unticked box or no answer all reject. Nothing in an answer can
widen the policy: other fields are ignored, there is no "allow for the session" and no edited
arguments, so the next call that needs a person asks again.
"""

from __future__ import annotations

import json
from typing import Any

from mcp import types

from agent.events import ApprovalRequest, Decision

APPROVAL_KEY = "sagecoach_approval"  # the input request's key on 2026-07-28 connections
CONFIRM_FIELD = "confirm"
WHO = "mcp client"
ARGS_SHOWN_CHARS = 1500


def can_elicit_form(capabilities: types.ClientCapabilities | None) -> bool:
    """The client declared form elicitation (a bare `elicitation: {}` means form)."""
    elicitation = capabilities.elicitation if capabilities is not None else None
    if elicitation is None:
        return False
    return elicitation.form is not None or elicitation.url is None


def where_label(request: ApprovalRequest) -> str:
    if request.sandbox:
        return f"SANDBOX (local emulation, nothing reaches real AWS) · region {request.region}"
    profile = f" · profile {request.profile}" if request.profile else ""
    return f"REAL AWS · account {request.account} · region {request.region}{profile}"


def estimate_label(estimate: dict[str, Any] | None) -> str:
    """Range, basis, price source and date, as the app's approval dialog shows them."""
    if not estimate:
        return "free (no compute billed by this call)"
    if estimate.get("known", estimate.get("high_usd") is not None):
        low, high = float(estimate.get("low_usd") or 0.0), float(estimate.get("high_usd") or 0.0)
        amount = f"${high:,.2f}" if abs(high - low) < 0.005 else f"${low:,.2f}–${high:,.2f}"
    else:
        amount = "no price known, treat as costly"
    if estimate.get("hourly_usd"):
        amount += f", then ${float(estimate['hourly_usd']):,.3f}/h until deleted"
    parts = [amount, f"basis: {estimate.get('basis') or '?'}"]
    source, date = estimate.get("source") or "", estimate.get("price_date") or ""
    if source or date:
        parts.append(f"prices: {source}" + (f", as of {date}" if date else ""))
    parts += [f"note: {note}" for note in estimate.get("notes") or []]
    return "; ".join(parts)


def approval_message(request: ApprovalRequest) -> str:
    """What the person reads before deciding: the whole call and what it costs."""
    args = json.dumps(request.args, default=str, sort_keys=True)
    if len(args) > ARGS_SHOWN_CHARS:
        args = args[: ARGS_SHOWN_CHARS - 1] + "…"
    lines = [
        f"sagecoach asks before running {request.tool} ({request.risk}, stage {request.stage}).",
        f"Why it asks: {request.reason or request.mode + ' mode'}",
        f"Where: {where_label(request)}",
        f"AWS operations: {', '.join(request.operations) or 'none'}",
        f"Estimated cost: {estimate_label(request.estimate)}",
        f"Arguments: {args}",
    ]
    if request.preflight:  # the checks that ran before asking (warnings first), as in the app
        from tools.preflight.report import card_lines

        lines.append("Pre-flight checks:")
        lines += [f"  {line}" for _, line in card_lines(request.preflight)]
    lines.append("Approving runs exactly this call, once.")
    return "\n".join(lines)


def approval_schema() -> dict[str, Any]:
    """A flat form (the spec allows only primitive fields): one box to tick."""
    return {
        "type": "object",
        "properties": {
            CONFIRM_FIELD: {
                "type": "boolean",
                "title": "Run this call",
                "description": "Tick to run exactly the call shown above, once.",
                "default": False,
            }
        },
        "required": [CONFIRM_FIELD],
    }


def approval_request(request: ApprovalRequest) -> types.ElicitRequest:
    """The elicitation/create request (pushed, or carried in an InputRequiredResult).

    `_meta` carries the full approval request for clients that render it themselves."""
    return types.ElicitRequest(
        params=types.ElicitRequestFormParams(
            message=approval_message(request),
            requested_schema=approval_schema(),
            _meta={"sagecoach/approval": request.to_dict()},
        )
    )


def decision_from(answer: Any) -> Decision:
    """The client's answer as a Decision; anything but an accepted, ticked form rejects."""
    if not isinstance(answer, types.ElicitResult):
        return Decision("reject", reason="no readable answer from the MCP client", who=WHO)
    if answer.action == "decline":
        return Decision("reject", reason="declined in the MCP client", who=WHO)
    if answer.action == "cancel":
        return Decision("reject", reason="dismissed in the MCP client without an answer", who=WHO)
    content = answer.content or {}
    if content.get(CONFIRM_FIELD) is True:  # other fields (an "always allow") are ignored
        return Decision("approve", who=WHO)
    return Decision("reject", reason="the approval box was not ticked", who=WHO)


def no_elicitation_text(request: ApprovalRequest, mode: str) -> str:
    """Why a call that needs a person was refused, and the mode that would allow it."""
    cost = estimate_label(request.estimate)
    return (
        f"{request.tool} needs approval ({request.reason}; estimated {cost}) and this MCP client "
        "cannot show approval requests (it does not support MCP elicitation), so sagecoach did "
        f"not run it and sent nothing to AWS. To allow such calls, restart the server with "
        f"`sagecoach mcp --mode {mode}`, or use a client that supports elicitation."
    )


def busy_text(request: ApprovalRequest, other: ApprovalRequest, waited_s: float) -> str:
    return (
        f"{request.tool} needs approval, but another call is already waiting for one "
        f"({other.tool}, asked {waited_s:.0f} s ago). Answer that request in your MCP client "
        "first, then call again. Nothing was run."
    )
