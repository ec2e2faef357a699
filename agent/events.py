"""The typed events every front end consumes, and the approval request/decision shapes.

`session.send(text)` yields these; `session.decide(...)` answers an ApprovalRequested.
Plain dataclasses so the TUI, `sagecoach ask` and tests share one vocabulary.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

DecisionType = Literal["approve", "edit", "reject", "allow_session"]
ToolStatus = Literal["success", "error", "rejected", "denied", "dry_run", "cancelled"]


@dataclass
class ApprovalRequest:
    """Everything a person needs to decide on one tool call."""

    call_id: str  # the model's tool-call id; decisions are keyed by it
    tool: str
    stage: str
    risk: str
    args: dict[str, Any]
    description: str
    operations: list[str]
    estimate: dict[str, Any] | None  # CostEstimate.to_dict(), or None for free calls
    account: str
    region: str
    profile: str | None
    sandbox: bool
    mode: str
    reason: str = ""  # why the policy asks (e.g. "over the per-call budget")
    allow_session_offered: bool = False  # only for write risk
    interrupt_id: str = ""
    preflight: list[dict[str, Any]] = field(default_factory=list)  # checks: warnings first

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Decision:
    type: DecisionType
    args: dict[str, Any] | None = None  # for edit
    reason: str = ""  # for reject
    who: str = "user"

    @classmethod
    def approve(cls) -> Decision:
        return cls("approve")

    @classmethod
    def reject(cls, reason: str = "") -> Decision:
        return cls("reject", reason=reason)

    @classmethod
    def edit(cls, args: dict[str, Any]) -> Decision:
        return cls("edit", args=args)

    @classmethod
    def allow_session(cls) -> Decision:
        return cls("allow_session")


@dataclass
class Event:
    """Base class; `kind` is the discriminator used in JSON output."""

    @property
    def kind(self) -> str:
        return _KINDS[type(self)]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **asdict(self)}


@dataclass
class Notice(Event):
    message: str
    level: Literal["info", "warning", "error"] = "info"


@dataclass
class TextDelta(Event):
    message_id: str
    text: str


@dataclass
class DiscardMessage(Event):
    """A retried model call replaces the partial message with this id."""

    message_id: str


@dataclass
class ToolCallStarted(Event):
    call_id: str
    name: str
    stage: str
    risk: str
    args: dict[str, Any]


@dataclass
class ApprovalRequested(Event):
    request: ApprovalRequest


@dataclass
class ToolProgress(Event):
    call_id: str
    name: str
    message: str
    done: float | None = None
    total: float | None = None
    unit: str = ""


@dataclass
class ToolCallFinished(Event):
    call_id: str
    name: str
    status: ToolStatus
    summary: str
    duration_ms: float = 0.0
    data: dict[str, Any] = field(default_factory=dict)
    error_kind: str = ""
    args: dict[str, Any] = field(default_factory=dict)
    estimate: dict[str, Any] | None = None


@dataclass
class ResourceCreated(Event):
    call_id: str
    resource: dict[str, Any]


@dataclass
class TurnFinished(Event):
    reply: str
    usage: dict[str, int] = field(default_factory=dict)
    estimated_cost_usd: float = 0.0
    cancelled: bool = False


@dataclass
class ErrorEvent(Event):
    error_kind: str
    message: str


_KINDS: dict[type, str] = {
    Notice: "notice",
    TextDelta: "text_delta",
    DiscardMessage: "discard",
    ToolCallStarted: "tool_call_started",
    ApprovalRequested: "approval_requested",
    ToolProgress: "tool_progress",
    ToolCallFinished: "tool_call_finished",
    ResourceCreated: "resource_created",
    TurnFinished: "turn_finished",
    ErrorEvent: "error",
}

AnyEvent = (
    Notice
    | TextDelta
    | DiscardMessage
    | ToolCallStarted
    | ApprovalRequested
    | ToolProgress
    | ToolCallFinished
    | ResourceCreated
    | TurnFinished
    | ErrorEvent
)
