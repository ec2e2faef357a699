"""Stage 2, preparation and exploration: Athena, DataBrew, Lambda and QuickSight.

Data Wrangler has no API this assistant can drive usefully (it lives in SageMaker Studio);
the stage catalog points people to it.
"""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from pathlib import Path
from typing import Annotated, Any, Literal

from botocore.exceptions import ClientError
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from tools import tabular
from tools.base import CostEstimate, NotEmulated, Resource, ToolContext, ToolError, ToolResult, tool
from tools.guard import ReadOnlyViolation
from tools.pricing import unit_price
from tools.roles import OptionalRoleArn, RoleArnValue, resolve_role
from tools.sql_readonly import is_read_only_sql, why_not_read_only
from tools.validators import GlueName, LocalFile, S3PrefixUri, parse_s3_uri

Strict = ConfigDict(extra="forbid")
human = tabular.human_bytes
TB = 1024**4
MB = 1024**2
ATHENA_MIN_BYTES = 10 * MB
MAX_LIST = 50


def _cut(total: int, shown: int, what: str = "more") -> str:
    return f" ... {total - shown} {what} not shown." if total > shown else ""


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
        return tabular.prefix_size(aws.client("s3"), bucket, prefix)[1]

    return tabular.cached_lookup(aws, ("athena", aws.region, database, table), compute)


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
            from tools.errors import explain_exception

            return CostEstimate.unknown(
                f"could not size {database}.{table}: {explain_exception(exc).message}"
            )
    scanned = max(sum(sizes), ATHENA_MIN_BYTES)
    high = scanned / TB * quote.usd
    return CostEstimate(
        round(low, 8),
        round(high, 8),
        f"up to {human(sum(sizes))} in S3 under {', '.join(f'{d}.{t}' for d, t in tables)} (10 MB minimum) × ${quote.usd:g}/TB",
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
        else f"scanned {human(scanned)}, cost ${cost:.6f}" + (" (DDL is free)" if ddl else "")
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


class NoArgs(BaseModel):
    model_config = Strict


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
        f"{r['name']} ({r['state']}, results {r['output'] or 'not set'}, scan limit {human(r['scan_limit_bytes']) if r['scan_limit_bytes'] else 'none'})"
        for r in rows
    )
    return ToolResult(
        f"{len(rows)} workgroups: {text}." if rows else "No Athena workgroups.", {"rows": rows}
    )


# ==================================================================== DataBrew

BrewName = Annotated[str, AfterValidator(lambda v: _check_brew_name(v))]


def _check_brew_name(value: str) -> str:
    if not re.match(r"^[A-Za-z0-9][\w.-]{0,254}$", value):
        raise ValueError(f"'{value}' is not a DataBrew name (letters, digits, _ . -; up to 255)")
    return value


class BrewDatasetArgs(BaseModel):
    model_config = Strict
    name: BrewName
    s3_uri: Annotated[str, Field(description="or glue_table")] = ""
    glue_table: Annotated[str, Field(description="database.table")] = ""
    format: Literal["csv", "json", "parquet", "excel", "orc"] = "csv"

    @model_validator(mode="after")
    def _one_source(self) -> BrewDatasetArgs:
        if bool(self.s3_uri) == bool(self.glue_table):
            raise ValueError("give exactly one of s3_uri or glue_table")
        if self.s3_uri:
            parse_s3_uri(self.s3_uri)
        elif not re.match(r"^[a-z0-9_]+\.[a-z0-9_]+$", self.glue_table):
            raise ValueError("glue_table must be database.table (lower case, digits, underscores)")
        return self


