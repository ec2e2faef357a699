"""One tool call at a time, for a front end whose client is itself the model (an MCP client).

There is no conversation and no model here: the caller names a tool and its arguments. Each call
goes through the agent's own middleware in the order a turn uses (approval gate, audit, tool
errors), against the same AWS environment, audit log, ledger and session budget, so a call from
an MCP client is decided, approved, recorded and charged exactly like one from the app.

    session = open_tool_session(settings, tools=specs)        # blocking: may start the sandbox
    session.start({"name": "claude-code", "version": "2.1"}, front_end="mcp")
    gate = session.check("s3_create_bucket", {"bucket": "my-data"})   # blocking: estimates
    if gate.kind == "ask":                  # show gate.approval to a person, then:
        gate = session.answer(gate, Decision("approve", who="mcp client"))
    outcome = await session.execute(gate) if gate.kind == "run" else gate.outcome

Every approval request the gate makes is answered exactly once in the audit log: by a person
(`answer`), or withdrawn with a reason (`withdraw`: a cancelled call, a client that cannot ask,
an answer that never came), so no approval is left dangling.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from agent.environment import AwsEnvironment, new_session_id, open_environment
from agent.events import ApprovalRequest, Decision
from agent.session_core import AuditTee, SessionCore, open_audit
from agent.settings import Settings
from agent.startup import _open_ledger, _startup_notices, secure_state
from tools.core.context import ToolContext
from tools.core.declaration import ToolSpec
from tools.core.results import CostEstimate, ProgressEvent

GateKind = Literal["run", "done", "ask"]
ProgressSink = Callable[[ProgressEvent], None]
MODEL_ID = "none (the client's own model)"


class UnknownTool(KeyError):
    """A call names a tool this session does not serve."""

    def __init__(self, name: str, served: list[str]) -> None:
        self.name = name
        self.served = served
        super().__init__(name)


@dataclass
class CallOutcome:
    """What one call came to: the text for the model, data and resources for the client."""

    call_id: str
    name: str
    status: str  # success | error | rejected | denied | dry_run | cancelled
    text: str
    data: dict[str, Any] = field(default_factory=dict)
    resources: list[dict[str, Any]] = field(default_factory=list)
    estimate: dict[str, Any] | None = None
    error_kind: str = ""
    decision: str = ""  # auto | approve | reject | denied | dry_run
    duration_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "success"


@dataclass
class Gate:
    """The policy's verdict on one call: run it, it is done (refused), or ask a person."""

    kind: GateKind
    call_id: str
    name: str
    request: Any  # the ToolCallRequest the middleware works on
    approval: ApprovalRequest | None = None  # kind == "ask"
    outcome: CallOutcome | None = None  # kind == "done"
    estimate: CostEstimate | None = None  # kind == "run"
    decision: str = ""  # kind == "run": auto | approve
    notice: str = ""
    asked_at: float = 0.0  # monotonic time the approval was asked


@dataclass
class _CallHooks:
    progress: ProgressSink | None
    cancel_event: threading.Event


