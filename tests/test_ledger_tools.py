"""session_list_resources and session_cleanup against moto: nothing is left behind."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from tests.test_deployment import ROLE, make_training_job
from tools.aws.context import AwsContext
from tools.core.context import ToolContext
from tools.core.errors import ToolError
from tools.core.results import Resource
from tools.ledger.cleanup import plan_cleanup
from tools.ledger.session_tools import session_cleanup, session_list_resources
from tools.ledger.store import ResourceLedger
from tools.stages.deployment.endpoints import sagemaker_create_endpoint
from tools.stages.deployment.models import sagemaker_create_model
from tools.stages.deployment.proxy import apigateway_create_rest_api, lambda_create_endpoint_proxy
from tools.stages.deployment.transform import sagemaker_start_transform_job
from tools.stages.monitoring.cloudwatch_alarms import cloudwatch_put_alarm
from tools.stages.orchestration.pipelines import (
    pipelines_build_definition,
    pipelines_create_pipeline,
    pipelines_start_execution,
)


@pytest.fixture
def ctx(tool_ctx: ToolContext) -> ToolContext:
    assert tool_ctx.state_dir is not None
    tool_ctx.ledger = ResourceLedger.in_state_dir(tool_ctx.state_dir)
    return tool_ctx


def build_everything(ctx: ToolContext) -> None:
    """One of each kind the deployment/monitoring/orchestration tools create, via the tools."""
    make_training_job(ctx.aws)
    s3 = ctx.client("s3")
    s3.create_bucket(Bucket="sagecoach-scratch")
    s3.put_object(Bucket="sagecoach-scratch", Key="a/b.csv", Body=b"1,2\n")
    ctx.ledger.record(  # as the collection tools record a bucket they create
        Resource("s3_bucket", "sagecoach-scratch", "arn:aws:s3:::sagecoach-scratch"),
        session_id=ctx.session_id,
    )
    sagemaker_create_model.spec.run(
        ctx, {"model_name": "churn-model", "training_job_name": "churn-xgb-1"}
    )
    sagemaker_create_endpoint.spec.run(
        ctx, {"endpoint_name": "churn-ep", "model_name": "churn-model"}
    )
    sagemaker_create_endpoint.spec.run(
        ctx,
        {"endpoint_name": "churn-sls", "model_name": "churn-model", "endpoint_type": "serverless"},
    )
    sagemaker_start_transform_job.spec.run(
        ctx,
        {
            "job_name": "churn-batch",
            "model_name": "churn-model",
            "input_s3_uri": "s3://sagecoach-demo/in/",
            "output_s3_uri": "s3://sagecoach-demo/out/",
        },
    )
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = ctx.client("iam").create_role(
        RoleName="proxy", AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]["Arn"]
    lambda_create_endpoint_proxy.spec.run(
        ctx, {"function_name": "churn-proxy", "endpoint_name": "churn-ep", "role_arn": role}
    )
    apigateway_create_rest_api.spec.run(
        ctx, {"api_name": "churn-api", "function_name": "churn-proxy"}
    )
    cloudwatch_put_alarm.spec.run(
        ctx, {"alarm_name": "churn-latency", "endpoint_name": "churn-ep", "threshold": 300}
    )
    pipelines_build_definition.spec.run(ctx, {"pipeline_name": "churn-pipeline"})
    pipelines_create_pipeline.spec.run(ctx, {"pipeline_name": "churn-pipeline", "role_arn": ROLE})
    pipelines_start_execution.spec.run(ctx, {"pipeline_name": "churn-pipeline"})


def aws_state(ctx: ToolContext) -> dict[str, Any]:
    sm = ctx.client("sagemaker")
    return {
        "endpoints": [e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]],
        "configs": [c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]],
        "models": [m["ModelName"] for m in sm.list_models()["Models"]],
        "pipelines": [p["PipelineName"] for p in sm.list_pipelines()["PipelineSummaries"]],
        "functions": [
            f["FunctionName"] for f in ctx.client("lambda").list_functions()["Functions"]
        ],
        "apis": [a["name"] for a in ctx.client("apigateway").get_rest_apis()["items"]],
        "alarms": [
            a["AlarmName"] for a in ctx.client("cloudwatch").describe_alarms()["MetricAlarms"]
        ],
        "buckets": [b["Name"] for b in ctx.client("s3").list_buckets()["Buckets"]],
    }


def test_list_then_cleanup_leaves_nothing(ctx: ToolContext) -> None:
    build_everything(ctx)
    before = aws_state(ctx)
    assert before["endpoints"] and before["functions"] and before["apis"] and before["pipelines"]

    listed = session_list_resources.spec.run(ctx, {})
    kinds = sorted({r["kind"] for r in listed.data["rows"]})
    assert kinds == [
        "apigateway_rest_api",
        "cloudwatch_alarm",
        "lambda_function",
        "s3_bucket",
        "sagemaker_endpoint",
        "sagemaker_endpoint_config",
        "sagemaker_model",
        "sagemaker_pipeline",
        "sagemaker_pipeline_execution",
    ]  # the finished transform job and execution are refreshed out of the live list
    assert listed.data["hourly_usd"] == pytest.approx(0.115)  # only the real-time endpoint burns
    plan = {(p["kind"], p["name"]): p for p in listed.data["plan"]}
    assert plan[("sagemaker_endpoint", "churn-ep")]["saving_usd_per_hour"] == pytest.approx(0.115)
    assert plan[("s3_bucket", "sagecoach-scratch")]["action"] == "left alone"
    assert "session_cleanup would ($0.1150/h saved)" in listed.text
    order = [p["kind"] for p in listed.data["plan"]]
    assert (
        order.index("apigateway_rest_api")
        < order.index("lambda_function")
        < order.index("sagemaker_endpoint")
    )
    assert (
        order.index("sagemaker_endpoint")
        < order.index("sagemaker_endpoint_config")
        < order.index("sagemaker_model")
    )

    progress: list[str] = []
    ctx._progress = lambda event: progress.append(event.message)  # type: ignore[attr-defined]
    result = session_cleanup.spec.run(ctx, {})
    assert result.data["failed"] == 0, result.text
    assert result.data["hourly_saving_usd"] == pytest.approx(0.115)
    after = aws_state(ctx)
    assert after == {
        "endpoints": [],
        "configs": [],
        "models": [],
        "pipelines": [],
        "functions": [],
        "apis": [],
        "alarms": [],
        "buckets": sorted(before["buckets"]),  # buckets only with include_buckets
    }
    assert progress[-1] == "cleanup done" and any("churn-ep" in p for p in progress)
    assert "- sagemaker_endpoint churn-ep: deleted" in result.text

    ledger = ctx.ledger
    live = ledger.entries(session_id=ctx.session_id, status="active")  # type: ignore[union-attr]
    assert [(e.kind, e.name) for e in live] == [("s3_bucket", "sagecoach-scratch")]
    # Ask again with buckets: the bucket is emptied and deleted.
    result = session_cleanup.spec.run(ctx, {"include_buckets": True})
    assert "emptied (1 objects) and deleted" in result.text
    assert "sagecoach-scratch" not in aws_state(ctx)["buckets"]
    assert session_cleanup.spec.run(ctx, {}).text == "Nothing to clean up."
    # The ledger file on disk says the same after a restart.
    reopened = ResourceLedger.in_state_dir(ctx.state_dir)  # type: ignore[arg-type]
    assert reopened.active(ctx.session_id) == []
    assert reopened.summary(ctx.session_id)["hourly_usd"] == 0


def test_cleanup_tolerates_what_is_already_gone_and_other_sessions(ctx: ToolContext) -> None:
    make_training_job(ctx.aws)
    sagemaker_create_model.spec.run(
        ctx, {"model_name": "m-one", "training_job_name": "churn-xgb-1"}
    )
    ctx.client("sagemaker").delete_model(ModelName="m-one")  # removed behind sagecoach's back
    ctx.ledger.record(Resource("sagemaker_model", "older"), session_id="earlier")  # type: ignore[union-attr]
    ctx.ledger.record(Resource("glue_table", "db.t"), session_id=ctx.session_id)  # type: ignore[union-attr]
    result = session_cleanup.spec.run(ctx, {})
    outcome = {s["name"]: s["result"] for s in result.data["steps"]}
    assert outcome == {"m-one": "already gone", "db.t": "left alone"}
    assert ctx.ledger.find("sagemaker_model", "older").status == "active"  # type: ignore[union-attr]


def test_cleanup_by_name_only(ctx: ToolContext) -> None:
    make_training_job(ctx.aws)
    for name in ("keep-me", "drop-me"):
        sagemaker_create_model.spec.run(
            ctx, {"model_name": name, "training_job_name": "churn-xgb-1"}
        )
    session_cleanup.spec.run(ctx, {"names": ["drop-me"]})
    assert [m["ModelName"] for m in ctx.client("sagemaker").list_models()["Models"]] == ["keep-me"]


def test_running_jobs_are_stopped(tmp_path: Path) -> None:
    aws = AwsContext(region="us-east-1", session_id="s-stop")
    ctx = ToolContext(aws, session_id="s-stop", state_dir=tmp_path)
    ctx.ledger = ResourceLedger.in_state_dir(tmp_path)
    ctx.ledger.record(
        Resource("sagemaker_training_job", "long-job", hourly_usd=0.23), session_id="s-stop"
    )
    sm = aws.client("sagemaker")
    with Stubber(sm) as stub:
        stub.add_response(
            "describe_training_job",
            {
                "TrainingJobName": "long-job",
                "TrainingJobArn": "arn:aws:sagemaker:us-east-1:1:training-job/long-job",
                "TrainingJobStatus": "InProgress",
                "SecondaryStatus": "Training",
                "ModelArtifacts": {"S3ModelArtifacts": ""},
                "AlgorithmSpecification": {"TrainingInputMode": "File"},
                "ResourceConfig": {
                    "InstanceType": "ml.m5.xlarge",
                    "InstanceCount": 1,
                    "VolumeSizeInGB": 30,
                },
                "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
                "CreationTime": "2026-01-01T00:00:00Z",
            },
            {"TrainingJobName": "long-job"},
        )
        stub.add_response("stop_training_job", {}, {"TrainingJobName": "long-job"})
        result = session_cleanup.spec.run(ctx, {})
        stub.assert_no_pending_responses()
    assert result.data["steps"][0]["result"] == "stopped"
    assert result.data["hourly_saving_usd"] == pytest.approx(0.23)
    assert ctx.ledger.find("sagemaker_training_job", "long-job").status == "stopped"


def test_without_a_ledger(tool_ctx: ToolContext) -> None:
    with pytest.raises(ToolError, match="no resource ledger"):
        session_list_resources.spec.run(tool_ctx, {})
    with pytest.raises(ToolError, match="no resource ledger"):
        session_cleanup.spec.run(tool_ctx, {})


def test_plan_is_ordered_and_keeps_buckets_by_default(tmp_path: Path) -> None:
    ledger = ResourceLedger.in_state_dir(tmp_path)
    for kind, name in [
        ("s3_bucket", "b1"),
        ("sagemaker_model", "m"),
        ("sagemaker_endpoint", "e"),
        ("kinesis_stream", "k"),
        ("feature_group", "fg"),
    ]:
        ledger.record(
            Resource(kind, name, hourly_usd=0.5 if kind == "sagemaker_endpoint" else None),
            session_id="s",
        )
    plan = plan_cleanup(ledger.entries())
    assert [(s.entry.kind, s.action) for s in plan] == [
        ("sagemaker_endpoint", "delete"),
        ("sagemaker_model", "delete"),
        ("kinesis_stream", "delete"),
        ("s3_bucket", "left alone"),
        ("feature_group", "left alone"),
    ]
    assert plan[0].describe() == "delete sagemaker_endpoint e (saves $0.5000/h)"
    with_buckets = plan_cleanup(ledger.entries(), include_buckets=True)
    assert ("s3_bucket", "empty and delete") in [(s.entry.kind, s.action) for s in with_buckets]
