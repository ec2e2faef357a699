"""Stage 8 — monitoring: Model Monitor schedules, CloudWatch metrics/alarms/logs, CloudTrail.

The sandbox (moto) has no monitoring schedules, monitoring executions or CloudTrail event
history; those tools say so plainly there. CloudWatch metrics, alarms and logs are emulated.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field, model_validator

from tools.base import CostEstimate, NotEmulated, Resource, ToolContext, ToolError, ToolResult, tool
from tools.deployment import is_not_found, record_now, usd
from tools.pricing import check_instance_for, estimate_instances
from tools.roles import OptionalRoleArn, require_role, with_role
from tools.validators import (
    InstanceType,
    S3PrefixUri,
    S3Uri,
    SageMakerName,
    derived_name,
    parse_s3_uri,
)

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
    if args.probability_threshold is not None:
        endpoint_input["ProbabilityThresholdAttribute"] = args.probability_threshold
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
    if ctx.aws.is_sandbox:
        raise NotEmulated(
            "Model Monitor schedules (CreateMonitoringSchedule)",
            "Use cloudwatch_put_alarm to watch the endpoint's metrics in the sandbox.",
        )
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
    if not args.baseline_constraints_uri:
        text += " No baseline was given, so runs report statistics but no violations."
    return ToolResult(
        text,
        data={"schedule_name": args.schedule_name, "request": schedule},
        resources=resources,
    )


# --- monitor_list_schedules / monitor_list_executions ------------------------------------------
class ListSchedulesArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    endpoint_name: Annotated[SageMakerName | None, Field(description="Only this endpoint")] = None
    max_results: Annotated[int, Field(ge=1, le=100)] = 20


@tool(
    name="monitor_list_schedules",
    stage="monitoring",
    risk="read",
    operations=("sagemaker:ListMonitoringSchedules",),
    phrases=("list monitoring schedules", "what is monitoring my endpoint"),
)
def monitor_list_schedules(ctx: ToolContext, args: ListSchedulesArgs) -> ToolResult:
    """List Model Monitor schedules with their type, status and last run."""
    if ctx.aws.is_sandbox:
        raise NotEmulated("Model Monitor schedules (ListMonitoringSchedules)")
    params: dict[str, Any] = {"MaxResults": args.max_results, "SortBy": "CreationTime"}
    if args.endpoint_name:
        params["EndpointName"] = args.endpoint_name
    response = ctx.client("sagemaker").list_monitoring_schedules(**params)
    rows = [
        {
            "name": s.get("MonitoringScheduleName"),
            "endpoint": s.get("EndpointName"),
            "type": s.get("MonitoringType"),
            "status": s.get("MonitoringScheduleStatus"),
            "created": str(s.get("CreationTime", ""))[:19],
        }
        for s in response.get("MonitoringScheduleSummaries", [])
    ]
    if not rows:
        return ToolResult("No monitoring schedules.", data={"rows": []})
    lines = [f"- {r['name']}: {r['type']} on {r['endpoint']}, {r['status']}" for r in rows]
    return ToolResult(f"{len(rows)} schedules:\n" + "\n".join(lines), data={"rows": rows})


class ListExecutionsArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schedule_name: SageMakerName
    max_results: Annotated[int, Field(ge=1, le=50)] = 10


def _violations(ctx: ToolContext, processing_job_arn: str, limit: int = 10) -> list[dict]:
    """The constraint_violations.json a monitoring run wrote, read from its output in S3."""
    job_name = processing_job_arn.rsplit("/", 1)[-1]
    job = ctx.client("sagemaker").describe_processing_job(ProcessingJobName=job_name)
    outputs = job.get("ProcessingOutputConfig", {}).get("Outputs", [])
    if not outputs:
        return []
    uri = (
        outputs[0].get("S3Output", {}).get("S3Uri", "").rstrip("/") + "/constraint_violations.json"
    )
    bucket, key = parse_s3_uri(uri)
    try:
        body = ctx.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError:
        return []
    found = json.loads(body or b"{}").get("violations", [])
    return [
        {
            "feature": v.get("feature_name") or v.get("metric_name"),
            "check": v.get("constraint_check_type"),
            "description": str(v.get("description", ""))[:200],
        }
        for v in found[:limit]
    ]


@tool(
    name="monitor_list_executions",
    stage="monitoring",
    risk="read",
    operations=(
        "sagemaker:ListMonitoringExecutions",
        "sagemaker:DescribeProcessingJob",
        "s3:GetObject",
    ),
    phrases=(
        "did the monitor find drift",
        "monitoring results",
        "show monitoring violations",
        "list monitoring runs",
    ),
)
def monitor_list_executions(ctx: ToolContext, args: ListExecutionsArgs) -> ToolResult:
    """List recent runs of a monitoring schedule, with the violations each found."""
    if ctx.aws.is_sandbox:
        raise NotEmulated("Model Monitor executions (ListMonitoringExecutions)")
    response = ctx.client("sagemaker").list_monitoring_executions(
        MonitoringScheduleName=args.schedule_name,
        SortBy="ScheduledTime",
        SortOrder="Descending",
        MaxResults=args.max_results,
    )
    rows = []
    fetched = 0
    for summary in response.get("MonitoringExecutionSummaries", []):
        row: dict[str, Any] = {
            "scheduled": str(summary.get("ScheduledTime", ""))[:19],
            "status": summary.get("MonitoringExecutionStatus"),
            "failure_reason": summary.get("FailureReason") or None,
            "processing_job_arn": summary.get("ProcessingJobArn"),
            "violations": [],
        }
        if row["status"] == "CompletedWithViolations" and row["processing_job_arn"] and fetched < 3:
            fetched += 1
            row["violations"] = _violations(ctx, row["processing_job_arn"])
        rows.append(row)
    if not rows:
        return ToolResult(
            f"{args.schedule_name} has not run yet (schedules start at the next hour).",
            data={"rows": []},
        )
    lines = []
    for row in rows:
        line = f"- {row['scheduled']}: {row['status']}"
        if row["failure_reason"]:
            line += f" ({row['failure_reason'][:120]})"
        for v in row["violations"][:5]:
            line += f"\n    {v['feature']}: {v['check']} — {v['description']}"
        lines.append(line)
    flagged = sum(1 for r in rows if r["status"] == "CompletedWithViolations")
    return ToolResult(
        f"{len(rows)} runs of {args.schedule_name}, {flagged} with violations:\n"
        + "\n".join(lines),
        data={"rows": rows},
    )


# --- CloudWatch metrics ---------------------------------------------------------------------------
EndpointMetric = Literal[
    "Invocations",
    "Invocation4XXErrors",
    "Invocation5XXErrors",
    "ModelLatency",
    "OverheadLatency",
    "InvocationsPerInstance",
    "CPUUtilization",
    "MemoryUtilization",
    "DiskUtilization",
    "GPUUtilization",
]
COUNT_METRICS = {
    "Invocations",
    "Invocation4XXErrors",
    "Invocation5XXErrors",
    "InvocationsPerInstance",
}
LATENCY_METRICS = {"ModelLatency", "OverheadLatency"}  # microseconds in CloudWatch
INSTANCE_METRICS = {"CPUUtilization", "MemoryUtilization", "DiskUtilization", "GPUUtilization"}
DEFAULT_METRICS: tuple[str, ...] = (
    "Invocations",
    "ModelLatency",
    "Invocation4XXErrors",
    "Invocation5XXErrors",
    "CPUUtilization",
    "MemoryUtilization",
)


def metric_namespace(metric: str) -> str:
    return "/aws/sagemaker/Endpoints" if metric in INSTANCE_METRICS else "AWS/SageMaker"


def metric_unit(metric: str) -> str:
    if metric in LATENCY_METRICS:
        return "ms"
    if metric in INSTANCE_METRICS:
        return "%"
    return "count"


class EndpointMetricsArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    endpoint_name: SageMakerName
    variant_name: Annotated[str, Field(description="Production variant")] = "AllTraffic"
    metrics: Annotated[
        list[EndpointMetric] | None,
        Field(description="Default: traffic, latency, errors, CPU/memory"),
    ] = None
    minutes: Annotated[int, Field(ge=5, le=20160, description="Window ending now")] = 60
    latency_stat: Annotated[
        Literal["Average", "Maximum", "p50", "p90", "p99"], Field(description="Latency statistic")
    ] = "Average"


def _period_for(minutes: int) -> int:
    if minutes <= 180:
        return 60
    if minutes <= 1440:
        return 300
    return 3600


@tool(
    name="cloudwatch_get_endpoint_metrics",
    stage="monitoring",
    risk="read",
    operations=("cloudwatch:GetMetricData",),
    phrases=(
        "show endpoint metrics",
        "show invocations for the endpoint",
        "endpoint latency over the last hour",
        "is the endpoint erroring",
        "plot the endpoint traffic",
        "cpu and memory of the endpoint",
    ),
)
def cloudwatch_get_endpoint_metrics(ctx: ToolContext, args: EndpointMetricsArgs) -> ToolResult:
    """Get an endpoint's invocations, latency, 4XX/5XX errors and CPU/memory over a time window."""
    metrics = list(dict.fromkeys(args.metrics or DEFAULT_METRICS))
    period = _period_for(args.minutes)
    end = datetime.now(UTC)
    start = end - timedelta(minutes=args.minutes)
    latency_stat = args.latency_stat
    notes = []
    if ctx.aws.is_sandbox and latency_stat.startswith("p"):
        notes.append("the sandbox cannot compute percentiles; latency shows the Average")
        latency_stat = "Average"
    queries = []
    for index, metric in enumerate(metrics):
        if metric in COUNT_METRICS:
            stat = "Sum"
        elif metric in LATENCY_METRICS:
            stat = latency_stat
        else:
            stat = "Average"
        dims = [{"Name": "EndpointName", "Value": args.endpoint_name}]
        dims.append({"Name": "VariantName", "Value": args.variant_name})
        queries.append(
            {
                "Id": f"m{index}",
                "Label": metric,
                "MetricStat": {
                    "Metric": {
                        "Namespace": metric_namespace(metric),
                        "MetricName": metric,
                        "Dimensions": dims,
                    },
                    "Period": period,
                    "Stat": stat,
                },
                "ReturnData": True,
            }
        )
    cw = ctx.client("cloudwatch")
    results: list[dict[str, Any]] = []
    token = None
    while True:
        params: dict[str, Any] = {
            "MetricDataQueries": queries,
            "StartTime": start,
            "EndTime": end,
            "ScanBy": "TimestampAscending",
        }
        if token:
            params["NextToken"] = token
        page = cw.get_metric_data(**params)
        results.extend(page.get("MetricDataResults", []))
        token = page.get("NextToken")
        if not token:
            break
    by_id = {q["Id"]: q["Label"] for q in queries}
    series: dict[str, list[list[float]]] = {m: [] for m in metrics}
    for result in results:
        metric = by_id.get(result.get("Id", ""), result.get("Label", ""))
        scale = 0.001 if metric in LATENCY_METRICS else 1.0
        for ts, value in zip(result.get("Timestamps", []), result.get("Values", []), strict=False):
            series.setdefault(metric, []).append([ts.timestamp(), round(value * scale, 4)])
    summary: dict[str, dict[str, Any]] = {}
    lines = []
    for metric in metrics:
        points = sorted(series.get(metric, []))
        series[metric] = points
        values = [v for _, v in points]
        unit = metric_unit(metric)
        if not values:
            summary[metric] = {"points": 0, "unit": unit}
            continue
        if metric in COUNT_METRICS:
            info = {"total": round(sum(values), 2), "max": max(values)}
            lines.append(f"{metric}: {info['total']:g} total (peak {info['max']:g}/{period}s)")
        else:
            info = {"avg": round(sum(values) / len(values), 3), "max": max(values)}
            lines.append(f"{metric}: avg {info['avg']:g} {unit}, max {info['max']:g} {unit}")
        summary[metric] = {"points": len(values), "unit": unit, **info}
    window = f"last {args.minutes} min, {period}s periods"
    if not lines:
        text = (
            f"No datapoints for {args.endpoint_name} in the {window}. The endpoint may have had no "
            "traffic yet"
            + (
                " (the sandbox emits no SageMaker metrics by itself)."
                if ctx.aws.is_sandbox
                else "."
            )
        )
    else:
        text = f"{args.endpoint_name}/{args.variant_name}, {window}:\n" + "\n".join(lines)
    if notes:
        text += "\nNote: " + "; ".join(notes)
    return ToolResult(
        text,
        data={
            "series": series,
            "summary": summary,
            "period": period,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "units": {m: metric_unit(m) for m in metrics},
        },
    )


