"""Stage 1, data collection: S3, the Glue Data Catalog and Glue ETL, Kinesis, Data Exchange."""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
from pathlib import Path
from typing import Annotated, Any, Literal

from botocore.exceptions import ClientError
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from tools import tabular
from tools.base import CostEstimate, NotEmulated, Resource, ToolContext, ToolError, ToolResult, tool
from tools.local_paths import LOCAL_PATH, check_local_read, walk_upload
from tools.pricing import estimate_units, unit_price
from tools.roles import resolve_role
from tools.validators import (
    BucketName,
    GlueName,
    LocalFile,
    LocalPath,
    S3PrefixUri,
    S3Uri,
    check_role_arn,
    parse_s3_uri,
)

MAX_LIST = 50  # rows shown to the model
LIST_CAP = 10_000  # objects counted by s3_list_objects
MULTIPART_THRESHOLD = 64 * 1024 * 1024
MULTIPART_CHUNK = 16 * 1024 * 1024

Strict = ConfigDict(extra="forbid")


def _check_glue_role(value: str) -> str:
    """Glue takes an IAM role name or ARN."""
    if value.startswith("arn:"):
        return check_role_arn(value)
    if not re.match(r"^[\w+=,.@-]{1,64}$", value):
        raise ValueError(f"'{value}' is not an IAM role name or ARN")
    return value


GlueRole = Annotated[
    str,
    AfterValidator(_check_glue_role),
    Field(description="IAM role name or ARN Glue assumes; default: the session's role"),
]
human = tabular.human_bytes


def _cut(total: int, shown: int, what: str = "more") -> str:
    return f" ... {total - shown} {what} not shown." if total > shown else ""


def _common_dir(keys: list[str]) -> str:
    parts = [k.split("/")[:-1] for k in keys]
    common: list[str] = []
    for level in zip(*parts, strict=False):
        if len(set(level)) != 1:
            break
        common.append(level[0])
    return "/".join(common) + "/" if common else ""


def _s3_tagging(ctx: ToolContext) -> str:
    return urllib.parse.urlencode(ctx.aws.tag_map())


# ===================================================================== S3


class NoArgs(BaseModel):
    model_config = Strict


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
        f"{len(rows)} buckets: " + ", ".join(r["name"] for r in shown) + _cut(len(rows), len(shown))
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
    lines = [f"{count}{more} objects, {human(total)}{more} under {args.s3_uri}."]
    lines += [f"- {r['key']} ({human(r['size'])})" for r in rows[:20]]
    if count > 20:
        lines.append(f"... {count - 20}{more} more not shown.")
    return ToolResult(
        "\n".join(lines),
        {"rows": rows, "count": count, "total_bytes": total, "truncated": truncated},
    )


class UploadArgs(BaseModel):
    model_config = Strict
    local_path: Annotated[LocalPath, Field(description="local file or folder")]
    s3_uri: Annotated[
        S3PrefixUri,
        Field(description="key, or prefix ending in /"),
    ]
    _files: list[tuple[Path, str]] = []
    _size: int = 0

    @model_validator(mode="after")
    def _measure(self) -> UploadArgs:
        """Walk the files once (bounded: tools/local_paths.py) so the size is known before
        approval; hidden and credential files in a folder are left out."""
        root = Path(self.local_path)
        _, key = parse_s3_uri(self.s3_uri)
        if root.is_file():
            target = key + root.name if (not key or key.endswith("/")) else key
            self._files = [(root, target)]
            self._size = root.stat().st_size
            return self
        prefix = key if (not key or key.endswith("/")) else key + "/"
        files, size = walk_upload(root, prefix)
        if not files:
            raise ValueError(f"folder '{self.local_path}' has no files to upload")
        self._files = files
        self._size = size
        return self

    @property
    def files(self) -> list[tuple[Path, str]]:
        return self._files

    @property
    def size_bytes(self) -> int:
        return self._size


def _upload_estimate(args: UploadArgs, region: str) -> CostEstimate:
    """Write risk has no price gate; this shows the size in the approval and the storage cost."""
    gb = args.size_bytes / 1024**3
    quote = unit_price("s3_gb_month", region)
    basis = f"{len(args.files)} file(s), {human(args.size_bytes)} to upload"
    if quote is None:
        return CostEstimate.unknown(basis)
    monthly = gb * quote.usd
    return CostEstimate(
        0.0,
        round(monthly, 6),
        f"{basis}; storage {human(args.size_bytes)} × ${quote.usd}/GB-month",
        quote.source,
        quote.price_date,
        notes=("upload requests cost fractions of a cent",),
    )


