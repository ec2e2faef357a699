"""AWS Batch for training containers outside SageMaker: submit, describe, list queues and definitions."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.errors import ToolError
from tools.core.results import CostEstimate, Resource, ToolResult

BatchName = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$", max_length=128)
]
QueueRef = Annotated[str, StringConstraints(min_length=1, max_length=1600)]


class SubmitBatchArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    job_name: Annotated[BatchName, Field(description="letters, digits, - and _")]
    job_queue: Annotated[QueueRef, Field(description="queue name or ARN")]
    job_definition: Annotated[QueueRef, Field(description="name[:revision] or ARN")]
    command: Annotated[list[str], Field(description="override the container command")] = []
    environment: dict[str, str] = {}
    timeout_s: Annotated[int, Field(ge=60, le=14 * 24 * 3600)] = 3600


def estimate_batch(args: SubmitBatchArgs, region: str) -> CostEstimate:
    return CostEstimate.unknown(
        f"AWS Batch bills the EC2 or Fargate capacity of the queue's compute environment for up "
        f"to {args.timeout_s / 3600:g} h (the job timeout)",
        notes=(
            "no charge for Batch itself",
            "spot or already-running capacity may cost less or nothing extra",
        ),
    )


def _compute_kinds(batch: Any, queue: dict[str, Any]) -> list[str]:
    envs = [e["computeEnvironment"] for e in queue.get("computeEnvironmentOrder", [])]
    if not envs:
        return []
    kinds = []
    for env in batch.describe_compute_environments(computeEnvironments=envs).get(
        "computeEnvironments", []
    ):
        resources = env.get("computeResources") or {}
        kinds.append(resources.get("type") or env.get("type", "?"))
    return kinds


@tool(
    name="batch_submit_job",
    stage="training",
    risk="costly",
    operations=("batch:DescribeJobQueues", "batch:DescribeComputeEnvironments", "batch:SubmitJob"),
    estimator=estimate_batch,
    phrases=(
        "submit a batch job",
        "run my training container on aws batch",
        "queue a job on batch",
    ),
)
def batch_submit_job(ctx: ToolContext, args: SubmitBatchArgs) -> ToolResult:
    """Submit a job to an existing AWS Batch queue with an existing job definition (compute bills while it runs)."""
    batch = ctx.client("batch")
    queues = batch.describe_job_queues(jobQueues=[args.job_queue]).get("jobQueues", [])
    if not queues:
        raise ToolError(
            f"job queue '{args.job_queue}' does not exist; see batch_list_job_queues.",
            kind="not_found",
        )
    queue = queues[0]
    if queue.get("state") != "ENABLED":
        raise ToolError(f"job queue '{args.job_queue}' is {queue.get('state')}; enable it first.")
    kinds = _compute_kinds(batch, queue)
    request: dict[str, Any] = {
        "jobName": args.job_name,
        "jobQueue": args.job_queue,
        "jobDefinition": args.job_definition,
        "timeout": {"attemptDurationSeconds": args.timeout_s},
        "tags": ctx.aws.tag_map(),
        "propagateTags": True,
    }
    overrides: dict[str, Any] = {}
    if args.command:
        overrides["command"] = list(args.command)
    if args.environment:
        overrides["environment"] = [{"name": k, "value": v} for k, v in args.environment.items()]
    if overrides:
        request["containerOverrides"] = overrides
    response = batch.submit_job(**request)
    job_id, arn = response["jobId"], response.get("jobArn")
    compute = ", ".join(kinds) or "unknown"
    text = (
        f"Submitted Batch job {args.job_name} (id {job_id}) to {queue['jobQueueName']} "
        f"(compute: {compute}); timeout {args.timeout_s // 60} min. Check it with batch_describe_job."
    )
    if any(k in ("EC2", "FARGATE") for k in kinds):
        text += " The queue uses on-demand capacity, which bills while the job runs."
    return ToolResult(
        text,
        {"job_id": job_id, "arn": arn, "compute": kinds, "request": request},
        [Resource("batch_job", args.job_name, arn, extra={"job_id": job_id, "request": request})],
    )


class BatchJobArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    job_id: Annotated[str, Field(min_length=1, max_length=1600, description="job id or ARN")]


@tool(
    name="batch_describe_job",
    stage="training",
    risk="read",
    operations=("batch:DescribeJobs",),
    phrases=("batch job status", "how is my batch job", "describe the batch job"),
)
def batch_describe_job(ctx: ToolContext, args: BatchJobArgs) -> ToolResult:
    """Status, reason, timing and log stream of an AWS Batch job."""
    jobs = ctx.client("batch").describe_jobs(jobs=[args.job_id]).get("jobs", [])
    if not jobs:
        raise ToolError(f"no Batch job with id {args.job_id}", kind="not_found")
    job = jobs[0]
    container = job.get("container") or {}
    info = {
        "job_id": job.get("jobId"),
        "name": job.get("jobName"),
        "status": job.get("status"),
        "reason": job.get("statusReason"),
        "queue": job.get("jobQueue"),
        "definition": job.get("jobDefinition"),
        "started_at": job.get("startedAt"),
        "stopped_at": job.get("stoppedAt"),
        "exit_code": container.get("exitCode"),
        "log_stream": container.get("logStreamName"),
    }
    text = f"Batch job {info['name']} ({info['job_id']}): {info['status']}"
    if info["reason"]:
        text += f" — {info['reason']}"
    if info["exit_code"] is not None:
        text += f"; exit code {info['exit_code']}"
    if info["log_stream"]:
        text += f"; logs: /aws/batch/job {info['log_stream']}"
    return ToolResult(text + ".", info)


class ListBatchArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_results: Annotated[int, Field(ge=1, le=100)] = 25


@tool(
    name="batch_list_job_queues",
    stage="training",
    risk="read",
    operations=("batch:DescribeJobQueues",),
    phrases=("list batch queues", "which batch job queues exist"),
)
def batch_list_job_queues(ctx: ToolContext, args: ListBatchArgs) -> ToolResult:
    """AWS Batch job queues with state and compute environments."""
    queues = ctx.client("batch").describe_job_queues().get("jobQueues", [])
    rows = [
        {
            "name": q["jobQueueName"],
            "state": q.get("state"),
            "status": q.get("status"),
            "priority": q.get("priority"),
            "compute": [
                c["computeEnvironment"].rsplit("/", 1)[-1]
                for c in q.get("computeEnvironmentOrder", [])
            ],
        }
        for q in queues
    ]
    if not rows:
        return ToolResult(
            "No AWS Batch job queues in this region; create a compute environment and a queue "
            "first (console or CLI).",
            {"rows": []},
        )
    shown = rows[: args.max_results]
    text = "\n".join(
        f"{r['name']}  {r['state']}/{r['status']}  {', '.join(r['compute'])}" for r in shown
    )
    if len(rows) > len(shown):
        text += f"\n(first {len(shown)} of {len(rows)})"
    return ToolResult(f"{len(rows)} job queues:\n{text}", {"rows": shown})


@tool(
    name="batch_list_job_definitions",
    stage="training",
    risk="read",
    operations=("batch:DescribeJobDefinitions",),
    phrases=("list batch job definitions", "which batch job definitions exist"),
)
def batch_list_job_definitions(ctx: ToolContext, args: ListBatchArgs) -> ToolResult:
    """Active AWS Batch job definitions (name:revision, image, vCPUs, memory)."""
    defs = ctx.client("batch").describe_job_definitions(status="ACTIVE").get("jobDefinitions", [])
    rows = []
    for d in defs:
        props = d.get("containerProperties") or {}
        reqs = {r["type"]: r["value"] for r in props.get("resourceRequirements", []) or []}
        rows.append(
            {
                "name": f"{d['jobDefinitionName']}:{d.get('revision')}",
                "type": d.get("type"),
                "image": props.get("image"),
                "vcpus": reqs.get("VCPU", props.get("vcpus")),
                "memory_mib": reqs.get("MEMORY", props.get("memory")),
            }
        )
    if not rows:
        return ToolResult("No active AWS Batch job definitions in this region.", {"rows": []})
    shown = rows[: args.max_results]
    text = "\n".join(
        f"{r['name']}  {r['image']}  {r['vcpus']} vCPU  {r['memory_mib']} MiB" for r in shown
    )
    if len(rows) > len(shown):
        text += f"\n(first {len(shown)} of {len(rows)})"
    return ToolResult(f"{len(rows)} job definitions:\n{text}", {"rows": shown})