# --- CloudWatch alarms ----------------------------------------------------------------------------
COMPARISONS = {
    ">": "GreaterThanThreshold",
    ">=": "GreaterThanOrEqualToThreshold",
    "<": "LessThanThreshold",
    "<=": "LessThanOrEqualToThreshold",
}


class PutAlarmArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alarm_name: Annotated[
        str | None,
        Field(min_length=1, max_length=255, description="default: <endpoint>-<metric>-alarm"),
    ] = None
    endpoint_name: SageMakerName
    variant_name: str = "AllTraffic"
    metric: EndpointMetric = "ModelLatency"
    statistic: Annotated[
        Literal["Average", "Sum", "Maximum", "Minimum", "SampleCount", "p50", "p90", "p95", "p99"],
        Field(description="Statistic or percentile"),
    ] = "p90"
    comparison: Annotated[
        Literal[">", ">=", "<", "<="], Field(description="Alarm when value is")
    ] = ">"
    threshold: Annotated[
        float, Field(description="Latency in ms, counts for invocations/errors, % for utilisation")
    ]
    periods: Annotated[
        int, Field(ge=1, le=100, description="Periods in breach before alarming")
    ] = 3
    period_seconds: Annotated[Literal[60, 300, 900, 3600], Field(description="Period length")] = 60
    sns_topic_arn: Annotated[str | None, Field(description="SNS topic to notify")] = None
    treat_missing_data: Literal["missing", "notBreaching", "breaching", "ignore"] = "notBreaching"

    @model_validator(mode="after")
    def _check(self) -> PutAlarmArgs:
        if self.alarm_name is None:
            self.alarm_name = derived_name(
                self.endpoint_name, self.metric, suffix="alarm", limit=255
            )
        if self.sns_topic_arn and not self.sns_topic_arn.startswith("arn:aws"):
            raise ValueError(
                "sns_topic_arn must be an SNS topic ARN (arn:aws:sns:region:account:name)"
            )
        if self.sns_topic_arn and ":sns:" not in self.sns_topic_arn:
            raise ValueError("sns_topic_arn must be an SNS topic ARN")
        return self


