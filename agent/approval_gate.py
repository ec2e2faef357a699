"""The approval gate: every tool call goes through agent.policy.decide before it runs.

allow → run with the validated arguments; deny → an error result with the reason (dry-run:
what would have run and its estimate); ask → `interrupt()` carrying the full ApprovalRequest,
answered per call (keyed by interrupt id). An answer applies only to the request it was shown
for (tool, call id, argument digest) and runs exactly the shown arguments or the person's
validated edit. A rejected call never runs; a refused call asked for again ends the turn.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from langchain.agents.middleware import AgentMiddleware
from langchain_core.messages import ToolMessage
from langgraph.types import interrupt

from agent.call_ids import INVALID_INPUT, invalid_input_message
from agent.data_frame import mark_data
from agent.events import Decision, args_digest
from agent.policy import allow_session_offered, decide
from agent.tool_errors import error_message
from tools.core.declaration import ToolSpec
from tools.core.errors import ToolError
from tools.core.redact import redact
from tools.core.results import CostEstimate
from tools.preflight import PreflightReport, has_preflight, run_preflight

if TYPE_CHECKING:
    from agent.session_core import SessionCore


EDIT_NOTICE = (
    "Note: the person edited this call before it ran. Executed {name} with arguments {args} "
    "(not the ones you proposed).\n\n"
)


def preflight_for(core: SessionCore, spec: ToolSpec, args: Any) -> PreflightReport | None:
    """The call's pre-flight report (None for tools without checks, or if pre-flight broke)."""
    if not has_preflight(spec.name):
        return None
    role = core.settings.role_arn or getattr(core.env, "default_role_arn", None)
    try:
        return run_preflight(spec.name, args, core.env.aws, default_role_arn=role)
    except Exception:  # a broken check must not block the call; the policy still decides
        return None


def _annotate(result: Any, **fields: Any) -> Any:
    """Add fields to a ToolMessage's artifact (estimate, decision) for the UI."""
    if isinstance(result, ToolMessage):
        artifact = result.artifact if isinstance(result.artifact, dict) else {}
        artifact.update({k: v for k, v in fields.items() if k not in artifact or v})
        result.artifact = artifact
    return result


