"""Amazon S3 for stage 1: buckets, and listing what is in them."""

from __future__ import annotations

import urllib.parse
from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel

from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.errors import ToolError
from tools.core.results import Resource, ToolResult
from tools.core.validators import BucketName, S3PrefixUri, parse_s3_uri
from tools.stages.shared.listing import MAX_LIST, NoArgs, Strict, cut
from tools.stages.shared.s3_reads import human_bytes

LIST_CAP = 10_000  # objects counted by s3_list_objects


def common_dir(keys: list[str]) -> str:
    parts = [k.split("/")[:-1] for k in keys]
    common: list[str] = []
    for level in zip(*parts, strict=False):
        if len(set(level)) != 1:
            break
        common.append(level[0])
    return "/".join(common) + "/" if common else ""


def s3_tagging(ctx: ToolContext) -> str:
    return urllib.parse.urlencode(ctx.aws.tag_map())


@tool(
    name="s3_list_buckets",
    stage="collection",
    risk="read",
    operations=("s3:ListBuckets",),
    phrases=("list my buckets", "what s3 buckets do I have", "show buckets"),
)
def s3_list_buckets(ctx: ToolContext, args: NoArgs) -> ToolResult:
    """List the account's S3 buckets with creation dates."""
    buckets = ctx.client("s3").list_buckets().get("Buckets", [])
    rows = [
        {"name": b["Name"], "created": str(b.get("CreationDate", ""))[:10]}
        for b in sorted(buckets, key=lambda b: b["Name"])
    ]
    if not rows:
        return ToolResult("No S3 buckets in this account.", {"rows": []})
    shown = rows[:MAX_LIST]
    text = (
        f"{len(rows)} buckets: " + ", ".join(r["name"] for r in shown) + cut(len(rows), len(shown))
    )
    return ToolResult(text, {"rows": rows})


class CreateBucketArgs(BaseModel):
    model_config = Strict
    bucket: BucketName


@tool(
    name="s3_create_bucket",
    stage="collection",
    risk="write",
    operations=("s3:CreateBucket", "s3:PutBucketTagging"),
    phrases=("create a bucket", "make a new s3 bucket", "new bucket for my data"),
)
def s3_create_bucket(ctx: ToolContext, args: CreateBucketArgs) -> ToolResult:
    """Create an S3 bucket in the session's region, tagged as created by sagecoach."""
    s3 = ctx.client("s3")
    try:
        s3.head_bucket(Bucket=args.bucket)
        raise ToolError(
            f"Bucket {args.bucket} already exists in your account; use it or pick another name.",
            kind="conflict",
        )
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in ("403", "AccessDenied", "Forbidden"):
            raise ToolError(
                f"Bucket name {args.bucket} is taken by another account (names are global); pick another.",
                kind="conflict",
            ) from None
        if code not in ("404", "NoSuchBucket", "NotFound"):
            raise
    params: dict[str, Any] = {"Bucket": args.bucket}
    if ctx.region != "us-east-1":
        params["CreateBucketConfiguration"] = {"LocationConstraint": ctx.region}
    s3.create_bucket(**params)
    s3.put_bucket_tagging(Bucket=args.bucket, Tagging={"TagSet": ctx.aws.tags()})
    return ToolResult(
        f"Created bucket s3://{args.bucket} in {ctx.region}.",
        {"bucket": args.bucket, "region": ctx.region},
        [Resource("s3_bucket", args.bucket, f"arn:aws:s3:::{args.bucket}", ctx.region)],
    )


class ListObjectsArgs(BaseModel):
    model_config = Strict
    s3_uri: S3PrefixUri


@tool(
    name="s3_list_objects",
    stage="collection",
    risk="read",
    operations=("s3:ListObjectsV2",),
    phrases=(
        "list files in s3",
        "what is in my bucket",
        "show objects under a prefix",
        "how big is this prefix",
        "ls s3 path",
    ),
)
def s3_list_objects(ctx: ToolContext, args: ListObjectsArgs) -> ToolResult:
    """List objects under an S3 prefix: count, total size and the first keys."""
    bucket, prefix = parse_s3_uri(args.s3_uri)
    rows: list[dict[str, Any]] = []
    count = total = 0
    truncated = False
    for page in (
        ctx.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    ):
        for obj in page.get("Contents", []):
            count += 1
            total += int(obj.get("Size", 0))
            if len(rows) < 200:
                rows.append(
                    {
                        "key": obj["Key"],
                        "size": int(obj.get("Size", 0)),
                        "modified": str(obj.get("LastModified", ""))[:19],
                    }
                )
            if count >= LIST_CAP:
                truncated = True
                break
        if truncated:
            break
    if count == 0:
        return ToolResult(
            f"No objects under {args.s3_uri}.", {"rows": [], "count": 0, "total_bytes": 0}
        )
    more = "+" if truncated else ""
    lines = [f"{count}{more} objects, {human_bytes(total)}{more} under {args.s3_uri}."]
    lines += [f"- {r['key']} ({human_bytes(r['size'])})" for r in rows[:20]]
    if count > 20:
        lines.append(f"... {count - 20}{more} more not shown.")
    return ToolResult(
        "\n".join(lines),
        {"rows": rows, "count": count, "total_bytes": total, "truncated": truncated},
    )