class ToolSession:
    """A session without a model: the app's gate, audit, ledger and environment, call by call."""

    def __init__(
        self,
        *,
        settings: Settings,
        env: AwsEnvironment,
        specs: list[ToolSpec],
        audit: AuditTee,
        ledger: Any,
        session_id: str,
    ) -> None:
        from agent.middleware import ApprovalMiddleware, AuditMiddleware, ToolErrorsMiddleware

        self.settings = settings
        self.env = env
        self.session_id = session_id
        self.audit = audit
        self.ledger = ledger
        self.core = SessionCore(settings, env, {s.name: s for s in specs}, audit, MODEL_ID)
        self._approval = ApprovalMiddleware(self.core)
        self._audit_tools = AuditMiddleware(self.core)
        self._tool_errors = ToolErrorsMiddleware(self.core)
        self._tools: dict[str, Any] = {}
        self._hooks: dict[str, _CallHooks] = {}
        self._asked: dict[str, Gate] = {}
        self._lock = threading.Lock()
        self.client: dict[str, Any] | None = None
        self.started = False
        self._closed = False

    # --- labels the front ends show ------------------------------------------------------------
    @property
    def mode(self) -> str:
        return self.core.mode

    @property
    def region(self) -> str:
        return self.env.aws.region

    @property
    def account_label(self) -> str:
        return self.env.aws.account_label

    @property
    def is_sandbox(self) -> bool:
        return self.env.is_sandbox

    @property
    def spent_usd(self) -> float:
        return self.core.budget.spent_usd

    @property
    def specs(self) -> dict[str, ToolSpec]:
        return self.core.specs

    def resources(self) -> list[dict[str, Any]]:
        """The ledger entries of this session."""
        if self.ledger is None:
            return []
        try:
            return [e.to_dict() for e in self.ledger.entries(session_id=self.session_id)]
        except Exception:
            return []

    # --- the session's records -------------------------------------------------------------------
    def start(self, client: dict[str, Any], **details: Any) -> None:
        """Write `session_start` (once), naming the client that drives the session."""
        with self._lock:
            if self.started:
                return
            self.started = True
            self.client = dict(client)
        aws = self.env.aws
        self.audit.append(
            "session_start",
            {
                "model": MODEL_ID,
                "mode": self.core.mode,
                "sandbox": aws.is_sandbox,
                "region": aws.region,
                "account": aws.account_label,
                "profile": aws.profile,
                "environment": self.env.reason,
                "client": dict(client),
                **details,
            },
        )

    def note(self, kind: str, payload: dict[str, Any]) -> None:
        """Any other session record (e.g. a second client on a shared server)."""
        self.audit.append(kind, payload)

    def startup_notices(self) -> list[str]:
        """Where calls go and what earlier sessions left billing (makes AWS calls: blocking)."""
        return [n.message for n in _startup_notices(self.env, self.session_id, self.ledger)]

    # --- one call ----------------------------------------------------------------------------------
    @staticmethod
    def new_call_id() -> str:
        """sagecoach's own id for a call (the client's model never chooses it)."""
        return f"call-{uuid.uuid4().hex[:16]}"

    def check(self, name: str, args: dict[str, Any] | None, call_id: str | None = None) -> Gate:
        """Run the approval gate on one call. Blocking: estimators may look things up in AWS.

        Invalid arguments and policy refusals come back as kind "done" (already audited); a call
        the policy asks about comes back as kind "ask" and stays pending until answered or
        withdrawn."""
        from langgraph.prebuilt.tool_node import ToolCallRequest

        spec = self.core.specs.get(name)
        if spec is None:
            raise UnknownTool(name, sorted(self.core.specs))
        call = {
            "name": name,
            "args": dict(args or {}),
            "id": call_id or self.new_call_id(),
            "type": "tool_call",
        }
        request = ToolCallRequest(
            tool_call=call,  # type: ignore[arg-type]
            tool=self._tool(spec),
            state={"messages": []},  # no conversation: nothing a person typed to sagecoach
            runtime=None,  # type: ignore[arg-type]
        )
        kind, value = self._approval._gate(request)
        if kind == "done":
            return Gate("done", call["id"], name, request, outcome=_outcome(value, call))
        if kind == "run":
            req, estimate, decision = value
            return Gate("run", call["id"], name, req, estimate=estimate, decision=decision)
        gate = Gate("ask", call["id"], name, request, approval=value, asked_at=time.monotonic())
        with self._lock:  # check() runs on worker threads, beside pending() on the loop
            self.core.pending[call["id"]] = value
            self._asked[call["id"]] = gate
        return gate

    def answer(self, gate: Gate, decision: Decision) -> Gate:
        """Apply a person's decision to an asked call: kind "run", or "done" when rejected."""
        with self._lock:
            if gate.kind != "ask" or self._asked.pop(gate.call_id, None) is None:
                raise ValueError(f"call {gate.call_id} is not waiting for approval")
            self.core.pending.setdefault(gate.call_id, gate.approval)  # type: ignore[arg-type]
        kind, value = self._approval._apply(gate.request, decision, gate.approval)
        call = gate.request.tool_call
        if kind == "done":
            return Gate(
                "done", gate.call_id, gate.name, gate.request, outcome=_outcome(value, call)
            )
        req, estimate, decision_type, notice = value
        return Gate(
            "run",
            gate.call_id,
            gate.name,
            req,
            estimate=estimate,
            decision=decision_type,
            notice=notice,
        )

    def pending(self) -> list[Gate]:
        """Calls waiting for a person, oldest first."""
        with self._lock:
            return sorted(self._asked.values(), key=lambda g: g.asked_at)

    def pending_gate(self, call_id: str) -> Gate | None:
        return self._asked.get(call_id)

    def withdraw(self, call_id: str, reason: str, *, who: str = "sagecoach") -> CallOutcome | None:
        """Close a pending approval nobody answered (audited as rejected, with the reason)."""
        gate = self._asked.get(call_id)
        if gate is None:
            return None
        done = self.answer(gate, Decision("reject", reason=reason, who=who))
        return done.outcome

    def expire(self, older_than_s: float) -> list[CallOutcome]:
        """Withdraw approvals asked longer ago than `older_than_s` seconds."""
        now = time.monotonic()
        expired: list[CallOutcome] = []
        for gate in self.pending():
            if now - gate.asked_at >= older_than_s:
                outcome = self.withdraw(
                    gate.call_id,
                    f"no answer within {older_than_s:.0f} s; the approval expired",
                )
                if outcome is not None:
                    expired.append(outcome)
        return expired

    async def execute(
        self,
        gate: Gate,
        *,
        progress: ProgressSink | None = None,
        cancel_event: threading.Event | None = None,
    ) -> CallOutcome:
        """Run a call the gate let through, as the agent's tool node would (audited, charged).

        Setting `cancel_event` stops the tool at its next wait or check (status "cancelled")."""
        if gate.kind != "run":
            raise ValueError(f"call {gate.call_id} may not run (gate said {gate.kind})")
        request = gate.request
        call = request.tool_call
        self._hooks[gate.call_id] = _CallHooks(progress, cancel_event or threading.Event())
        started = time.perf_counter()
        try:
            try:
                result = await request.tool.ainvoke(call)
            except Exception as exc:  # what ToolErrorsMiddleware does inside a turn
                result = self._tool_errors._explain(request, exc)
            _mark_cancelled(result)
            self._audit_tools._tool_record(request, started, result)
            result = self._approval._finish(result, gate.estimate, gate.decision, gate.notice)
        finally:
            self._hooks.pop(gate.call_id, None)
        outcome = _outcome(result, call)
        outcome.duration_ms = round((time.perf_counter() - started) * 1000, 2)
        return outcome

    def record_refusal(self, name: str, args: dict[str, Any] | None, error: str) -> None:
        """A call refused before the gate (e.g. a tool this session does not serve)."""
        self.core.record_tool(
            {"name": name, "id": self.new_call_id(), "args": dict(args or {})},
            self.core.specs.get(name),
            "error",
            0.0,
            error=error,
        )

    # --- plumbing -----------------------------------------------------------------------------------
    def _tool(self, spec: ToolSpec) -> Any:
        tool = self._tools.get(spec.name)
        if tool is None:
            from tools.core.langchain_adapter import to_langchain_tool

            tool = to_langchain_tool(spec, self._tool_context)
            self._tools[spec.name] = tool
        return tool

    def _tool_context(
        self, spec: ToolSpec, call_id: str, _graph_progress: ProgressSink
    ) -> ToolContext:
        hooks = self._hooks.get(call_id) or _CallHooks(None, threading.Event())
        ctx = ToolContext(
            self.env.aws,
            session_id=self.session_id,
            state_dir=self.settings.state_dir,
            progress=hooks.progress,
            ledger=self.ledger,
            sandbox=self.env.sandbox,
            default_role_arn=self.settings.role_arn or self.env.default_role_arn,
        )
        ctx.cancel_event = hooks.cancel_event
        return ctx

    def close(self) -> None:
        """Withdraw what is still pending, write `session_end`, stop the environment."""
        if self._closed:
            return
        self._closed = True
        for gate in self.pending():
            self.withdraw(gate.call_id, "the session ended before an answer came")
        if self.started:
            self.audit.append(
                "session_end",
                {"spent_usd": round(self.spent_usd, 4), "resources": len(self.resources())},
            )
        self.audit.close()
        self.env.close()