class ApprovalMiddleware(AgentMiddleware):
    """The gate: every tool call goes through agent.policy.decide."""

    name = "sagecoach_approval"

    def __init__(self, core: SessionCore) -> None:
        super().__init__()
        self.core = core

    # Everything before interrupt() is pure: it re-runs when the node resumes.
    def _gate(self, request: Any) -> tuple[str, Any]:
        """('run', (request, estimate, decision)) or ('done', ToolMessage) or ('ask', ApprovalRequest).

        A call that runs unasked runs with its validated arguments, as an asked one runs with
        exactly the arguments its approval request showed."""
        core = self.core
        call = request.tool_call
        raw = call.get("args")
        spec = core.specs.get(call["name"])
        if isinstance(raw, dict) and INVALID_INPUT in raw:
            message = invalid_input_message(call["name"], raw)
            core.record_tool(call, spec, "error", 0.0, error=message)
            return "done", error_message(call, message, "error", error_kind="invalid_arguments")
        if spec is None:
            return "run", (request, None, "")  # ToolNode answers unknown tools itself
        pending = core.pending.get(call["id"])
        if pending is not None:
            if pending.tool != spec.name:  # never show one call and run another
                return "done", _unbound(call, spec.name)
            return "ask", pending
        try:
            args = spec.validate(raw or {})
        except ToolError as exc:
            core.record_tool(call, spec, "error", 0.0, error=exc.message)
            return "done", error_message(call, exc.message, "error", error_kind=exc.kind)
        validated = args.model_dump(mode="json")
        signature = call_signature(spec.name, validated)
        if signature in core.turn_refused:
            core.stop_turn = (
                f"I stopped this turn: the assistant asked again for {spec.name} with the same "
                "arguments that were refused a moment ago. Tell me how you want to go on."
            )
            text = (
                f"{spec.name} with these arguments was already refused in this turn "
                f"({core.turn_refused[signature]}); it did not run and the turn ends here."
            )
            core.record_tool(call, spec, "denied", 0.0, error=text)
            return "done", error_message(call, text, "denied", decision="repeat")
        verdict = decide(
            spec,
            args,
            mode=core.mode,
            budget_per_call=core.settings.budget_usd_per_call,
            budget_per_session=core.settings.budget_usd_per_session,
            session=core.budget,
            region=core.region,
            aws=core.env.aws,
            preflight=preflight_for(core, spec, args),
        )
        if verdict.action == "allow":
            bound = request.override(tool_call={**call, "args": validated})
            _tell_args(request, call["id"], validated)
            return "run", (bound, verdict.estimate, "auto")
        if verdict.action == "deny":
            status = "dry_run" if verdict.dry_run else "denied"
            core.turn_refused[signature] = verdict.reason
            stopped = verdict.preflight is not None and verdict.preflight.failed
            core.audit(
                "approval",
                {
                    "tool": spec.name,
                    "call_id": call["id"],
                    "args": redact(validated),
                    "decision": status,
                    "reason": verdict.reason,
                    "who": "preflight" if stopped else "policy",
                },
            )
            core.record_tool(
                call, spec, status, 0.0, error=verdict.reason, estimate=verdict.estimate
            )
            message = error_message(
                call,
                verdict.reason,
                status,
                estimate=verdict.estimate,
                decision=status,
                error_kind="preflight_failed" if stopped and not verdict.dry_run else "",
            )
            if verdict.preflight is not None:
                _annotate(message, preflight=verdict.preflight.to_dict())
            return "done", message
        return "ask", core.approval_request(spec, call, args, verdict)

    def _apply(self, request: Any, answer: Any, shown: Any) -> tuple[str, Any]:
        """Turn the person's answer into ('run', (request, estimate, decision, notice)) or
        ('done', msg). What runs is the shown approval request's own arguments (or the edit);
        a decision that carries the digest of another request runs nothing."""
        core = self.core
        call = request.tool_call
        spec: ToolSpec = core.specs[call["name"]]
        decision = parse_decision(answer)
        core.pending.pop(call["id"], None)
        pending = shown
        bound = (
            pending is not None
            and pending.tool == spec.name
            and pending.call_id == call["id"]
            and pending.args_digest == args_digest(pending.tool, pending.args)
            and (not decision.digest or decision.digest == pending.args_digest)
        )
        core.audit(
            "approval",
            {
                "tool": spec.name,
                "call_id": call["id"],
                "request": redact(pending.to_dict()) if pending else None,
                "decision": decision.type if bound else "refused_unbound",
                "args": redact(decision.args) if decision.args else None,
                "reason": decision.reason,
                "who": decision.who,
            },
        )
        if not bound or pending is None:
            return "done", _unbound(call, spec.name)
        if decision.type == "reject":
            reason = decision.reason.strip() or "no reason given"
            content = (
                f"The person rejected this call to {spec.name} (reason: {reason}). It did not run. "
                "Do not retry it unchanged; adjust or ask what they want."
            )
            core.turn_refused[call_signature(spec.name, pending.args)] = f"rejected: {reason}"
            core.record_tool(call, spec, "rejected", 0.0, error=reason)
            return "done", error_message(call, content, "rejected", decision="reject")
        notice = ""
        estimate = _estimate_from_dict(pending.estimate)
        run_args: dict[str, Any] = dict(pending.args)
        if decision.type == "edit":
            try:
                args = spec.validate(decision.args or {})
            except ToolError as exc:  # the session validates first; this is the backstop
                core.record_tool(call, spec, "error", 0.0, error=exc.message)
                return "done", error_message(call, exc.message, "error", decision="edit")
            run_args = args.model_dump(mode="json")
            try:
                estimate = spec.estimate(args, core.region, core.env.aws)
            except ToolError:
                estimate = None
            report = preflight_for(core, spec, args)
            if report is not None and report.failed:  # the edit broke what was approved
                core.record_tool(call, spec, "denied", 0.0, error=report.for_model())
                message = error_message(
                    call,
                    report.for_model(),
                    "denied",
                    decision="edit",
                    error_kind="preflight_failed",
                )
                return "done", _annotate(message, preflight=report.to_dict())
            notice = EDIT_NOTICE.format(name=spec.name, args=json.dumps(run_args, default=str))
        request = request.override(tool_call={**call, "args": run_args})
        _tell_args(request, call["id"], run_args)
        if decision.type == "allow_session" and allow_session_offered(spec):
            core.budget.allowed_tools.add(spec.name)
        return "run", (request, estimate, decision.type, notice)

    def _finish(
        self, result: Any, estimate: CostEstimate | None, decision: str, notice: str = ""
    ) -> Any:
        if isinstance(result, ToolMessage) and result.status != "error":
            self.core.charge(estimate)
            if self.core.mark_data:
                mark_data(result, result.name or "the tool")
        if notice and isinstance(result, ToolMessage):
            result.content = notice + (
                result.content if isinstance(result.content, str) else str(result.content)
            )
        return _annotate(
            result, estimate=estimate.to_dict() if estimate else None, decision=decision
        )

    def wrap_tool_call(self, request: Any, handler: Callable[[Any], Any]) -> Any:
        kind, value = self._gate(request)
        if kind == "done":
            return value
        if kind == "run":
            req, estimate, decision = value
            return self._finish(handler(req), estimate, decision)
        answer = interrupt(value.to_dict())
        kind, value = self._apply(request, answer, value)
        if kind == "done":
            return value
        req, estimate, decision, notice = value
        return self._finish(handler(req), estimate, decision, notice)

    async def awrap_tool_call(self, request: Any, handler: Callable[[Any], Awaitable[Any]]) -> Any:
        kind, value = self._gate(request)
        if kind == "done":
            return value
        if kind == "run":
            req, estimate, decision = value
            return self._finish(await handler(req), estimate, decision)
        answer = interrupt(value.to_dict())
        kind, value = self._apply(request, answer, value)
        if kind == "done":
            return value
        req, estimate, decision, notice = value
        return self._finish(await handler(req), estimate, decision, notice)


