"""Ends a turn that used its model calls or wall time, or whose model asked again for a call
that was refused, with a plain message before the next model call.

The counts live in SessionCore (turn_over), so an approval round, which resumes the graph,
does not reset them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langchain.agents.middleware import AgentMiddleware, hook_config
from langchain_core.messages import AIMessage

if TYPE_CHECKING:
    from agent.session_core import SessionCore


class TurnBudgetMiddleware(AgentMiddleware):
    """Model calls and wall time per turn (a turn starts at the person's message and goes on
    through approval rounds); a repeated refused call ends the turn too."""

    name = "sagecoach_turn_budget"

    def __init__(self, core: SessionCore) -> None:
        super().__init__()
        self.core = core

    @hook_config(can_jump_to=["end"])
    def before_model(self, state: Any, runtime: Any) -> dict[str, Any] | None:
        reason = self.core.turn_over()
        if reason:
            self.core.audit("turn_stopped", {"reason": reason})
            return {"jump_to": "end", "messages": [AIMessage(content=reason)]}
        self.core.turn_model_calls += 1
        return None

    @hook_config(can_jump_to=["end"])
    async def abefore_model(self, state: Any, runtime: Any) -> dict[str, Any] | None:
        return self.before_model(state, runtime)
