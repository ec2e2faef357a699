"""Issue 6 "Done when", end to end in the sandbox through the tools' Python API: the model from
the training flow is deployed, invoked, monitored with an alarm, exported as a pipeline that is
created and started, and session_cleanup leaves no endpoint (nor anything else) behind."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sandbox.demo_data import churn_csv
from sandbox.server import Sandbox
from tools.aws.context import AwsContext
from tools.core.context import ToolContext
from tools.core.registry import get_tool
from tools.ledger.store import ResourceLedger

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"


def run(ctx: ToolContext, name: str, args: dict):
    return get_tool(name).run(ctx, args)


def test_deploy_invoke_monitor_pipeline_cleanup(
    tool_ctx: ToolContext, aws: AwsContext, sandbox: Sandbox
) -> None:
    assert tool_ctx.state_dir is not None
    tool_ctx.ledger = ResourceLedger.in_state_dir(tool_ctx.state_dir)
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="churn-data")
    s3.put_object(Bucket="churn-data", Key="raw/churn.csv", Body=churn_csv(300).encode())
    data = "s3://churn-data/raw/churn.csv"

    # The training flow's model.
    trained = run(
        tool_ctx,
        "sagemaker_start_training_job",
        {"job_name": "churn-xgb", "train_s3_uri": data, "role_arn": ROLE, "wait": True},
    )
    assert trained.data["status"] == "Completed"

    # Deploy it: model, then a real-time endpoint with data capture.
    run(
        tool_ctx,
        "sagemaker_create_model",
        {"model_name": "churn-model", "training_job_name": "churn-xgb"},
    )
    deployed = run(
        tool_ctx,
        "sagemaker_create_endpoint",
        {
            "endpoint_name": "churn-ep",
            "model_name": "churn-model",
            "data_capture": {"destination_s3_uri": "s3://churn-data/capture/"},
        },
    )
    assert deployed.data["status"] == "InService" and deployed.data["hourly_usd"] > 0

    # Invoke it (moto returns what was queued; the tool decodes it).
    sandbox.queue_endpoint_results(["0.83\n"])
    invoked = run(
        tool_ctx,
        "sagemaker_invoke_endpoint",
        {"endpoint_name": "churn-ep", "payload": "12,1,0,64.5,0,1"},
    )
    assert invoked.data["predictions"] == ["0.83"]

    # Monitor it: an alarm on p90 latency, and its metrics once traffic is recorded.
    alarm = run(
        tool_ctx,
        "cloudwatch_put_alarm",
        {"alarm_name": "churn-ep-p90", "endpoint_name": "churn-ep", "threshold": 250, "periods": 2},
    )
    assert alarm.data["request"]["ExtendedStatistic"] == "p90"
    aws.client("cloudwatch").put_metric_data(
        Namespace="AWS/SageMaker",
        MetricData=[
            {
                "MetricName": "Invocations",
                "Dimensions": [
                    {"Name": "EndpointName", "Value": "churn-ep"},
                    {"Name": "VariantName", "Value": "AllTraffic"},
                ],
                "Timestamp": datetime.now(UTC) - timedelta(minutes=1),
                "Value": 1.0,
            }
        ],
    )
    metrics = run(tool_ctx, "cloudwatch_get_endpoint_metrics", {"endpoint_name": "churn-ep"})
    assert metrics.data["summary"]["Invocations"]["total"] == 1

    # Export the session as a pipeline, create it and start it.
    built = run(tool_ctx, "pipelines_build_definition", {"pipeline_name": "churn-pipeline"})
    steps = built.data["definition"]["Steps"]
    assert [s["Type"] for s in steps] == ["Training", "Model"]
    assert steps[1]["Arguments"]["PrimaryContainer"]["ModelDataUrl"] == {
        "Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"
    }
    run(
        tool_ctx, "pipelines_create_pipeline", {"pipeline_name": "churn-pipeline", "role_arn": ROLE}
    )
    sm = aws.client("sagemaker")
    stored = json.loads(sm.describe_pipeline(PipelineName="churn-pipeline")["PipelineDefinition"])
    assert stored == built.data["definition"]
    started = run(
        tool_ctx,
        "pipelines_start_execution",
        {"pipeline_name": "churn-pipeline", "parameters": {"TrainingInstanceType": "ml.m5.xlarge"}},
    )
    assert started.data["status"] == "Succeeded"

    # What the session created and costs, then clean up.
    listed = run(tool_ctx, "session_list_resources", {})
    assert listed.data["hourly_usd"] == deployed.data["hourly_usd"]
    cleaned = run(tool_ctx, "session_cleanup", {})
    assert cleaned.data["failed"] == 0
    assert sm.list_endpoints()["Endpoints"] == []
    assert sm.list_endpoint_configs()["EndpointConfigs"] == []
    assert sm.list_models()["Models"] == []
    assert sm.list_pipelines()["PipelineSummaries"] == []
    assert aws.client("cloudwatch").describe_alarms()["MetricAlarms"] == []
    after = run(tool_ctx, "session_list_resources", {})
    assert after.data["hourly_usd"] == 0 and after.data["rows"] == []