def call_signature(tool: str, args: dict[str, Any]) -> str:
    """A call's identity in turn_refused: the same tool with the same validated arguments."""
    return args_digest(tool, args)


def _tell_args(request: Any, call_id: str, args: dict[str, Any]) -> None:
    """Front ends show the arguments a call runs with (validated), not the model's draft."""
    writer = getattr(getattr(request, "runtime", None), "stream_writer", None)
    if writer is not None:
        try:
            writer({"sagecoach": "call_args", "call_id": call_id, "args": args})
        except Exception:
            pass


def _unbound(call: dict[str, Any], tool: str) -> ToolMessage:
    """The refusal when an answer does not match the request that was shown."""
    text = (
        f"sagecoach could not match this call to {tool} with the request that was shown for "
        "approval, so it did not run. Ask for it again."
    )
    return error_message(call, text, "denied", error_kind="unbound", decision="refused")


def parse_decision(answer: Any) -> Decision:
    """A resume value (Decision, or its dict form) as a Decision; anything else rejects."""
    if isinstance(answer, Decision):
        return answer
    if isinstance(answer, dict) and answer.get("type") in (
        "approve",
        "edit",
        "reject",
        "allow_session",
    ):
        return Decision(
            type=answer["type"],
            args=answer.get("args"),
            reason=str(answer.get("reason") or ""),
            who=str(answer.get("who") or "user"),
            digest=str(answer.get("digest") or ""),
        )
    return Decision("reject", reason=f"unreadable decision {answer!r}", who="sagecoach")


def _estimate_from_dict(data: dict[str, Any] | None) -> CostEstimate | None:
    """The shown request's estimate back as a CostEstimate (what the session is charged)."""
    if not data:
        return None
    return CostEstimate(
        low_usd=data.get("low_usd"),
        high_usd=data.get("high_usd"),
        basis=data.get("basis", ""),
        source=data.get("source", ""),
        price_date=data.get("price_date", ""),
        hourly_usd=data.get("hourly_usd"),
        notes=tuple(data.get("notes") or ()),
    )
