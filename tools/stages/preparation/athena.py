"""Amazon Athena for stage 2: read-only SQL over the Glue catalog, priced by the bytes it scans."""

from __future__ import annotations

import re
import time
from typing import Annotated, Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, Field, model_validator

from tools.aws.guard import ReadOnlyViolation
from tools.aws.sql_readonly import is_read_only_sql, why_not_read_only
from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.errors import ToolError
from tools.core.results import CostEstimate, ToolResult
from tools.core.validators import GlueName, parse_s3_uri
from tools.cost.lookups import cached_lookup
from tools.cost.prices import unit_price
from tools.stages.shared.listing import MAX_LIST, NoArgs, Strict
from tools.stages.shared.s3_reads import human_bytes, prefix_size

TB = 1024**4
MB = 1024**2
ATHENA_MIN_BYTES = 10 * MB


# ===================================================================== Athena

_STRIP = re.compile(r"--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'", re.DOTALL)
_TABLE_REF = re.compile(
    r"\b(?:FROM|JOIN)\s+((?:[`\"]?[A-Za-z_][\w]*[`\"]?\.){0,2}[`\"]?[A-Za-z_][\w]*[`\"]?)",
    re.IGNORECASE,
)


def referenced_tables(sql: str, default_database: str) -> list[tuple[str, str]]:
    """(database, table) pairs after FROM/JOIN; CTE names and system schemas are skipped."""
    text = _STRIP.sub(" ", sql)
    ctes = {m.lower() for m in re.findall(r"(?:\bWITH|,)\s+([A-Za-z_]\w*)\s+AS\s*\(", text, re.I)}
    out: list[tuple[str, str]] = []
    for ref in _TABLE_REF.findall(text):
        parts = [p.strip('`"').lower() for p in ref.split(".")]
        if len(parts) == 1 and parts[0] in ctes:
            continue
        database, table = (
            (parts[-2], parts[-1]) if len(parts) >= 2 else (default_database, parts[0])
        )
        if database in ("information_schema",) or (database, table) in out:
            continue
        out.append((database, table))
    return out


def table_bytes(aws: Any, database: str, table: str) -> int:
    """The size of a Glue table's S3 data (the most a query on it can scan)."""

    def compute() -> int:
        got = aws.client("glue").get_table(DatabaseName=database, Name=table)["Table"]
        location = got.get("StorageDescriptor", {}).get("Location", "")
        if not location.startswith("s3://"):
            raise ValueError(f"{database}.{table} has no S3 location")
        bucket, prefix = parse_s3_uri(location)
        return prefix_size(aws.client("s3"), bucket, prefix)[1]

    return cached_lookup(aws, ("athena", aws.region, database, table), compute)


class AthenaQueryArgs(BaseModel):
    model_config = Strict
    query: Annotated[str, Field(min_length=1)]
    database: GlueName = "default"
    workgroup: str = "primary"
    output_s3_uri: Annotated[
        str,
        Field(
            description="results prefix; empty: workgroup's or <table bucket>/sagecoach/athena-results/"
        ),
    ] = ""
    max_rows: Annotated[int, Field(ge=1, le=1000)] = 50

    @model_validator(mode="after")
    def _check_output(self) -> AthenaQueryArgs:
        if self.output_s3_uri:
            parse_s3_uri(self.output_s3_uri)
        return self


