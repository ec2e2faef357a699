"""Short replies after tool results, and the suggested next step.

The tool card already shows the whole result, so the reply does not repeat it: one line per
call (its outcome), the few facts worth keeping in mind (names, URIs, cost, metrics, how many
rows the table has), and one next step. Knowledge answers answer the question that was asked
(billing, when not to use ...) from the catalog data the tool returned.
"""

from __future__ import annotations

import re
from typing import Any

from agent.offline.memory import Call
from agent.offline.toolinfo import ToolInfo
from tools.core.results import format_rate

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
STAGE_TITLES = dict(STAGE_ORDER)
_STAGE_INDEX = {sid: i for i, (sid, _) in enumerate(STAGE_ORDER)}
OUTCOME_CHARS = 220
MAX_ROWS_SHOWN = 3
_RISK_ORDER = {"costly": 0, "billable_read": 1, "write": 2, "read": 3, "destructive": 4}
# Data keys worth a line of their own when the outcome line does not already say them.
_FACT_KEYS = (
    ("endpoint_name", "endpoint"),
    ("job_name", "job"),
    ("model_name", "model"),
    ("uri", "at"),
    ("s3_uri", "at"),
    ("output_s3_uri", "output"),
    ("model_data_url", "model data"),
    ("status", "status"),
    ("prediction", "prediction"),
    ("predictions", "predictions"),
)
# What usually comes next after a tool, in words the planner understands. {bucket}, {uri},
# {endpoint} ... are filled from the call's arguments and results; a template whose value is
# unknown is skipped. Tools not listed get the next pipeline stage.
FOLLOW_UPS: dict[str, tuple[str, ...]] = {
    "s3_create_bucket": ('upload data: "upload churn.csv to s3://{bucket}/raw/"',),
    "s3_upload_file": ('"preview it", then "train an xgboost model on it"',),
    "s3_preview_object": (
        'prepare it for training: "prepare it for xgboost with label <the column to predict>"',
    ),
    "prepare_training_data": ('train: "train xgboost on it"',),
    "sagemaker_start_training_job": (
        'deploy: "deploy it to a serverless endpoint" (or "tune hyperparameters")',
    ),
    "sagemaker_create_model": ('deploy: "deploy it to a serverless endpoint"',),
    "sagemaker_create_endpoint": (
        'try it: "send it 3 rows from the csv" or "invoke the endpoint with <a CSV row>"',
    ),
    "sagemaker_invoke_endpoint": (
        '"what is running and what does it cost?", then "clean up everything" when done',
    ),
    "session_list_resources": ('"clean up everything" when you are done',),
    "session_cleanup": (
        '"what is running" to check; buckets stay unless you say '
        '"clean up everything including buckets"',
    ),
}


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    end = head.rfind(". ")
    if end > limit // 3:  # whole sentences when they fit
        return head[: end + 1]
    return head.rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _upper_first(text: str) -> str:
    """Capital first letter; names keep their case (str.capitalize would lower them)."""
    return text[:1].upper() + text[1:]


# Sentences written for a model, not for the person (the tool message keeps them).
_FOR_MODEL = (
    re.compile(r"(?s)^Note: the person edited this call before it ran\..*?\n\n"),
    re.compile(r"(?i)\s*Do not retry it unchanged;[^.]*\."),
    re.compile(r"(?i)\s*(?:Deploy it|Run it|Call it|Use it) with [a-z_]+(?: or [a-z_]+)?[^.]*\."),
)
_REJECTED = re.compile(
    r"The person rejected this call to \S+ \(reason: (.*)\)\. It did not run\.", re.S
)


# A sentence that names a tool to call next ("Check it with sagemaker_describe_training_job.")
# is advice for the model; the reply gives its own next step in words.
_TOOL_SENTENCE = re.compile(
    r"(?i)(?<=[.!?])\s+[^.!?\n]*\b(?:with|use|using|call|run|via|try|see)\s+"
    r"[a-z][a-z0-9]*_[a-z0-9_]+\b[^.!?\n]*[.!?](?=\s|$)"
)


def for_person(text: str) -> str:
    """The tool message without the lines addressed to a model."""
    for pattern in _FOR_MODEL:
        text = pattern.sub("", text)
    return _TOOL_SENTENCE.sub("", text).strip()


