"""What a pre-flight check says: pass, warn, fail (or skip when it could not look), one line
each with a one-line fix, gathered in a report the policy, the approval dialog, the offline
planner and the LLM all read."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Status = Literal["pass", "warn", "fail", "skip"]
MARKS: dict[str, str] = {"pass": "✓", "warn": "!", "fail": "✗", "skip": "·"}


@dataclass(frozen=True)
class CheckResult:
    """One named check about one subject (a channel, a bucket, the role, an instance type)."""

    name: str  # e.g. "data.header", "s3.exists", "iam.trust"
    status: Status
    message: str  # what was found, one line
    fix: str = ""  # what to change, one line (for warn and fail)
    subject: str = ""  # what it looked at: "train s3://b/k", "role sagecoach-x"
    detail: dict[str, Any] = field(default_factory=dict)  # structured, for cards

    def line(self) -> str:
        where = f" [{self.subject}]" if self.subject else ""
        fix = f" Fix: {self.fix}" if self.fix and self.status in ("warn", "fail") else ""
        return f"{MARKS[self.status]} {self.name}{where}: {self.message}{fix}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def passed(name: str, message: str, subject: str = "", **detail: Any) -> CheckResult:
    return CheckResult(name, "pass", message, subject=subject, detail=detail)


def warned(name: str, message: str, fix: str, subject: str = "", **detail: Any) -> CheckResult:
    return CheckResult(name, "warn", message, fix, subject, detail)


def failed(name: str, message: str, fix: str, subject: str = "", **detail: Any) -> CheckResult:
    return CheckResult(name, "fail", message, fix, subject, detail)


def skipped(name: str, message: str, subject: str = "") -> CheckResult:
    return CheckResult(name, "skip", message, subject=subject)


@dataclass
class PreflightReport:
    """Every check run before one tool call, in the order they were planned."""

    tool: str
    checks: list[CheckResult] = field(default_factory=list)
    elapsed_ms: float = 0.0

    @property
    def failures(self) -> list[CheckResult]:
        return [c for c in self.checks if c.status == "fail"]

    @property
    def warnings(self) -> list[CheckResult]:
        return [c for c in self.checks if c.status == "warn"]

    @property
    def failed(self) -> bool:
        return bool(self.failures)

    def for_model(self) -> str:
        """The refusal text: what failed and how to fix it (sent back as the tool result)."""
        lines = [
            f"Pre-flight stopped {self.tool} before anything was sent to AWS or billed "
            f"({len(self.failures)} check{'s' if len(self.failures) != 1 else ''} failed). "
            "Change the arguments or the data as each fix says, then call it again."
        ]
        lines += [c.line() for c in self.failures]
        lines += [c.line() for c in self.warnings]
        return "\n".join(lines)

    def for_approval(self) -> list[dict[str, Any]]:
        """What the approval dialog shows: warnings first, then what passed (skips last)."""
        order = {"fail": 0, "warn": 1, "pass": 2, "skip": 3}
        return [c.to_dict() for c in sorted(self.checks, key=lambda c: order[c.status])]

    def summary(self) -> str:
        counts = {s: sum(1 for c in self.checks if c.status == s) for s in MARKS}
        parts = [f"{n} {s}" for s, n in counts.items() if n]
        return f"pre-flight: {', '.join(parts) or 'nothing to check'} ({self.elapsed_ms:.0f} ms)"

    def to_dict(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "checks": [c.to_dict() for c in self.checks],
            "failed": self.failed,
            "elapsed_ms": round(self.elapsed_ms, 1),
            "summary": self.summary(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PreflightReport:
        checks = [
            CheckResult(
                c["name"],
                c["status"],
                c["message"],
                c.get("fix", ""),
                c.get("subject", ""),
                c.get("detail") or {},
            )
            for c in data.get("checks", [])
        ]
        return cls(str(data.get("tool", "")), checks, float(data.get("elapsed_ms", 0.0)))


def card_lines(checks: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(status, text) lines for an approval card: each check on one line, and for the data
    preparation plan what will be dropped and how columns are encoded, before approval."""
    out: list[tuple[str, str]] = []
    for check in checks:
        result = CheckResult(
            check["name"],
            check["status"],
            check["message"],
            check.get("fix", ""),
            check.get("subject", ""),
        )
        out.append((result.status, result.line()))
        detail = check.get("detail") or {}
        for key, title in (("dropped", "will drop"), ("encoded", "will encode")):
            if detail.get(key):
                out.append(("info", f"    {title}: " + "; ".join(detail[key])))
    return out
