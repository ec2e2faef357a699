"""The one API every front end (the Textual app, `sagecoach ask`, the eval harness) uses.

A turn: `send(text)` yields events until the turn ends or pauses for approval. If it paused
(one or more ApprovalRequested events, then the iterator ends), the front end answers with
`decide({call_id: Decision, ...})`, which resumes the run and yields the rest of the turn.
`cancel()` stops the running turn; the stored conversation stays valid.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from agent.events import AnyEvent, ApprovalRequest, Decision


@dataclass
class ConversationInfo:
    id: str
    title: str
    created_at: str
    updated_at: str
    pending_approval: bool = False


@runtime_checkable
class ChatSession(Protocol):
    session_id: str
    conversation_id: str
    mode: str

    @property
    def model_label(self) -> str: ...  # e.g. "offline planner — no LLM" or the Bedrock model id

    @property
    def account_label(self) -> str: ...  # "SANDBOX" or the account id

    @property
    def region(self) -> str: ...

    @property
    def profile(self) -> str | None: ...

    @property
    def is_sandbox(self) -> bool: ...

    @property
    def pending_approvals(self) -> list[ApprovalRequest]: ...

    def send(self, text: str) -> AsyncIterator[AnyEvent]: ...

    def decide(self, decisions: dict[str, Decision]) -> AsyncIterator[AnyEvent]: ...

    def cancel(self) -> None: ...

    def set_mode(self, mode: str) -> None: ...

    def resources(self) -> list[dict[str, Any]]: ...  # the session's ledger entries

    @property
    def spent_usd(self) -> float: ...  # estimated spend of approved calls so far

    async def list_conversations(self) -> list[ConversationInfo]: ...

    async def new_conversation(self) -> str: ...

    async def resume(self, conversation_id: str) -> list[dict[str, Any]]: ...  # past messages

    async def delete_conversation(self, conversation_id: str) -> None: ...

    async def aclose(self) -> None: ...