def build_alarm_request(args: PutAlarmArgs, *, tags: list[dict[str, str]]) -> dict[str, Any]:
    threshold = args.threshold * 1000 if args.metric in LATENCY_METRICS else args.threshold
    request: dict[str, Any] = {
        "AlarmName": args.alarm_name,
        "AlarmDescription": (
            f"sagecoach: {args.endpoint_name} {args.metric} {args.statistic} {args.comparison} "
            f"{args.threshold:g} {metric_unit(args.metric)} for {args.periods} × {args.period_seconds}s"
        ),
        "Namespace": metric_namespace(args.metric),
        "MetricName": args.metric,
        "Dimensions": [
            {"Name": "EndpointName", "Value": args.endpoint_name},
            {"Name": "VariantName", "Value": args.variant_name},
        ],
        "Period": args.period_seconds,
        "EvaluationPeriods": args.periods,
        "DatapointsToAlarm": args.periods,
        "Threshold": threshold,
        "ComparisonOperator": COMPARISONS[args.comparison],
        "TreatMissingData": args.treat_missing_data,
        "Tags": list(tags),
    }
    if args.statistic.startswith("p"):
        request["ExtendedStatistic"] = args.statistic
    else:
        request["Statistic"] = args.statistic
    if args.sns_topic_arn:
        request["AlarmActions"] = [args.sns_topic_arn]
        request["OKActions"] = [args.sns_topic_arn]
    return request