def _first_line(text: str) -> str:
    for line in for_person(text).splitlines():
        if line.strip():
            return line.strip()
    return ""


def _data(call: Call) -> dict[str, Any]:
    artifact = call.artifact if isinstance(call.artifact, dict) else {}
    data = artifact.get("data")
    return data if isinstance(data, dict) else {}


def _resources(call: Call) -> list[dict[str, Any]]:
    artifact = call.artifact if isinstance(call.artifact, dict) else {}
    return [r for r in artifact.get("resources") or [] if isinstance(r, dict)]


_ROW_KEYS = ("name", "service", "title", "kind", "status")
_SKIP_KEYS = ("id", "session_id", "arn", "created", "created_at", "region", "account")


def _row_summary(row: dict[str, Any]) -> str:
    """A record row in a few words ("churn-ep, status InService"); '' for plain data rows."""
    keys = [k for k in row if k.endswith("_name") and k not in _SKIP_KEYS]
    keys = [k for k in _ROW_KEYS if k in row] + keys
    if not keys or keys[0] in ("kind", "status"):
        return ""  # data rows (a CSV preview) are for the table, not the reply
    parts = []
    for key in keys[:3]:
        value = row[key]
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            parts.append(f"{key} {_fmt(value)}" if parts else _fmt(value))
    return _cut(", ".join(parts), 80)


def _step_summary(steps: list[dict[str, Any]]) -> str:
    """Steps with an outcome each (cleanup): names grouped by what happened to them."""
    groups: dict[str, list[str]] = {}
    for step in steps:
        what = str(step.get("action") or step.get("result") or "done")
        name = str(step.get("name") or "")
        groups.setdefault(what, []).append(name)
    parts = []
    for what, names in groups.items():
        shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
        parts.append(f"{what}: {shown}")
    return _cut("; ".join(parts), 300)


def key_data(call_or_artifact: Any, outcome: str = "") -> list[str]:
    """A few lines from the structured result that the outcome line does not already say."""
    if isinstance(call_or_artifact, Call):
        data, resources = _data(call_or_artifact), _resources(call_or_artifact)
    else:
        art = call_or_artifact if isinstance(call_or_artifact, dict) else {}
        data = art.get("data") if isinstance(art.get("data"), dict) else {}
        resources = [r for r in art.get("resources") or [] if isinstance(r, dict)]
    lines: list[str] = []
    said = outcome.lower()
    facts = []
    for key, label in _FACT_KEYS:
        value = data.get(key)
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            text = _fmt(value)
            if text and text.lower() not in said and len(text) <= 200:
                facts.append(f"{label} {text}")
                said += " " + text.lower()
    if facts:
        lines.append(_upper_first("; ".join(facts[:3])) + ".")
    metrics = data.get("metrics") or data.get("final_metrics")
    shown = []
    if isinstance(metrics, dict):
        shown = [f"{k}={_fmt(v)}" for k, v in list(metrics.items())[:5]]
    elif isinstance(metrics, list):
        shown = [
            f"{m['name']}={_fmt(m.get('value'))}"
            for m in metrics[:5]
            if isinstance(m, dict) and "name" in m
        ]
    if shown:
        lines.append("Metrics: " + ", ".join(shown) + ".")
    series = data.get("series")
    if isinstance(series, dict) and series:
        lines.append(f"Plotted in the card: {', '.join(list(series)[:4])}.")
    billing = []
    for res in resources:
        name = str(res.get("name", ""))
        cost = res.get("hourly_usd")
        kind = (
            str(res.get("kind", "resource")).replace("_", " ").replace("sagemaker ", "SageMaker ")
        )
        if cost:
            billing.append(
                f"{kind} {name} bills about {format_rate(cost)} until it ends or is deleted"
            )
        elif name and name.lower() not in said:
            billing.append(f"created {kind} {name}")
    if billing:
        lines.append(_upper_first(_cut("; ".join(billing), 240)) + ".")
    steps = data.get("steps")
    if isinstance(steps, list) and steps and all(isinstance(x, dict) for x in steps):
        lines.append(_step_summary(steps) + ".")
    rows = data.get("rows")
    if isinstance(rows, list) and rows and all(isinstance(r, dict) for r in rows[:3]):
        shown_rows = [x for x in (_row_summary(r) for r in rows[:MAX_ROWS_SHOWN]) if x]
        count = f"{len(rows)} row{'s' if len(rows) != 1 else ''} in the table"
        if shown_rows and len(rows) > MAX_ROWS_SHOWN:
            lines.append(f"{'; '.join(shown_rows)} … ({count}).")
        elif shown_rows and str(len(rows)) not in said:
            lines.append(f"{'; '.join(shown_rows)}.")
        elif not shown_rows and len(rows) > 1:
            lines.append(f"{count[0].upper()}{count[1:]}.")
    return lines


