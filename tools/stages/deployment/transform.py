"""Batch transform: predictions for a whole S3 dataset without an endpoint."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.errors import ToolError
from tools.core.results import CostEstimate, Resource, ToolResult
from tools.core.validators import InstanceType, S3PrefixUri, SageMakerName, derived_name
from tools.cost.estimates import estimate_instances
from tools.cost.prices import check_instance_for, instance_hourly
from tools.ledger.recording import ledger_mark, record_now
from tools.ledger.store import parse_time
from tools.stages.shared.jobs import wait_for_job


# --- batch transform -----------------------------------------------------------------------------
class TransformJobArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    job_name: Annotated[
        SageMakerName | None, Field(description="default: <model>-batch-<id of input and output>")
    ] = None
    model_name: SageMakerName
    input_s3_uri: Annotated[S3PrefixUri, Field(description="S3 prefix (or file) to score")]
    output_s3_uri: Annotated[S3PrefixUri, Field(description="Where predictions go")]
    content_type: Annotated[
        Literal["text/csv", "application/json", "application/jsonlines"],
        Field(description="Input format"),
    ] = "text/csv"
    split_type: Annotated[
        Literal["None", "Line", "RecordIO", "TFRecord"], Field(description="How to split input")
    ] = "Line"
    assemble_with: Annotated[Literal["None", "Line"], Field(description="Join outputs by")] = "Line"
    strategy: Annotated[Literal["SingleRecord", "MultiRecord"], Field(description="Batching")] = (
        "MultiRecord"
    )
    max_payload_mb: Annotated[int, Field(ge=0, le=100)] = 6
    join_input: Annotated[bool, Field(description="Append predictions to input rows")] = False
    instance_type: InstanceType = "ml.m5.large"
    instance_count: Annotated[int, Field(ge=1, le=20)] = 1
    max_hours: Annotated[
        float, Field(gt=0, le=72, description="Expected hours, for the estimate")
    ] = 1.0
    wait: Annotated[bool, Field(description="Wait for it to finish")] = True

    @model_validator(mode="after")
    def _check(self) -> TransformJobArgs:
        if self.job_name is None:
            import hashlib

            what = hashlib.sha1(f"{self.input_s3_uri}|{self.output_s3_uri}".encode()).hexdigest()
            self.job_name = derived_name(self.model_name, "batch", suffix=what[:6])
        check_instance_for("transform", self.instance_type)
        return self


def build_transform_job_request(
    args: TransformJobArgs,
    *,
    region: str,
    tags: list[dict[str, str]],
    input_filter: str | None = None,
) -> dict[str, Any]:
    """The CreateTransformJob request (pipeline Transform steps use it without the name)."""
    del region  # same shape in every region
    request: dict[str, Any] = {
        "TransformJobName": args.job_name,
        "ModelName": args.model_name,
        "BatchStrategy": args.strategy,
        "MaxPayloadInMB": args.max_payload_mb,
        "TransformInput": {
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": args.input_s3_uri}},
            "ContentType": args.content_type,
            "SplitType": args.split_type,
        },
        "TransformOutput": {"S3OutputPath": args.output_s3_uri, "AssembleWith": args.assemble_with},
        "TransformResources": {
            "InstanceType": args.instance_type,
            "InstanceCount": args.instance_count,
        },
        "Tags": list(tags),
    }
    processing: dict[str, str] = {}
    if input_filter:
        processing["InputFilter"] = input_filter
    if args.join_input:
        processing["JoinSource"] = "Input"
    if processing:
        request["DataProcessing"] = processing
    return request


def estimate_transform(args: TransformJobArgs, region: str) -> CostEstimate:
    return estimate_instances(
        args.instance_type, args.instance_count, args.max_hours, "transform", region
    )


@tool(
    name="sagemaker_start_transform_job",
    stage="deployment",
    risk="costly",
    estimator=estimate_transform,
    operations=("sagemaker:CreateTransformJob", "sagemaker:DescribeTransformJob"),
    phrases=(
        "batch transform",
        "score a whole dataset",
        "run batch predictions",
        "predict on a file in s3",
        "offline inference",
    ),
)
def sagemaker_start_transform_job(ctx: ToolContext, args: TransformJobArgs) -> ToolResult:
    """Run batch predictions over an S3 prefix with a model and write them to an S3 path."""
    from tools.dataprep.manifest import manifest_for_model, transform_input
    from tools.dataprep.source import LOCAL_LIMIT_BYTES

    found = (
        manifest_for_model(ctx.aws, args.model_name) if args.content_type == "text/csv" else None
    )
    input_filter, note = None, ""
    if found is not None:
        staging = args.output_s3_uri.rstrip("/") + f"/{args.job_name}-input/"
        try:
            uri, input_filter, note = transform_input(
                ctx.client("s3"), found, args.input_s3_uri, staging, LOCAL_LIMIT_BYTES
            )
        except ValueError as exc:
            raise ToolError(str(exc), kind="invalid_arguments") from None
        args = args.model_copy(update={"input_s3_uri": uri})
        ctx.report(note)
    request = build_transform_job_request(
        args, region=ctx.region, tags=ctx.aws.tags(), input_filter=input_filter
    )
    response = ctx.client("sagemaker").create_transform_job(**request)
    arn = response["TransformJobArn"]
    quote = instance_hourly(args.instance_type, "transform", ctx.region)
    resource = Resource(
        "sagemaker_transform_job",
        args.job_name,
        arn,
        hourly_usd=round(quote.usd * args.instance_count, 4) if quote else None,
        extra={"request": request},
    )
    record_now(ctx, resource)
    status = "InProgress"
    desc: dict[str, Any] = {}
    if args.wait:
        outcome = wait_for_job(ctx, "transform", args.job_name, timeout_s=args.max_hours * 3600)
        status, desc = outcome.status, outcome.description
        if status in ("Completed", "Failed", "Stopped"):
            ledger_mark(ctx, "sagemaker_transform_job", args.job_name, "finished")
        if status == "Failed":
            raise ToolError(
                f"transform job {args.job_name} failed: {desc.get('FailureReason', 'no reason')}"
            )
    text = (
        f"Transform job {args.job_name} is {status}; predictions go to {args.output_s3_uri} "
        f"(one .out file per input file)."
    )
    if status == "InProgress":
        text += " Check it with sagemaker_describe_transform_job."
    return ToolResult(
        text,
        data={"job_name": args.job_name, "job_arn": arn, "status": status, "request": request},
        resources=[resource],
    )


class DescribeTransformArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    job_name: SageMakerName


@tool(
    name="sagemaker_describe_transform_job",
    stage="deployment",
    risk="read",
    operations=("sagemaker:DescribeTransformJob",),
    phrases=("is the batch transform done", "transform job status"),
)
def sagemaker_describe_transform_job(ctx: ToolContext, args: DescribeTransformArgs) -> ToolResult:
    """Show a batch transform job's status, input, output and timing."""
    desc = ctx.client("sagemaker").describe_transform_job(TransformJobName=args.job_name)
    start, end = (
        parse_time(desc.get("TransformStartTime")),
        parse_time(desc.get("TransformEndTime")),
    )
    minutes = round((end - start).total_seconds() / 60, 1) if start and end else None
    data = {
        "job_name": args.job_name,
        "status": desc.get("TransformJobStatus"),
        "failure_reason": desc.get("FailureReason") or None,
        "model": desc.get("ModelName"),
        "input": desc.get("TransformInput", {})
        .get("DataSource", {})
        .get("S3DataSource", {})
        .get("S3Uri"),
        "output": desc.get("TransformOutput", {}).get("S3OutputPath"),
        "instance_type": desc.get("TransformResources", {}).get("InstanceType"),
        "instance_count": desc.get("TransformResources", {}).get("InstanceCount"),
        "minutes": minutes,
    }
    failure = f" Failure: {data['failure_reason']}." if data["failure_reason"] else ""
    text = (
        f"{args.job_name}: {data['status']}; model {data['model']}; {data['input']} → "
        f"{data['output']}; {data['instance_count']} × {data['instance_type']}"
        f"{f'; took {minutes} min' if minutes is not None else ''}.{failure}"
    )
    return ToolResult(text, data=data)