def _athena_estimate(args: AthenaQueryArgs, region: str, aws: Any = None) -> CostEstimate:
    quote = unit_price("athena_tb_scanned", region)
    if quote is None:
        return CostEstimate.unknown(f"no Athena price for {region}")
    low = ATHENA_MIN_BYTES / TB * quote.usd
    tables = referenced_tables(args.query, args.database)
    if not tables:
        return CostEstimate(
            round(low, 8),
            round(low, 8),
            "no table read: the 10 MB minimum × $5/TB",
            quote.source,
            quote.price_date,
        )
    if aws is None:
        return CostEstimate.unknown(
            f"reads {', '.join(f'{d}.{t}' for d, t in tables)}; table sizes not looked up (no AWS access for the estimate; at least ${low:.6f}, the 10 MB minimum)"
        )
    sizes = []
    for database, table in tables:
        try:
            sizes.append(table_bytes(aws, database, table))
        except Exception as exc:  # an estimate never fails: it says what it could not find
            from tools.core.explain import explain_exception

            return CostEstimate.unknown(
                f"could not size {database}.{table}: {explain_exception(exc).message}"
            )
    scanned = max(sum(sizes), ATHENA_MIN_BYTES)
    high = scanned / TB * quote.usd
    return CostEstimate(
        round(low, 8),
        round(high, 8),
        f"up to {human_bytes(sum(sizes))} in S3 under {', '.join(f'{d}.{t}' for d, t in tables)} (10 MB minimum) × ${quote.usd:g}/TB",
        quote.source,
        quote.price_date,
        notes=(
            "columnar formats and partition filters scan less; DDL and failed queries are free",
        ),
    )


def _athena_output(ctx: ToolContext, args: AthenaQueryArgs) -> str | None:
    if args.output_s3_uri:
        return args.output_s3_uri
    athena = ctx.client("athena")
    try:
        group = athena.get_work_group(WorkGroup=args.workgroup)["WorkGroup"]
        configured = (
            group.get("Configuration", {}).get("ResultConfiguration", {}).get("OutputLocation")
        )
        if configured:
            return None  # the workgroup's location applies
    except ClientError:
        pass
    for database, table in referenced_tables(args.query, args.database):
        try:
            got = ctx.client("glue").get_table(DatabaseName=database, Name=table)["Table"]
        except ClientError:
            continue
        location = got.get("StorageDescriptor", {}).get("Location", "")
        if location.startswith("s3://"):
            bucket, _ = parse_s3_uri(location)
            return f"s3://{bucket}/sagecoach/athena-results/"
    raise ToolError(
        "Athena needs a results location: pass output_s3_uri (s3://bucket/prefix/) or set one on the workgroup.",
        kind="invalid_arguments",
    )


