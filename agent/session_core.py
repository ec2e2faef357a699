"""What a session's middleware shares with it: tools, policy inputs, pending approvals, the
budget, and the audit log (written from a background thread).
"""

from __future__ import annotations

import contextlib
import queue
import threading
from pathlib import Path
from typing import Any

from agent.environment import AwsEnvironment
from agent.events import ApprovalRequest
from agent.policy import PolicyDecision, SessionBudget, allow_session_offered
from agent.settings import Settings
from tools.core.declaration import ToolSpec
from tools.core.redact import redact
from tools.core.results import CostEstimate


# --- audit ---------------------------------------------------------------------------------
def open_audit(directory: Path, session_id: str) -> Any:
    from agent.audit import AuditLog

    return AuditLog(directory, session_id)


class AuditTee:
    """Writes to the audit log from a background thread (each record is fsynced, which must
    not stall a turn) and keeps the latest records, redacted, in memory (tests, the UI)."""

    def __init__(self, log: Any, keep: int = 2000, background: bool = True) -> None:
        self.log = log
        self.records: list[dict[str, Any]] = []
        self.keep = keep
        self._queue: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        if log is not None and background:
            self._thread = threading.Thread(target=self._drain, name="sagecoach-audit", daemon=True)
            self._thread.start()

    def _drain(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                self._write_now(*item)
            finally:
                self._queue.task_done()

    def _write_now(self, kind: str, payload: dict[str, Any]) -> None:
        try:
            self.log.append(kind, payload)
        except Exception:  # the audit log must never break a turn
            pass

    def _write(self, kind: str, payload: dict[str, Any]) -> None:
        if self.log is None:
            return
        if self._thread is not None:
            self._queue.put((kind, payload))
        else:
            self._write_now(kind, payload)

    def _remember(self, record: dict[str, Any]) -> None:
        self.records.append(record)
        if len(self.records) > self.keep:
            del self.records[: len(self.records) - self.keep]

    def append(self, kind: str, payload: dict[str, Any]) -> None:
        self._remember({"kind": kind, **redact(dict(payload))})
        self._write(kind, payload)

    def aws_call_sink(self, record: dict[str, Any]) -> None:
        self._remember({"kind": "aws_call", **record})
        self._write("aws_call", record)

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [r for r in self.records if r.get("kind") == kind]

    def flush(self) -> None:
        """Wait until every record so far is on disk."""
        if self._thread is not None:
            self._queue.join()

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)
            self._thread = None
        if self.log is not None:
            with contextlib.suppress(Exception):
                self.log.close()


# --- the state middleware shares -----------------------------------------------------------
class SessionCore:
    """What the middleware needs: tools, policy inputs, pending approvals, audit."""

    def __init__(
        self,
        settings: Settings,
        env: AwsEnvironment,
        specs: dict[str, ToolSpec],
        audit: AuditTee,
        model_id: str,
    ) -> None:
        self.settings = settings
        self.env = env
        self.specs = specs
        self.audit_log = audit
        self.model_id = model_id
        self.mode: str = settings.mode
        self.budget = SessionBudget()
        self.pending: dict[str, ApprovalRequest] = {}
        self.turn_cost = 0.0

    @property
    def region(self) -> str:
        return self.env.aws.region

    def audit(self, kind: str, payload: dict[str, Any]) -> None:
        self.audit_log.append(kind, payload)

    def charge(self, estimate: CostEstimate | None) -> None:
        self.budget.charge(estimate)
        if estimate is not None and estimate.high_usd is not None:
            self.turn_cost += float(estimate.high_usd)

    def record_tool(
        self,
        call: dict[str, Any],
        spec: ToolSpec | None,
        status: str,
        duration_ms: float,
        *,
        error: str = "",
        resources: list[Any] | None = None,
        estimate: CostEstimate | None = None,
    ) -> None:
        self.audit(
            "tool_call",
            {
                "name": call.get("name"),
                "call_id": call.get("id"),
                "stage": spec.stage if spec else "",
                "risk": spec.risk if spec else "",
                "args": redact(call.get("args") or {}),
                "status": status,
                "duration_ms": round(duration_ms, 2),
                "error": error,
                "resources": resources or [],
                "estimate": estimate.to_dict() if estimate else None,
            },
        )

    def approval_request(
        self, spec: ToolSpec, call: dict[str, Any], args: Any, verdict: PolicyDecision
    ) -> ApprovalRequest:
        aws = self.env.aws
        return ApprovalRequest(
            call_id=call["id"],
            tool=spec.name,
            stage=spec.stage,
            risk=spec.risk,
            args=args.model_dump(mode="json"),
            description=spec.description,
            operations=list(spec.operations),
            estimate=verdict.estimate.to_dict() if verdict.estimate else None,
            account=aws.account_label,
            region=aws.region,
            profile=aws.profile,
            sandbox=aws.is_sandbox,
            mode=self.mode,
            reason=verdict.reason,
            allow_session_offered=allow_session_offered(spec),
            preflight=verdict.preflight.for_approval() if verdict.preflight else [],
        )
