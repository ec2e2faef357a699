"""What a tool gives back: a result for the model and the UI, the resources it created, a
cost estimate with its arithmetic, and progress events.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class CostEstimate:
    """A range in USD with the arithmetic behind it, so a person can check it."""

    low_usd: float | None
    high_usd: float | None
    basis: str
    source: str = "bundled price table"
    price_date: str = ""
    hourly_usd: float | None = None  # for resources that bill until deleted
    notes: tuple[str, ...] = ()

    @property
    def known(self) -> bool:
        return self.high_usd is not None

    @classmethod
    def unknown(cls, basis: str, notes: Iterable[str] = ()) -> CostEstimate:
        """No price known: still asks for approval, never treated as free."""
        return cls(None, None, basis, source="no price known", notes=tuple(notes))

    def summary(self) -> str:
        if not self.known:
            return f"no price known ({self.basis})"
        low, high = self.low_usd or 0.0, self.high_usd or 0.0
        if abs(high - low) < 0.005 and (high >= 0.005 or (low > 0) == (high > 0)):
            amount = _usd(high)
        else:
            amount = f"{_usd(low)}–{_usd(high)}"
        extra = f"; ${self.hourly_usd:,.3f}/h until deleted" if self.hourly_usd else ""
        date = f", prices as of {self.price_date}" if self.price_date else ""
        return f"{amount} ({self.basis}{extra}; {self.source}{date})"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["notes"] = list(self.notes)
        data["known"] = self.known
        data["summary"] = self.summary()
        return data


def format_usd(value: float) -> str:
    """Dollars to the cent; a real cost under half a cent shows as <$0.01, never $0.00 (the
    one way every screen and message writes an amount)."""
    if 0 < value < 0.005:
        return "<$0.01"
    return f"${value:,.2f}"


def format_rate(value: float, per: str = "/h") -> str:
    """An hourly (or other) rate: three decimals, and <$0.01 for a real rate under half a cent."""
    if 0 < value < 0.005:
        return f"<$0.01{per}"
    return f"${value:,.3f}{per}"


_usd = format_usd


@dataclass
class Resource:
    """Something a tool created that may bill or need cleaning up."""

    kind: str  # e.g. "s3_bucket", "sagemaker_endpoint", "sagemaker_training_job"
    name: str
    arn: str | None = None
    region: str | None = None
    hourly_usd: float | None = None
    created_at: str = field(default_factory=utc_now)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ToolResult:
    """Short text for the model, structured data for the UI, resources for the ledger."""

    text: str
    data: dict[str, Any] = field(default_factory=dict)
    resources: list[Resource] = field(default_factory=list)

    def artifact(self) -> dict[str, Any]:
        return {"data": self.data, "resources": [r.to_dict() for r in self.resources]}


@dataclass(frozen=True)
class ProgressEvent:
    tool: str
    message: str
    done: float | None = None
    total: float | None = None
    unit: str = ""  # "bytes", "rows", "" for status only