_SANDBOX_SENTENCE = re.compile(r"(?i)[^.\n(]*\bsandbox\b[^.\n)]*[.)]?")


def sandbox_limit(content: str, said: str) -> str:
    """What the sandbox cannot show, as the tool said it ("final metrics are moto
    placeholders"), when the outcome line has not said it already."""
    if "sandbox" in said.lower():
        return ""
    m = _SANDBOX_SENTENCE.search(for_person(content or ""))
    if m is None:
        return ""
    text = m.group(0).strip(" ()").rstrip(".")
    return _upper_first(_cut(text, 200)) + "." if text else ""


def _cost_in(text: str) -> str:
    m = re.search(r"\$\d[\d,.]*\s*[–-]\s*\$\d[\d,.]*|\$\d[\d,.]*/h", text)
    return m.group(0) if m else ""


def outcome_line(call: Call, info: ToolInfo | None, request: str = "") -> str:
    """One line: what happened (or, for knowledge tools, the answer)."""
    knowledge = _knowledge_answer(call, request)
    if knowledge:
        return knowledge
    first = _first_line(call.content)
    if first.endswith(":"):  # "churn-ep answered (text/csv):" — the answer is on the next line
        rest = call.content.strip().splitlines()[1:]
        nxt = next((x.strip() for x in rest if x.strip()), "")
        first = f"{first} {nxt}" if nxt else first.rstrip(":") + "."
    if len(first) > OUTCOME_CHARS // 2:  # a long first line: its first sentence says it
        m = re.match(r"(.{20,}?[.!])\s+[A-Z(]", first)
        first = m.group(1) if m else first
    line = _cut(first, OUTCOME_CHARS) if first else f"{call.name} finished."
    cost = _cost_in(call.content)
    if cost and cost not in line:
        line += f" Cost: {cost}."
    return line


def _knowledge_answer(call: Call, request: str) -> str:
    data = _data(call)
    if call.name == "recommend_services":
        rows = [r for r in data.get("rows") or [] if isinstance(r, dict)]
        if not rows:
            return ""
        top = rows[0]
        stage = STAGE_TITLES.get(str(top.get("stage") or ""), "")
        why = "; ".join(str(x) for x in (top.get("reasons") or [])[:2])
        head = f"{stage} → {top.get('service')}" if stage else str(top.get("service"))
        also = [str(r.get("service")) for r in rows[1:4]]
        line = f"{head}" + (f" ({why})" if why else "") + "."
        if also:
            line += f" Also worth a look: {', '.join(also)}."
        return line
    if call.name == "describe_service":
        name = data.get("name")
        if not name:
            return ""
        low = request.lower()
        if re.search(r"\b(bill|billed|billing|pric|cost|charg|how much|expensive|cheap)", low):
            key, label = "billing", "Billing"
        elif re.search(
            r"\b(not|avoid|shouldn'?t|bad|wrong|downside|drawback|limitation|cons\b)", low
        ):
            key, label = "avoid_when", "Avoid it when"
        elif re.search(r"\bwhen\b", low):
            key, label = "use_when", "Use it when"
        else:
            key, label = "purpose", ""
        text = str(data.get(key) or "")
        answer = f"{name} — {label}: {text}" if label else f"{name}: {text}"
        return _cut(answer, 400)
    if call.name == "list_stages":
        rows = [r for r in data.get("rows") or [] if isinstance(r, dict)]
        if rows:
            titles = ", ".join(f"{r.get('number')}. {r.get('title')}" for r in rows)
            return f"The {len(rows)} stages: {titles}."
    return ""


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


