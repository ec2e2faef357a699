"""The errors a tool raises: explained for a person, never a traceback."""

from __future__ import annotations


class ToolError(Exception):
    """A failure explained for a person; it becomes an error result, never a crash."""

    def __init__(self, message: str, *, kind: str = "error", hint: str = "") -> None:
        self.kind = kind
        self.hint = hint
        super().__init__(message)

    @property
    def message(self) -> str:
        base = str(self.args[0]) if self.args else ""
        return f"{base} {self.hint}".strip() if self.hint else base


class NotEmulated(ToolError):
    """The sandbox (moto) does not emulate this operation."""

    def __init__(self, what: str, alternative: str = "") -> None:
        alt = f" {alternative}" if alternative else ""
        super().__init__(
            f"The sandbox does not emulate {what}; against real AWS this works.{alt}",
            kind="not_emulated",
        )