@tool(
    name="s3_upload_file",
    stage="collection",
    risk="write",
    operations=(
        "s3:PutObject",
        "s3:CreateMultipartUpload",
        "s3:UploadPart",
        "s3:CompleteMultipartUpload",
    ),
    estimator=_upload_estimate,
    phrases=(
        "upload a file to s3",
        "put my csv in s3",
        "copy this folder to s3",
        "upload churn.csv",
    ),
)
def s3_upload_file(ctx: ToolContext, args: UploadArgs) -> ToolResult:
    """Upload a local file or folder to S3 (multipart for large files), with progress."""
    from boto3.s3.transfer import TransferConfig

    bucket, _ = parse_s3_uri(args.s3_uri)
    s3 = ctx.client("s3")
    config = TransferConfig(
        multipart_threshold=MULTIPART_THRESHOLD,
        multipart_chunksize=MULTIPART_CHUNK,
        max_concurrency=4,
    )
    total = args.size_bytes
    done = [0]
    lock = threading.Lock()

    def progress(amount: int) -> None:
        ctx.check_cancelled()  # raising here aborts the transfer
        with lock:
            done[0] += amount
            sent = done[0]
        ctx.report(f"uploading to s3://{bucket}", sent, total, "bytes")

    extra = {"Tagging": _s3_tagging(ctx)}
    uploaded = []
    for path, key in args.files:
        s3.upload_file(str(path), bucket, key, ExtraArgs=extra, Callback=progress, Config=config)
        uploaded.append(
            {
                "key": key,
                "size": path.stat().st_size,
                "uri": f"s3://{bucket}/{key}",
                "multipart": path.stat().st_size >= MULTIPART_THRESHOLD,
            }
        )
    first = uploaded[0]["uri"]
    if len(uploaded) == 1:
        text = f"Uploaded {args.local_path} ({human(total)}) to {first}."
    else:
        text = f"Uploaded {len(uploaded)} files ({human(total)}) to s3://{bucket}/{_common_dir([u['key'] for u in uploaded])}."
    return ToolResult(
        text,
        {"rows": uploaded[:200], "files": len(uploaded), "total_bytes": total, "uri": first},
        [
            Resource(
                "s3_object" if len(uploaded) == 1 else "s3_prefix",
                first,
                None,
                ctx.region,
                extra={"bytes": total, "files": len(uploaded)},
            )
        ],
    )


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
        preview = tabular.preview_s3_object(ctx.client("s3"), bucket, key)
    except tabular.TabularError as exc:
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
    lines = [f"Deleted {deleted} objects ({human(total)}) under s3://{bucket}/{prefix}:"]
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


# ============================================================ Glue Data Catalog


class CreateDatabaseArgs(BaseModel):
    model_config = Strict
    database: GlueName
    description: str = ""


@tool(
    name="glue_create_database",
    stage="collection",
    risk="write",
    operations=("glue:CreateDatabase",),
    phrases=("create a glue database", "new data catalog database", "catalog database for athena"),
)
def glue_create_database(ctx: ToolContext, args: CreateDatabaseArgs) -> ToolResult:
    """Create a Glue Data Catalog database (what Athena calls a schema)."""
    ctx.client("glue").create_database(
        DatabaseInput={"Name": args.database, "Description": args.description},
        Tags=ctx.aws.tag_map(),
    )
    arn = f"arn:aws:glue:{ctx.region}:{_account(ctx)}:database/{args.database}"
    return ToolResult(
        f"Created Glue database {args.database}.",
        {"database": args.database},
        [Resource("glue_database", args.database, arn, ctx.region)],
    )


def _account(ctx: ToolContext) -> str:
    try:
        return ctx.aws.identity.account
    except Exception:
        return "unknown"


class CreateCrawlerArgs(BaseModel):
    model_config = Strict
    name: GlueName
    role: GlueRole | None = None
    database: GlueName
    s3_targets: Annotated[
        list[S3PrefixUri], Field(min_length=1, max_length=20, description="S3 prefixes to crawl")
    ]
    schedule: Annotated[str, Field(description="cron(...); empty: on demand")] = ""

    @model_validator(mode="after")
    def _check_schedule(self) -> CreateCrawlerArgs:
        if self.schedule and not re.match(r"^cron\(.+\)$", self.schedule.strip()):
            raise ValueError("schedule must look like cron(0 2 * * ? *)")
        return self


