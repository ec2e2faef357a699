"""S3 objects: preview a table's head (types, stats, row estimate), delete under a prefix."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.errors import ToolError
from tools.core.results import ToolResult
from tools.core.validators import S3PrefixUri, S3Uri, parse_s3_uri
from tools.stages.shared.listing import Strict
from tools.stages.shared.s3_reads import human_bytes, preview_s3_object
from tools.stages.shared.tabular import TabularError


class PreviewArgs(BaseModel):
    model_config = Strict
    s3_uri: S3Uri
    rows: Annotated[int, Field(ge=0, le=50, description="rows to show")] = 5


@tool(
    name="s3_preview_object",
    stage="collection",
    risk="read",
    operations=("s3:HeadObject", "s3:GetObject"),
    phrases=(
        "preview a csv in s3",
        "show the first rows",
        "what columns does this file have",
        "explore the data",
        "profile this dataset",
    ),
)
def s3_preview_object(ctx: ToolContext, args: PreviewArgs) -> ToolResult:
    """Preview a CSV/JSON/Parquet object: rows, column types and stats, row count."""
    bucket, key = parse_s3_uri(args.s3_uri)
    if not key or key.endswith("/"):
        raise ToolError(
            f"{args.s3_uri} is a prefix; name one object (see s3_list_objects).",
            kind="invalid_arguments",
        )
    try:
        preview = preview_s3_object(ctx.client("s3"), bucket, key)
    except TabularError as exc:
        raise ToolError(f"Cannot preview {args.s3_uri}: {exc}", kind="invalid_arguments") from None
    return ToolResult(
        f"{args.s3_uri}: " + preview.summary(max_rows=args.rows),
        preview.to_dict(max_rows=max(args.rows, 10)) | {"uri": args.s3_uri},
    )


class DeleteObjectsArgs(BaseModel):
    model_config = Strict
    s3_uri: Annotated[S3PrefixUri, Field(description="object key or prefix to delete")]
    max_objects: Annotated[int, Field(ge=1, le=10_000, description="refuse if more match")] = 100


@tool(
    name="s3_delete_objects",
    stage="collection",
    risk="destructive",
    operations=("s3:ListObjectsV2", "s3:DeleteObjects"),
    phrases=("delete files in s3", "remove objects under a prefix", "clean up s3"),
)
def s3_delete_objects(ctx: ToolContext, args: DeleteObjectsArgs) -> ToolResult:
    """Delete an S3 object or all objects under a prefix."""
    bucket, prefix = parse_s3_uri(args.s3_uri)
    if not prefix:
        raise ToolError(
            "Refusing to empty a whole bucket; name a prefix (s3://bucket/prefix/).",
            kind="invalid_arguments",
        )
    s3 = ctx.client("s3")
    keys: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [{"key": o["Key"], "size": int(o.get("Size", 0))} for o in page.get("Contents", [])]
        if len(keys) > args.max_objects:
            raise ToolError(
                f"More than {args.max_objects} objects match {args.s3_uri}; nothing was deleted. "
                "Raise max_objects if you really mean all of them.",
                kind="refused",
            )
    if not keys:
        return ToolResult(
            f"Nothing to delete: no objects under {args.s3_uri}.", {"rows": [], "deleted": 0}
        )
    errors: list[dict[str, Any]] = []
    for start in range(0, len(keys), 1000):
        batch = keys[start : start + 1000]
        response = s3.delete_objects(
            Bucket=bucket, Delete={"Objects": [{"Key": k["key"]} for k in batch], "Quiet": True}
        )
        errors += response.get("Errors", [])
    deleted = len(keys) - len(errors)
    total = sum(k["size"] for k in keys)
    lines = [f"Deleted {deleted} objects ({human_bytes(total)}) under s3://{bucket}/{prefix}:"]
    lines += [f"- {k['key']}" for k in keys[:20]]
    if len(keys) > 20:
        lines.append(f"... {len(keys) - 20} more not shown.")
    if errors:
        lines.append(
            f"{len(errors)} failed, e.g. {errors[0].get('Key')}: {errors[0].get('Message')}"
        )
    return ToolResult(
        "\n".join(lines), {"rows": keys[:200], "deleted": deleted, "failed": errors[:20]}
    )
