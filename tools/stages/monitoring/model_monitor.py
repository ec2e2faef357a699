"""SageMaker Model Monitor: data- and model-quality schedules on an endpoint's captured traffic."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tools.aws.roles import OptionalRoleArn, require_role, with_role
from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.errors import ToolError
from tools.core.results import CostEstimate, Resource, ToolResult
from tools.core.validators import (
    InstanceType,
    S3PrefixUri,
    S3Uri,
    SageMakerName,
    derived_name,
)
from tools.cost.estimates import estimate_instances, usd
from tools.cost.prices import check_instance_for
from tools.ledger.recording import record_now

# Accounts that publish the Model Monitor analyzer image, per region.
MONITOR_IMAGE_ACCOUNTS: dict[str, str] = {
    "us-east-1": "156813124566",
    "us-east-2": "777275614652",
    "us-west-1": "890145073186",
    "us-west-2": "159807026194",
    "ca-central-1": "536280801234",
    "eu-central-1": "048819808253",
    "eu-west-1": "468650794304",
    "eu-west-2": "749857270468",
    "eu-west-3": "680080141114",
    "eu-north-1": "895015795356",
    "ap-south-1": "126357580389",
    "ap-northeast-1": "574779866223",
    "ap-northeast-2": "709848358524",
    "ap-southeast-1": "245545462676",
    "ap-southeast-2": "563025443158",
    "sa-east-1": "539772159869",
}
CRON = {"hourly": "cron(0 * ? * * *)", "daily": "cron(0 0 ? * * *)"}
RUNS_PER_DAY = {"hourly": 24, "daily": 1}


def monitor_image(region: str) -> str:
    account = MONITOR_IMAGE_ACCOUNTS.get(region)
    if account is None:
        raise ToolError(
            f"no Model Monitor image is known for {region}; use one of: "
            + ", ".join(sorted(MONITOR_IMAGE_ACCOUNTS))
        )
    return f"{account}.dkr.ecr.{region}.amazonaws.com/sagemaker-model-monitor-analyzer"


# --- monitor_create_schedule ---------------------------------------------------------------------
class MonitorScheduleArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schedule_name: Annotated[
        SageMakerName | None, Field(description="default: <endpoint>-<monitor type>")
    ] = None
    endpoint_name: Annotated[SageMakerName, Field(description="Endpoint with data capture on")]
    monitor_type: Annotated[
        Literal["data_quality", "model_quality"], Field(description="What to check")
    ] = "data_quality"
    frequency: Annotated[Literal["hourly", "daily"], Field(description="How often it runs")] = (
        "daily"
    )
    output_s3_uri: Annotated[S3PrefixUri, Field(description="Where reports go")]
    role_arn: OptionalRoleArn = None
    baseline_constraints_uri: Annotated[
        S3Uri | None, Field(description="constraints.json from a baseline job")
    ] = None
    baseline_statistics_uri: Annotated[
        S3Uri | None, Field(description="statistics.json (data quality)")
    ] = None
    problem_type: Annotated[
        Literal["BinaryClassification", "MulticlassClassification", "Regression"] | None,
        Field(description="Model quality: the problem type"),
    ] = None
    ground_truth_s3_uri: Annotated[
        S3PrefixUri | None, Field(description="Model quality: labels uploaded later")
    ] = None
    inference_attribute: Annotated[
        str | None, Field(description="Model quality: prediction column/field")
    ] = None
    probability_attribute: Annotated[
        str | None,
        Field(description="Binary: probability column/field (default: inference_attribute)"),
    ] = None
    probability_threshold: Annotated[float | None, Field(ge=0, le=1)] = None
    instance_type: InstanceType = "ml.m5.xlarge"
    max_runtime_minutes: Annotated[int, Field(ge=5, le=60)] = 30

    @model_validator(mode="after")
    def _check(self) -> MonitorScheduleArgs:
        if self.schedule_name is None:
            kind = "data" if self.monitor_type == "data_quality" else "quality"
            self.schedule_name = derived_name(self.endpoint_name, kind, suffix="monitor")
        check_instance_for("processing", self.instance_type)
        if self.monitor_type == "model_quality":
            missing = [
                name
                for name in ("problem_type", "ground_truth_s3_uri", "inference_attribute")
                if getattr(self, name) is None
            ]
            if missing:
                raise ValueError(f"model_quality needs {', '.join(missing)}")
        if self.frequency == "hourly" and self.max_runtime_minutes > 60:
            raise ValueError("an hourly schedule's job must finish within 60 minutes")
        return self


def build_schedule_requests(
    args: MonitorScheduleArgs, *, region: str, tags: list[dict[str, str]]
) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """(model-quality job definition request or None, CreateMonitoringSchedule request)."""
    role = require_role(args.role_arn, "Model Monitor jobs")
    image = monitor_image(region)
    output = {
        "MonitoringOutputs": [
            {
                "S3Output": {
                    "S3Uri": args.output_s3_uri,
                    "LocalPath": "/opt/ml/processing/output",
                    "S3UploadMode": "EndOfJob",
                }
            }
        ]
    }
    cluster = {
        "ClusterConfig": {
            "InstanceCount": 1,
            "InstanceType": args.instance_type,
            "VolumeSizeInGB": 20,
        }
    }
    stopping = {"MaxRuntimeInSeconds": args.max_runtime_minutes * 60}
    schedule = {"ScheduleExpression": CRON[args.frequency]}
    if args.monitor_type == "data_quality":
        definition: dict[str, Any] = {
            "MonitoringInputs": [
                {
                    "EndpointInput": {
                        "EndpointName": args.endpoint_name,
                        "LocalPath": "/opt/ml/processing/input/endpoint",
                        "S3InputMode": "File",
                        "S3DataDistributionType": "FullyReplicated",
                    }
                }
            ],
            "MonitoringOutputConfig": output,
            "MonitoringResources": cluster,
            "MonitoringAppSpecification": {"ImageUri": image},
            "StoppingCondition": stopping,
            "Environment": {"publish_cloudwatch_metrics": "Enabled"},
            "RoleArn": role,
        }
        baseline: dict[str, Any] = {}
        if args.baseline_constraints_uri:
            baseline["ConstraintsResource"] = {"S3Uri": args.baseline_constraints_uri}
        if args.baseline_statistics_uri:
            baseline["StatisticsResource"] = {"S3Uri": args.baseline_statistics_uri}
        if baseline:
            definition["BaselineConfig"] = baseline
        return None, {
            "MonitoringScheduleName": args.schedule_name,
            "MonitoringScheduleConfig": {
                "ScheduleConfig": schedule,
                "MonitoringJobDefinition": definition,
                "MonitoringType": "DataQuality",
            },
            "Tags": list(tags),
        }
    # Model quality: ground truth arrives later, so each run looks at an earlier window.
    offsets = ("-P1D", "-PT1H") if args.frequency == "hourly" else ("-P2D", "-P1D")
    endpoint_input: dict[str, Any] = {
        "EndpointName": args.endpoint_name,
        "LocalPath": "/opt/ml/processing/input/endpoint",
        "S3InputMode": "File",
        "S3DataDistributionType": "FullyReplicated",
        "InferenceAttribute": args.inference_attribute,
        "StartTimeOffset": offsets[0],
        "EndTimeOffset": offsets[1],
    }
    if args.problem_type == "BinaryClassification":
        # The monitor turns a probability into a label with the threshold; without the
        # attribute it compares the raw output with 0/1 ground truth.
        endpoint_input["ProbabilityAttribute"] = (
            args.probability_attribute or args.inference_attribute
        )
        endpoint_input["ProbabilityThresholdAttribute"] = (
            0.5 if args.probability_threshold is None else args.probability_threshold
        )
    job_definition_name = f"{args.schedule_name[:56]}-mq-def"
    job_definition: dict[str, Any] = {
        "JobDefinitionName": job_definition_name,
        "ModelQualityAppSpecification": {"ImageUri": image, "ProblemType": args.problem_type},
        "ModelQualityJobInput": {
            "EndpointInput": endpoint_input,
            "GroundTruthS3Input": {"S3Uri": args.ground_truth_s3_uri},
        },
        "ModelQualityJobOutputConfig": output,
        "JobResources": cluster,
        "RoleArn": role,
        "StoppingCondition": stopping,
        "Tags": list(tags),
    }
    if args.baseline_constraints_uri:
        job_definition["ModelQualityBaselineConfig"] = {
            "ConstraintsResource": {"S3Uri": args.baseline_constraints_uri}
        }
    return job_definition, {
        "MonitoringScheduleName": args.schedule_name,
        "MonitoringScheduleConfig": {
            "ScheduleConfig": schedule,
            "MonitoringJobDefinitionName": job_definition_name,
            "MonitoringType": "ModelQuality",
        },
        "Tags": list(tags),
    }


def estimate_schedule(args: MonitorScheduleArgs, region: str) -> CostEstimate:
    runs = RUNS_PER_DAY[args.frequency]
    run_hours = args.max_runtime_minutes / 60
    base = estimate_instances(
        args.instance_type, 1, run_hours * runs, "processing", region, min_hours=run_hours
    )
    if not base.known:
        return base
    return replace(
        base,
        basis=(
            f"{runs} run{'s' if runs > 1 else ''}/day × up to {args.max_runtime_minutes} min × "
            f"1 × {args.instance_type}; shown: one run to one day "
            f"(about {usd((base.high_usd or 0) * 30)}/month)"
        ),
        notes=("recurs until the schedule is deleted", "billed at processing instance rates"),
    )


@tool(
    name="monitor_create_schedule",
    stage="monitoring",
    risk="costly",
    estimator=estimate_schedule,
    operations=(
        "sagemaker:DescribeEndpoint",
        "sagemaker:CreateMonitoringSchedule",
        "sagemaker:CreateModelQualityJobDefinition",
    ),
    phrases=(
        "monitor the endpoint for drift",
        "set up model monitor",
        "data quality monitoring",
        "model quality monitoring",
        "schedule drift checks",
    ),
)
def monitor_create_schedule(ctx: ToolContext, args: MonitorScheduleArgs) -> ToolResult:
    """Schedule Model Monitor data- or model-quality checks (hourly/daily) on an endpoint with data capture."""
    args = with_role(ctx, args, "Model Monitor jobs")
    sm = ctx.client("sagemaker")
    endpoint = sm.describe_endpoint(EndpointName=args.endpoint_name)
    capture = endpoint.get("DataCaptureConfig") or {}
    if not capture.get("EnableCapture"):
        raise ToolError(
            f"endpoint {args.endpoint_name} does not capture data, so Model Monitor has nothing "
            "to check. Create it with sagemaker_create_endpoint data_capture={destination_s3_uri: ...}."
        )
    job_definition, schedule = build_schedule_requests(args, region=ctx.region, tags=ctx.aws.tags())
    resources: list[Resource] = []
    if job_definition is not None:
        created = sm.create_model_quality_job_definition(**job_definition)
        definition_res = Resource(
            "sagemaker_model_quality_job_definition",
            job_definition["JobDefinitionName"],
            created.get("JobDefinitionArn"),
            extra={"request": job_definition},
        )
        record_now(ctx, definition_res)
        resources.append(definition_res)
    response = sm.create_monitoring_schedule(**schedule)
    resources.append(
        Resource(
            "sagemaker_monitoring_schedule",
            args.schedule_name,
            response.get("MonitoringScheduleArn"),
            extra={
                "endpoint": args.endpoint_name,
                "job_definition": job_definition["JobDefinitionName"] if job_definition else None,
                "request": schedule,
            },
        )
    )
    est = estimate_schedule(args, ctx.region)
    text = (
        f"Scheduled {args.monitor_type.replace('_', ' ')} monitoring '{args.schedule_name}' on "
        f"{args.endpoint_name}, {args.frequency}; reports go to {args.output_s3_uri}. "
        f"Each run costs up to {usd((est.high_usd or 0) / RUNS_PER_DAY[args.frequency]) if est.known else 'an unknown amount'}. "
        "See results with monitor_list_executions."
    )
    if ctx.aws.is_sandbox:
        text += " Sandbox: runs start on the hour; monitor_run_now runs one now over the last hour's traffic."
    if not args.baseline_constraints_uri:
        text += " No baseline was given, so runs report statistics but no violations."
    return ToolResult(
        text,
        data={"schedule_name": args.schedule_name, "request": schedule},
        resources=resources,
    )