def _values(call: Call) -> dict[str, str]:
    out: dict[str, str] = {}
    data = _data(call)
    for source in (call.args, data):
        for key, value in source.items():
            if isinstance(value, str) and value:
                out.setdefault(key, value)
    for key in ("bucket", "s3_uri", "uri"):
        uri = out.get(key, "")
        if uri.startswith("s3://"):
            out.setdefault("bucket", uri[5:].split("/", 1)[0])
    return out


def suggestion(call: Call, info: ToolInfo | None, all_tools: list[ToolInfo]) -> str:
    if call.name in ("recommend_services", "describe_service"):
        rows = [r for r in _data(call).get("rows") or [] if isinstance(r, dict)]
        tools = list(rows[0].get("available_tools") or []) if rows else []
        tools = tools or list(_data(call).get("available_tools") or [])
        by_name = {t.name: t for t in all_tools}
        for name in tools:
            t = by_name.get(name)
            if t is not None and t.phrases and t.risk != "read":
                return f'Next: "{t.phrases[0]}" (or ask "tell me about …" for details).'
    values = _values(call)
    for template in FOLLOW_UPS.get(call.name, ()):
        try:
            return "Next: " + template.format(**values)
        except KeyError:
            continue
    return next_stage_hint(info.stage if info else "", all_tools)


def _preflight_failures(call: Call) -> list[dict[str, Any]]:
    artifact = call.artifact if isinstance(call.artifact, dict) else {}
    report = artifact.get("preflight") or {}
    return [c for c in report.get("checks", []) if c.get("status") == "fail"]


def preflight_reply(call: Call) -> list[str]:
    """A call pre-flight stopped: each failed check, then the fixes once each."""
    failures = _preflight_failures(call)
    lines = [f"✗ Pre-flight stopped {call.name}: nothing ran and nothing was billed."]
    lines += [f"  ✗ {c['name']}: {_cut(c['message'], 240)}" for c in failures]
    lines += [f"  Fix: {fix}" for fix in dict.fromkeys(c.get("fix", "") for c in failures) if fix]
    return lines


def result_reply(
    calls: list[Call],
    tools: dict[str, ToolInfo],
    all_tools: list[ToolInfo],
    request: str = "",
) -> str:
    """The reply once this turn's tool calls have results: short, no repeat of the cards."""
    parts: list[str] = []
    knowledge = False
    for call in calls:
        info = tools.get(call.name)
        if call.status == "success":
            line = outcome_line(call, info, request)
            limit = sandbox_limit(call.content, line)
            knowledge = knowledge or (
                info is not None
                and info.stage == "general"
                and (call.name in ("recommend_services", "describe_service", "list_stages"))
            )
            parts.append(f"✓ {line}")
            if call.name not in ("recommend_services", "describe_service", "list_stages"):
                parts.extend(f"  {x}" for x in key_data(call, line))
            if limit:
                parts.append(f"  {limit}")
        elif call.status == "rejected":
            m = _REJECTED.search(call.content or "")
            reason = m.group(1).strip() if m else ""
            why = f" ({reason})" if reason and reason != "no reason given" else ""
            parts.append(f"✗ {call.name} did not run: you rejected it{why}.")
        elif call.status == "dry_run":
            parts.append(
                f"◦ {call.name} would run (dry-run; nothing was sent): "
                f"{_cut(for_person(call.content), 300)}"
            )
        elif call.status == "denied" and _preflight_failures(call):
            parts.extend(preflight_reply(call))
        elif call.status == "denied":
            parts.append(
                f"✗ {call.name} is not allowed here: {_cut(for_person(call.content), 300)}"
            )
        else:
            parts.append(f"✗ {call.name} failed: {_cut(for_person(call.content), 300)}")
    last = calls[-1] if calls else None
    if last is not None and last.status == "success":
        hint = suggestion(last, tools.get(last.name), all_tools)
        if hint:
            parts.append(hint)
    elif last is not None and last.status == "error":
        parts.append("Fix the value it names and ask again, or use /tool NAME key=value.")
    if knowledge:
        parts.append("(From sagecoach's stage catalog; offline planner — no LLM.)")
    return "\n".join(parts)
