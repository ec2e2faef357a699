"""The stage catalog and the session as MCP resources, and a few prompts.

Resources (read-only, no AWS calls except the session's ledger file):
- sagecoach://stages: the nine pipeline stages and their services
- sagecoach://stages/<stage>: one stage's services, when to use them, billing, and the tools
  this server serves for them
- sagecoach://services/{service}: one service (a template)
- sagecoach://session: mode, environment (SANDBOX or REAL account), spend, pending approvals
- sagecoach://session/resources: what this session created (the ledger)
"""

from __future__ import annotations

import json
from typing import Any

from mcp import types

SCHEME = "sagecoach://"
STAGES_URI = f"{SCHEME}stages"
SESSION_URI = f"{SCHEME}session"
SESSION_RESOURCES_URI = f"{SCHEME}session/resources"
SERVICE_TEMPLATE = f"{SCHEME}services/{{service}}"
MARKDOWN = "text/markdown"
JSON = "application/json"


def _catalog() -> Any:
    """The stage catalog's lookups, loaded on first use."""
    from tools.catalog import lookup

    return lookup


def resource_list() -> list[types.Resource]:
    items = [
        types.Resource(
            uri=STAGES_URI,
            name="stages",
            title="The nine ML pipeline stages",
            description="Each stage's purpose and the AWS services sagecoach recommends for it.",
            mime_type=MARKDOWN,
        )
    ]
    for st in _catalog().stages():
        items.append(
            types.Resource(
                uri=f"{STAGES_URI}/{st.id}",
                name=f"stage-{st.id}",
                title=f"{st.number}. {st.title}",
                description=st.purpose,
                mime_type=MARKDOWN,
            )
        )
    items += [
        types.Resource(
            uri=SESSION_URI,
            name="session",
            title="This sagecoach session",
            description="Mode, SANDBOX or REAL account, region, estimated spend, pending approvals.",
            mime_type=JSON,
        ),
        types.Resource(
            uri=SESSION_RESOURCES_URI,
            name="session-resources",
            title="What this session created",
            description="The resource ledger: kind, name, ARN, cost so far and per hour.",
            mime_type=JSON,
        ),
    ]
    return items


def resource_templates() -> list[types.ResourceTemplate]:
    return [
        types.ResourceTemplate(
            uri_template=SERVICE_TEMPLATE,
            name="service",
            title="One AWS ML service",
            description="Purpose, when to use it or not, billing, and sagecoach tools for it "
            "(e.g. sagecoach://services/athena).",
            mime_type=MARKDOWN,
        )
    ]


def stages_markdown(served: set[str]) -> str:
    lines = ["# The ML pipeline on AWS, stage by stage", ""]
    for st in _catalog().stages():
        names = ", ".join(_catalog().get_service(i).name for i in st.services)
        lines.append(f"{st.number}. **{st.title}** (`{st.id}`): {st.purpose} Services: {names}.")
    lines += ["", f"Tools served here: {len(served)}. Read `{STAGES_URI}/<stage>` for one stage."]
    return "\n".join(lines)


def stage_markdown(stage_id: str, served: set[str]) -> str | None:
    st = _catalog().get_stage(stage_id)
    if st is None:
        return None
    lines = [f"# {st.number}. {st.title}", "", st.purpose, ""]
    for service_id in st.services:
        lines += _service_lines(_catalog().get_service(service_id), served, stage=st.id)
    return "\n".join(lines)


def service_markdown(name: str, served: set[str]) -> str | None:
    svc = _catalog().find_service(name.replace("-", " ")) or _catalog().find_service(name)
    if svc is None:
        return None
    return "\n".join(_service_lines(svc, served))


def _service_lines(svc: Any, served: set[str], stage: str | None = None) -> list[str]:
    tools = [t for t in svc.tools if t in served]
    lines = [
        f"## {svc.name}",
        f"- what: {svc.role_in(stage) if stage else svc.purpose}",
        f"- use when: {svc.use_when}",
        f"- not when: {svc.avoid_when}",
        f"- billing: {svc.billing}",
    ]
    if tools:
        lines.append(f"- sagecoach tools: {', '.join(tools)}")
    elif svc.tools:
        lines.append(f"- sagecoach tools: not served by this server ({', '.join(svc.tools)})")
    if svc.console:
        lines.append(f"- console: {svc.console}")
    lines.append("")
    return lines


def read_catalog(uri: str, served: set[str]) -> tuple[str, str] | None:
    """(mime type, text) for a catalog URI, or None when it is not one."""
    if uri == STAGES_URI:
        return MARKDOWN, stages_markdown(served)
    prefix = f"{STAGES_URI}/"
    if uri.startswith(prefix):
        text = stage_markdown(uri[len(prefix) :], served)
        return (MARKDOWN, text) if text is not None else None
    prefix = f"{SCHEME}services/"
    if uri.startswith(prefix):
        text = service_markdown(uri[len(prefix) :], served)
        return (MARKDOWN, text) if text is not None else None
    return None