@tool(
    name="databrew_create_dataset",
    stage="preparation",
    risk="write",
    operations=("databrew:CreateDataset",),
    phrases=("create a databrew dataset", "register data for databrew", "visual data prep dataset"),
)
def databrew_create_dataset(ctx: ToolContext, args: BrewDatasetArgs) -> ToolResult:
    """Create a DataBrew dataset from an S3 object/prefix or a Glue table."""
    if args.s3_uri:
        bucket, key = parse_s3_uri(args.s3_uri)
        source: dict[str, Any] = {"S3InputDefinition": {"Bucket": bucket, "Key": key}}
    else:
        database, table = args.glue_table.split(".")
        source = {"DataCatalogInputDefinition": {"DatabaseName": database, "TableName": table}}
    params: dict[str, Any] = {"Name": args.name, "Input": source, "Tags": ctx.aws.tag_map()}
    if args.s3_uri:
        params["Format"] = args.format.upper()
    ctx.client("databrew").create_dataset(**params)
    return ToolResult(
        f"Created DataBrew dataset {args.name} from {args.s3_uri or args.glue_table}.",
        {"dataset": args.name},
        [Resource("databrew_dataset", args.name, None, ctx.region, extra={"request": params})],
    )


class ProfileJobArgs(BaseModel):
    model_config = Strict
    name: BrewName
    dataset: BrewName
    output_s3_uri: S3PrefixUri
    role_arn: OptionalRoleArn = None
    max_nodes: Annotated[int, Field(ge=1, le=149)] = 5
    timeout_minutes: Annotated[int, Field(ge=1, le=2880)] = 60


@tool(
    name="databrew_create_profile_job",
    stage="preparation",
    risk="write",
    operations=("databrew:CreateProfileJob",),
    phrases=("profile my data", "data quality profile job", "create a databrew profile job"),
)
def databrew_create_profile_job(ctx: ToolContext, args: ProfileJobArgs) -> ToolResult:
    """Create a DataBrew profile job (column statistics and quality report) for a dataset."""
    role = resolve_role(ctx, args.role_arn, "DataBrew jobs")
    bucket, key = parse_s3_uri(args.output_s3_uri)
    params = {
        "Name": args.name,
        "DatasetName": args.dataset,
        "OutputLocation": {"Bucket": bucket, "Key": key},
        "RoleArn": role,
        "MaxCapacity": args.max_nodes,
        "Timeout": args.timeout_minutes,
        "Tags": ctx.aws.tag_map(),
    }
    ctx.client("databrew").create_profile_job(**params)
    return ToolResult(
        f"Created profile job {args.name} on {args.dataset} (up to {args.max_nodes} nodes, {args.timeout_minutes} min). Start it with databrew_start_job_run.",
        {"job": args.name},
        [Resource("databrew_job", args.name, None, ctx.region, extra={"request": params})],
    )


class BrewRunArgs(BaseModel):
    model_config = Strict
    job_name: BrewName
    nodes: Annotated[int, Field(ge=1, le=149, description="the job's MaxCapacity")] = 5
    max_minutes: Annotated[int, Field(ge=1, le=2880, description="the job's timeout")] = 60


def _brew_estimate(args: BrewRunArgs, region: str) -> CostEstimate:
    quote = unit_price("databrew_node_hour", region)
    if quote is None:
        return CostEstimate.unknown(f"no DataBrew price for {region}")
    low = args.nodes * quote.usd / 60  # 1-minute minimum
    high = args.nodes * quote.usd * args.max_minutes / 60
    return CostEstimate(
        round(low, 4),
        round(high, 4),
        f"{args.nodes} nodes × 1 min minimum to {args.max_minutes} min × ${quote.usd}/node-hour",
        quote.source,
        quote.price_date,
    )