@tool(
    name="glue_create_crawler",
    stage="collection",
    risk="write",
    operations=("glue:CreateCrawler",),
    phrases=("create a crawler", "catalog my s3 data", "crawl s3 to make tables"),
)
def glue_create_crawler(ctx: ToolContext, args: CreateCrawlerArgs) -> ToolResult:
    """Create a Glue crawler that catalogs S3 prefixes into a database."""
    params: dict[str, Any] = {
        "Name": args.name,
        "Role": resolve_role(ctx, args.role, "Glue crawlers", field="role"),
        "DatabaseName": args.database,
        "Targets": {"S3Targets": [{"Path": uri} for uri in args.s3_targets]},
        "Tags": ctx.aws.tag_map(),
    }
    if args.schedule:
        params["Schedule"] = args.schedule
    ctx.client("glue").create_crawler(**params)
    arn = f"arn:aws:glue:{ctx.region}:{_account(ctx)}:crawler/{args.name}"
    when = f"on schedule {args.schedule}" if args.schedule else "on demand (glue_start_crawler)"
    return ToolResult(
        f"Created crawler {args.name} over {', '.join(args.s3_targets)} into database {args.database}; runs {when}.",
        {"crawler": args.name, "database": args.database, "targets": args.s3_targets},
        [Resource("glue_crawler", args.name, arn, ctx.region, extra={"request": params})],
    )


class StartCrawlerArgs(BaseModel):
    model_config = Strict
    name: GlueName
    expected_minutes: Annotated[int, Field(ge=1, le=1440, description="for the estimate")] = 15


def _crawler_estimate(args: StartCrawlerArgs, region: str) -> CostEstimate:
    minutes = max(args.expected_minutes, 10)  # 10-minute minimum per run
    return estimate_units(
        "glue_crawler_dpu_hour",
        10 / 60,
        2 * minutes / 60,
        region,
        f"crawler DPU-hours: 1 DPU × 10 min minimum to ~2 DPU × {minutes} min (AWS picks the DPUs)",
    )


@tool(
    name="glue_start_crawler",
    stage="collection",
    risk="costly",
    operations=("glue:StartCrawler",),
    estimator=_crawler_estimate,
    phrases=("run the crawler", "start crawling", "start glue crawler"),
)
def glue_start_crawler(ctx: ToolContext, args: StartCrawlerArgs) -> ToolResult:
    """Start a Glue crawler run (billed in DPU-hours, 10-minute minimum)."""
    glue = ctx.client("glue")
    glue.start_crawler(Name=args.name)
    state = glue.get_crawler(Name=args.name)["Crawler"].get("State", "")
    note = (
        " (the sandbox marks the run but catalogs nothing; use glue_create_table)"
        if ctx.aws.is_sandbox
        else ""
    )
    return ToolResult(
        f"Crawler {args.name} started; state {state}. Check with glue_get_crawler.{note}",
        {"crawler": args.name, "state": state},
    )


class CrawlerNameArgs(BaseModel):
    model_config = Strict
    name: GlueName


@tool(
    name="glue_get_crawler",
    stage="collection",
    risk="read",
    operations=("glue:GetCrawler",),
    phrases=("crawler status", "is the crawler done", "show crawler"),
)
def glue_get_crawler(ctx: ToolContext, args: CrawlerNameArgs) -> ToolResult:
    """Show a crawler's state, last run and targets."""
    crawler = ctx.client("glue").get_crawler(Name=args.name)["Crawler"]
    last = crawler.get("LastCrawl") or {}
    targets = [t["Path"] for t in crawler.get("Targets", {}).get("S3Targets", [])]
    data = {
        "name": args.name,
        "state": crawler.get("State"),
        "database": crawler.get("DatabaseName"),
        "targets": targets,
        "last_status": last.get("Status"),
        "last_error": last.get("ErrorMessage"),
        "schedule": (crawler.get("Schedule") or {}).get("ScheduleExpression"),
    }
    text = f"Crawler {args.name}: {data['state']}; database {data['database']}; targets {', '.join(targets)}."
    if last:
        text += (
            f" Last run: {last.get('Status')}"
            + (f" ({last.get('ErrorMessage')})" if last.get("ErrorMessage") else "")
            + "."
        )
    return ToolResult(text, data)


