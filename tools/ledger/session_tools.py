"""Tools over the resource ledger: what this session created, what it costs, and cleanup."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.results import ToolResult
from tools.cost.estimates import usd
from tools.ledger.cleanup import JOB_KINDS, RUNNING, already_gone, ledger_of, plan_cleanup, run_step
from tools.ledger.store import DELETED, FINISHED, STOPPED, LedgerEntry, ResourceLedger


# --- session_list_resources ------------------------------------------------------------------
class ListResourcesArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    all_sessions: Annotated[bool, Field(description="Include earlier sessions' resources")] = False
    include_ended: Annotated[bool, Field(description="Also show deleted/finished ones")] = False
    refresh: Annotated[bool, Field(description="Check jobs/endpoints in AWS first")] = True


def refresh_statuses(ctx: ToolContext, ledger: ResourceLedger, entries: list[LedgerEntry]) -> int:
    """Mark jobs that ended and endpoints that are gone; returns how many changed (≤ 30 checks)."""
    changed = 0
    sm = ctx.client("sagemaker")
    checks = [
        e for e in entries if e.active and (e.kind in JOB_KINDS or e.kind == "sagemaker_endpoint")
    ]
    for entry in checks[:30]:
        try:
            if entry.kind == "sagemaker_endpoint":
                sm.describe_endpoint(EndpointName=entry.name)
                continue
            describe, param, status_key, end_key, _ = JOB_KINDS[entry.kind]
            desc = getattr(sm, describe)(**{param: entry.name})
        except Exception as exc:
            if already_gone(exc):
                ledger.mark_entry(entry.id, DELETED)
                changed += 1
            continue
        status = str(desc.get(status_key, ""))
        if status and status not in RUNNING:
            end = desc.get(end_key) or desc.get("LastModifiedTime")
            when = (
                end.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
                if isinstance(end, datetime)
                else None
            )
            ledger.mark_entry(entry.id, STOPPED if status == "Stopped" else FINISHED, when=when)
            changed += 1
    return changed


@tool(
    name="session_list_resources",
    stage="general",
    risk="read",
    operations=("sagemaker:DescribeEndpoint", "sagemaker:DescribeTrainingJob"),
    phrases=(
        "what did you create",
        "what am I paying for",
        "list the resources of this session",
        "how much has this session cost",
        "what is still running",
    ),
)
def session_list_resources(ctx: ToolContext, args: ListResourcesArgs) -> ToolResult:
    """List what sagecoach created (this session by default), the cost so far and per hour, and what cleanup would do."""
    ledger = ledger_of(ctx)
    session = None if args.all_sessions else ctx.session_id
    entries = ledger.entries(session_id=session)
    if args.refresh and entries and refresh_statuses(ctx, ledger, entries):
        entries = ledger.entries(session_id=session)
    now = datetime.now(UTC)
    shown = entries if args.include_ended else [e for e in entries if e.active]
    live = [e for e in entries if e.active]
    hourly = sum(e.hourly_usd or 0.0 for e in live)
    so_far = sum(e.cost_so_far(now) for e in entries)
    rows = [e.to_dict(now) for e in shown]
    plan = plan_cleanup(entries)
    scope = "all sessions" if args.all_sessions else "this session"
    if not entries:
        return ToolResult(
            f"Nothing created in {scope} yet.",
            data={"rows": [], "hourly_usd": 0.0, "cost_so_far_usd": 0.0, "plan": []},
        )
    lines = []
    for entry in shown[:40]:
        cost = (
            f", {usd(entry.hourly_usd)}/h, {usd(entry.cost_so_far(now))} so far"
            if entry.hourly_usd
            else ""
        )
        status = "" if entry.active else f" [{entry.status}]"
        lines.append(f"- {entry.kind} {entry.name}{status} ({entry.hours(now):.1f} h{cost})")
    more = f"\n… {len(shown) - 40} more" if len(shown) > 40 else ""
    plan_lines = [f"- {s.describe()}" for s in plan[:30]]
    saving = sum(s.saving_usd_per_hour for s in plan if s.action != "left alone")
    text = (
        f"{len(live)} of {len(entries)} resources from {scope} still exist; they cost "
        f"{usd(hourly)}/h now (${hourly * 24:,.2f}/day), about {usd(so_far)} so far.\n"
        + ("\n".join(lines) + more if lines else "(nothing live)")
    )
    if plan:
        text += (
            f"\nsession_cleanup would ({usd(saving)}/h saved):\n"
            + "\n".join(plan_lines)
            + ("\n…" if len(plan) > 30 else "")
        )
    if getattr(ledger, "load_error", None):
        text += f"\nWarning: {ledger.load_error}"
    return ToolResult(
        text,
        data={
            "rows": rows,
            "hourly_usd": round(hourly, 6),
            "cost_so_far_usd": round(so_far, 6),
            "plan": [
                {
                    "kind": s.entry.kind,
                    "name": s.entry.name,
                    "action": s.action,
                    "saving_usd_per_hour": s.saving_usd_per_hour,
                    "reason": s.reason,
                }
                for s in plan
            ],
        },
    )


# --- session_cleanup ---------------------------------------------------------------------------
class CleanupArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    include_buckets: Annotated[
        bool, Field(description="Also empty and delete buckets sagecoach created")
    ] = False
    all_sessions: Annotated[bool, Field(description="Also earlier sessions' resources")] = False
    names: Annotated[
        list[str] | None, Field(description="Only these resource names (default: all)")
    ] = None


@tool(
    name="session_cleanup",
    stage="general",
    risk="destructive",
    operations=(
        "sagemaker:DeleteEndpoint",
        "sagemaker:DeleteEndpointConfig",
        "sagemaker:DeleteModel",
        "sagemaker:StopTrainingJob",
        "sagemaker:StopProcessingJob",
        "sagemaker:StopTransformJob",
        "sagemaker:StopHyperParameterTuningJob",
        "sagemaker:DeletePipeline",
        "sagemaker:DeleteMonitoringSchedule",
        "cloudwatch:DeleteAlarms",
        "lambda:DeleteFunction",
        "apigateway:DeleteRestApi",
        "s3:DeleteBucket",
    ),
    phrases=(
        "clean up everything",
        "delete everything you created",
        "tear it all down",
        "stop paying for this session",
        "remove the resources",
    ),
)
def session_cleanup(ctx: ToolContext, args: CleanupArgs) -> ToolResult:
    """Delete endpoints, configs, models, alarms, APIs and pipelines this session created and stop its running jobs (buckets only if asked)."""
    ledger = ledger_of(ctx)
    session = None if args.all_sessions else ctx.session_id
    plan = plan_cleanup(
        ledger.entries(session_id=session), include_buckets=args.include_buckets, names=args.names
    )
    if not plan:
        return ToolResult("Nothing to clean up.", data={"steps": [], "hourly_saving_usd": 0.0})
    outcomes = []
    for index, step in enumerate(plan, 1):
        ctx.check_cancelled()
        ctx.report(step.describe(), index - 1, len(plan), "steps")
        outcomes.append(run_step(ctx, ledger, step))
    ctx.report("cleanup done", len(plan), len(plan), "steps")
    saved = sum(
        o["saving_usd_per_hour"] for o in outcomes if o["ok"] and o["action"] != "left alone"
    )
    failed = [o for o in outcomes if not o["ok"]]
    lines = [f"- {o['kind']} {o['name']}: {o['result']}" for o in outcomes]
    head = (
        f"Cleanup ran {len(outcomes)} steps; {len(failed)} failed. "
        f"Saves {usd(saved)}/h (${saved * 24:,.2f}/day)."
    )
    if failed:
        head += " Retry session_cleanup or remove the failed ones in the console."
    return ToolResult(
        head + "\n" + "\n".join(lines),
        data={"steps": outcomes, "hourly_saving_usd": round(saved, 6), "failed": len(failed)},
    )
