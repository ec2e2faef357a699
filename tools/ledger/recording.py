"""How a tool writes to the resource ledger while it runs, before its result is returned."""

from __future__ import annotations

from tools.core.context import ToolContext
from tools.core.results import Resource
from tools.ledger.store import DELETED


def record_now(ctx: ToolContext, *resources: Resource) -> None:
    """Record at once, so a later failure in the same tool cannot orphan what was created."""
    if ctx.ledger is None:
        return
    for resource in resources:
        resource.region = resource.region or ctx.region
        ctx.ledger.record(resource, session_id=ctx.session_id)


def ledger_mark(ctx: ToolContext, kind: str, name: str, status: str = DELETED) -> None:
    """Mark a resource deleted (or another status) in the ledger, if the context has one."""
    mark = getattr(ctx.ledger, "mark", None)
    if callable(mark):
        try:
            mark(kind, name, status, region=ctx.region)
        except Exception:
            pass