class CreateTableArgs(BaseModel):
    model_config = Strict
    database: GlueName
    table: GlueName
    s3_uri: Annotated[S3Uri, Field(description="data file or folder")]
    columns: Annotated[dict[str, str], Field(description="name: hive type; default inferred")] = {}


@tool(
    name="glue_create_table",
    stage="collection",
    risk="write",
    operations=("s3:ListObjectsV2", "s3:GetObject", "glue:CreateTable"),
    phrases=(
        "create a table over my csv",
        "make an athena table",
        "register s3 data in the catalog",
        "create glue table without crawler",
    ),
)
def glue_create_table(ctx: ToolContext, args: CreateTableArgs) -> ToolResult:
    """Create a Glue table over an S3 folder, columns inferred from its data."""
    bucket, key = parse_s3_uri(args.s3_uri)
    s3 = ctx.client("s3")
    if key and not key.endswith("/"):
        sample_key, folder = key, key.rsplit("/", 1)[0] + "/" if "/" in key else ""
    else:
        folder = key
        page = s3.list_objects_v2(Bucket=bucket, Prefix=folder, MaxKeys=100)
        data_keys = [
            o["Key"]
            for o in page.get("Contents", [])
            if not o["Key"].endswith("/") and o.get("Size", 0) > 0
        ]
        if not data_keys:
            raise ToolError(f"No data files under {args.s3_uri}.", kind="not_found")
        sample_key = data_keys[0]
    if not folder:
        raise ToolError(
            "Put the data in a folder (s3://bucket/folder/file.csv): a table's location is a prefix.",
            kind="invalid_arguments",
        )
    try:
        preview = tabular.preview_s3_object(s3, bucket, sample_key, max_rows=500)
    except tabular.TabularError as exc:
        raise ToolError(
            f"Cannot read s3://{bucket}/{sample_key}: {exc}", kind="invalid_arguments"
        ) from None
    fmt = tabular.storage_format(preview.format, quoted=preview.quoted)
    if args.columns:
        columns = [
            {"Name": tabular.glue_column_name(n), "Type": t} for n, t in args.columns.items()
        ]
    else:
        columns = tabular.glue_columns(preview.columns, preview.format)
    location = f"s3://{bucket}/{folder}"
    table_input = {
        "Name": args.table,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {**fmt.table_params, "EXTERNAL": "TRUE", "created_by": "sagecoach"},
        "StorageDescriptor": {
            "Columns": columns,
            "Location": location,
            "InputFormat": fmt.input_format,
            "OutputFormat": fmt.output_format,
            "SerdeInfo": {"SerializationLibrary": fmt.serde, "Parameters": fmt.serde_params},
        },
    }
    ctx.client("glue").create_table(DatabaseName=args.database, TableInput=table_input)
    cols = ", ".join(f"{c['Name']} {c['Type']}" for c in columns[:30])
    arn = f"arn:aws:glue:{ctx.region}:{_account(ctx)}:table/{args.database}/{args.table}"
    return ToolResult(
        f"Created table {args.database}.{args.table} over {location} ({preview.format}): {cols}"
        + _cut(len(columns), 30, "columns")
        + " Every file in that folder is part of the table.",
        {"database": args.database, "table": args.table, "location": location, "columns": columns},
        [Resource("glue_table", f"{args.database}.{args.table}", arn, ctx.region)],
    )


class DatabaseArgs(BaseModel):
    model_config = Strict
    database: GlueName


@tool(
    name="glue_list_tables",
    stage="collection",
    risk="read",
    operations=("glue:GetTables",),
    phrases=("list tables", "what tables are in the catalog", "show glue tables"),
)
def glue_list_tables(ctx: ToolContext, args: DatabaseArgs) -> ToolResult:
    """List the tables in a Glue database with their locations and column counts."""
    rows = []
    for page in ctx.client("glue").get_paginator("get_tables").paginate(DatabaseName=args.database):
        for t in page.get("TableList", []):
            sd = t.get("StorageDescriptor", {})
            rows.append(
                {
                    "table": t["Name"],
                    "location": sd.get("Location", ""),
                    "columns": len(sd.get("Columns", [])),
                    "classification": t.get("Parameters", {}).get("classification", ""),
                }
            )
    if not rows:
        return ToolResult(f"Database {args.database} has no tables.", {"rows": []})
    shown = rows[:MAX_LIST]
    lines = [f"{len(rows)} tables in {args.database}:"] + [
        f"- {r['table']} ({r['columns']} cols, {r['classification'] or '?'}) {r['location']}"
        for r in shown
    ]
    return ToolResult("\n".join(lines) + _cut(len(rows), len(shown)), {"rows": rows})