@tool(
    name="databrew_start_job_run",
    stage="preparation",
    risk="costly",
    operations=("databrew:DescribeJob", "databrew:StartJobRun"),
    estimator=_brew_estimate,
    phrases=("run the profile job", "start databrew job"),
)
def databrew_start_job_run(ctx: ToolContext, args: BrewRunArgs) -> ToolResult:
    """Start a DataBrew job run (billed in node-hours)."""
    if ctx.aws.is_sandbox:
        raise NotEmulated("DataBrew job runs", "Datasets and job definitions work in the sandbox.")
    brew = ctx.client("databrew")
    job = brew.describe_job(Name=args.job_name)
    capacity = int(job.get("MaxCapacity") or 5)
    timeout = int(job.get("Timeout") or 2880)
    if capacity > args.nodes or timeout > args.max_minutes:
        raise ToolError(
            f"Job {args.job_name} is configured for {capacity} nodes and {timeout} min, more than the "
            f"approved {args.nodes} nodes and {args.max_minutes} min; nothing was started. "
            f"Run again with nodes={capacity} and max_minutes={timeout} to approve its real cost.",
            kind="refused",
        )
    run_id = brew.start_job_run(Name=args.job_name)["RunId"]
    return ToolResult(
        f"Started DataBrew run {run_id} of {args.job_name}. Check it with databrew_describe_job_run.",
        {"job": args.job_name, "run_id": run_id},
        [Resource("databrew_job_run", f"{args.job_name}/{run_id}", None, ctx.region)],
    )


class BrewRunIdArgs(BaseModel):
    model_config = Strict
    job_name: BrewName
    run_id: str


@tool(
    name="databrew_describe_job_run",
    stage="preparation",
    risk="read",
    operations=("databrew:DescribeJobRun",),
    phrases=("databrew job status", "is the profile done"),
)
def databrew_describe_job_run(ctx: ToolContext, args: BrewRunIdArgs) -> ToolResult:
    """Show a DataBrew job run's state, duration, output and error."""
    if ctx.aws.is_sandbox:
        raise NotEmulated("DataBrew job runs")
    run = ctx.client("databrew").describe_job_run(Name=args.job_name, RunId=args.run_id)
    outputs = [
        f"s3://{o['Location']['Bucket']}/{o['Location'].get('Key', '')}"
        for o in run.get("Outputs", [])
        if "Location" in o
    ]
    data = {
        "state": run.get("State"),
        "execution_s": run.get("ExecutionTime"),
        "error": run.get("ErrorMessage"),
        "outputs": outputs,
    }
    text = f"Run {args.run_id} of {args.job_name}: {data['state']}, {data['execution_s'] or 0} s"
    if outputs:
        text += f"; output {', '.join(outputs)}"
    if data["error"]:
        text += f". Error: {data['error']}"
    return ToolResult(text + ".", data)


# ====================================================================== Lambda

FunctionName = Annotated[str, AfterValidator(lambda v: _check_function_name(v))]


def _check_function_name(value: str) -> str:
    if not re.match(r"^[a-zA-Z0-9_-]{1,64}$", value):
        raise ValueError(
            f"'{value}' is not a Lambda function name (letters, digits, - and _; up to 64)"
        )
    return value


class CreateFunctionArgs(BaseModel):
    model_config = Strict
    name: Annotated[FunctionName | None, Field(description="default: the handler file's name")] = (
        None
    )
    handler_file: LocalFile
    handler_function: Annotated[str, Field(description="default: lambda_handler or handler")] = ""
    role_arn: Annotated[
        RoleArnValue | None, Field(description="execution role; default: the session's role")
    ] = None
    runtime: Literal["python3.10", "python3.11", "python3.12", "python3.13"] = "python3.12"
    memory_mb: Annotated[int, Field(ge=128, le=10240)] = 256
    timeout_s: Annotated[int, Field(ge=1, le=900)] = 30

    @model_validator(mode="after")
    def _check_handler(self) -> CreateFunctionArgs:
        path = Path(self.handler_file)
        if self.name is None:
            from tools.validators import derived_name

            self.name = derived_name(path.stem, suffix="fn", limit=64)
        if path.suffix != ".py":
            raise ValueError(f"handler_file must be a .py file, not '{path.name}'")
        if path.stat().st_size > 50 * MB:
            raise ValueError("handler_file is over 50 MB; package large code as a layer or image")
        source = path.read_text(errors="replace")
        defined = re.findall(r"^(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\(", source, re.M)
        if not self.handler_function:
            found = next((n for n in ("lambda_handler", "handler") if n in defined), None)
            if found is None:
                raise ValueError(
                    f"{path.name} defines neither lambda_handler nor handler; name the function "
                    "with handler_function"
                )
            self.handler_function = found
        if not re.match(r"^[A-Za-z_]\w*$", self.handler_function):
            raise ValueError(f"'{self.handler_function}' is not a Python function name")
        if self.handler_function not in defined:
            raise ValueError(f"{path.name} defines no function '{self.handler_function}'")
        return self


