"""Readable replies after tool results, and the next-stage suggestion."""

from __future__ import annotations

from typing import Any

from agent.offline.memory import Call
from agent.offline.toolinfo import ToolInfo

STAGE_ORDER = (
    ("collection", "Data collection"),
    ("preparation", "Data preparation & exploration"),
    ("features", "Feature engineering"),
    ("training", "Model training"),
    ("tuning", "Hyperparameter tuning"),
    ("evaluation", "Model evaluation"),
    ("deployment", "Model deployment"),
    ("monitoring", "Model monitoring"),
    ("orchestration", "Automation & orchestration"),
)
_STAGE_INDEX = {sid: i for i, (sid, _) in enumerate(STAGE_ORDER)}
MAX_TEXT = 1500
_RISK_ORDER = {"costly": 0, "billable_read": 1, "write": 2, "read": 3, "destructive": 4}


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def key_data(artifact: Any) -> list[str]:
    """A few lines from the structured result: row counts, metrics, resources."""
    if not isinstance(artifact, dict):
        return []
    lines: list[str] = []
    data = artifact.get("data") or {}
    if isinstance(data, dict):
        metrics = data.get("metrics") or data.get("final_metrics")
        if isinstance(metrics, dict) and metrics:
            shown = ", ".join(f"{k}={_fmt(v)}" for k, v in list(metrics.items())[:6])
            lines.append(f"Metrics: {shown}")
        elif isinstance(metrics, list) and metrics:
            parts = []
            for m in metrics[:6]:
                if isinstance(m, dict) and "name" in m:
                    parts.append(f"{m['name']}={_fmt(m.get('value'))}")
            if parts:
                lines.append("Metrics: " + ", ".join(parts))
        rows = data.get("rows")
        if isinstance(rows, list) and rows:
            lines.append(f"{len(rows)} row(s) in the table view.")
        status = data.get("status")
        if isinstance(status, str) and status:
            lines.append(f"Status: {status}")
    for res in artifact.get("resources") or []:
        if not isinstance(res, dict):
            continue
        cost = res.get("hourly_usd")
        bill = f" — bills about ${cost:,.3f}/h until deleted" if cost else ""
        lines.append(
            f"Created {str(res.get('kind', 'resource')).replace('_', ' ')} {res.get('name')}{bill}."
        )
    return lines


def next_stage_hint(stage: str, tools: list[ToolInfo]) -> str:
    if stage not in _STAGE_INDEX:
        return ""
    i = _STAGE_INDEX[stage]
    if i + 1 >= len(STAGE_ORDER):
        return (
            "That completes the pipeline stages; `session resources` shows what is still running."
        )
    sid, title = STAGE_ORDER[i + 1]
    candidates = sorted(
        (t for t in tools if t.stage == sid and t.phrases),
        key=lambda t: (_RISK_ORDER.get(t.risk, 5), not t.name.startswith("sagemaker_"), t.name),
    )
    example = f' — for example "{candidates[0].phrases[0]}"' if candidates else ""
    return f"Next stage: {i + 2}. {title}{example}."


def result_reply(calls: list[Call], tools: dict[str, ToolInfo], all_tools: list[ToolInfo]) -> str:
    """The reply once this turn's tool calls have results."""
    parts: list[str] = []
    for call in calls:
        content = call.content.strip()
        if len(content) > MAX_TEXT:
            content = content[:MAX_TEXT].rstrip() + " … (cut)"
        if call.status == "success":
            parts.append(f"✓ {call.name}: {content}" if content else f"✓ {call.name} finished.")
            parts.extend(key_data(call.artifact))
        elif call.status == "rejected":
            parts.append(f"✗ {call.name} was not run: {content}")
        else:
            parts.append(f"✗ {call.name} failed: {content}")
    last = calls[-1] if calls else None
    if last is not None and last.status == "success":
        info = tools.get(last.name)
        hint = next_stage_hint(info.stage if info else "", all_tools)
        if hint:
            parts.append(hint)
    elif last is not None and last.status == "error":
        parts.append("Fix the value it names and ask again, or use /tool NAME key=value.")
    return "\n".join(parts)