class TableArgs(BaseModel):
    model_config = Strict
    database: GlueName
    table: GlueName


@tool(
    name="glue_get_table_schema",
    stage="collection",
    risk="read",
    operations=("glue:GetTable",),
    phrases=("table schema", "describe the table", "what columns does the table have"),
)
def glue_get_table_schema(ctx: ToolContext, args: TableArgs) -> ToolResult:
    """Show a Glue table's columns, partition keys, location and format."""
    table = ctx.client("glue").get_table(DatabaseName=args.database, Name=args.table)["Table"]
    sd = table.get("StorageDescriptor", {})
    columns = [{"name": c["Name"], "type": c.get("Type", "")} for c in sd.get("Columns", [])]
    partitions = [
        {"name": c["Name"], "type": c.get("Type", "")} for c in table.get("PartitionKeys", [])
    ]
    serde = sd.get("SerdeInfo", {}).get("SerializationLibrary", "")
    lines = [
        f"{args.database}.{args.table} at {sd.get('Location', '?')} ({serde.rsplit('.', 1)[-1] or 'unknown format'}):"
    ]
    lines += [f"- {c['name']}: {c['type']}" for c in columns[:60]]
    if partitions:
        lines.append("Partitioned by " + ", ".join(f"{p['name']} {p['type']}" for p in partitions))
    return ToolResult(
        "\n".join(lines) + _cut(len(columns), 60, "columns"),
        {
            "columns": columns,
            "partition_keys": partitions,
            "location": sd.get("Location"),
            "serde": serde,
        },
    )


# ================================================================== Glue ETL

WORKER_DPU: dict[str, float] = {"G.025X": 0.25, "G.1X": 1, "G.2X": 2, "G.4X": 4, "G.8X": 8}
WorkerType = Literal["G.025X", "G.1X", "G.2X", "G.4X", "G.8X"]


class CreateJobArgs(BaseModel):
    model_config = Strict
    name: GlueName
    role: GlueRole | None = None
    script: Annotated[str, LOCAL_PATH, Field(description="local .py or s3 uri")]
    code_s3_uri: Annotated[str, Field(description="upload prefix")] = ""
    worker_type: WorkerType = "G.1X"
    number_of_workers: Annotated[int, Field(ge=2, le=299)] = 2
    timeout_minutes: Annotated[int, Field(ge=1, le=2880)] = 60
    arguments: Annotated[dict[str, str], Field(description="{'--key': value}")] = {}

    @model_validator(mode="after")
    def _check_script(self) -> CreateJobArgs:
        if self.script.startswith("s3://"):
            parse_s3_uri(self.script)
            return self
        path = check_local_read(self.script)
        if not path.is_file():
            raise ValueError(
                f"script '{self.script}' is neither an s3:// URI nor an existing local file"
            )
        self.script = str(path)
        if not self.code_s3_uri:
            raise ValueError("code_s3_uri is required to upload a local script")
        parse_s3_uri(self.code_s3_uri)
        return self


