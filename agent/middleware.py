"""The agent's middleware stack, outermost first; each piece lives in a module of its own.

- CallIdsMiddleware (agent.call_ids) gives every tool call sagecoach's own id and turns input
  that is not a JSON object into a call the gate answers with a clear error.
- TurnBudgetMiddleware (agent.turn_budget) ends a turn that used its model calls or wall time,
  or whose model asked again for a refused call; an approval round does not reset it.
- ApprovalMiddleware (agent.approval_gate) runs the policy for every tool call: allow, deny, or
  ask with `interrupt()` and run exactly what the person approved. A rejected call never runs.
- AuditMiddleware (agent.audit_hooks) writes `model_call` and `tool_call` records.
- ModelRetryMiddleware (agent.model_retry) retries throttling and transient model errors.
- ToolErrorsMiddleware (agent.tool_errors) turns any exception from a tool into a readable
  error result.
- ToolScopeMiddleware (agent.tool_scope) binds the model only the tools it is likely to need.

Each hook has a sync and an async form (LangGraph calls the async one under `astream`). The
stack's builders (agent.runtime, agent.tool_session) import it from here; tests that patch a
helper patch it in the module that defines it.
"""

from __future__ import annotations

from agent.approval_gate import ApprovalMiddleware
from agent.audit_hooks import AuditMiddleware
from agent.call_ids import CallIdsMiddleware
from agent.model_retry import ModelRetryMiddleware
from agent.tool_errors import ToolErrorsMiddleware
from agent.tool_scope import ToolScopeMiddleware
from agent.turn_budget import TurnBudgetMiddleware

__all__ = [
    "ApprovalMiddleware",
    "AuditMiddleware",
    "CallIdsMiddleware",
    "ModelRetryMiddleware",
    "ToolErrorsMiddleware",
    "ToolScopeMiddleware",
    "TurnBudgetMiddleware",
]