@tool(
    name="cloudwatch_put_alarm",
    stage="monitoring",
    risk="write",
    operations=("cloudwatch:PutMetricAlarm",),
    phrases=(
        "alert me when latency is high",
        "create an alarm on the endpoint",
        "alarm on 5xx errors",
        "notify me if the endpoint fails",
    ),
)
def cloudwatch_put_alarm(ctx: ToolContext, args: PutAlarmArgs) -> ToolResult:
    """Create or update a CloudWatch alarm on an endpoint metric (e.g. p90 latency > N ms), optionally to SNS."""
    request = build_alarm_request(args, tags=ctx.aws.tags())
    cw = ctx.client("cloudwatch")
    cw.put_metric_alarm(**request)
    alarms = cw.describe_alarms(AlarmNames=[args.alarm_name]).get("MetricAlarms", [])
    arn = alarms[0].get("AlarmArn") if alarms else None
    state = alarms[0].get("StateValue") if alarms else None
    notify = (
        f", notifying {args.sns_topic_arn}" if args.sns_topic_arn else " (no notification target)"
    )
    text = (
        f"Alarm {args.alarm_name}: {args.metric} {args.statistic} {args.comparison} "
        f"{args.threshold:g} {metric_unit(args.metric)} for {args.periods} × {args.period_seconds}s "
        f"on {args.endpoint_name}{notify}. State now: {state or 'unknown'}."
    )
    return ToolResult(
        text,
        data={"alarm_name": args.alarm_name, "alarm_arn": arn, "state": state, "request": request},
        resources=[Resource("cloudwatch_alarm", args.alarm_name, arn)],
    )


class ListAlarmsArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name_prefix: Annotated[str | None, Field(description="Alarm name prefix")] = None
    state: Literal["OK", "ALARM", "INSUFFICIENT_DATA"] | None = None
    max_results: Annotated[int, Field(ge=1, le=100)] = 50


@tool(
    name="cloudwatch_list_alarms",
    stage="monitoring",
    risk="read",
    operations=("cloudwatch:DescribeAlarms",),
    phrases=("list alarms", "which alarms are firing", "show cloudwatch alarms"),
)
def cloudwatch_list_alarms(ctx: ToolContext, args: ListAlarmsArgs) -> ToolResult:
    """List CloudWatch alarms with their state and what they watch."""
    params: dict[str, Any] = {"MaxRecords": args.max_results, "AlarmTypes": ["MetricAlarm"]}
    if args.name_prefix:
        params["AlarmNamePrefix"] = args.name_prefix
    if args.state:
        params["StateValue"] = args.state
    response = ctx.client("cloudwatch").describe_alarms(**params)
    rows = []
    for alarm in response.get("MetricAlarms", []):
        dims = {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}
        rows.append(
            {
                "name": alarm["AlarmName"],
                "state": alarm.get("StateValue"),
                "metric": alarm.get("MetricName"),
                "statistic": alarm.get("ExtendedStatistic") or alarm.get("Statistic"),
                "threshold": alarm.get("Threshold"),
                "comparison": alarm.get("ComparisonOperator"),
                "endpoint": dims.get("EndpointName"),
                "actions": alarm.get("AlarmActions", []),
            }
        )
    if not rows:
        return ToolResult("No alarms.", data={"rows": []})
    firing = [r for r in rows if r["state"] == "ALARM"]
    lines = [
        f"- {r['name']}: {r['state']} ({r['metric']} {r['statistic']} {r['comparison']} {r['threshold']:g})"
        for r in rows[:30]
    ]
    more = f"\n… {len(rows) - 30} more" if len(rows) > 30 else ""
    return ToolResult(
        f"{len(rows)} alarms, {len(firing)} in ALARM:\n" + "\n".join(lines) + more,
        data={"rows": rows},
    )


