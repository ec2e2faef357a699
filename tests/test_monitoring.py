"""Monitoring tools: CloudWatch in moto; Model Monitor and CloudTrail through Stubber."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from tests.test_deployment import ROLE, TAGS, make_training_job
from tools.aws.context import AwsContext
from tools.core.context import ToolContext
from tools.core.errors import NotEmulated, ToolError
from tools.stages.deployment.endpoints import sagemaker_create_endpoint
from tools.stages.deployment.models import sagemaker_create_model
from tools.stages.monitoring.cloudtrail import cloudtrail_lookup_events
from tools.stages.monitoring.cloudwatch_alarms import cloudwatch_list_alarms, cloudwatch_put_alarm
from tools.stages.monitoring.cloudwatch_logs import cloudwatch_get_log_events
from tools.stages.monitoring.cloudwatch_metrics import cloudwatch_get_endpoint_metrics
from tools.stages.monitoring.model_monitor import monitor_create_schedule
from tools.stages.monitoring.monitor_runs import monitor_list_executions, monitor_list_schedules

CAPTURE = {
    "EnableCapture": True,
    "CaptureStatus": "Started",
    "CurrentSamplingPercentage": 100,
    "DestinationS3Uri": "s3://sagecoach-demo/capture",
    "KmsKeyId": "",
}
DIMS = [
    {"Name": "EndpointName", "Value": "churn-ep"},
    {"Name": "VariantName", "Value": "AllTraffic"},
]


def _stub_ctx(tmp_path: Path, session: str = "s-mon") -> ToolContext:
    aws = AwsContext(region="us-east-1", session_id=session)
    ctx = ToolContext(aws, session_id=session, state_dir=tmp_path)
    ctx.poll_interval = 0.01
    return ctx


def test_alarm_on_p90_latency_to_sns(tool_ctx: ToolContext) -> None:
    result = cloudwatch_put_alarm.spec.run(
        tool_ctx,
        {
            "alarm_name": "churn-ep-latency",
            "endpoint_name": "churn-ep",
            "threshold": 500,
            "periods": 3,
            "sns_topic_arn": "arn:aws:sns:us-east-1:123456789012:ml-alerts",
        },
    )
    cw = tool_ctx.client("cloudwatch")
    alarm = cw.describe_alarms(AlarmNames=["churn-ep-latency"])["MetricAlarms"][0]
    assert alarm["MetricName"] == "ModelLatency" and alarm["Namespace"] == "AWS/SageMaker"
    assert alarm["ExtendedStatistic"] == "p90" and "Statistic" not in alarm
    assert alarm["Threshold"] == 500_000  # ms → CloudWatch's microseconds
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["EvaluationPeriods"] == 3 and alarm["Period"] == 60
    assert alarm["AlarmActions"] == ["arn:aws:sns:us-east-1:123456789012:ml-alerts"]
    assert sorted(alarm["Dimensions"], key=lambda d: d["Name"]) == DIMS
    assert cw.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"] == TAGS
    assert (
        result.resources[0].kind == "cloudwatch_alarm"
        and result.resources[0].arn == alarm["AlarmArn"]
    )
    assert "p90 > 500 ms for 3 × 60s" in result.text

    cloudwatch_put_alarm.spec.run(
        tool_ctx,
        {
            "alarm_name": "churn-ep-5xx",
            "endpoint_name": "churn-ep",
            "metric": "Invocation5XXErrors",
            "statistic": "Sum",
            "threshold": 5,
        },
    )
    errors = cw.describe_alarms(AlarmNames=["churn-ep-5xx"])["MetricAlarms"][0]
    assert errors["Statistic"] == "Sum" and errors["Threshold"] == 5
    listed = cloudwatch_list_alarms.spec.run(tool_ctx, {"name_prefix": "churn-ep"})
    assert sorted(r["name"] for r in listed.data["rows"]) == ["churn-ep-5xx", "churn-ep-latency"]
    with pytest.raises(ToolError, match="SNS topic ARN"):
        cloudwatch_put_alarm.spec.run(
            tool_ctx,
            {"alarm_name": "x", "endpoint_name": "e", "threshold": 1, "sns_topic_arn": "my-topic"},
        )


def test_endpoint_metrics_as_series(tool_ctx: ToolContext) -> None:
    cw = tool_ctx.client("cloudwatch")
    now = datetime.now(UTC)
    cw.put_metric_data(
        Namespace="AWS/SageMaker",
        MetricData=[
            {
                "MetricName": "Invocations",
                "Dimensions": DIMS,
                "Timestamp": now - timedelta(minutes=m),
                "Value": float(m),
                "Unit": "Count",
            }
            for m in range(1, 6)
        ]
        + [
            {
                "MetricName": "ModelLatency",
                "Dimensions": DIMS,
                "Timestamp": now - timedelta(minutes=m),
                "Value": 2000.0 * m,
                "Unit": "Microseconds",
            }
            for m in range(1, 6)
        ],
    )
    cw.put_metric_data(
        Namespace="/aws/sagemaker/Endpoints",
        MetricData=[
            {
                "MetricName": "CPUUtilization",
                "Dimensions": DIMS,
                "Timestamp": now - timedelta(minutes=2),
                "Value": 42.0,
            }
        ],
    )
    result = cloudwatch_get_endpoint_metrics.spec.run(
        tool_ctx,
        {
            "endpoint_name": "churn-ep",
            "metrics": ["Invocations", "ModelLatency", "CPUUtilization", "Invocation5XXErrors"],
            "latency_stat": "p90",
        },
    )
    series = result.data["series"]
    assert [v for _, v in series["Invocations"]] == [5.0, 4.0, 3.0, 2.0, 1.0]  # oldest first
    assert [v for _, v in series["ModelLatency"]] == [10.0, 8.0, 6.0, 4.0, 2.0]  # in ms
    assert series["CPUUtilization"][0][1] == 42.0 and series["Invocation5XXErrors"] == []
    xs = [x for x, _ in series["Invocations"]]
    assert xs == sorted(xs)
    assert result.data["summary"]["Invocations"]["total"] == 15
    assert result.data["summary"]["ModelLatency"] == {
        "points": 5,
        "unit": "ms",
        "avg": 6.0,
        "max": 10.0,
    }
    assert "Invocations: 15 total" in result.text
    assert "cannot compute percentiles" in result.text and result.data["period"] == 60

    empty = cloudwatch_get_endpoint_metrics.spec.run(tool_ctx, {"endpoint_name": "other-ep"})
    assert "No datapoints" in empty.text and empty.data["series"]["Invocations"] == []


def test_log_events_of_a_training_job(tool_ctx: ToolContext) -> None:
    logs = tool_ctx.client("logs")
    group = "/aws/sagemaker/TrainingJobs"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="churn-xgb-1/algo-1-1700000000")
    logs.create_log_stream(logGroupName=group, logStreamName="other-job/algo-1-1700000000")
    base = int(datetime.now(UTC).timestamp() * 1000)
    logs.put_log_events(
        logGroupName=group,
        logStreamName="churn-xgb-1/algo-1-1700000000",
        logEvents=[
            {"timestamp": base + i, "message": f"[{i}]#011train-auc:0.{80 + i}"} for i in range(10)
        ],
    )
    logs.put_log_events(
        logGroupName=group,
        logStreamName="other-job/algo-1-1700000000",
        logEvents=[{"timestamp": base, "message": "not mine"}],
    )
    result = cloudwatch_get_log_events.spec.run(
        tool_ctx, {"source": "training_job", "name": "churn-xgb-1", "lines": 3}
    )
    assert [e["message"] for e in result.data["events"]] == [
        "[7]#011train-auc:0.87",
        "[8]#011train-auc:0.88",
        "[9]#011train-auc:0.89",
    ]
    assert "not mine" not in result.text and result.data["streams"] == [
        "churn-xgb-1/algo-1-1700000000"
    ]

    missing = cloudwatch_get_log_events.spec.run(tool_ctx, {"source": "endpoint", "name": "nope"})
    assert "No logs yet" in missing.text and missing.data["events"] == []


@pytest.fixture
def captured_endpoint(tool_ctx: ToolContext) -> str:
    make_training_job(tool_ctx.aws)
    sagemaker_create_model.spec.run(
        tool_ctx, {"model_name": "churn-model", "training_job_name": "churn-xgb-1"}
    )
    sagemaker_create_endpoint.spec.run(
        tool_ctx,
        {
            "endpoint_name": "churn-ep",
            "model_name": "churn-model",
            "data_capture": {"destination_s3_uri": "s3://sagecoach-demo/capture/"},
        },
    )
    sagemaker_create_endpoint.spec.run(
        tool_ctx, {"endpoint_name": "plain-ep", "model_name": "churn-model"}
    )
    return "churn-ep"


SCHEDULE = {
    "schedule_name": "churn-dq",
    "endpoint_name": "churn-ep",
    "output_s3_uri": "s3://sagecoach-demo/monitoring/",
    "role_arn": ROLE,
    "baseline_constraints_uri": "s3://sagecoach-demo/baseline/constraints.json",
    "baseline_statistics_uri": "s3://sagecoach-demo/baseline/statistics.json",
}


def test_schedule_needs_data_capture(
    tool_ctx: ToolContext, captured_endpoint: str, aws_calls: list[dict]
) -> None:
    aws_calls.clear()
    with pytest.raises(ToolError, match="does not capture data"):
        monitor_create_schedule.spec.run(tool_ctx, {**SCHEDULE, "endpoint_name": "plain-ep"})
    assert [c["operation"] for c in aws_calls] == ["DescribeEndpoint"]  # nothing mutating sent


def test_schedule_estimate_is_per_day() -> None:
    hourly = monitor_create_schedule.spec.estimate({**SCHEDULE, "frequency": "hourly"}, "us-east-1")
    assert hourly is not None
    # 24 runs × 0.5 h × $0.23/h (ml.m5.xlarge processing) = $2.76/day; one run $0.115.
    assert hourly.high_usd == pytest.approx(2.76) and hourly.low_usd == pytest.approx(0.115)
    assert "24 runs/day" in hourly.basis and "recurs until the schedule is deleted" in hourly.notes
    daily = monitor_create_schedule.spec.estimate(SCHEDULE, "us-east-1")
    assert daily is not None and daily.high_usd == pytest.approx(0.115)


def test_data_quality_schedule_request(tmp_path: Path) -> None:
    ctx = _stub_ctx(tmp_path)
    sm = ctx.client("sagemaker")
    with Stubber(sm) as stub:
        stub.add_response(
            "describe_endpoint",
            {
                "EndpointName": "churn-ep",
                "EndpointArn": "arn:aws:sagemaker:us-east-1:1:endpoint/churn-ep",
                "EndpointStatus": "InService",
                "CreationTime": "2026-01-01T00:00:00Z",
                "LastModifiedTime": "2026-01-01T00:00:00Z",
                "DataCaptureConfig": CAPTURE,
            },
            {"EndpointName": "churn-ep"},
        )
        stub.add_response(
            "create_monitoring_schedule",
            {"MonitoringScheduleArn": "arn:aws:sagemaker:us-east-1:1:monitoring-schedule/churn-dq"},
            {
                "MonitoringScheduleName": "churn-dq",
                "MonitoringScheduleConfig": {
                    "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
                    "MonitoringJobDefinition": {
                        "BaselineConfig": {
                            "ConstraintsResource": {
                                "S3Uri": "s3://sagecoach-demo/baseline/constraints.json"
                            },
                            "StatisticsResource": {
                                "S3Uri": "s3://sagecoach-demo/baseline/statistics.json"
                            },
                        },
                        "MonitoringInputs": [
                            {
                                "EndpointInput": {
                                    "EndpointName": "churn-ep",
                                    "LocalPath": "/opt/ml/processing/input/endpoint",
                                    "S3InputMode": "File",
                                    "S3DataDistributionType": "FullyReplicated",
                                }
                            }
                        ],
                        "MonitoringOutputConfig": {
                            "MonitoringOutputs": [
                                {
                                    "S3Output": {
                                        "S3Uri": "s3://sagecoach-demo/monitoring/",
                                        "LocalPath": "/opt/ml/processing/output",
                                        "S3UploadMode": "EndOfJob",
                                    }
                                }
                            ]
                        },
                        "MonitoringResources": {
                            "ClusterConfig": {
                                "InstanceCount": 1,
                                "InstanceType": "ml.m5.xlarge",
                                "VolumeSizeInGB": 20,
                            }
                        },
                        "MonitoringAppSpecification": {
                            "ImageUri": "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"
                        },
                        "StoppingCondition": {"MaxRuntimeInSeconds": 1800},
                        "Environment": {"publish_cloudwatch_metrics": "Enabled"},
                        "RoleArn": ROLE,
                    },
                    "MonitoringType": "DataQuality",
                },
                "Tags": [
                    {"Key": "CreatedBy", "Value": "sagecoach"},
                    {"Key": "sagecoach:session", "Value": "s-mon"},
                ],
            },
        )
        result = monitor_create_schedule.spec.run(ctx, {**SCHEDULE, "frequency": "hourly"})
        stub.assert_no_pending_responses()
    assert [r.kind for r in result.resources] == ["sagemaker_monitoring_schedule"]
    assert "hourly" in result.text and "monitor_list_executions" in result.text


def test_model_quality_schedule_creates_its_job_definition_first(tmp_path: Path) -> None:
    ctx = _stub_ctx(tmp_path)
    sm = ctx.client("sagemaker")
    args = {
        **SCHEDULE,
        "schedule_name": "churn-mq",
        "monitor_type": "model_quality",
        "problem_type": "BinaryClassification",
        "ground_truth_s3_uri": "s3://sagecoach-demo/labels/",
        "inference_attribute": "0",
        "probability_threshold": 0.5,
    }
    with Stubber(sm) as stub:
        stub.add_response(
            "describe_endpoint",
            {
                "EndpointName": "churn-ep",
                "EndpointArn": "arn:aws:sagemaker:us-east-1:1:endpoint/churn-ep",
                "EndpointStatus": "InService",
                "CreationTime": "2026-01-01T00:00:00Z",
                "LastModifiedTime": "2026-01-01T00:00:00Z",
                "DataCaptureConfig": CAPTURE,
            },
            {"EndpointName": "churn-ep"},
        )
        stub.add_response(
            "create_model_quality_job_definition",
            {
                "JobDefinitionArn": "arn:aws:sagemaker:us-east-1:1:model-quality-job-definition/churn-mq-mq-def"
            },
            {
                "JobDefinitionName": "churn-mq-mq-def",
                "ModelQualityAppSpecification": {
                    "ImageUri": ANY,
                    "ProblemType": "BinaryClassification",
                },
                "ModelQualityJobInput": {
                    "EndpointInput": {
                        "EndpointName": "churn-ep",
                        "LocalPath": "/opt/ml/processing/input/endpoint",
                        "S3InputMode": "File",
                        "S3DataDistributionType": "FullyReplicated",
                        "InferenceAttribute": "0",
                        "StartTimeOffset": "-P2D",
                        "EndTimeOffset": "-P1D",
                        "ProbabilityAttribute": "0",
                        "ProbabilityThresholdAttribute": 0.5,
                    },
                    "GroundTruthS3Input": {"S3Uri": "s3://sagecoach-demo/labels/"},
                },
                "ModelQualityJobOutputConfig": ANY,
                "JobResources": ANY,
                "RoleArn": ROLE,
                "StoppingCondition": {"MaxRuntimeInSeconds": 1800},
                "Tags": ANY,
                "ModelQualityBaselineConfig": {
                    "ConstraintsResource": {
                        "S3Uri": "s3://sagecoach-demo/baseline/constraints.json"
                    }
                },
            },
        )
        stub.add_response(
            "create_monitoring_schedule",
            {"MonitoringScheduleArn": "arn:aws:sagemaker:us-east-1:1:monitoring-schedule/churn-mq"},
            {
                "MonitoringScheduleName": "churn-mq",
                "MonitoringScheduleConfig": {
                    "ScheduleConfig": {"ScheduleExpression": "cron(0 0 ? * * *)"},
                    "MonitoringJobDefinitionName": "churn-mq-mq-def",
                    "MonitoringType": "ModelQuality",
                },
                "Tags": ANY,
            },
        )
        result = monitor_create_schedule.spec.run(ctx, args)
        stub.assert_no_pending_responses()
    assert [r.kind for r in result.resources] == [
        "sagemaker_model_quality_job_definition",
        "sagemaker_monitoring_schedule",
    ]
    with pytest.raises(
        ToolError, match="model_quality needs ground_truth_s3_uri, inference_attribute"
    ):
        monitor_create_schedule.spec.validate(
            {**SCHEDULE, "monitor_type": "model_quality", "problem_type": "Regression"}
        )


def test_schedules_and_executions_with_violations(tmp_path: Path) -> None:
    ctx = _stub_ctx(tmp_path)
    sm, s3 = ctx.client("sagemaker"), ctx.client("s3")
    violations = {
        "violations": [
            {
                "feature_name": "tenure",
                "constraint_check_type": "data_type_check",
                "description": "Data type of tenure changed",
            }
        ]
    }
    body = json.dumps(violations).encode()
    with Stubber(sm) as sm_stub, Stubber(s3) as s3_stub:
        sm_stub.add_response(
            "list_monitoring_schedules",
            {
                "MonitoringScheduleSummaries": [
                    {
                        "MonitoringScheduleName": "churn-dq",
                        "MonitoringScheduleArn": "arn:x",
                        "CreationTime": "2026-01-01T00:00:00Z",
                        "LastModifiedTime": "2026-01-01T00:00:00Z",
                        "MonitoringScheduleStatus": "Scheduled",
                        "EndpointName": "churn-ep",
                        "MonitoringType": "DataQuality",
                    }
                ]
            },
            {"MaxResults": 20, "SortBy": "CreationTime", "EndpointName": "churn-ep"},
        )
        listed = monitor_list_schedules.spec.run(ctx, {"endpoint_name": "churn-ep"})
        assert listed.data["rows"][0] == {
            "name": "churn-dq",
            "endpoint": "churn-ep",
            "type": "DataQuality",
            "status": "Scheduled",
            "created": ANY,
        }

        job_arn = "arn:aws:sagemaker:us-east-1:1:processing-job/model-monitoring-202601010100-abc"
        sm_stub.add_response(
            "list_monitoring_executions",
            {
                "MonitoringExecutionSummaries": [
                    {
                        "MonitoringScheduleName": "churn-dq",
                        "ScheduledTime": "2026-01-01T01:00:00Z",
                        "CreationTime": "2026-01-01T01:00:00Z",
                        "LastModifiedTime": "2026-01-01T01:10:00Z",
                        "MonitoringExecutionStatus": "CompletedWithViolations",
                        "ProcessingJobArn": job_arn,
                    },
                    {
                        "MonitoringScheduleName": "churn-dq",
                        "ScheduledTime": "2026-01-01T00:00:00Z",
                        "CreationTime": "2026-01-01T00:00:00Z",
                        "LastModifiedTime": "2026-01-01T00:10:00Z",
                        "MonitoringExecutionStatus": "Completed",
                    },
                ]
            },
            {
                "MonitoringScheduleName": "churn-dq",
                "SortBy": "ScheduledTime",
                "SortOrder": "Descending",
                "MaxResults": 10,
            },
        )
        sm_stub.add_response(
            "describe_processing_job",
            {
                "ProcessingJobName": "model-monitoring-202601010100-abc",
                "ProcessingJobArn": job_arn,
                "ProcessingJobStatus": "Completed",
                "CreationTime": "2026-01-01T01:00:00Z",
                "ProcessingResources": {
                    "ClusterConfig": {
                        "InstanceCount": 1,
                        "InstanceType": "ml.m5.xlarge",
                        "VolumeSizeInGB": 20,
                    }
                },
                "AppSpecification": {"ImageUri": "img"},
                "ProcessingOutputConfig": {
                    "Outputs": [
                        {
                            "OutputName": "result",
                            "S3Output": {
                                "S3Uri": "s3://sagecoach-demo/monitoring/churn-ep/churn-dq/2026/01/01/01",
                                "LocalPath": "/opt/ml/processing/output",
                                "S3UploadMode": "EndOfJob",
                            },
                        }
                    ]
                },
            },
            {"ProcessingJobName": "model-monitoring-202601010100-abc"},
        )
        s3_stub.add_response(
            "get_object",
            {"Body": StreamingBody(io.BytesIO(body), len(body))},
            {
                "Bucket": "sagecoach-demo",
                "Key": "monitoring/churn-ep/churn-dq/2026/01/01/01/constraint_violations.json",
            },
        )
        result = monitor_list_executions.spec.run(ctx, {"schedule_name": "churn-dq"})
        sm_stub.assert_no_pending_responses()
        s3_stub.assert_no_pending_responses()
    assert result.data["runs"][0]["violations"] == [
        {
            "feature": "tenure",
            "check": "data_type_check",
            "description": "Data type of tenure changed",
        }
    ]
    assert result.data["runs"][1]["violations"] == []
    assert result.data["rows"] == [  # the card's table: one row per violation
        {"scheduled": "2026-01-01T01:00:00", "status": "CompletedWithViolations", "feature": "tenure",
         "check": "data_type_check", "description": "Data type of tenure changed"}
    ]  # fmt: skip
    assert (
        "2 runs of churn-dq, 1 with violations" in result.text
        and "tenure: data_type_check" in result.text
    )


def test_cloudtrail_lookup(tool_ctx: ToolContext, tmp_path: Path) -> None:
    with pytest.raises(NotEmulated, match="CloudTrail"):
        cloudtrail_lookup_events.spec.run(tool_ctx, {"event_name": "DeleteEndpoint"})

    ctx = _stub_ctx(tmp_path)
    trail = ctx.client("cloudtrail")

    def event(name: str, user: str, resource: str) -> dict:
        return {
            "EventId": f"id-{name}-{user}",
            "EventName": name,
            "EventTime": "2026-01-01T00:00:00Z",
            "EventSource": "sagemaker.amazonaws.com",
            "Username": user,
            "Resources": [{"ResourceType": "AWS::SageMaker::Endpoint", "ResourceName": resource}],
            "CloudTrailEvent": json.dumps({"sourceIPAddress": "198.51.100.7"}),
        }

    with Stubber(trail) as stub:
        stub.add_response(
            "lookup_events",
            {
                "Events": [
                    event("DeleteEndpoint", "alice", "churn-ep"),
                    event("DeleteEndpoint", "bob", "other-ep"),
                ]
            },
            {
                "StartTime": ANY,
                "EndTime": ANY,
                "MaxResults": 50,
                "LookupAttributes": [
                    {"AttributeKey": "EventName", "AttributeValue": "DeleteEndpoint"}
                ],
            },
        )
        result = cloudtrail_lookup_events.spec.run(
            ctx, {"event_name": "DeleteEndpoint", "resource_name": "churn-ep", "hours": 48}
        )
        stub.assert_no_pending_responses()
    assert [(r["event"], r["user"], r["source_ip"]) for r in result.data["rows"]] == [
        ("DeleteEndpoint", "alice", "198.51.100.7")
    ]
    assert "DeleteEndpoint by alice on churn-ep" in result.text
