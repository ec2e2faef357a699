"""Deployment tools against moto (and botocore's Stubber where moto has no emulation)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from tools.aws.context import AwsContext
from tools.core.context import ToolContext
from tools.core.errors import ToolError
from tools.ledger.store import ResourceLedger
from tools.stages.deployment.endpoint_delete import sagemaker_delete_endpoint
from tools.stages.deployment.endpoint_status import (
    sagemaker_describe_endpoint,
    sagemaker_list_endpoints,
)
from tools.stages.deployment.endpoints import sagemaker_create_endpoint, sagemaker_update_endpoint
from tools.stages.deployment.invoke import sagemaker_invoke_endpoint
from tools.stages.deployment.models import sagemaker_create_model, sagemaker_list_models
from tools.stages.deployment.proxy import apigateway_create_rest_api, lambda_create_endpoint_proxy
from tools.stages.deployment.transform import (
    sagemaker_describe_transform_job,
    sagemaker_start_transform_job,
)

ROLE = "arn:aws:iam::123456789012:role/sagemaker-exec"
XGB_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
TAGS = [
    {"Key": "CreatedBy", "Value": "sagecoach"},
    {"Key": "sagecoach:session", "Value": "test-session"},
]


def make_training_job(aws: AwsContext, name: str = "churn-xgb-1") -> dict[str, Any]:
    """A completed training job in moto (moto completes jobs at once)."""
    sm = aws.client("sagemaker")
    sm.create_training_job(
        TrainingJobName=name,
        AlgorithmSpecification={"TrainingImage": XGB_IMAGE, "TrainingInputMode": "File"},
        RoleArn=ROLE,
        InputDataConfig=[
            {
                "ChannelName": "train",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": "s3://sagecoach-demo/churn/",
                    }
                },
            }
        ],
        OutputDataConfig={"S3OutputPath": "s3://sagecoach-demo/models"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
    )
    return sm.describe_training_job(TrainingJobName=name)


@pytest.fixture
def ledger_ctx(tool_ctx: ToolContext) -> ToolContext:
    assert tool_ctx.state_dir is not None
    tool_ctx.ledger = ResourceLedger.in_state_dir(tool_ctx.state_dir)
    return tool_ctx


@pytest.fixture
def model(ledger_ctx: ToolContext) -> str:
    make_training_job(ledger_ctx.aws)
    sagemaker_create_model.spec.run(
        ledger_ctx, {"model_name": "churn-model", "training_job_name": "churn-xgb-1"}
    )
    return "churn-model"


def test_create_model_from_training_job(ledger_ctx: ToolContext, aws_calls: list[dict]) -> None:
    job = make_training_job(ledger_ctx.aws)
    result = sagemaker_create_model.spec.run(
        ledger_ctx, {"model_name": "churn-model", "training_job_name": "churn-xgb-1"}
    )
    sm = ledger_ctx.client("sagemaker")
    desc = sm.describe_model(ModelName="churn-model")
    assert desc["PrimaryContainer"] == {
        "Image": XGB_IMAGE,
        "ModelDataUrl": job["ModelArtifacts"]["S3ModelArtifacts"],
    }
    assert desc["ExecutionRoleArn"] == ROLE  # taken from the job
    assert sm.list_tags(ResourceArn=desc["ModelArn"])["Tags"] == TAGS
    create = next(c for c in aws_calls if c["operation"] == "CreateModel")
    assert create["params"]["PrimaryContainer"]["ModelDataUrl"].endswith(
        "churn-xgb-1/output/model.tar.gz"
    )
    entry = ledger_ctx.ledger.find("sagemaker_model", "churn-model")  # type: ignore[union-attr]
    assert entry is not None and entry.extra["request"]["ModelName"] == "churn-model"
    assert "churn-model" in result.text and "sagemaker_create_endpoint" in result.text

    listed = sagemaker_list_models.spec.run(ledger_ctx, {})
    assert [r["name"] for r in listed.data["rows"]] == ["churn-model"]


def test_create_model_argument_rules(ledger_ctx: ToolContext) -> None:
    spec = sagemaker_create_model.spec
    with pytest.raises(ToolError, match="exactly one source"):
        spec.run(ledger_ctx, {"model_name": "m", "training_job_name": "j", "image_uri": "img"})
    # image_uri without role_arn is valid now: the session's role is used at run time.
    assert (
        spec.validate(
            {"model_name": "m", "image_uri": "img", "model_data_url": "s3://bkt/m.tar.gz"}
        ).role_arn
        is None
    )
    with pytest.raises(ToolError, match="ending in '/'"):
        spec.run(
            ledger_ctx,
            {
                "model_name": "m",
                "image_uri": "img",
                "model_data_url": "s3://bkt/m.tar.gz",
                "role_arn": ROLE,
                "mode": "multi",
            },
        )
    with pytest.raises(ToolError, match="model_name"):
        spec.run(ledger_ctx, {"model_name": "bad_name!", "image_uri": "img", "role_arn": ROLE})


def test_realtime_endpoint_created_tagged_and_costed(
    ledger_ctx: ToolContext, model: str, aws_calls: list[dict]
) -> None:
    spec = sagemaker_create_endpoint.spec
    args = {
        "endpoint_name": "churn-ep",
        "model_name": model,
        "data_capture": {
            "destination_s3_uri": "s3://sagecoach-demo/capture/",
            "sampling_percent": 50,
        },
    }
    estimate = spec.estimate(args, "us-east-1")
    assert estimate is not None and estimate.hourly_usd == pytest.approx(0.115)
    assert estimate.low_usd == pytest.approx(0.115) and estimate.high_usd == pytest.approx(2.76)
    assert (
        "/h" in estimate.basis
        and "/day" in estimate.basis
        and "runs until deleted" in estimate.notes
    )

    result = spec.run(ledger_ctx, args)
    sm = ledger_ctx.client("sagemaker")
    endpoint = sm.describe_endpoint(EndpointName="churn-ep")
    assert endpoint["EndpointStatus"] == "InService" and result.data["status"] == "InService"
    config = sm.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    assert config["ProductionVariants"][0]["InstanceType"] == "ml.m5.large"
    assert config["ProductionVariants"][0]["ModelName"] == model
    assert config["DataCaptureConfig"]["DestinationS3Uri"] == "s3://sagecoach-demo/capture/"
    assert sm.list_tags(ResourceArn=endpoint["EndpointArn"])["Tags"] == TAGS
    assert sm.list_tags(ResourceArn=config["EndpointConfigArn"])["Tags"] == TAGS
    kinds = [(r.kind, r.hourly_usd) for r in result.resources]
    assert kinds == [
        ("sagemaker_endpoint_config", None),
        ("sagemaker_endpoint", pytest.approx(0.115)),
    ]
    assert "$0.1150/h" in result.text and "$2.76/day" in result.text
    assert any(c["operation"] == "DescribeEndpoint" for c in aws_calls)  # waited for InService
    # The ledger holds both, once each, with the endpoint's hourly cost.
    rows = ledger_ctx.ledger.entries(session_id="test-session", status="active")  # type: ignore[union-attr]
    assert sorted(e.kind for e in rows) == [
        "sagemaker_endpoint",
        "sagemaker_endpoint_config",
        "sagemaker_model",
    ]

    described = sagemaker_describe_endpoint.spec.run(ledger_ctx, {"endpoint_name": "churn-ep"})
    assert described.data["hourly_usd"] == pytest.approx(0.115) and described.data["data_capture"]
    listed = sagemaker_list_endpoints.spec.run(ledger_ctx, {})
    assert [r["name"] for r in listed.data["rows"]] == ["churn-ep"]
    assert listed.data["hourly_usd"] == pytest.approx(0.115)
    assert listed.data["rows"][0]["hours_running"] is not None


def test_newer_instance_family_in_sandbox_is_explained(ledger_ctx: ToolContext, model: str) -> None:
    with pytest.raises(ToolError) as err:
        sagemaker_create_endpoint.spec.run(
            ledger_ctx,
            {"endpoint_name": "ep", "model_name": model, "instance_type": "ml.m6i.large"},
        )
    assert "sandbox only emulates older instance families" in err.value.message
    assert "ml.m5.large" in err.value.message


def test_unknown_hosting_instance_rejected_before_any_call(
    ledger_ctx: ToolContext, model: str, aws_calls: list[dict]
) -> None:
    aws_calls.clear()
    with pytest.raises(ToolError, match="not a known SageMaker hosting instance type"):
        sagemaker_create_endpoint.spec.run(
            ledger_ctx, {"endpoint_name": "ep", "model_name": model, "instance_type": "ml.m5.huge"}
        )
    assert aws_calls == []


def test_serverless_endpoint_and_its_estimate(ledger_ctx: ToolContext, model: str) -> None:
    spec = sagemaker_create_endpoint.spec
    args = {
        "endpoint_name": "churn-sls",
        "model_name": model,
        "endpoint_type": "serverless",
        "memory_size_mb": 2048,
        "max_concurrency": 5,
    }
    estimate = spec.estimate(args, "us-east-1")
    assert estimate is not None and estimate.low_usd == 0
    # 2 GB × 5 × 3600 s × $0.00002 per GB-second = $0.72 for a fully busy hour.
    assert estimate.high_usd == pytest.approx(0.72)
    assert "GB-second" in " ".join(estimate.notes) and "request" in " ".join(estimate.notes)
    assert estimate.hourly_usd is None

    result = spec.run(ledger_ctx, args)
    sm = ledger_ctx.client("sagemaker")
    config = sm.describe_endpoint_config(EndpointConfigName=result.data["config_name"])
    assert config["ProductionVariants"][0]["ServerlessConfig"] == {
        "MemorySizeInMB": 2048,
        "MaxConcurrency": 5,
    }
    assert result.resources[-1].hourly_usd is None and "per request" in result.text

    with pytest.raises(ToolError, match="memory_size_mb"):
        spec.run(ledger_ctx, {**args, "memory_size_mb": 1500})
    with pytest.raises(ToolError, match="do not support data capture"):
        spec.run(ledger_ctx, {**args, "data_capture": {"destination_s3_uri": "s3://bkt/c/"}})


def test_multi_model_endpoint(ledger_ctx: ToolContext) -> None:
    sagemaker_create_model.spec.run(
        ledger_ctx,
        {
            "model_name": "mme",
            "image_uri": XGB_IMAGE,
            "model_data_url": "s3://sagecoach-demo/models/",
            "role_arn": ROLE,
            "mode": "multi",
        },
    )
    sm = ledger_ctx.client("sagemaker")
    assert sm.describe_model(ModelName="mme")["PrimaryContainer"]["Mode"] == "MultiModel"
    result = sagemaker_create_endpoint.spec.run(
        ledger_ctx, {"endpoint_name": "mme-ep", "model_name": "mme", "endpoint_type": "multi_model"}
    )
    assert result.data["status"] == "InService"

    sagemaker_create_model.spec.run(
        ledger_ctx,
        {
            "model_name": "single",
            "image_uri": XGB_IMAGE,
            "model_data_url": "s3://bkt/m.tar.gz",
            "role_arn": ROLE,
        },
    )
    with pytest.raises(ToolError, match="not a multi-model model"):
        sagemaker_create_endpoint.spec.run(
            ledger_ctx,
            {"endpoint_name": "x", "model_name": "single", "endpoint_type": "multi_model"},
        )


def test_variant_weights_for_ab_split(ledger_ctx: ToolContext, model: str) -> None:
    sagemaker_create_model.spec.run(
        ledger_ctx,
        {
            "model_name": "challenger",
            "image_uri": XGB_IMAGE,
            "model_data_url": "s3://bkt/c.tar.gz",
            "role_arn": ROLE,
        },
    )
    args = {
        "endpoint_name": "ab-ep",
        "model_name": model,
        "weight": 9,
        "extra_variants": [{"model_name": "challenger", "variant_name": "Challenger", "weight": 1}],
    }
    estimate = sagemaker_create_endpoint.spec.estimate(args, "us-east-1")
    assert estimate is not None and estimate.hourly_usd == pytest.approx(0.23)
    result = sagemaker_create_endpoint.spec.run(ledger_ctx, args)
    config = ledger_ctx.client("sagemaker").describe_endpoint_config(
        EndpointConfigName=result.data["config_name"]
    )
    assert [
        (v["VariantName"], v["ModelName"], v["InitialVariantWeight"])
        for v in config["ProductionVariants"]
    ] == [
        ("Primary", model, 9.0),
        ("Challenger", "challenger", 1.0),
    ]


def test_invoke_shows_decoded_response(
    ledger_ctx: ToolContext, model: str, sandbox, tmp_path: Path
) -> None:
    sagemaker_create_endpoint.spec.run(
        ledger_ctx, {"endpoint_name": "churn-ep", "model_name": model}
    )
    spec = sagemaker_invoke_endpoint.spec
    sandbox.queue_endpoint_results(["0.91\n0.12\n"])
    result = spec.run(ledger_ctx, {"endpoint_name": "churn-ep", "payload": "1,2,3\n4,5,6"})
    assert result.data["predictions"] == ["0.91", "0.12"]
    assert result.data["content_type"] == "text/csv" and "0.91" in result.text

    sandbox.queue_endpoint_results(
        ['{"predictions": [{"score": 0.7}]}'], content_type="application/json"
    )
    payload = tmp_path / "rows.json"
    payload.write_text(json.dumps({"instances": [[1, 2, 3]]}))
    result = spec.run(
        ledger_ctx,
        {
            "endpoint_name": "churn-ep",
            "payload_file": str(payload),
            "content_type": "application/json",
        },
    )
    assert result.data["json"] == {"predictions": [{"score": 0.7}]}

    estimate = spec.estimate({"endpoint_name": "churn-ep", "payload": "1,2,3"}, "us-east-1")
    assert estimate is not None and estimate.known and estimate.high_usd < 1e-6
    with pytest.raises(ToolError, match="not valid JSON"):
        spec.run(
            ledger_ctx,
            {"endpoint_name": "e", "payload": "{oops", "content_type": "application/json"},
        )
    with pytest.raises(ToolError, match="either payload or payload_file"):
        spec.run(ledger_ctx, {"endpoint_name": "e"})


def test_delete_endpoint_removes_its_config_only_when_ours(
    ledger_ctx: ToolContext, model: str
) -> None:
    created = sagemaker_create_endpoint.spec.run(
        ledger_ctx, {"endpoint_name": "churn-ep", "model_name": model}
    )
    sm = ledger_ctx.client("sagemaker")
    result = sagemaker_delete_endpoint.spec.run(ledger_ctx, {"endpoint_name": "churn-ep"})
    assert sm.list_endpoints()["Endpoints"] == []
    assert sm.list_endpoint_configs()["EndpointConfigs"] == []
    assert result.data["hourly_saving_usd"] == pytest.approx(0.115)
    ledger = ledger_ctx.ledger
    assert ledger.find("sagemaker_endpoint", "churn-ep").status == "deleted"  # type: ignore[union-attr]
    assert ledger.find("sagemaker_endpoint_config", created.data["config_name"]).status == "deleted"  # type: ignore[union-attr]

    # A config someone else made (no CreatedBy tag) is kept.
    sm.create_endpoint_config(
        EndpointConfigName="theirs",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": model,
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
            }
        ],
    )
    sm.create_endpoint(EndpointName="their-ep", EndpointConfigName="theirs")
    result = sagemaker_delete_endpoint.spec.run(ledger_ctx, {"endpoint_name": "their-ep"})
    assert [c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]] == [
        "theirs"
    ]
    assert "kept endpoint config theirs" in result.text


def test_update_endpoint_against_stubbed_aws(tmp_path: Path) -> None:
    aws = AwsContext(region="us-east-1", session_id="s-upd")
    ctx = ToolContext(aws, session_id="s-upd", state_dir=tmp_path)
    ctx.ledger = ResourceLedger.in_state_dir(tmp_path)
    ctx.poll_interval = 0.01
    sm = aws.client("sagemaker")
    ep_arn = "arn:aws:sagemaker:us-east-1:111122223333:endpoint/churn-ep"
    with Stubber(sm) as stub:
        stub.add_response(
            "describe_endpoint",
            {
                "EndpointName": "churn-ep",
                "EndpointArn": ep_arn,
                "EndpointConfigName": "old-cfg",
                "EndpointStatus": "InService",
                "CreationTime": "2026-01-01T00:00:00Z",
                "LastModifiedTime": "2026-01-01T00:00:00Z",
            },
            {"EndpointName": "churn-ep"},
        )
        stub.add_response(
            "describe_endpoint_config",
            {
                "EndpointConfigName": "old-cfg",
                "EndpointConfigArn": "arn:aws:sagemaker:us-east-1:111122223333:endpoint-config/old-cfg",
                "ProductionVariants": [
                    {
                        "VariantName": "AllTraffic",
                        "ModelName": "m1",
                        "InstanceType": "ml.m5.large",
                        "InitialInstanceCount": 1,
                        "InitialVariantWeight": 1.0,
                    }
                ],
                "CreationTime": "2026-01-01T00:00:00Z",
            },
            {"EndpointConfigName": "old-cfg"},
        )
        stub.add_response(
            "create_endpoint_config",
            {"EndpointConfigArn": "arn:aws:sagemaker:us-east-1:111122223333:endpoint-config/new"},
            {
                "EndpointConfigName": ANY,
                "ProductionVariants": [
                    {
                        "VariantName": "AllTraffic",
                        "ModelName": "m2",
                        "InstanceType": "ml.m5.xlarge",
                        "InitialInstanceCount": 2,
                        "InitialVariantWeight": 1.0,
                    }
                ],
                "Tags": [
                    {"Key": "CreatedBy", "Value": "sagecoach"},
                    {"Key": "sagecoach:session", "Value": "s-upd"},
                ],
            },
        )
        stub.add_response(
            "update_endpoint",
            {"EndpointArn": ep_arn},
            {"EndpointName": "churn-ep", "EndpointConfigName": ANY},
        )
        stub.add_response(
            "describe_endpoint",
            {
                "EndpointName": "churn-ep",
                "EndpointArn": ep_arn,
                "EndpointConfigName": "new",
                "EndpointStatus": "InService",
                "CreationTime": "2026-01-01T00:00:00Z",
                "LastModifiedTime": "2026-01-01T00:00:00Z",
            },
            {"EndpointName": "churn-ep"},
        )
        result = sagemaker_update_endpoint.spec.run(
            ctx,
            {
                "endpoint_name": "churn-ep",
                "model_name": "m2",
                "instance_type": "ml.m5.xlarge",
                "instance_count": 2,
            },
        )
        stub.assert_no_pending_responses()
    assert result.data["status"] == "InService" and result.data["previous_config"] == "old-cfg"
    assert result.data["hourly_usd"] == pytest.approx(0.46)
    assert result.data["config_name"].startswith("churn-ep-cfg-")
    estimate = sagemaker_update_endpoint.spec.estimate(
        {"endpoint_name": "churn-ep", "instance_type": "ml.m5.xlarge", "instance_count": 2},
        "us-east-1",
    )
    assert estimate is not None and estimate.hourly_usd == pytest.approx(0.46)


def test_batch_transform(ledger_ctx: ToolContext, model: str, aws_calls: list[dict]) -> None:
    spec = sagemaker_start_transform_job.spec
    args = {
        "job_name": "churn-batch",
        "model_name": model,
        "input_s3_uri": "s3://sagecoach-demo/churn/test/",
        "output_s3_uri": "s3://sagecoach-demo/predictions/",
        "join_input": True,
        "max_hours": 2,
    }
    estimate = spec.estimate(args, "us-east-1")
    assert estimate is not None and estimate.high_usd == pytest.approx(0.23)
    result = spec.run(ledger_ctx, args)
    sent = next(c for c in aws_calls if c["operation"] == "CreateTransformJob")["params"]
    assert sent == result.data["request"]
    assert sent["TransformInput"] == {
        "DataSource": {
            "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://sagecoach-demo/churn/test/"}
        },
        "ContentType": "text/csv",
        "SplitType": "Line",
    }
    assert sent["TransformOutput"] == {
        "S3OutputPath": "s3://sagecoach-demo/predictions/",
        "AssembleWith": "Line",
    }
    assert sent["DataProcessing"] == {"JoinSource": "Input"} and sent["Tags"] == TAGS
    assert result.data["status"] == "Completed"
    entry = ledger_ctx.ledger.find("sagemaker_transform_job", "churn-batch")  # type: ignore[union-attr]
    assert entry is not None and entry.status == "finished" and entry.extra["request"] == sent
    described = sagemaker_describe_transform_job.spec.run(ledger_ctx, {"job_name": "churn-batch"})
    assert (
        described.data["status"] == "Completed"
        and described.data["output"] == "s3://sagecoach-demo/predictions/"
    )


def _lambda_role(aws: AwsContext) -> str:
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
    role = aws.client("iam").create_role(
        RoleName="proxy-role", AssumeRolePolicyDocument=json.dumps(trust)
    )
    return role["Role"]["Arn"]


def test_lambda_proxy_and_rest_api(ledger_ctx: ToolContext) -> None:
    role = _lambda_role(ledger_ctx.aws)
    created = lambda_create_endpoint_proxy.spec.run(
        ledger_ctx, {"function_name": "churn-proxy", "endpoint_name": "churn-ep", "role_arn": role}
    )
    lam = ledger_ctx.client("lambda")
    fn = lam.get_function(FunctionName="churn-proxy")
    assert fn["Configuration"]["Environment"]["Variables"] == {
        "ENDPOINT_NAME": "churn-ep",
        "CONTENT_TYPE": "text/csv",
    }
    assert (
        fn["Configuration"]["Handler"] == "handler.handler"
        and fn["Tags"]["CreatedBy"] == "sagecoach"
    )
    assert created.resources[0].kind == "lambda_function"
    source = created.data["handler_source"]
    compile(source, "handler.py", "exec")  # the generated handler is valid Python
    assert "invoke_endpoint" in source

    api = apigateway_create_rest_api.spec.run(
        ledger_ctx, {"api_name": "churn-api", "function_name": "churn-proxy"}
    )
    api_id = api.data["api_id"]
    assert (
        api.data["invoke_url"]
        == f"https://{api_id}.execute-api.us-east-1.amazonaws.com/prod/predict"
    )
    gw = ledger_ctx.client("apigateway")
    resources = {r["path"]: r for r in gw.get_resources(restApiId=api_id)["items"]}
    predict = resources["/predict"]
    integration = gw.get_integration(restApiId=api_id, resourceId=predict["id"], httpMethod="POST")
    assert integration["type"] == "AWS_PROXY"
    assert fn["Configuration"]["FunctionArn"] in integration["uri"]
    assert [s["stageName"] for s in gw.get_stages(restApiId=api_id)["item"]] == ["prod"]
    policy = json.loads(lam.get_policy(FunctionName="churn-proxy")["Policy"])
    statement = policy["Statement"][0]
    assert statement["Principal"] == {"Service": "apigateway.amazonaws.com"}
    assert f"{api_id}/*/POST/predict" in json.dumps(statement["Condition"])
    assert gw.get_rest_api(restApiId=api_id)["tags"]["CreatedBy"] == "sagecoach"
    entry = ledger_ctx.ledger.find("apigateway_rest_api", "churn-api")  # type: ignore[union-attr]
    assert entry is not None and entry.extra["id"] == api_id


def test_proxy_zip_holds_only_the_handler() -> None:
    from tools.stages.deployment.proxy import PROXY_HANDLER, proxy_zip

    with zipfile.ZipFile(io.BytesIO(proxy_zip())) as archive:
        assert archive.namelist() == ["handler.py"]
        assert archive.read("handler.py").decode() == PROXY_HANDLER
    assert proxy_zip() == proxy_zip()  # deterministic bytes