# --- CloudWatch Logs ------------------------------------------------------------------------------
LOG_GROUPS = {
    "training_job": "/aws/sagemaker/TrainingJobs",
    "processing_job": "/aws/sagemaker/ProcessingJobs",
    "transform_job": "/aws/sagemaker/TransformJobs",
}


class LogEventsArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: Annotated[
        Literal["training_job", "processing_job", "transform_job", "endpoint"],
        Field(description="What wrote the log"),
    ]
    name: Annotated[SageMakerName, Field(description="Job or endpoint name")]
    lines: Annotated[int, Field(ge=1, le=500, description="Most recent lines to show")] = 50
    contains: Annotated[str | None, Field(description="Only lines containing this text")] = None


@tool(
    name="cloudwatch_get_log_events",
    stage="monitoring",
    risk="read",
    operations=("logs:DescribeLogStreams", "logs:GetLogEvents", "logs:FilterLogEvents"),
    phrases=(
        "show the training logs",
        "why did the job fail logs",
        "endpoint logs",
        "tail the log",
    ),
)
def cloudwatch_get_log_events(ctx: ToolContext, args: LogEventsArgs) -> ToolResult:
    """Show the most recent log lines of a training/processing/transform job or an endpoint."""
    logs = ctx.client("logs")
    if args.source == "endpoint":
        group, prefix = f"/aws/sagemaker/Endpoints/{args.name}", None
    else:
        group, prefix = LOG_GROUPS[args.source], f"{args.name}/"
    params: dict[str, Any] = {"logGroupName": group}
    if prefix:
        params["logStreamNamePrefix"] = prefix
    try:
        streams = logs.describe_log_streams(**params).get("logStreams", [])
    except ClientError as exc:
        if is_not_found(exc) or "ResourceNotFound" in str(exc):
            streams = []
        else:
            raise
    if not streams:
        return ToolResult(
            f"No logs yet for {args.source.replace('_', ' ')} {args.name} (looked in {group}).",
            data={"events": [], "group": group},
        )
    streams.sort(key=lambda s: s.get("lastEventTimestamp") or s.get("creationTime") or 0)
    streams = streams[-5:]
    names = [s["logStreamName"] for s in streams]
    events: list[dict[str, Any]] = []
    if args.contains:
        response = logs.filter_log_events(
            logGroupName=group,
            logStreamNames=names,
            filterPattern=json.dumps(args.contains),
            limit=max(args.lines * 4, 100),
        )
        for event in response.get("events", []):
            events.append({**event, "stream": event.get("logStreamName", "")})
    else:
        for stream in names:
            response = logs.get_log_events(
                logGroupName=group, logStreamName=stream, limit=args.lines, startFromHead=False
            )
            events.extend({**e, "stream": stream} for e in response.get("events", []))
    events.sort(key=lambda e: e.get("timestamp", 0))
    events = events[-args.lines :]
    many = len({e["stream"] for e in events}) > 1
    rendered = []
    for event in events:
        stamp = datetime.fromtimestamp(event.get("timestamp", 0) / 1000, UTC).strftime("%H:%M:%S")
        tag = f"[{event['stream'].split('/')[-1]}] " if many else ""
        rendered.append(f"{stamp} {tag}{str(event.get('message', '')).rstrip()}")
    body = "\n".join(rendered)
    cut = ""
    if len(body) > 6000:
        body = "…" + body[-6000:]
        cut = " (older lines cut)"
    rows = [
        {"timestamp": e.get("timestamp"), "stream": e["stream"], "message": e.get("message", "")}
        for e in events
    ]
    return ToolResult(
        f"Last {len(events)} log lines of {args.name}{cut}:\n{body}",
        data={"events": rows, "group": group, "streams": names},
    )


