"""sagecoach's deployment, tuning and monitoring tools on the engine sandbox: replies quote the
model's real predictions, a real best training job and real invocation metrics."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from sandbox.server import Sandbox
from tests.engine_helpers import ROLE, clients, label_first_csv, signal_rows
from tests.serving_helpers import csv_rows, held_out, xgb_artifact
from tools.aws.context import AwsContext
from tools.core.context import ToolContext
from tools.core.registry import get_tool

pytestmark = pytest.mark.slow


@pytest.fixture
def engine_ctx(engine_sandbox: Sandbox, tmp_path: Path) -> ToolContext:
    aws = AwsContext(sandbox_endpoint=engine_sandbox.endpoint, session_id="serving-tools")
    state = tmp_path / "state"
    state.mkdir()
    return ToolContext(aws, session_id="serving-tools", state_dir=state, sandbox=engine_sandbox)


def test_tools_quote_real_predictions_metrics_and_the_best_job(engine_ctx: ToolContext,
                                                               engine_sandbox: Sandbox) -> None:  # fmt: skip
    sm, s3 = clients(engine_sandbox.endpoint, "sagemaker", "s3")
    s3.create_bucket(Bucket="tools-data")
    labels, rows = signal_rows(300, seed=3)
    s3.put_object(
        Bucket="tools-data", Key="train/a.csv", Body=label_first_csv(labels[:200], rows[:200])
    )
    s3.put_object(
        Bucket="tools-data", Key="validation/a.csv", Body=label_first_csv(labels[200:], rows[200:])
    )
    tuning = get_tool("sagemaker_start_tuning_job").run(engine_ctx, {
        "job_name": "tools-hpo", "train_s3_uri": "s3://tools-data/train/",
        "validation_s3_uri": "s3://tools-data/validation/", "role_arn": ROLE,
        "hyperparameters": {"num_round": 5, "objective": "binary:logistic"},
        "ranges": [{"name": "max_depth", "type": "integer", "min": 1, "max": 4}],
        "max_jobs": 2, "max_parallel_jobs": 2,
    })  # fmt: skip
    assert "run here for real" in tuning.text

    s3.put_object(Bucket="tools-data", Key="model/model.tar.gz", Body=xgb_artifact())
    sm.create_model(ModelName="tools-model", ExecutionRoleArn=ROLE, PrimaryContainer={
        "Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
        "ModelDataUrl": "s3://tools-data/model/model.tar.gz"})  # fmt: skip
    get_tool("sagemaker_create_endpoint").run(
        engine_ctx, {"endpoint_name": "tools-ep", "model_name": "tools-model"}
    )
    deadline = time.monotonic() + 60
    while sm.describe_endpoint(EndpointName="tools-ep")["EndpointStatus"] != "InService":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    _, features = held_out()
    invoked = get_tool("sagemaker_invoke_endpoint").run(
        engine_ctx, {"endpoint_name": "tools-ep", "payload": csv_rows(features[:3])})  # fmt: skip
    predictions = [float(p) for p in invoked.data["predictions"]]
    assert len(predictions) == 3 and all(0 <= p <= 1 for p in predictions)
    assert all(str(p) in invoked.text for p in invoked.data["predictions"])
    assert "canned" not in invoked.text

    deadline = time.monotonic() + 10
    while True:
        metrics = get_tool("cloudwatch_get_endpoint_metrics").run(
            engine_ctx, {"endpoint_name": "tools-ep", "minutes": 5}
        )
        if "Invocations" in metrics.text or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert "Invocations: 1 total" in metrics.text

    deadline = time.monotonic() + 120
    while sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="tools-hpo")[
            "HyperParameterTuningJobStatus"] == "InProgress":  # fmt: skip
        assert time.monotonic() < deadline
        time.sleep(0.2)
    described = get_tool("sagemaker_describe_tuning_job").run(engine_ctx, {"job_name": "tools-hpo"})
    children = sm.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="tools-hpo")["TrainingJobSummaries"]  # fmt: skip
    values = {
        c["TrainingJobName"]: c["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
        for c in children
    }
    assert described.data["status"] == "Completed" and len(values) == 2
    assert (
        values[described.data["best_job"]] == described.data["best_value"] == max(values.values())
    )
    assert (
        f"Best: {described.data['best_job']} with validation:auc={max(values.values())}"
        in described.text
    )
    assert "placeholder" not in described.text


def test_update_endpoint_turns_data_capture_on_and_captures_follow(
    engine_ctx: ToolContext, engine_sandbox: Sandbox
) -> None:
    """Pre-flight tells a person whose endpoint captures nothing to turn capture on with
    sagemaker_update_endpoint: that works, and the next invocations land in S3 in SageMaker's
    capture layout. A serverless endpoint is told plainly that it cannot capture."""
    sm, s3 = clients(engine_sandbox.endpoint, "sagemaker", "s3")
    s3.create_bucket(Bucket="capture-data")
    s3.put_object(Bucket="capture-data", Key="model/model.tar.gz", Body=xgb_artifact())
    sm.create_model(ModelName="cap-model", ExecutionRoleArn=ROLE, PrimaryContainer={
        "Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
        "ModelDataUrl": "s3://capture-data/model/model.tar.gz"})  # fmt: skip
    get_tool("sagemaker_create_endpoint").run(
        engine_ctx, {"endpoint_name": "cap-ep", "model_name": "cap-model"}
    )
    updated = get_tool("sagemaker_update_endpoint").run(engine_ctx, {
        "endpoint_name": "cap-ep",
        "data_capture": {"destination_s3_uri": "s3://capture-data/capture/"}})  # fmt: skip
    assert "InService" in updated.text, updated.text
    described = sm.describe_endpoint(EndpointName="cap-ep")
    assert described["DataCaptureConfig"]["EnableCapture"] is True
    _, features = held_out()
    rt = clients(engine_sandbox.endpoint, "sagemaker-runtime")[0]
    rt.invoke_endpoint(EndpointName="cap-ep", Body=csv_rows(features[:2]), ContentType="text/csv")
    deadline = time.monotonic() + 15
    keys: list[str] = []
    while not keys and time.monotonic() < deadline:
        listed = s3.list_objects_v2(Bucket="capture-data", Prefix="capture/cap-ep/AllTraffic/")
        keys = [o["Key"] for o in listed.get("Contents", [])]
        time.sleep(0.3)
    assert keys and keys[0].endswith(".jsonl")

    get_tool("sagemaker_create_endpoint").run(
        engine_ctx,
        {"endpoint_name": "cap-sls", "model_name": "cap-model", "endpoint_type": "serverless"},
    )
    from tools.core.errors import ToolError

    with pytest.raises(ToolError, match="serverless endpoints do not support data capture"):
        get_tool("sagemaker_update_endpoint").run(engine_ctx, {
            "endpoint_name": "cap-sls",
            "data_capture": {"destination_s3_uri": "s3://capture-data/capture/"}})  # fmt: skip
    assert len(sm.list_endpoint_configs(NameContains="cap-sls")["EndpointConfigs"]) == 1
    assert "DataCaptureConfig" not in sm.describe_endpoint(EndpointName="cap-sls")
