"""What the stage tools share when they answer with lists: strict argument models, a row cap
for the model, and the line that says how many rows were cut.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

MAX_LIST = 50  # rows shown to the model
Strict = ConfigDict(extra="forbid")


def cut(total: int, shown: int, what: str = "more") -> str:
    return f" ... {total - shown} {what} not shown." if total > shown else ""


# For tools that take no arguments. No docstring: pydantic would put it in the tool's schema.
class NoArgs(BaseModel):
    model_config = Strict