def _mark_cancelled(result: Any) -> None:
    """A tool stopped by its cancel flag reports status "cancelled", not a plain error."""
    artifact = getattr(result, "artifact", None)
    if isinstance(artifact, dict) and artifact.get("error_kind") == "cancelled":
        artifact.setdefault("sagecoach_status", "cancelled")


def _outcome(message: Any, call: dict[str, Any]) -> CallOutcome:
    """A ToolMessage from the middleware as a CallOutcome."""
    artifact = message.artifact if isinstance(getattr(message, "artifact", None), dict) else {}
    status = artifact.get("sagecoach_status") or (
        "error" if getattr(message, "status", "") == "error" else "success"
    )
    content = message.content if isinstance(message.content, str) else str(message.content)
    return CallOutcome(
        call_id=call["id"],
        name=call["name"],
        status=status,
        text=content,
        data=dict(artifact.get("data") or {}),
        resources=list(artifact.get("resources") or []),
        estimate=artifact.get("estimate"),
        error_kind=artifact.get("error_kind", "") if status != "success" else "",
        decision=str(artifact.get("decision") or ""),
        duration_ms=float(artifact.get("duration_ms") or 0.0),
    )


def open_tool_session(
    settings: Settings,
    *,
    tools: list[ToolSpec] | None = None,
    sandbox_endpoint: str | None = None,
) -> ToolSession:
    """Environment (the sandbox when there are no credentials), audit log, ledger. Blocking.

    Nothing is written to the audit log until `start()` names the client."""
    from tools.cost.refresh import use_cache

    use_cache(settings.state_dir)
    session_id = new_session_id()
    audit = AuditTee(open_audit(settings, session_id))
    try:
        env = open_environment(
            settings,
            session_id=session_id,
            on_aws_call=audit.aws_call_sink,
            sandbox_endpoint=sandbox_endpoint,
        )
    except BaseException:
        audit.close()
        raise
    if tools is None:
        from tools.core.registry import load_all

        tools = load_all().all()
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    secure_state(settings)  # the same privacy at rest as the app: 0700 dirs, 0600 files
    ledger = _open_ledger(settings.state_dir)
    if ledger is not None:  # creates are written to the ledger before they are sent
        from tools.ledger.intents import LedgerIntents

        env.aws.add_listener(LedgerIntents(ledger, session_id, env.aws.region))
    return ToolSession(
        settings=settings,
        env=env,
        specs=tools,
        audit=audit,
        ledger=ledger,
        session_id=session_id,
    )
