"""sagecoach's tools as MCP tools: the same JSON schema and description the model sees in the
app, a title, MCP annotations from the tool's risk, one output schema for every result, and
the `--stages` filter (the general tools, the stage catalog among them, are always served)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mcp import types

from tools.core.stages import STAGES

if TYPE_CHECKING:
    from tools.core.declaration import ToolSpec


ALWAYS_SERVED_STAGE = "general"  # list_stages, recommend_services, describe_service, cleanup, ...
CATALOG_TOOLS = ("list_stages", "recommend_services", "describe_service")
META_PREFIX = "sagecoach/"

# How a tool name's first word is written in a title.
_PRODUCT_WORDS = {
    "s3": "S3",
    "sagemaker": "SageMaker",
    "glue": "Glue",
    "athena": "Athena",
    "databrew": "DataBrew",
    "lambda": "Lambda",
    "kinesis": "Kinesis",
    "dataexchange": "Data Exchange",
    "quicksight": "QuickSight",
    "featurestore": "Feature Store",
    "cloudwatch": "CloudWatch",
    "cloudtrail": "CloudTrail",
    "apigateway": "API Gateway",
    "autopilot": "Autopilot",
    "batch": "AWS Batch",
    "jumpstart": "JumpStart",
    "clarify": "Clarify",
    "monitor": "Model Monitor",
    "pipelines": "Pipelines",
    "experiments": "Experiments",
    "session": "Session",
}

RISK_NOTES = {
    "read": "free read",
    "billable_read": "a read billed per use: sagecoach's policy may ask a person first",
    "write": "creates or changes something: sagecoach's policy may ask a person first",
    "costly": "starts compute that bills by time: sagecoach asks a person first, with a cost "
    "estimate, unless the server's mode allows it",
    "destructive": "deletes or stops something: sagecoach asks a person first unless the "
    "server runs in yes mode",
}

# Every result carries this structured content (success or not), so clients can rely on it.
OUTPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "tool": {"type": "string"},
        "call_id": {"type": "string", "description": "sagecoach's id for the call (audit log)"},
        "status": {
            "type": "string",
            "enum": ["success", "error", "rejected", "denied", "dry_run", "cancelled"],
        },
        "decision": {"type": "string", "description": "auto, approve, reject, denied, dry_run"},
        "data": {"type": "object", "description": "rows, metrics and other structured data"},
        "resources": {
            "type": "array",
            "items": {"type": "object"},
            "description": "what the call created (kind, name, ARN, hourly cost)",
        },
        "estimate": {
            "type": ["object", "null"],
            "description": "the cost estimate the policy used (USD range, basis, price date)",
        },
        "error_kind": {"type": "string"},
        "mode_that_allows": {"type": "string"},
    },
    "required": ["tool", "call_id", "status"],
}


class StagesError(ValueError):
    """A `--stages` value a person has to fix."""


def parse_stages(text: str | None) -> list[str] | None:
    """'training,deployment' or '4,7' (ids, numbers or titles) as stage ids; None for all."""
    if text is None or not text.strip():
        return None
    by_key: dict[str, str] = {}
    for sid, number, title in STAGES:
        by_key[sid] = sid
        by_key[str(number)] = sid
        by_key[title.lower()] = sid
    chosen: list[str] = []
    for raw in text.split(","):
        key = raw.strip().lower()
        if not key:
            continue
        sid = by_key.get(key)
        if sid is None:
            known = ", ".join(f"{sid} ({n})" for sid, n, _ in STAGES)
            raise StagesError(f"unknown stage '{raw.strip()}' in --stages (stages: {known})")
        if sid not in chosen:
            chosen.append(sid)
    return chosen or None


def served_specs(specs: list[ToolSpec], stages: list[str] | None) -> list[ToolSpec]:
    """The tools of the chosen stages plus the general ones; all of them when no stages."""
    if not stages:
        return list(specs)
    wanted = {*stages, ALWAYS_SERVED_STAGE}
    return [s for s in specs if s.stage in wanted]


def tool_title(spec: ToolSpec) -> str:
    """'sagemaker_start_training_job' -> 'SageMaker: start training job'."""
    first, _, rest = spec.name.partition("_")
    product = _PRODUCT_WORDS.get(first)
    if product is None or not rest:
        return spec.name.replace("_", " ").capitalize()
    return f"{product}: {rest.replace('_', ' ')}"


def annotations_for(spec: ToolSpec) -> types.ToolAnnotations:
    """MCP hints from the risk. Hints only: sagecoach's own gate decides every call."""
    reads = spec.risk in ("read", "billable_read")
    return types.ToolAnnotations(
        title=tool_title(spec),
        read_only_hint=reads,
        destructive_hint=spec.risk == "destructive",
        idempotent_hint=reads or spec.risk == "destructive",
        open_world_hint=bool(spec.operations),
    )


def description_for(spec: ToolSpec) -> str:
    ops = ", ".join(spec.operations) or "none (answers from sagecoach's own catalog)"
    return (
        f"{spec.description}\n\nRisk: {spec.risk} ({RISK_NOTES.get(spec.risk, spec.risk)}). "
        f"AWS operations: {ops}."
    )


def mcp_tool(spec: ToolSpec) -> types.Tool:
    from tools.core.declaration import tool_input_schema

    return types.Tool(
        name=spec.name,
        title=tool_title(spec),
        description=description_for(spec),
        input_schema=tool_input_schema(spec.args_model),
        output_schema=OUTPUT_SCHEMA,
        annotations=annotations_for(spec),
        _meta={
            f"{META_PREFIX}stage": spec.stage,
            f"{META_PREFIX}risk": spec.risk,
            f"{META_PREFIX}operations": list(spec.operations),
            f"{META_PREFIX}estimated": spec.estimator is not None,
        },
    )
