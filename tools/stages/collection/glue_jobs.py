"""AWS Glue ETL jobs: create a job from a script, run it, follow the run (billed per DPU-hour)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, model_validator

from tools.aws.roles import resolve_role
from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.results import CostEstimate, Resource, ToolResult
from tools.core.validators import GlueName, parse_s3_uri
from tools.cost.estimates import estimate_units
from tools.cost.prices import unit_price
from tools.stages.collection.glue_catalog import GlueRole, account_id
from tools.stages.collection.s3 import s3_tagging
from tools.stages.shared.listing import Strict

# ================================================================== Glue ETL

WORKER_DPU: dict[str, float] = {"G.025X": 0.25, "G.1X": 1, "G.2X": 2, "G.4X": 4, "G.8X": 8}
WorkerType = Literal["G.025X", "G.1X", "G.2X", "G.4X", "G.8X"]


class CreateJobArgs(BaseModel):
    model_config = Strict
    name: GlueName
    role: GlueRole | None = None
    script: Annotated[str, Field(description="local .py or s3 uri")]
    code_s3_uri: Annotated[str, Field(description="upload prefix")] = ""
    worker_type: WorkerType = "G.1X"
    number_of_workers: Annotated[int, Field(ge=2, le=299)] = 2
    timeout_minutes: Annotated[int, Field(ge=1, le=2880)] = 60
    arguments: Annotated[dict[str, str], Field(description="{'--key': value}")] = {}

    @model_validator(mode="after")
    def _check_script(self) -> CreateJobArgs:
        if self.worker_type == "G.025X":
            raise ValueError(
                "G.025X workers are for Glue streaming jobs only; a Spark ETL job takes G.1X or larger"
            )
        if self.script.startswith("s3://"):
            parse_s3_uri(self.script)
            return self
        path = Path(self.script).expanduser()
        if not path.is_file():
            raise ValueError(
                f"script '{self.script}' is neither an s3:// URI nor an existing local file"
            )
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
        ctx.client("s3").upload_file(str(path), bucket, key, ExtraArgs={"Tagging": s3_tagging(ctx)})
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
    arn = f"arn:aws:glue:{ctx.region}:{account_id(ctx)}:job/{args.name}"
    return ToolResult(
        f"Created Glue job {args.name} ({args.number_of_workers} × {args.worker_type}, timeout {args.timeout_minutes} min) running {script_uri}. Start it with glue_start_job_run.",
        {"job": args.name, "script": script_uri},
        [Resource("glue_job", args.name, arn, ctx.region, extra={"request": request})],
    )


class StartJobRunArgs(BaseModel):
    model_config = Strict
    job_name: GlueName
    worker_type: Annotated[WorkerType | None, Field(description="default: the job's")] = None
    number_of_workers: Annotated[
        int | None, Field(ge=2, le=299, description="default: the job's")
    ] = None
    timeout_minutes: Annotated[
        int, Field(ge=1, le=2880, description="hard stop; bounds the cost")
    ] = 60


def _job_run_estimate(args: StartJobRunArgs, region: str, aws: Any = None) -> CostEstimate:
    worker, workers = args.worker_type, args.number_of_workers
    if (worker is None or workers is None) and aws is not None:
        try:
            job = aws.client("glue").get_job(JobName=args.job_name)["Job"]
            worker = worker or job.get("WorkerType")
            workers = workers or job.get("NumberOfWorkers")
        except Exception:
            pass
    if worker not in WORKER_DPU or not workers:
        return CostEstimate.unknown(f"the job's workers × up to {args.timeout_minutes} min")
    args = args.model_copy(update={"worker_type": worker, "number_of_workers": workers})
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
    request: dict[str, Any] = {"JobName": args.job_name, "Timeout": args.timeout_minutes}
    if args.worker_type is not None:  # else the run keeps the job's own workers
        request["WorkerType"] = args.worker_type
    if args.number_of_workers is not None:
        request["NumberOfWorkers"] = args.number_of_workers
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