@tool(
    name="glue_create_job",
    stage="collection",
    risk="write",
    operations=("s3:PutObject", "glue:CreateJob"),
    phrases=("create a glue etl job", "spark etl job", "create glue job"),
)
def glue_create_job(ctx: ToolContext, args: CreateJobArgs) -> ToolResult:
    """Create a Glue Spark ETL job from a local or S3 script."""
    role = resolve_role(ctx, args.role, "Glue jobs", field="role")
    script_uri = args.script
    if not script_uri.startswith("s3://"):
        path = Path(args.script).expanduser()
        bucket, prefix = parse_s3_uri(args.code_s3_uri or "")
        key = (prefix if not prefix or prefix.endswith("/") else prefix + "/") + path.name
        ctx.client("s3").upload_file(
            str(path), bucket, key, ExtraArgs={"Tagging": _s3_tagging(ctx)}
        )
        script_uri = f"s3://{bucket}/{key}"
    request = {
        "Name": args.name,
        "Role": role,
        "Command": {"Name": "glueetl", "ScriptLocation": script_uri, "PythonVersion": "3"},
        "GlueVersion": "4.0",
        "WorkerType": args.worker_type,
        "NumberOfWorkers": args.number_of_workers,
        "Timeout": args.timeout_minutes,
        "DefaultArguments": dict(args.arguments),
        "Tags": ctx.aws.tag_map(),
    }
    ctx.client("glue").create_job(**request)
    arn = f"arn:aws:glue:{ctx.region}:{_account(ctx)}:job/{args.name}"
    return ToolResult(
        f"Created Glue job {args.name} ({args.number_of_workers} × {args.worker_type}, timeout {args.timeout_minutes} min) running {script_uri}. Start it with glue_start_job_run.",
        {"job": args.name, "script": script_uri},
        [Resource("glue_job", args.name, arn, ctx.region, extra={"request": request})],
    )


class StartJobRunArgs(BaseModel):
    model_config = Strict
    job_name: GlueName
    worker_type: WorkerType = "G.1X"
    number_of_workers: Annotated[int, Field(ge=2, le=299)] = 2
    timeout_minutes: Annotated[
        int, Field(ge=1, le=2880, description="hard stop; bounds the cost")
    ] = 60


def _job_run_estimate(args: StartJobRunArgs, region: str) -> CostEstimate:
    dpus = WORKER_DPU[args.worker_type] * args.number_of_workers
    return estimate_units(
        "glue_dpu_hour",
        dpus / 60,  # 1-minute minimum
        dpus * args.timeout_minutes / 60,
        region,
        f"{args.number_of_workers} × {args.worker_type} = {dpus:g} DPU × 1 min minimum to {args.timeout_minutes} min timeout",
    )


@tool(
    name="glue_start_job_run",
    stage="collection",
    risk="costly",
    operations=("glue:StartJobRun",),
    estimator=_job_run_estimate,
    phrases=("run the glue job", "start etl job", "start glue job run"),
)
def glue_start_job_run(ctx: ToolContext, args: StartJobRunArgs) -> ToolResult:
    """Start a Glue job run (billed in DPU-hours)."""
    request = {
        "JobName": args.job_name,
        "WorkerType": args.worker_type,
        "NumberOfWorkers": args.number_of_workers,
        "Timeout": args.timeout_minutes,
    }
    run_id = ctx.client("glue").start_job_run(**request)["JobRunId"]
    return ToolResult(
        f"Started run {run_id} of Glue job {args.job_name}. Check it with glue_get_job_run.",
        {"job": args.job_name, "run_id": run_id},
        [
            Resource(
                "glue_job_run",
                f"{args.job_name}/{run_id}",
                None,
                ctx.region,
                extra={"request": request},
            )
        ],
    )


class JobRunArgs(BaseModel):
    model_config = Strict
    job_name: GlueName
    run_id: Annotated[str, Field(description="empty: latest run")] = ""


@tool(
    name="glue_get_job_run",
    stage="collection",
    risk="read",
    operations=("glue:GetJobRun", "glue:GetJobRuns"),
    phrases=("glue job status", "did the etl job finish", "show glue job run"),
)
def glue_get_job_run(ctx: ToolContext, args: JobRunArgs) -> ToolResult:
    """Show a Glue job run's state, duration and error."""
    glue = ctx.client("glue")
    if args.run_id:
        run = glue.get_job_run(JobName=args.job_name, RunId=args.run_id)["JobRun"]
    else:
        runs = glue.get_job_runs(JobName=args.job_name, MaxResults=1).get("JobRuns", [])
        if not runs:
            return ToolResult(f"Glue job {args.job_name} has no runs yet.", {"runs": 0})
        run = runs[0]
    data = {
        "run_id": run.get("Id"),
        "state": run.get("JobRunState"),
        "execution_s": run.get("ExecutionTime"),
        "dpu_seconds": run.get("DPUSeconds"),
        "error": run.get("ErrorMessage"),
        "worker_type": run.get("WorkerType"),
        "workers": run.get("NumberOfWorkers"),
    }
    text = f"Run {data['run_id']} of {args.job_name}: {data['state']}, {data['execution_s'] or 0} s"
    if data["dpu_seconds"] is not None:
        quote = unit_price("glue_dpu_hour", ctx.region)
        cost = f" (≈ ${data['dpu_seconds'] / 3600 * quote.usd:,.3f})" if quote else ""
        text += f", {data['dpu_seconds']:g} DPU-seconds{cost}"
    if data["error"]:
        text += f". Error: {data['error']}"
    return ToolResult(text + ".", data)


