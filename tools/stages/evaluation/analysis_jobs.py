"""Processing jobs that run SageMaker's analysis containers (Clarify, Model Monitor baselines):
the request, the container paths, and the analysis config written to S3 as the SDK does.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from tools.aws.roles import OptionalRoleArn, require_role
from tools.core.context import ToolContext
from tools.core.results import CostEstimate
from tools.core.validators import InstanceType, S3Uri, SageMakerName, parse_s3_uri
from tools.cost.prices import check_instance_for

CONFIG_PATH = "/opt/ml/processing/input/config"
DATA_PATH = "/opt/ml/processing/input/data"
OUTPUT_PATH = "/opt/ml/processing/output"
BASELINE_INPUT = "/opt/ml/processing/input/baseline_dataset_input"


# --- processing-job plumbing shared by Clarify and Model Monitor ------------------------


def check_processing_instance(value: str) -> str:
    return check_instance_for("processing", value)


ProcessingInstance = Annotated[InstanceType, AfterValidator(check_processing_instance)]


class ProcessingArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    job_name: SageMakerName | None = None
    instance_type: ProcessingInstance = "ml.m5.xlarge"
    instance_count: Annotated[int, Field(ge=1, le=20)] = 1
    volume_size_gb: Annotated[int, Field(ge=1, le=16384)] = 30
    max_runtime_s: Annotated[int, Field(ge=60, le=5 * 24 * 3600)] = 3600
    output_s3_uri: Annotated[
        S3Uri | None, Field(description="default: <data bucket>/sagecoach/...")
    ] = None
    role_arn: OptionalRoleArn = None


def processing_request(
    args: ProcessingArgs,
    *,
    name: str,
    image: str,
    inputs: list[tuple[str, str, str]],
    output_name: str,
    output_uri: str,
    tags: list[dict],
    environment: dict[str, str] | None = None,
) -> dict[str, Any]:
    request: dict[str, Any] = {
        "ProcessingJobName": name,
        "ProcessingInputs": [
            {
                "InputName": input_name,
                "S3Input": {
                    "S3Uri": uri,
                    "LocalPath": local,
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                    "S3DataDistributionType": "FullyReplicated",
                },
            }
            for input_name, uri, local in inputs
        ],
        "ProcessingOutputConfig": {
            "Outputs": [
                {
                    "OutputName": output_name,
                    "S3Output": {
                        "S3Uri": output_uri,
                        "LocalPath": OUTPUT_PATH,
                        "S3UploadMode": "EndOfJob",
                    },
                }
            ]
        },
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceCount": args.instance_count,
                "InstanceType": args.instance_type,
                "VolumeSizeInGB": args.volume_size_gb,
            }
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": args.max_runtime_s},
        "AppSpecification": {"ImageUri": image},
        "RoleArn": require_role(args.role_arn, "SageMaker processing jobs"),
        "Tags": list(tags),
    }
    if environment:
        request["Environment"] = environment
    return request


def read_header(ctx: ToolContext, uri: str) -> list[str]:
    bucket, key = parse_s3_uri(uri)
    if not key or key.endswith("/"):
        return []
    body = ctx.client("s3").get_object(Bucket=bucket, Key=key, Range="bytes=0-65535")["Body"]
    first = body.read().decode("utf-8", errors="replace").splitlines()[:1]
    return next(csv.reader(io.StringIO(first[0]))) if first else []


def output_base(args: ProcessingArgs, data_uri: str, kind: str, name: str) -> str:
    if args.output_s3_uri:
        return args.output_s3_uri.rstrip("/") + f"/{name}"
    bucket, _ = parse_s3_uri(data_uri)
    return f"s3://{bucket}/sagecoach/{kind}/{name}"


def put_json(ctx: ToolContext, uri: str, payload: dict[str, Any]) -> None:
    bucket, key = parse_s3_uri(uri)
    ctx.client("s3").put_object(
        Bucket=bucket,
        Key=key,
        Body=json.dumps(payload, indent=2).encode(),
        ContentType="application/json",
    )


def combine_estimates(a: CostEstimate, b: CostEstimate | None, note: str) -> CostEstimate:
    if b is None:
        return a
    if not a.known or not b.known:
        return CostEstimate.unknown(f"{a.basis}; plus {b.basis}")
    return CostEstimate(
        round((a.low_usd or 0) + (b.low_usd or 0), 4),
        round((a.high_usd or 0) + (b.high_usd or 0), 4),
        f"{a.basis}; plus {b.basis} ({note})",
        a.source,
        a.price_date,
        notes=a.notes,
    )
