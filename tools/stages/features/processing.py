"""SageMaker Processing jobs: run a script over S3 data on managed instances.

`build_processing_job_request` is pure and public: the Pipelines tool builds its processing
steps with it, so a session's processing job and a pipeline step send the same request.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, model_validator

from tools.aws.roles import OptionalRoleArn, require_role, with_role
from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.errors import ToolError
from tools.core.results import CostEstimate, Resource, ToolResult
from tools.core.validators import InstanceType, LocalFile, SageMakerName, parse_s3_uri
from tools.cost.estimates import estimate_instances
from tools.cost.prices import check_instance_for, instance_hourly
from tools.stages.shared.listing import Strict

# ============================================================ Processing jobs

FRAMEWORK_DEFAULTS = {"sklearn": "1.2-1", "spark": "3.3"}
CODE_DIR = "/opt/ml/processing/input/code"
_CHANNEL = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_-]{0,63}$")


def _check_channels(value: dict[str, str]) -> dict[str, str]:
    for name, uri in value.items():
        if not _CHANNEL.match(name) or name == "code":
            raise ValueError(
                f"channel name '{name}' must be letters, digits, - or _ (and not 'code')"
            )
        parse_s3_uri(uri)
    return value


Channels = Annotated[dict[str, str], AfterValidator(_check_channels)]


class ProcessingJobArgs(BaseModel):
    model_config = Strict
    job_name: str = ""
    script: Annotated[LocalFile, Field(description="local .py script")]
    framework: Literal["sklearn", "spark"] = "sklearn"
    framework_version: str = ""
    role_arn: OptionalRoleArn = None
    inputs: Annotated[Channels, Field(description="name: s3 uri")] = {}
    outputs: Annotated[Channels, Field(description="name: s3 uri")] = {}
    code_s3_uri: Annotated[str, Field(description="s3 prefix for the script")] = ""
    instance_type: InstanceType = "ml.m5.xlarge"
    instance_count: Annotated[int, Field(ge=1, le=100)] = 1
    max_runtime_s: Annotated[int, Field(ge=60, le=432_000)]
    arguments: list[str] = []
    volume_gb: Annotated[int, Field(ge=1, le=16_384)] = 30

    @model_validator(mode="after")
    def _check(self) -> ProcessingJobArgs:
        if self.job_name:
            from tools.core.validators import check_sagemaker_name

            check_sagemaker_name(self.job_name)
        if not self.script.endswith(".py"):
            raise ValueError("script must be a .py file")
        check_instance_for("processing", self.instance_type)
        if self.code_s3_uri:
            parse_s3_uri(self.code_s3_uri)
        elif not self.outputs and not self.inputs:
            raise ValueError(
                "give code_s3_uri (s3://bucket/prefix/) or an input or output, so the script has "
                "an S3 bucket to go to"
            )
        return self


def default_code_uri(args: ProcessingJobArgs, job_name: str) -> str:
    """Where the script goes: code_s3_uri, else <first output or input bucket>/sagecoach/code/<job>/."""
    if args.code_s3_uri:
        base = args.code_s3_uri if args.code_s3_uri.endswith("/") else args.code_s3_uri + "/"
    else:
        place = next(iter(args.outputs.values()), None) or next(iter(args.inputs.values()), None)
        if place is None:
            raise ToolError(
                "Give code_s3_uri (s3://bucket/prefix/) or an input or output, so the script has "
                "an S3 bucket to go to.",
                kind="invalid_arguments",
            )
        bucket, _ = parse_s3_uri(place)
        base = f"s3://{bucket}/sagecoach/code/{job_name}/"
    return base + Path(args.script).name


def processing_job_name(args: ProcessingJobArgs) -> str:
    return (
        args.job_name or f"sagecoach-{args.framework}-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}"
    )


def build_processing_job_request(
    args: ProcessingJobArgs, *, region: str, tags: list[dict], code_uri: str
) -> dict:
    """The CreateProcessingJob request for these arguments (pure apart from the image look-up).

    The image is the SageMaker scikit-learn or Spark processing image for the region (from the
    SageMaker SDK's bundled image URIs); `code_uri` is where the script is (or will be) in S3.
    An empty job name is generated from the framework and the current time.
    """
    from sagemaker.core import image_uris  # ~1 s on first import

    version = args.framework_version or FRAMEWORK_DEFAULTS[args.framework]
    try:
        image = image_uris.retrieve(
            args.framework, region=region, version=version, instance_type=args.instance_type
        )
    except ValueError as exc:
        raise ToolError(
            f"No SageMaker {args.framework} {version} processing image in {region}: {exc}",
            kind="invalid_arguments",
        ) from None
    script = f"{CODE_DIR}/{Path(args.script).name}"
    entry = ["smspark-submit", script] if args.framework == "spark" else ["python3", script]
    app: dict[str, Any] = {"ImageUri": image, "ContainerEntrypoint": entry}
    if args.arguments:
        app["ContainerArguments"] = list(args.arguments)
    inputs = [
        {
            "InputName": "code",
            "S3Input": {
                "S3Uri": code_uri,
                "LocalPath": CODE_DIR,
                "S3DataType": "S3Prefix",
                "S3InputMode": "File",
                "S3DataDistributionType": "FullyReplicated",
            },
        }
    ]
    for name, uri in args.inputs.items():
        inputs.append(
            {
                "InputName": name,
                "S3Input": {
                    "S3Uri": uri,
                    "LocalPath": f"/opt/ml/processing/input/{name}",
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                    "S3DataDistributionType": "FullyReplicated",
                },
            }
        )
    request: dict[str, Any] = {
        "ProcessingJobName": processing_job_name(args),
        "RoleArn": require_role(args.role_arn, "SageMaker processing jobs"),
        "AppSpecification": app,
        "ProcessingInputs": inputs,
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceCount": args.instance_count,
                "InstanceType": args.instance_type,
                "VolumeSizeInGB": args.volume_gb,
            }
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": args.max_runtime_s},
        "Tags": list(tags),
    }
    if args.outputs:
        request["ProcessingOutputConfig"] = {
            "Outputs": [
                {
                    "OutputName": name,
                    "S3Output": {
                        "S3Uri": uri,
                        "LocalPath": f"/opt/ml/processing/output/{name}",
                        "S3UploadMode": "EndOfJob",
                    },
                }
                for name, uri in args.outputs.items()
            ]
        }
    return request


def _processing_estimate(args: ProcessingJobArgs, region: str) -> CostEstimate:
    return estimate_instances(
        args.instance_type, args.instance_count, args.max_runtime_s / 3600, "processing", region
    )


@tool(
    name="sagemaker_start_processing_job",
    stage="features",
    risk="costly",
    operations=("s3:PutObject", "sagemaker:CreateProcessingJob"),
    estimator=_processing_estimate,
    phrases=(
        "run a processing job",
        "feature engineering script",
        "preprocess data with sklearn",
        "run my spark script on sagemaker",
        "start processing job",
    ),
)
def sagemaker_start_processing_job(ctx: ToolContext, args: ProcessingJobArgs) -> ToolResult:
    """Run a local Python script as a SageMaker Processing job (scikit-learn or Spark image)."""
    name = processing_job_name(args)
    args = with_role(ctx, args, "SageMaker processing jobs")
    args = args.model_copy(update={"job_name": name})
    code_uri = default_code_uri(args, name)
    request = build_processing_job_request(
        args, region=ctx.region, tags=ctx.aws.tags(), code_uri=code_uri
    )
    bucket, key = parse_s3_uri(code_uri)
    ctx.client("s3").upload_file(args.script, bucket, key)
    arn = ctx.client("sagemaker").create_processing_job(**request)["ProcessingJobArn"]
    quote = instance_hourly(args.instance_type, "processing", ctx.region)
    hourly = round(quote.usd * args.instance_count, 4) if quote else None
    return ToolResult(
        f"Started processing job {name} ({args.instance_count} × {args.instance_type}, stops after {args.max_runtime_s} s) running {Path(args.script).name} in the {args.framework} image. "
        "Wait with sagemaker_wait_for_job (kind processing).",
        {
            "job": name,
            "arn": arn,
            "code_uri": code_uri,
            "image": request["AppSpecification"]["ImageUri"],
        },
        [
            Resource(
                "sagemaker_processing_job",
                name,
                arn,
                ctx.region,
                hourly_usd=hourly,
                extra={"request": request},
            )
        ],
    )


class ProcessingNameArgs(BaseModel):
    model_config = Strict
    name: SageMakerName


@tool(
    name="sagemaker_describe_processing_job",
    stage="features",
    risk="read",
    operations=("sagemaker:DescribeProcessingJob",),
    phrases=("processing job status", "describe processing job", "did preprocessing finish"),
)
def sagemaker_describe_processing_job(ctx: ToolContext, args: ProcessingNameArgs) -> ToolResult:
    """Show a processing job's status, duration, instances, outputs and failure reason."""
    job = ctx.client("sagemaker").describe_processing_job(ProcessingJobName=args.name)
    cluster = job.get("ProcessingResources", {}).get("ClusterConfig", {})
    outputs = [
        o["S3Output"]["S3Uri"]
        for o in job.get("ProcessingOutputConfig", {}).get("Outputs", [])
        if "S3Output" in o
    ]
    start, end = job.get("ProcessingStartTime"), job.get("ProcessingEndTime")
    duration = (end - start).total_seconds() if start and end else None
    data = {
        "name": args.name,
        "status": job.get("ProcessingJobStatus"),
        "instance_type": cluster.get("InstanceType"),
        "instance_count": cluster.get("InstanceCount"),
        "duration_s": duration,
        "outputs": outputs,
        "failure": job.get("FailureReason"),
        "exit_message": job.get("ExitMessage"),
    }
    text = f"Processing job {args.name}: {data['status']}"
    if cluster:
        text += f" on {data['instance_count']} × {data['instance_type']}"
    if duration is not None:
        text += f", ran {duration:.0f} s"
    if outputs:
        text += f"; outputs {', '.join(outputs)}"
    if data["failure"]:
        text += f". Failure: {data['failure']}"
    return ToolResult(text + ".", data)
