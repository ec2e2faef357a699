"""AWS Glue DataBrew: datasets, profile jobs and their runs (billed per node-hour)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, model_validator

from tools.aws.roles import OptionalRoleArn, resolve_role
from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.errors import NotEmulated, ToolError
from tools.core.results import CostEstimate, Resource, ToolResult
from tools.core.validators import S3PrefixUri, parse_s3_uri
from tools.cost.prices import unit_price
from tools.stages.shared.listing import Strict

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