def as_json(value: Any) -> str:
    return json.dumps(value, indent=1, default=str)


# --- prompts ------------------------------------------------------------------------------------
PROMPTS: dict[str, types.Prompt] = {
    "plan_pipeline_for_csv": types.Prompt(
        name="plan_pipeline_for_csv",
        title="Plan an ML pipeline for a CSV",
        description="Look at a CSV (local or in S3) and plan the stages, services and costs "
        "before anything that bills runs.",
        arguments=[
            types.PromptArgument(
                name="path", description="Local path or s3:// URI of the CSV", required=True
            ),
            types.PromptArgument(name="target", description="The column to predict"),
            types.PromptArgument(name="goal", description="What the model is for, in your words"),
        ],
    ),
    "clean_up_session": types.Prompt(
        name="clean_up_session",
        title="Clean up this session",
        description="Show what this sagecoach session created and what it costs, then delete "
        "or stop it (each destructive step asks you first).",
        arguments=[
            types.PromptArgument(
                name="include_buckets", description="'yes' to empty and delete buckets too"
            )
        ],
    ),
    "choose_services_for_stage": types.Prompt(
        name="choose_services_for_stage",
        title="Choose services for a stage",
        description="Compare the AWS services for one pipeline stage against your constraints.",
        arguments=[
            types.PromptArgument(
                name="stage",
                description="A stage id or number, e.g. deployment or 7",
                required=True,
            ),
            types.PromptArgument(
                name="constraints", description='E.g. "no code, cheapest" or "realtime"'
            ),
        ],
    ),
}


class PromptError(ValueError):
    """A prompt name or argument the client has to fix."""


def prompt_messages(name: str, args: dict[str, str]) -> types.GetPromptResult:
    prompt = PROMPTS.get(name)
    if prompt is None:
        raise PromptError(f"unknown prompt '{name}' (prompts: {', '.join(PROMPTS)})")
    for argument in prompt.arguments or []:
        if argument.required and not str(args.get(argument.name) or "").strip():
            raise PromptError(f"prompt {name} needs the argument '{argument.name}'")
    text = _PROMPT_TEXT[name](args)
    return types.GetPromptResult(
        description=prompt.description,
        messages=[
            types.PromptMessage(role="user", content=types.TextContent(type="text", text=text))
        ],
    )


def _plan_text(args: dict[str, str]) -> str:
    path = args["path"].strip()
    target = (args.get("target") or "").strip()
    goal = (args.get("goal") or "").strip()
    want = f" I want to predict the column `{target}`." if target else ""
    why = f" Goal: {goal}." if goal else ""
    return (
        f"I have a CSV at {path}.{want}{why}\n\n"
        "Plan an ML pipeline on AWS with the sagecoach tools:\n"
        "1. Call list_stages, then recommend_services for each stage the plan needs, and say "
        "in one line why each service fits.\n"
        "2. Look at the data first: if the file is local, upload it with s3_upload_file; then "
        "preview it with s3_preview_object (columns, types, row count).\n"
        "3. Write the plan as numbered steps: the tool for each step, its risk, and the cost "
        "estimate sagecoach gives.\n"
        "Run only free reads until I have seen the plan. When you start a costly step, "
        "sagecoach asks me to approve it with its estimate; do not try to work around a refusal."
    )


def _cleanup_text(args: dict[str, str]) -> str:
    buckets = (args.get("include_buckets") or "").strip().lower() in ("yes", "y", "true", "1")
    keep = (
        "Empty and delete the buckets too."
        if buckets
        else "Keep the S3 buckets unless I say otherwise."
    )
    return (
        "Clean up what this sagecoach session created.\n"
        "1. Call session_list_resources: list each resource with what it costs so far and per "
        "hour, and what cleanup would delete or stop.\n"
        f"2. Then call session_cleanup. {keep} sagecoach asks me to approve each destructive "
        "step.\n"
        "3. Finish with what was removed and the hourly cost that stopped."
    )


def _stage_text(args: dict[str, str]) -> str:
    stage = args["stage"].strip()
    constraints = (args.get("constraints") or "").strip()
    extra = f" My constraints: {constraints}." if constraints else ""
    return (
        f"Help me choose AWS services for the pipeline stage '{stage}'.{extra}\n"
        "Call recommend_services for that stage (with my constraints), then describe_service "
        "for the top two, and compare them in a short table: what it is for, when not to use "
        "it, how it bills, and which sagecoach tools act on it."
    )


_PROMPT_TEXT = {
    "plan_pipeline_for_csv": _plan_text,
    "clean_up_session": _cleanup_text,
    "choose_services_for_stage": _stage_text,
}
