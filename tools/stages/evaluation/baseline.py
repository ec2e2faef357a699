"""Model Monitor baselines: statistics and constraints suggested from a training dataset."""

from __future__ import annotations

import json
from typing import Annotated

from pydantic import Field

from tools.aws.roles import with_role
from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.results import CostEstimate, Resource, ToolResult
from tools.core.validators import S3Uri
from tools.cost.estimates import estimate_instances
from tools.stages.evaluation.analysis_jobs import (
    BASELINE_INPUT,
    OUTPUT_PATH,
    ProcessingArgs,
    output_base,
    processing_request,
)
from tools.stages.training.algorithms import retrieve_image
from tools.stages.training.training_request import generated_name

# --- Model Monitor baseline -------------------------------------------------------------


class BaselineArgs(ProcessingArgs):
    dataset_s3_uri: Annotated[S3Uri, Field(description="training/baseline CSV")]
    header: Annotated[bool, Field(description="CSV has a header row")] = True


def estimate_baseline(args: BaselineArgs, region: str) -> CostEstimate:
    return estimate_instances(
        args.instance_type, args.instance_count, args.max_runtime_s / 3600, "processing", region
    )


@tool(
    name="monitor_suggest_baseline",
    stage="evaluation",
    risk="costly",
    operations=("sagemaker:CreateProcessingJob",),
    estimator=estimate_baseline,
    phrases=(
        "suggest a baseline",
        "compute data statistics and constraints",
        "create a model monitor baseline",
        "baseline for data drift",
    ),
)
def monitor_suggest_baseline(ctx: ToolContext, args: BaselineArgs) -> ToolResult:
    """Compute statistics and constraints of a dataset with the Model Monitor analyzer (a processing job), the baseline for drift monitoring."""
    args = with_role(ctx, args, "Model Monitor baseline jobs")
    name = args.job_name or generated_name("sc-baseline")
    base = output_base(args, args.dataset_s3_uri, "baselines", name)
    dataset_format = {"csv": {"header": args.header, "output_columns_position": "START"}}
    request = processing_request(
        args,
        name=name,
        image=retrieve_image("model-monitor", ctx.region),
        inputs=[("baseline_dataset_input", args.dataset_s3_uri, BASELINE_INPUT)],
        output_name="monitoring_output",
        output_uri=base,
        tags=ctx.aws.tags(),
        environment={
            "dataset_format": json.dumps(dataset_format),
            "dataset_source": BASELINE_INPUT,
            "output_path": OUTPUT_PATH,
            "publish_cloudwatch_metrics": "Disabled",
        },
    )
    arn = ctx.client("sagemaker").create_processing_job(**request)["ProcessingJobArn"]
    estimate = estimate_baseline(args, ctx.region)
    return ToolResult(
        f"Started baseline job {name} on {args.dataset_s3_uri}. statistics.json and "
        f"constraints.json go to {base}/. Cost: {estimate.summary()}.",
        {
            "job_name": name,
            "arn": arn,
            "statistics": f"{base}/statistics.json",
            "constraints": f"{base}/constraints.json",
        },
        [Resource("sagemaker_processing_job", name, arn, extra={"request": request})],
    )