# ==================================================================== Kinesis

StreamName = Annotated[str, AfterValidator(lambda v: _check_stream_name(v))]


def _check_stream_name(value: str) -> str:
    if not re.match(r"^[a-zA-Z0-9_.-]{1,128}$", value):
        raise ValueError(
            f"'{value}' is not a Kinesis stream name (letters, digits, _ . -, up to 128)"
        )
    return value


class CreateStreamArgs(BaseModel):
    model_config = Strict
    name: StreamName
    mode: Literal["provisioned", "on_demand"] = "provisioned"
    shards: Annotated[int, Field(ge=1, le=500, description="provisioned mode only")] = 1


def _stream_estimate(args: CreateStreamArgs, region: str) -> CostEstimate:
    if args.mode == "on_demand":
        key, qty, what = (
            "kinesis_on_demand_stream_hour",
            1,
            "on-demand stream-hour (plus per-GB data)",
        )
    else:
        key, qty, what = "kinesis_shard_hour", args.shards, f"{args.shards} shard-hour(s)"
    quote = unit_price(key, region)
    if quote is None:
        return CostEstimate.unknown(f"{what}; no price for {region}")
    hourly = quote.usd * qty
    return CostEstimate(
        round(hourly, 4),
        round(hourly * 24, 4),
        f"{what} × ${quote.usd}/h = ${hourly:.4f}/h; shown: first hour to first day",
        quote.source,
        quote.price_date,
        hourly_usd=round(hourly, 4),
        notes=("bills until the stream is deleted", "PUT payload units billed separately"),
    )


@tool(
    name="kinesis_create_stream",
    stage="collection",
    risk="costly",
    operations=("kinesis:CreateStream",),
    estimator=_stream_estimate,
    phrases=("create a kinesis stream", "streaming ingestion", "new data stream"),
)
def kinesis_create_stream(ctx: ToolContext, args: CreateStreamArgs) -> ToolResult:
    """Create a Kinesis data stream; bills hourly until deleted."""
    params: dict[str, Any] = {"StreamName": args.name, "Tags": ctx.aws.tag_map()}
    if args.mode == "on_demand":
        params["StreamModeDetails"] = {"StreamMode": "ON_DEMAND"}
    else:
        params["ShardCount"] = args.shards
        params["StreamModeDetails"] = {"StreamMode": "PROVISIONED"}
    kinesis = ctx.client("kinesis")
    kinesis.create_stream(**params)
    summary = kinesis.describe_stream_summary(StreamName=args.name)["StreamDescriptionSummary"]
    hourly = _stream_estimate(args, ctx.region).hourly_usd
    return ToolResult(
        f"Created Kinesis stream {args.name} ({args.mode}{'' if args.mode == 'on_demand' else f', {args.shards} shard(s)'}); status {summary['StreamStatus']}. It bills hourly until deleted.",
        {"stream": args.name, "status": summary["StreamStatus"], "arn": summary["StreamARN"]},
        [
            Resource(
                "kinesis_stream", args.name, summary["StreamARN"], ctx.region, hourly_usd=hourly
            )
        ],
    )


@tool(
    name="kinesis_list_streams",
    stage="collection",
    risk="read",
    operations=("kinesis:ListStreams",),
    phrases=("list kinesis streams", "what streams do I have"),
)
def kinesis_list_streams(ctx: ToolContext, args: NoArgs) -> ToolResult:
    """List Kinesis data streams with mode and status."""
    rows = []
    for page in ctx.client("kinesis").get_paginator("list_streams").paginate():
        for s in page.get("StreamSummaries", []):
            rows.append(
                {
                    "name": s["StreamName"],
                    "status": s.get("StreamStatus"),
                    "mode": s.get("StreamModeDetails", {}).get("StreamMode"),
                }
            )
    if not rows:
        return ToolResult("No Kinesis streams.", {"rows": []})
    shown = rows[:MAX_LIST]
    return ToolResult(
        f"{len(rows)} streams: "
        + ", ".join(f"{r['name']} ({r['mode']}, {r['status']})" for r in shown)
        + _cut(len(rows), len(shown)),
        {"rows": rows},
    )


