"""Property: for every mutating tool of stages 7-9 and the ledger, a denied or rejected call sends
no mutating AWS operation — through the policy, through the real agent runtime (approval
rejected), and in read-only mode where the client-layer guard refuses before anything is sent."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.events import ApprovalRequested, Decision, ToolCallFinished
from agent.settings import Settings
from agent.startup import open_session
from sandbox.server import Sandbox
from tests.safety_helpers import check_unapproved_call_sends_nothing
from tests.safety_helpers import mutating_tools as _mutating_tools
from tests.scripted_model import ScriptedChatModel, tool_turn
from tests.test_deployment import ROLE, make_training_job
from tools.aws.context import AwsContext
from tools.core.context import ToolContext
from tools.core.errors import ToolError
from tools.core.registry import get_tool
from tools.core.results import Resource
from tools.ledger.store import ResourceLedger
from tools.stages.orchestration.definition import remember_definition

MODULES = (
    "tools.stages.deployment.",
    "tools.stages.monitoring.",
    "tools.stages.orchestration.",
    "tools.ledger.session_tools",
)
LAMBDA_ROLE = "arn:aws:iam::123456789012:role/proxy"

SAMPLE_ARGS: dict[str, dict] = {
    "sagemaker_create_model": {"model_name": "p-model", "training_job_name": "churn-xgb-1"},
    "sagemaker_create_endpoint": {"endpoint_name": "p-ep", "model_name": "churn-model"},
    "sagemaker_update_endpoint": {"endpoint_name": "churn-ep", "instance_type": "ml.m5.xlarge"},
    "sagemaker_delete_endpoint": {"endpoint_name": "churn-ep"},
    "sagemaker_start_transform_job": {"job_name": "p-batch", "model_name": "churn-model", "input_s3_uri": "s3://sagecoach-demo/in/", "output_s3_uri": "s3://sagecoach-demo/out/"},
    "lambda_create_endpoint_proxy": {"function_name": "p-proxy", "endpoint_name": "churn-ep", "role_arn": LAMBDA_ROLE},
    "apigateway_create_rest_api": {"api_name": "p-api", "function_name": "churn-proxy"},
    "monitor_create_schedule": {"schedule_name": "p-dq", "endpoint_name": "churn-ep", "output_s3_uri": "s3://sagecoach-demo/mon/", "role_arn": ROLE},
    "cloudwatch_put_alarm": {"alarm_name": "p-alarm", "endpoint_name": "churn-ep", "threshold": 100},
    "cloudwatch_put_drift_alarm": {"alarm_name": "p-drift", "endpoint_name": "churn-ep", "schedule_name": "p-dq", "feature": "tenure"},
    "monitor_run_now": {"schedule_name": "p-dq"},
    "pipelines_create_pipeline": {"pipeline_name": "p-pipeline", "role_arn": ROLE},
    "pipelines_start_execution": {"pipeline_name": "churn-pipeline"},
    "session_cleanup": {},
}  # fmt: skip

DEFINITION = {
    "Version": "2020-12-01",
    "Parameters": [],
    "Steps": [{"Name": "Train", "Type": "Training", "Arguments": {}}],
}


def mutating_tools() -> list[str]:
    return _mutating_tools(MODULES)


def test_every_mutating_tool_has_sample_arguments() -> None:
    assert mutating_tools() == sorted(SAMPLE_ARGS)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    name=st.sampled_from(sorted(SAMPLE_ARGS)),
    mode=st.sampled_from(["ask", "read-only", "dry-run", "auto"]),
    per_call=st.floats(min_value=0, max_value=0.001),
)
def test_policy_never_lets_an_unapproved_call_through(
    moto_server: Sandbox, name: str, mode: str, per_call: float
) -> None:
    check_unapproved_call_sends_nothing(
        moto_server.endpoint, name, SAMPLE_ARGS[name], mode, per_call
    )


def prepare(aws: AwsContext, state_dir: Path, session_id: str) -> None:
    """Enough state that each tool would get as far as its first mutating call."""
    sm = aws.client("sagemaker")
    make_training_job(aws)
    sm.create_model(
        ModelName="churn-model",
        PrimaryContainer={"Image": "img", "ModelDataUrl": "s3://sagecoach-demo/m.tar.gz"},
        ExecutionRoleArn=ROLE,
    )
    sm.create_endpoint_config(
        EndpointConfigName="churn-cfg",
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": "churn-model", "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}],
        DataCaptureConfig={"EnableCapture": True, "InitialSamplingPercentage": 100, "DestinationS3Uri": "s3://sagecoach-demo/capture", "CaptureOptions": [{"CaptureMode": "Input"}]},
        Tags=[{"Key": "CreatedBy", "Value": "sagecoach"}],
    )  # fmt: skip
    sm.create_endpoint(EndpointName="churn-ep", EndpointConfigName="churn-cfg")
    sm.create_pipeline(
        PipelineName="churn-pipeline", PipelineDefinition=json.dumps(DEFINITION), RoleArn=ROLE
    )
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}  # fmt: skip
    aws.client("iam").create_role(RoleName="proxy", AssumeRolePolicyDocument=json.dumps(trust))
    aws.client("lambda").create_function(
        FunctionName="churn-proxy", Runtime="python3.12", Role=LAMBDA_ROLE, Handler="h.h",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
    )  # fmt: skip
    # What pre-flight looks for, so the call gets as far as its approval: the execution role,
    # the model's artifact and the transform's input.
    sm_trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]}  # fmt: skip
    aws.client("iam").create_role(
        RoleName="sagemaker-exec", AssumeRolePolicyDocument=json.dumps(sm_trust)
    )
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="sagecoach-demo")
    s3.put_object(Bucket="sagecoach-demo", Key="m.tar.gz", Body=b"model")
    s3.put_object(Bucket="sagecoach-demo", Key="in/rows.csv", Body=b"1,2,3\n")
    remember_definition("p-pipeline", DEFINITION)
    remember_definition("churn-pipeline", DEFINITION)
    ledger = ResourceLedger.in_state_dir(state_dir)
    for kind, name in [("sagemaker_endpoint", "churn-ep"), ("sagemaker_model", "churn-model"), ("lambda_function", "churn-proxy")]:  # fmt: skip
        ledger.record(Resource(kind, name), session_id=session_id)


def aws_state(aws: AwsContext) -> dict[str, Any]:
    sm = aws.client("sagemaker")
    return {
        "models": sorted(m["ModelName"] for m in sm.list_models()["Models"]),
        "configs": sorted(
            c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]
        ),
        "endpoints": sorted(e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]),
        "transforms": sm.list_transform_jobs()["TransformJobSummaries"],
        "pipelines": sorted(p["PipelineName"] for p in sm.list_pipelines()["PipelineSummaries"]),
        "executions": sm.list_pipeline_executions(PipelineName="churn-pipeline")[
            "PipelineExecutionSummaries"
        ],
        "functions": sorted(
            f["FunctionName"] for f in aws.client("lambda").list_functions()["Functions"]
        ),
        "apis": aws.client("apigateway").get_rest_apis()["items"],
        "alarms": aws.client("cloudwatch").describe_alarms()["MetricAlarms"],
    }


@pytest.mark.parametrize("name", sorted(SAMPLE_ARGS))
def test_read_only_guard_refuses_before_sending(
    sandbox: Sandbox, aws: AwsContext, name: str, tmp_path: Path
) -> None:
    prepare(aws, tmp_path, "ro-session")
    before = aws_state(aws)
    calls: list[dict] = []
    ro = AwsContext(
        sandbox_endpoint=sandbox.endpoint,
        read_only=True,
        session_id="ro-session",
        on_aws_call=calls.append,
    )
    ctx = ToolContext(ro, session_id="ro-session", state_dir=tmp_path, sandbox=sandbox)
    ctx.ledger = ResourceLedger.in_state_dir(tmp_path)
    try:
        result = get_tool(name).run(ctx, SAMPLE_ARGS[name])
    except ToolError as err:
        assert err.kind in ("read_only", "not_emulated"), err.message
    else:
        # Only cleanup returns normally: each of its steps reports the refusal.
        assert name == "session_cleanup"
        assert result.data["failed"] == len(result.data["steps"]) > 0
        assert all("read-only" in s["result"] for s in result.data["steps"])
    sent_mutations = [c for c in calls if c["op_class"] == "mutating" and not c.get("blocked")]
    assert sent_mutations == []
    assert aws_state(aws) == before


async def _reject_through_runtime(
    state_dir: Path, sandbox: Sandbox, name: str, args: dict[str, Any]
) -> tuple[list[dict], list[Any]]:
    settings_ = Settings(state_dir=state_dir, sandbox="on")
    model = ScriptedChatModel(script=[tool_turn(name, args), "Understood, I did not run it."])
    spec = get_tool(name)
    session = await open_session(
        settings_, model=model, sandbox_endpoint=sandbox.endpoint, tools=[spec], retry_delay=0.0
    )
    try:
        events = [e async for e in session.send("do it")]
        asked = [e for e in events if isinstance(e, ApprovalRequested)]
        assert len(asked) == 1, events
        after = [
            e async for e in session.decide({asked[0].request.call_id: Decision.reject("not now")})
        ]
        return list(session.audit.of_kind("aws_call")), after
    finally:
        await session.aclose()


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(name=st.sampled_from(sorted(SAMPLE_ARGS)))
def test_rejected_in_the_runtime_sends_no_mutation(
    moto_server: Sandbox, tmp_path_factory: pytest.TempPathFactory, name: str
) -> None:
    moto_server.reset()
    state_dir = tmp_path_factory.mktemp("state")
    aws = AwsContext(sandbox_endpoint=moto_server.endpoint, session_id="prep")
    prepare(aws, state_dir, "prep")
    before = aws_state(aws)
    calls, events = asyncio.run(
        _reject_through_runtime(state_dir, moto_server, name, SAMPLE_ARGS[name])
    )
    finished = [e for e in events if isinstance(e, ToolCallFinished)]
    assert [f.status for f in finished] == ["rejected"]
    assert [c for c in calls if c.get("op_class") == "mutating"] == []
    assert aws_state(aws) == before