def zip_handler(path: Path) -> bytes:
    """A deployment package with the handler file at the root, as Lambda expects."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(path, path.name)
    return buffer.getvalue()


@tool(
    name="lambda_create_function",
    stage="preparation",
    risk="write",
    operations=("lambda:CreateFunction",),
    phrases=(
        "create a lambda function",
        "deploy my python handler",
        "serverless transform function",
    ),
)
def lambda_create_function(ctx: ToolContext, args: CreateFunctionArgs) -> ToolResult:
    """Create a Python Lambda function from a local handler file (zipped by the tool)."""
    role = resolve_role(ctx, args.role_arn, "Lambda functions")
    path = Path(args.handler_file)
    package = zip_handler(path)
    handler = f"{path.stem}.{args.handler_function}"
    request = {
        "FunctionName": args.name,
        "Runtime": args.runtime,
        "Role": role,
        "Handler": handler,
        "MemorySize": args.memory_mb,
        "Timeout": args.timeout_s,
        "Tags": ctx.aws.tag_map(),
        "Code": {"ZipFile": package},
    }
    response = ctx.client("lambda").create_function(**request)
    recorded = {k: v for k, v in request.items() if k != "Code"}
    return ToolResult(
        f"Created Lambda function {args.name} ({args.runtime}, handler {handler}, {args.memory_mb} MB, {args.timeout_s} s); state {response.get('State', 'unknown')}.",
        {
            "function": args.name,
            "arn": response["FunctionArn"],
            "handler": handler,
            "zip_bytes": len(package),
        },
        [
            Resource(
                "lambda_function",
                args.name,
                response["FunctionArn"],
                ctx.region,
                extra={"request": recorded},
            )
        ],
    )


class InvokeArgs(BaseModel):
    model_config = Strict
    name: FunctionName
    payload: Annotated[dict[str, Any], Field(description="JSON event")] = {}


def _invoke_estimate(args: InvokeArgs, region: str, aws: Any = None) -> CostEstimate:
    requests = unit_price("lambda_request_million", region)
    compute = unit_price("lambda_gb_second", region)
    if requests is None or compute is None:
        return CostEstimate.unknown(f"no Lambda price for {region}")
    memory_mb, timeout_s, known = 10240, 900, False
    if aws is not None:
        try:
            config = tabular.cached_lookup(
                aws,
                ("lambda", region, args.name),
                lambda: aws.client("lambda").get_function_configuration(FunctionName=args.name),
            )
            memory_mb, timeout_s, known = int(config["MemorySize"]), int(config["Timeout"]), True
        except Exception:
            pass
    request_cost = requests.usd / 1_000_000
    low = request_cost + memory_mb / 1024 * 0.001 * compute.usd  # a 1 ms run
    high = request_cost + memory_mb / 1024 * timeout_s * compute.usd
    basis = f"1 request + {memory_mb} MB × up to {timeout_s} s × ${compute.usd:g}/GB-s"
    notes = (
        () if known else ("function settings not looked up: assumed the maximum 10 GB and 900 s",)
    )
    return CostEstimate(
        round(low, 8), round(high, 6), basis, compute.source, compute.price_date, notes=notes
    )


@tool(
    name="lambda_invoke",
    stage="preparation",
    risk="billable_read",
    operations=("lambda:Invoke",),
    estimator=_invoke_estimate,
    phrases=("invoke the lambda", "test my function", "invoke my function with a test event"),
)
def lambda_invoke(ctx: ToolContext, args: InvokeArgs) -> ToolResult:
    """Invoke a Lambda function synchronously with a JSON payload and return its response."""
    response = ctx.client("lambda").invoke(
        FunctionName=args.name,
        Payload=json.dumps(args.payload).encode(),
        LogType="Tail" if not ctx.aws.is_sandbox else "None",
    )
    body = response["Payload"].read().decode("utf-8", errors="replace")
    try:
        parsed: Any = json.loads(body) if body else None
    except ValueError:
        parsed = body
    error = response.get("FunctionError")
    shown = body if len(body) <= 2000 else body[:2000] + f"... ({len(body)} characters, cut)"
    text = f"{args.name} returned{' an error (' + error + ')' if error else ''}: {shown}"
    if ctx.aws.is_sandbox:
        text += " (The sandbox does not run your code: without Docker it echoes the payload.)"
    return ToolResult(
        text, {"status": response.get("StatusCode"), "function_error": error, "response": parsed}
    )


@tool(
    name="lambda_list_functions",
    stage="preparation",
    risk="read",
    operations=("lambda:ListFunctions",),
    phrases=("list lambda functions", "what functions do I have"),
)
def lambda_list_functions(ctx: ToolContext, args: NoArgs) -> ToolResult:
    """List Lambda functions with runtime, memory and timeout."""
    rows = []
    for page in ctx.client("lambda").get_paginator("list_functions").paginate():
        for f in page.get("Functions", []):
            rows.append(
                {
                    "name": f["FunctionName"],
                    "runtime": f.get("Runtime"),
                    "memory_mb": f.get("MemorySize"),
                    "timeout_s": f.get("Timeout"),
                    "modified": str(f.get("LastModified", ""))[:19],
                }
            )
    if not rows:
        return ToolResult("No Lambda functions.", {"rows": []})
    shown = rows[:MAX_LIST]
    text = f"{len(rows)} functions: " + "; ".join(
        f"{r['name']} ({r['runtime']}, {r['memory_mb']} MB, {r['timeout_s']} s)" for r in shown
    )
    return ToolResult(text + _cut(len(rows), len(shown)), {"rows": rows})


# ================================================================== QuickSight


@tool(
    name="quicksight_list_dashboards",
    stage="preparation",
    risk="read",
    operations=("quicksight:ListDashboards",),
    phrases=("list quicksight dashboards", "bi dashboards"),
)
def quicksight_list_dashboards(ctx: ToolContext, args: NoArgs) -> ToolResult:
    """List QuickSight dashboards in the account (QuickSight must be set up in the console)."""
    account = ctx.aws.identity.account
    client = ctx.client("quicksight")
    rows = []
    try:
        for page in client.get_paginator("list_dashboards").paginate(AwsAccountId=account):
            for d in page.get("DashboardSummaryList", []):
                rows.append(
                    {
                        "name": d.get("Name"),
                        "id": d.get("DashboardId"),
                        "published": d.get("PublishedVersionNumber"),
                        "updated": str(d.get("LastUpdatedTime", ""))[:10],
                    }
                )
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("UnsupportedUserEditionException", "ResourceNotFoundException"):
            raise ToolError(
                "QuickSight is not set up in this account/region; sign up in the QuickSight console first.",
                kind="not_found",
            ) from None
        raise
    if not rows:
        return ToolResult("No QuickSight dashboards.", {"rows": []})
    shown = rows[:MAX_LIST]
    return ToolResult(
        f"{len(rows)} dashboards: "
        + ", ".join(str(r["name"]) for r in shown)
        + _cut(len(rows), len(shown)),
        {"rows": rows},
    )