class PutRecordsArgs(BaseModel):
    model_config = Strict
    stream: StreamName
    local_file: Annotated[LocalFile, Field(description="CSV or JSON Lines")]
    partition_key_column: Annotated[str, Field(description="empty: row number")] = ""
    max_records: Annotated[int, Field(ge=1, le=10_000)] = 500


@tool(
    name="kinesis_put_sample_records",
    stage="collection",
    risk="write",
    operations=("kinesis:PutRecords",),
    phrases=("send sample records to kinesis", "put test data in the stream", "stream my csv"),
)
def kinesis_put_sample_records(ctx: ToolContext, args: PutRecordsArgs) -> ToolResult:
    """Send rows of a local CSV/JSON file to a Kinesis stream as JSON records."""
    path = Path(args.local_file)
    try:
        fmt = tabular.detect_format(path.name, path.read_bytes()[:4096])
        names, rows = tabular.read_rows(path.read_bytes(), fmt)
    except tabular.TabularError as exc:
        raise ToolError(f"Cannot read {path}: {exc}", kind="invalid_arguments") from None
    if args.partition_key_column and args.partition_key_column not in names:
        raise ToolError(
            f"Column '{args.partition_key_column}' is not in the file (columns: {', '.join(names)}).",
            kind="invalid_arguments",
        )
    rows = rows[: args.max_records]
    kinesis = ctx.client("kinesis")
    sent = failed = 0
    first_error = ""
    for start in range(0, len(rows), 500):
        ctx.check_cancelled()
        batch = rows[start : start + 500]
        records = [
            {
                "Data": json.dumps(row, default=str).encode(),
                "PartitionKey": str(
                    row.get(args.partition_key_column) if args.partition_key_column else start + i
                )
                or "empty",
            }
            for i, row in enumerate(batch)
        ]
        response = kinesis.put_records(StreamName=args.stream, Records=records)
        failed += int(response.get("FailedRecordCount", 0))
        sent += len(batch)
        if not first_error:
            first_error = next(
                (
                    r.get("ErrorMessage", "")
                    for r in response.get("Records", [])
                    if r.get("ErrorCode")
                ),
                "",
            )
        ctx.report(f"sending to {args.stream}", sent, len(rows), "rows")
    text = f"Sent {sent - failed} of {sent} records to {args.stream}."
    if failed:
        text += f" {failed} failed (e.g. {first_error}); throttled records can be retried."
    return ToolResult(text, {"sent": sent - failed, "failed": failed, "stream": args.stream})


# ============================================================== Data Exchange


class ListDataSetsArgs(BaseModel):
    model_config = Strict
    origin: Literal["all", "OWNED", "ENTITLED"] = "all"


@tool(
    name="dataexchange_list_data_sets",
    stage="collection",
    risk="read",
    operations=("dataexchange:ListDataSets",),
    phrases=(
        "list data exchange data sets",
        "third-party data subscriptions",
        "what data am I entitled to",
    ),
)
def dataexchange_list_data_sets(ctx: ToolContext, args: ListDataSetsArgs) -> ToolResult:
    """List AWS Data Exchange data sets you own or are entitled to (subscriptions)."""
    if ctx.aws.is_sandbox:
        raise NotEmulated(
            "AWS Data Exchange", "Subscribe to data sets in the AWS Data Exchange console."
        )
    client = ctx.client("dataexchange")
    origins = ["OWNED", "ENTITLED"] if args.origin == "all" else [args.origin]
    rows = []
    for origin in origins:
        for page in client.get_paginator("list_data_sets").paginate(Origin=origin):
            for d in page.get("DataSets", []):
                rows.append(
                    {
                        "name": d.get("Name"),
                        "id": d.get("Id"),
                        "origin": d.get("Origin", origin),
                        "asset_type": d.get("AssetType"),
                        "updated": str(d.get("UpdatedAt", ""))[:10],
                    }
                )
    if not rows:
        return ToolResult("No Data Exchange data sets (owned or entitled).", {"rows": []})
    shown = rows[:MAX_LIST]
    return ToolResult(
        f"{len(rows)} data sets: "
        + "; ".join(f"{r['name']} ({r['origin']}, {r['asset_type']})" for r in shown)
        + _cut(len(rows), len(shown)),
        {"rows": rows},
    )
