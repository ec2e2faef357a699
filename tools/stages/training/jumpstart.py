"""JumpStart: list pretrained models from the SageMaker SDK's JumpStart model manifest.

The manifest lives in the region's JumpStart content bucket (named in sagemaker-core's
region_config.json); the SDK honours AWS_JUMPSTART_MANIFEST_LOCAL_ROOT_DIR_OVERRIDE for a
local copy, and so does this tool. When neither can be read, it says so: it never invents a list.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.results import ToolResult

MANIFEST_KEY = "models_manifest.json"
LOCAL_OVERRIDE_ENV = "AWS_JUMPSTART_MANIFEST_LOCAL_ROOT_DIR_OVERRIDE"


def content_bucket(region: str) -> str:
    """The region's JumpStart content bucket, from the SDK's bundled region config."""
    try:
        from importlib import resources

        config = json.loads(
            resources.files("sagemaker.core.jumpstart").joinpath("region_config.json").read_text()
        )
        bucket = (config.get(region) or {}).get("content_bucket")
        if bucket:
            return str(bucket)
    except Exception:
        pass
    return f"jumpstart-cache-prod-{region}"


def split_model_id(model_id: str) -> tuple[str, str]:
    """(framework, task) the way the SDK reads them from a model id."""
    parts = model_id.split("-")
    if len(parts) < 3:
        return "", ""
    return parts[0], parts[1]


def _version_key(version: str) -> tuple:
    out: list[Any] = []
    for piece in version.replace("-", ".").split("."):
        out.append((0, int(piece)) if piece.isdigit() else (1, piece))
    return tuple(out)


class ManifestUnavailable(Exception):
    pass


def load_manifest(ctx: ToolContext) -> tuple[list[dict[str, Any]], str]:
    """The manifest entries and where they came from; ManifestUnavailable when unreachable."""
    local = os.environ.get(LOCAL_OVERRIDE_ENV)
    if local:
        path = Path(local).expanduser() / MANIFEST_KEY
        try:
            return json.loads(path.read_text()), str(path)
        except (OSError, ValueError) as exc:
            raise ManifestUnavailable(f"{path} could not be read ({exc})") from None
    bucket = content_bucket(ctx.region)
    where = f"s3://{bucket}/{MANIFEST_KEY}"
    try:
        body = ctx.client("s3").get_object(Bucket=bucket, Key=MANIFEST_KEY)["Body"].read()
        return json.loads(body), where
    except Exception as exc:
        from tools.aws.guard import ReadOnlyViolation

        if isinstance(exc, ReadOnlyViolation):
            raise
        reason = getattr(exc, "response", {}).get("Error", {}).get("Code") or type(exc).__name__
        raise ManifestUnavailable(f"{where} could not be read ({reason})") from None


class ListJumpStartArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    task: Annotated[str | None, Field(description="e.g. llm, textgeneration, ic, tc, od")] = None
    framework: Annotated[str | None, Field(description="e.g. huggingface, pytorch, meta")] = None
    text: Annotated[str | None, Field(description="words in the id or keywords")] = None
    max_results: Annotated[int, Field(ge=1, le=200)] = 30


@tool(
    name="jumpstart_list_models",
    stage="training",
    risk="read",
    operations=("s3:GetObject",),
    phrases=(
        "list jumpstart models",
        "find a pretrained model",
        "which foundation models can I fine-tune",
        "search jumpstart for llama",
    ),
)
def jumpstart_list_models(ctx: ToolContext, args: ListJumpStartArgs) -> ToolResult:
    """List JumpStart pretrained models for the region (filter by task, framework or text)."""
    try:
        entries, source = load_manifest(ctx)
    except ManifestUnavailable as exc:
        where = (
            "the sandbox has no network" if ctx.aws.is_sandbox else "check network and S3 access"
        )
        return ToolResult(
            f"The JumpStart model manifest cannot be reached: {exc}; {where}. "
            f"No list is shown rather than a guessed one. To browse offline, set {LOCAL_OVERRIDE_ENV} "
            f"to a folder holding {MANIFEST_KEY}; or browse JumpStart in SageMaker Studio.",
            {"available": False, "rows": [], "reason": str(exc)},
        )
    latest: dict[str, dict[str, Any]] = {}
    for entry in entries:
        model_id = str(entry.get("model_id", ""))
        if not model_id:
            continue
        known = latest.get(model_id)
        if known is None or _version_key(str(entry.get("version", ""))) > _version_key(
            str(known.get("version", ""))
        ):
            latest[model_id] = entry
    rows = []
    text = (args.text or "").lower()
    for model_id, entry in sorted(latest.items()):
        framework, task = split_model_id(model_id)
        keywords = [str(k) for k in entry.get("search_keywords") or []]
        if args.task and task.lower() != args.task.lower():
            continue
        if args.framework and framework.lower() != args.framework.lower():
            continue
        if text and text not in model_id.lower() and not any(text in k.lower() for k in keywords):
            continue
        rows.append(
            {
                "model_id": model_id,
                "version": entry.get("version"),
                "framework": framework,
                "task": task,
                "keywords": keywords[:8],
            }
        )
    total = len(rows)
    shown = rows[: args.max_results]
    if not shown:
        return ToolResult(
            f"No JumpStart models match in {ctx.region} ({len(latest)} models in the manifest).",
            {"available": True, "rows": [], "total": 0, "source": source},
        )
    lines = [f"{total} JumpStart models match in {ctx.region}:"]
    lines += [f"{r['model_id']} (v{r['version']}, task {r['task']})" for r in shown]
    if total > len(shown):
        lines.append(f"(first {len(shown)} of {total} shown; narrow with task/framework/text)")
    return ToolResult(
        "\n".join(lines),
        {"available": True, "rows": shown, "total": total, "source": source},
    )