# --- CloudTrail ------------------------------------------------------------------------------------
class LookupEventsArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resource_name: Annotated[str | None, Field(description="e.g. an endpoint or bucket name")] = (
        None
    )
    event_name: Annotated[str | None, Field(description="e.g. DeleteEndpoint")] = None
    username: Annotated[str | None, Field(description="IAM user or role session")] = None
    hours: Annotated[int, Field(ge=1, le=2160, description="Look back this many hours")] = 24
    max_results: Annotated[int, Field(ge=1, le=50)] = 20


@tool(
    name="cloudtrail_lookup_events",
    stage="monitoring",
    risk="read",
    operations=("cloudtrail:LookupEvents",),
    phrases=(
        "who deleted the endpoint",
        "audit api calls",
        "cloudtrail events",
        "who changed the model",
    ),
)
def cloudtrail_lookup_events(ctx: ToolContext, args: LookupEventsArgs) -> ToolResult:
    """Look up CloudTrail management events by resource name, event name, user and time window."""
    if ctx.aws.is_sandbox:
        raise NotEmulated(
            "CloudTrail event history (LookupEvents)",
            "sagecoach's own audit log (`sagecoach log`) shows every call made in this session.",
        )
    # LookupEvents takes one attribute; the others filter the results here.
    filters = [
        ("EventName", args.event_name),
        ("ResourceName", args.resource_name),
        ("Username", args.username),
    ]
    given = [(k, v) for k, v in filters if v]
    end = datetime.now(UTC)
    params: dict[str, Any] = {
        "StartTime": end - timedelta(hours=args.hours),
        "EndTime": end,
        "MaxResults": 50,
    }
    if given:
        params["LookupAttributes"] = [{"AttributeKey": given[0][0], "AttributeValue": given[0][1]}]
    trail = ctx.client("cloudtrail")
    rows: list[dict[str, Any]] = []
    pages = 0
    while len(rows) < args.max_results and pages < 5:
        response = trail.lookup_events(**params)
        pages += 1
        for event in response.get("Events", []):
            resources = [r.get("ResourceName", "") for r in event.get("Resources", [])]
            row = {
                "time": str(event.get("EventTime", ""))[:19],
                "event": event.get("EventName"),
                "source": event.get("EventSource"),
                "user": event.get("Username"),
                "resources": resources,
                "read_only": event.get("ReadOnly"),
            }
            try:
                detail = json.loads(event.get("CloudTrailEvent") or "{}")
                row["source_ip"] = detail.get("sourceIPAddress")
                row["error"] = detail.get("errorCode")
            except ValueError:
                pass
            if args.event_name and row["event"] != args.event_name:
                continue
            if args.resource_name and not any(args.resource_name in r for r in resources):
                continue
            if args.username and row["user"] != args.username:
                continue
            rows.append(row)
            if len(rows) >= args.max_results:
                break
        token = response.get("NextToken")
        if not token:
            break
        params["NextToken"] = token
    if not rows:
        return ToolResult(
            f"No matching CloudTrail events in the last {args.hours} h.", data={"rows": []}
        )
    lines = [
        f"- {r['time']} {r['event']} by {r['user'] or '?'}"
        f"{' on ' + ', '.join(r['resources'][:2]) if r['resources'] else ''}"
        f"{' (error ' + r['error'] + ')' if r.get('error') else ''}"
        for r in rows
    ]
    return ToolResult(
        f"{len(rows)} CloudTrail events, newest first:\n" + "\n".join(lines), data={"rows": rows}
    )
