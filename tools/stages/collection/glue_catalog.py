"""The AWS Glue Data Catalog: databases, crawlers and tables (schemas read from the data)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, model_validator

from tools.aws.roles import resolve_role
from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.errors import ToolError
from tools.core.results import CostEstimate, Resource, ToolResult
from tools.core.validators import GlueName, S3PrefixUri, S3Uri, check_role_arn, parse_s3_uri
from tools.cost.estimates import estimate_units
from tools.stages.shared.listing import MAX_LIST, Strict, cut
from tools.stages.shared.s3_reads import preview_s3_object
from tools.stages.shared.table_schemas import glue_column_name, glue_columns, storage_format
from tools.stages.shared.tabular import TabularError


def check_glue_role(value: str) -> str:
    """Glue takes an IAM role name or ARN."""
    if value.startswith("arn:"):
        return check_role_arn(value)
    if not re.match(r"^[\w+=,.@-]{1,64}$", value):
        raise ValueError(f"'{value}' is not an IAM role name or ARN")
    return value


GlueRole = Annotated[
    str,
    AfterValidator(check_glue_role),
    Field(description="IAM role name or ARN Glue assumes; default: the session's role"),
]


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
    arn = f"arn:aws:glue:{ctx.region}:{account_id(ctx)}:database/{args.database}"
    return ToolResult(
        f"Created Glue database {args.database}.",
        {"database": args.database},
        [Resource("glue_database", args.database, arn, ctx.region)],
    )


def account_id(ctx: ToolContext) -> str:
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
    arn = f"arn:aws:glue:{ctx.region}:{account_id(ctx)}:crawler/{args.name}"
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
        preview = preview_s3_object(s3, bucket, sample_key, max_rows=500)
    except TabularError as exc:
        raise ToolError(
            f"Cannot read s3://{bucket}/{sample_key}: {exc}", kind="invalid_arguments"
        ) from None
    fmt = storage_format(preview.format, quoted=preview.quoted)
    if args.columns:
        columns = [{"Name": glue_column_name(n), "Type": t} for n, t in args.columns.items()]
    else:
        columns = glue_columns(preview.columns, preview.format)
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
    arn = f"arn:aws:glue:{ctx.region}:{account_id(ctx)}:table/{args.database}/{args.table}"
    return ToolResult(
        f"Created table {args.database}.{args.table} over {location} ({preview.format}): {cols}"
        + cut(len(columns), 30, "columns")
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
    return ToolResult("\n".join(lines) + cut(len(rows), len(shown)), {"rows": rows})


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
        "\n".join(lines) + cut(len(columns), 60, "columns"),
        {
            "columns": columns,
            "partition_keys": partitions,
            "location": sd.get("Location"),
            "serde": serde,
        },
    )
