"""Stage 6: compare jobs, Clarify bias/explainability, bias job definition, Model Monitor baseline."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from botocore.stub import Stubber

from sandbox.server import seed_demo
from tools.aws.context import AwsContext
from tools.core.context import ToolContext
from tools.core.errors import ToolError
from tools.core.registry import get_tool

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
CLARIFY_IMAGE = "205585389593.dkr.ecr.us-east-1.amazonaws.com/sagemaker-clarify-processing:1.0"
MONITOR_IMAGE = "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"


@pytest.fixture
def demo_uri(aws: AwsContext) -> str:
    return seed_demo(aws.client("s3"), rows=100)


def _s3_json(aws: AwsContext, uri: str) -> dict:
    bucket, _, key = uri[5:].partition("/")
    return json.loads(aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def _describe(name: str, eta: str, auc: float | None) -> dict:
    now = datetime.now(UTC)
    desc = {
        "TrainingJobName": name,
        "TrainingJobArn": f"arn:aws:sagemaker:us-east-1:123456789012:training-job/{name}",
        "TrainingJobStatus": "Completed",
        "SecondaryStatus": "Completed",
        "AlgorithmSpecification": {"TrainingInputMode": "File", "TrainingImage": "img"},
        "ModelArtifacts": {"S3ModelArtifacts": f"s3://b/{name}/model.tar.gz"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 30},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        "CreationTime": now,
        "HyperParameters": {"eta": eta, "num_round": "100"},
        "BillableTimeInSeconds": 120,
        "FinalMetricDataList": [],
    }
    if auc is not None:
        desc["FinalMetricDataList"] = [
            {"MetricName": "validation:auc", "Value": auc, "Timestamp": now},
            {"MetricName": "train:auc", "Value": auc + 0.05, "Timestamp": now},
        ]
    return desc


def test_compare_sorts_by_metric_and_shows_what_differs(tmp_path) -> None:
    ctx = ToolContext(AwsContext(region="us-east-1"), state_dir=tmp_path)
    sm = ctx.client("sagemaker")
    with Stubber(sm) as stub:
        for name, eta, auc in (
            ("job-a", "0.1", 0.81),
            ("job-b", "0.3", 0.86),
            ("job-c", "0.5", None),
        ):
            stub.add_response("describe_training_job", _describe(name, eta, auc), {"TrainingJobName": name})  # fmt: skip
        result = get_tool("sagemaker_compare_training_jobs").run(
            ctx, {"job_names": ["job-a", "job-b", "job-c"], "include_curves": False}
        )
        stub.assert_no_pending_responses()
    data = result.data
    assert data["sort_by"] == "validation:auc"
    assert [r["job"] for r in data["rows"]] == ["job-b", "job-a", "job-c"]  # no metric sorts last
    assert data["rows"][0]["hp:eta"] == "0.3" and data["rows"][0]["metric:validation:auc"] == 0.86
    assert data["varying_hyperparameters"] == ["eta"]
    assert data["bars"]["validation:auc"] == [[0, 0.86], [1, 0.81]]
    assert (
        result.text.splitlines()[1]
        == "1. job-b (Completed): validation:auc=0.86, train:auc=0.91; eta=0.3"
    )


def test_compare_in_moto_with_curves(tool_ctx: ToolContext, aws: AwsContext, demo_uri) -> None:
    start = get_tool("sagemaker_start_training_job")
    for name, eta in (("cmp-1", 0.1), ("cmp-2", 0.3)):
        start.run(
            tool_ctx,
            {
                "job_name": name,
                "train_s3_uri": demo_uri,
                "role_arn": ROLE,
                "hyperparameters": {"eta": eta},
            },
        )
    sm = aws.client("sagemaker")
    started = sm.describe_training_job(TrainingJobName="cmp-1")["TrainingStartTime"]
    aws.client("cloudwatch").put_metric_data(
        Namespace="/aws/sagemaker/TrainingJobs",
        MetricData=[
            {
                "MetricName": "validation:auc",
                "Dimensions": [{"Name": "TrainingJobName", "Value": "cmp-1"}],
                "Timestamp": started,
                "Value": 0.8,
            }
        ],
    )
    result = get_tool("sagemaker_compare_training_jobs").run(
        tool_ctx, {"job_names": ["cmp-1", "cmp-2"], "sort_by": "train:progress"}
    )
    assert {r["job"] for r in result.data["rows"]} == {"cmp-1", "cmp-2"}
    assert result.data["varying_hyperparameters"] == ["eta"]
    series = result.data["series"]
    assert list(series) == ["cmp-1:validation:auc"]
    [[x, y]] = series["cmp-1:validation:auc"]
    assert y == 0.8 and x == pytest.approx(0, abs=1)
    with pytest.raises(ToolError, match="no job reports 'validation:f1'"):
        get_tool("sagemaker_compare_training_jobs").run(
            tool_ctx, {"job_names": ["cmp-1", "cmp-2"], "sort_by": "validation:f1"}
        )


def test_clarify_bias_job_writes_config_and_starts_processing(
    tool_ctx: ToolContext, aws: AwsContext, demo_uri: str
) -> None:
    result = get_tool("clarify_start_bias_job").run(
        tool_ctx,
        {
            "job_name": "bias-1",
            "data_s3_uri": demo_uri,
            "label": "churned",
            "facet": "has_partner",
            "facet_values": [1],
            "model_name": "churn-model",
            "role_arn": ROLE,
        },
    )
    base = "s3://sagecoach-demo/sagecoach/clarify/bias-1"
    config = _s3_json(aws, f"{base}/config/analysis_config.json")
    assert config["label"] == "churned"
    assert config["label_values_or_threshold"] == [1]
    assert config["facet"] == [{"name_or_index": "has_partner", "value_or_threshold": [1]}]
    assert config["headers"][0] == "customer_id" and "churned" in config["headers"]
    assert set(config["methods"]) == {"pre_training_bias", "post_training_bias", "report"}
    assert config["predictor"]["model_name"] == "churn-model"
    desc = aws.client("sagemaker").describe_processing_job(ProcessingJobName="bias-1")
    assert desc["AppSpecification"]["ImageUri"] == CLARIFY_IMAGE
    inputs = {i["InputName"]: i["S3Input"] for i in desc["ProcessingInputs"]}
    assert inputs["analysis_config"]["S3Uri"] == f"{base}/config/analysis_config.json"
    assert inputs["analysis_config"]["LocalPath"] == "/opt/ml/processing/input/config"
    assert inputs["dataset"]["S3Uri"] == demo_uri
    assert desc["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"] == f"{base}/output"
    assert result.data["results"] == f"{base}/output"
    assert result.resources[0].extra["request"]["ProcessingJobName"] == "bias-1"


def test_clarify_bias_input_checks(tool_ctx: ToolContext, aws_calls, demo_uri: str) -> None:
    aws_calls.clear()  # forget the demo upload
    spec = get_tool("clarify_start_bias_job")
    base = {"data_s3_uri": demo_uri, "label": "churned", "role_arn": ROLE}
    with pytest.raises(ToolError, match="post-training bias needs model_name or predicted_label"):
        spec.run(tool_ctx, {**base, "facet": "state"})
    with pytest.raises(ToolError, match="facet column 'gender' is not in the dataset header"):
        spec.run(tool_ctx, {**base, "facet": "gender", "stage": "pre_training"})
    assert not [c for c in aws_calls if c["op_class"] == "mutating"]
    pre = spec.run(
        tool_ctx, {**base, "facet": "state", "facet_values": ["CA"], "stage": "pre_training"}
    )
    assert set(pre.data["analysis_config"]["methods"]) == {"pre_training_bias", "report"}
    assert "predictor" not in pre.data["analysis_config"]


def test_clarify_estimates_include_the_shadow_endpoint() -> None:
    base = {"data_s3_uri": "s3://b-1/d.csv", "label": "y", "role_arn": ROLE}
    bias = get_tool("clarify_start_bias_job").estimate(
        {**base, "facet": "f", "model_name": "m"}, "us-east-1"
    )
    assert bias is not None and bias.high_usd == pytest.approx(0.23 + 0.23)
    assert "shadow endpoint" in bias.basis
    pre = get_tool("clarify_start_bias_job").estimate(
        {**base, "facet": "f", "stage": "pre_training"}, "us-east-1"
    )
    assert pre is not None and pre.high_usd == pytest.approx(0.23)


def test_clarify_explainability(tool_ctx: ToolContext, aws: AwsContext, demo_uri: str) -> None:
    spec = get_tool("clarify_start_explainability_job")
    base = {
        "data_s3_uri": demo_uri,
        "label": "churned",
        "model_name": "churn-model",
        "role_arn": ROLE,
    }
    with pytest.raises(ToolError, match="each baseline row needs 10 values"):
        spec.run(tool_ctx, {**base, "baseline": [[1, 2, 3]]})
    baseline = [["C0", "2020-01-01", "CA", 12, 50.0, 600.0, "one-year", 1, 2.5, 1]]
    result = spec.run(tool_ctx, {**base, "job_name": "shap-1", "baseline": baseline})
    config = _s3_json(
        aws, "s3://sagecoach-demo/sagecoach/clarify/shap-1/config/analysis_config.json"
    )
    assert config["methods"]["shap"]["baseline"] == baseline
    assert config["methods"]["shap"]["num_samples"] == 100
    assert config["predictor"]["model_name"] == "churn-model"
    desc = aws.client("sagemaker").describe_processing_job(ProcessingJobName="shap-1")
    assert desc["AppSpecification"]["ImageUri"] == CLARIFY_IMAGE
    assert result.data["analysis_config"] == config


def test_bias_job_definition(tool_ctx: ToolContext, aws: AwsContext) -> None:
    aws.client("s3").create_bucket(Bucket="gt-bucket")
    result = get_tool("clarify_create_bias_job_definition").run(
        tool_ctx,
        {
            "definition_name": "churn-bias",
            "endpoint_name": "churn-endpoint",
            "ground_truth_s3_uri": "s3://gt-bucket/labels/",
            "headers": ["churned", "tenure", "has_partner"],
            "label": "churned",
            "facet": "has_partner",
            "role_arn": ROLE,
        },
    )
    desc = aws.client("sagemaker").describe_model_bias_job_definition(
        JobDefinitionName="churn-bias"
    )
    app = desc["ModelBiasAppSpecification"]
    assert app["ImageUri"] == CLARIFY_IMAGE
    assert (
        app["ConfigUri"] == "s3://gt-bucket/sagecoach/bias-monitor/churn-bias/analysis_config.json"
    )
    assert desc["ModelBiasJobInput"]["EndpointInput"]["EndpointName"] == "churn-endpoint"
    assert _s3_json(aws, app["ConfigUri"])["methods"] == {"post_training_bias": {"methods": "all"}}
    assert result.resources[0].kind == "sagemaker_model_bias_job_definition"
    with pytest.raises(ToolError, match="facet 'sex' is not in headers"):
        get_tool("clarify_create_bias_job_definition").validate(
            {
                "definition_name": "x",
                "endpoint_name": "e",
                "ground_truth_s3_uri": "s3://gt-bucket/l/",
                "headers": ["a", "b"],
                "label": "a",
                "facet": "sex",
                "role_arn": ROLE,
            }
        )


def test_monitor_suggest_baseline(
    tool_ctx: ToolContext, aws: AwsContext, aws_calls: list[dict], demo_uri: str
) -> None:
    result = get_tool("monitor_suggest_baseline").run(
        tool_ctx, {"job_name": "base-1", "dataset_s3_uri": demo_uri, "role_arn": ROLE}
    )
    desc = aws.client("sagemaker").describe_processing_job(ProcessingJobName="base-1")
    assert desc["AppSpecification"]["ImageUri"] == MONITOR_IMAGE
    sent = next(c for c in aws_calls if c["operation"] == "CreateProcessingJob")
    assert sent["params"]["Environment"] == {
        "dataset_format": json.dumps({"csv": {"header": True, "output_columns_position": "START"}}),
        "dataset_source": "/opt/ml/processing/input/baseline_dataset_input",
        "output_path": "/opt/ml/processing/output",
        "publish_cloudwatch_metrics": "Disabled",
    }
    assert desc["ProcessingInputs"][0]["InputName"] == "baseline_dataset_input"
    assert sent["params"]["ProcessingResources"]["ClusterConfig"]["InstanceType"] == "ml.m5.xlarge"
    assert (
        result.data["constraints"]
        == "s3://sagecoach-demo/sagecoach/baselines/base-1/constraints.json"
    )
    est = get_tool("monitor_suggest_baseline").estimate(
        {"dataset_s3_uri": demo_uri, "role_arn": ROLE, "max_runtime_s": 1800}, "us-east-1"
    )
    assert est is not None and est.high_usd == pytest.approx(0.23 * 0.5)
    with pytest.raises(ToolError, match="not a known SageMaker processing instance type"):
        get_tool("monitor_suggest_baseline").validate(
            {"dataset_s3_uri": demo_uri, "role_arn": ROLE, "instance_type": "ml.x9.huge"}
        )