@tool(
    name="athena_run_query",
    stage="preparation",
    risk="billable_read",
    operations=("athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults"),
    estimator=_athena_estimate,
    phrases=(
        "run a sql query",
        "query the table with athena",
        "count rows with sql",
        "explore data with sql",
        "athena select",
    ),
)
def athena_run_query(ctx: ToolContext, args: AthenaQueryArgs) -> ToolResult:
    """Run an Athena SQL query and return rows, bytes scanned and cost."""
    if ctx.aws.read_only and not is_read_only_sql(args.query):
        raise ToolError(
            f"Read-only mode: {why_not_read_only(args.query)}; nothing was sent to Athena. "
            "Only SELECT, WITH, SHOW, DESCRIBE and EXPLAIN run in read-only mode.",
            kind="read_only",
        )
    athena = ctx.client("athena")
    output = _athena_output(ctx, args)
    params: dict[str, Any] = {
        "QueryString": args.query,
        "QueryExecutionContext": {"Database": args.database},
        "WorkGroup": args.workgroup,
    }
    if output:
        params["ResultConfiguration"] = {"OutputLocation": output}
    query_id = athena.start_query_execution(**params)["QueryExecutionId"]
    started = time.monotonic()
    interval = ctx.poll_interval
    timeout_s = 1800.0
    while True:
        try:
            ctx.check_cancelled()
        except ToolError:
            _stop_query(athena, query_id)
            raise
        execution = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        state = execution["Status"]["State"]
        waited = time.monotonic() - started
        ctx.report(f"Athena query {state.lower()}", waited, None, "s")
        if state in ("SUCCEEDED", "FAILED", "CANCELLED"):
            break
        if waited > timeout_s:
            _stop_query(athena, query_id)
            raise ToolError(
                f"Athena query {query_id} ran longer than {timeout_s:.0f} s and was cancelled.",
                kind="timeout",
            )
        ctx.sleep(min(interval, 5.0))
        interval = min(interval * 1.5, 5.0)
    stats = execution.get("Statistics", {})
    scanned = int(stats.get("DataScannedInBytes") or 0)
    quote = unit_price("athena_tb_scanned", ctx.region)
    ddl = execution.get("StatementType") == "DDL"
    cost = (
        0.0
        if (ddl or state != "SUCCEEDED" or quote is None)
        else max(scanned, ATHENA_MIN_BYTES) / TB * quote.usd
    )
    data: dict[str, Any] = {
        "query_id": query_id,
        "state": state,
        "bytes_scanned": scanned,
        "cost_usd": round(cost, 8),
        "engine_ms": stats.get("EngineExecutionTimeInMillis"),
        "output": execution.get("ResultConfiguration", {}).get("OutputLocation"),
    }
    if state != "SUCCEEDED":
        reason = execution["Status"].get("StateChangeReason", "no reason given")
        raise ToolError(f"Athena query {state.lower()}: {reason}", kind="query_failed")
    response = athena.get_query_results(
        QueryExecutionId=query_id, MaxResults=min(args.max_rows + 1, 1000)
    )
    rows_raw = [
        [c.get("VarCharValue") for c in r.get("Data", [])]
        for r in response["ResultSet"].get("Rows", [])
    ]
    names = [
        c["Name"] for c in response["ResultSet"].get("ResultSetMetadata", {}).get("ColumnInfo", [])
    ]
    if rows_raw and names and rows_raw[0] == names:
        rows_raw = rows_raw[1:]  # SELECT results repeat the header as the first row
    more = bool(response.get("NextToken")) or len(rows_raw) > args.max_rows
    rows_raw = rows_raw[: args.max_rows]
    data["columns"] = names
    data["rows"] = [dict(zip(names, r, strict=False)) for r in rows_raw]
    data["truncated"] = more
    cost_text = (
        "the sandbox reports 0 bytes scanned, so no actual cost is known (see the estimate)"
        if ctx.aws.is_sandbox
        else f"scanned {human_bytes(scanned)}, cost ${cost:.6f}" + (" (DDL is free)" if ddl else "")
    )
    lines = [
        f"Query {query_id} succeeded: {len(rows_raw)} rows{' (more in ' + str(data['output']) + ')' if more else ''}; {cost_text}."
    ]
    if names:
        lines.append(",".join(names))
        lines += [",".join("" if v is None else str(v) for v in r) for r in rows_raw[:20]]
        if len(rows_raw) > 20:
            lines.append(f"... {len(rows_raw) - 20} more rows in the data.")
    return ToolResult("\n".join(lines), data)


def _stop_query(athena: Any, query_id: str) -> None:
    try:
        athena.stop_query_execution(QueryExecutionId=query_id)
    except (ClientError, ReadOnlyViolation):
        pass


@tool(
    name="athena_list_workgroups",
    stage="preparation",
    risk="read",
    operations=("athena:ListWorkGroups", "athena:GetWorkGroup"),
    phrases=("list athena workgroups", "where do athena results go", "athena scan limit"),
)
def athena_list_workgroups(ctx: ToolContext, args: NoArgs) -> ToolResult:
    """List Athena workgroups with their result location and per-query scan limit."""
    athena = ctx.client("athena")
    rows = []
    for summary in athena.list_work_groups().get("WorkGroups", [])[:MAX_LIST]:
        row = {
            "name": summary["Name"],
            "state": summary.get("State"),
            "output": None,
            "scan_limit_bytes": None,
        }
        try:
            config = athena.get_work_group(WorkGroup=summary["Name"])["WorkGroup"].get(
                "Configuration", {}
            )
            row["output"] = config.get("ResultConfiguration", {}).get("OutputLocation")
            row["scan_limit_bytes"] = config.get("BytesScannedCutoffPerQuery")
        except ClientError:
            pass
        rows.append(row)
    text = "; ".join(
        f"{r['name']} ({r['state']}, results {r['output'] or 'not set'}, scan limit {human_bytes(r['scan_limit_bytes']) if r['scan_limit_bytes'] else 'none'})"
        for r in rows
    )
    return ToolResult(
        f"{len(rows)} workgroups: {text}." if rows else "No Athena workgroups.", {"rows": rows}
    )
