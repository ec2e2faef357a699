"""Issue 15's defects 2-9, each compared with what the containers and the SageMaker SDK require."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from tests.botocore_shapes import problems, service_model
from tests.test_request_shapes import DATA, ROLE, TAGS, _autopilot, _schedules, _training, _tuning
from tools.core.context import ToolContext


def _channels(request: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["ChannelName"]: c for c in request["InputDataConfig"]}


# --- 2. invoke and transform -----------------------------------------------------------------
def test_2_json_to_an_xgboost_endpoint_is_stopped_before_it_is_sent(tool_ctx: ToolContext) -> None:
    from tools.core.registry import get_tool
    from tools.preflight import run_preflight

    sm = tool_ctx.client("sagemaker")
    image = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    sm.create_model(ModelName="xgb", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": image})
    variant = {
        "VariantName": "v",
        "ModelName": "xgb",
        "InstanceType": "ml.m5.large",
        "InitialInstanceCount": 1,
    }
    sm.create_endpoint_config(EndpointConfigName="xgb", ProductionVariants=[variant])
    sm.create_endpoint(EndpointName="xgb", EndpointConfigName="xgb")
    spec = get_tool("sagemaker_invoke_endpoint")
    args = spec.validate(
        {"endpoint_name": "xgb", "payload": '{"x": [1, 2]}', "content_type": "application/json"}
    )
    report = run_preflight(spec.name, args, tool_ctx.aws)
    assert report is not None and [c.name for c in report.failures] == ["payload.content_type"]
    assert "text/csv" in report.failures[0].fix


def test_2_invoke_and_transform_use_the_manifest(tool_ctx: ToolContext) -> None:
    """Raw rows are encoded the way the model was trained; prepared test rows lose their label
    through the transform's InputFilter; raw files are encoded into a staging prefix."""
    from sandbox.demo_data import churn_csv
    from tools.aws.roles import ensure_sandbox_role
    from tools.core.registry import get_tool

    s3, sm = tool_ctx.client("s3"), tool_ctx.client("sagemaker")
    s3.create_bucket(Bucket="my-churn-data")
    s3.put_object(Bucket="my-churn-data", Key="raw/churn.csv", Body=churn_csv(120).encode())
    prep = get_tool("prepare_training_data")
    prep.run(
        tool_ctx, {"source_s3_uri": "s3://my-churn-data/raw/churn.csv", "target_column": "churned"}
    )
    role = ensure_sandbox_role(tool_ctx.aws)
    job = get_tool("sagemaker_start_training_job").run(
        tool_ctx, {"train_s3_uri": f"{DATA}train/", "role_arn": role, "job_name": "churn-t"}
    )
    get_tool("sagemaker_create_model").run(
        tool_ctx, {"model_name": "churn", "training_job_name": job.data["job_name"]}
    )
    transform = get_tool("sagemaker_start_transform_job")
    common = {"model_name": "churn", "output_s3_uri": "s3://my-churn-data/predictions/"}
    prepared = transform.run(
        tool_ctx, {"job_name": "t-prepared", "input_s3_uri": f"{DATA}test/", **common}
    )
    assert prepared.data["request"]["DataProcessing"]["InputFilter"] == "$[1:]"
    raw = transform.run(
        tool_ctx,
        {"job_name": "t-raw", "input_s3_uri": "s3://my-churn-data/raw/churn.csv", **common},
    )
    staged = raw.data["request"]["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"]
    assert staged == "s3://my-churn-data/predictions/t-raw-input/"
    sm.create_endpoint_config(
        EndpointConfigName="churn",
        ProductionVariants=[{"VariantName": "v", "ModelName": "churn", "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}],
    )  # fmt: skip
    sm.create_endpoint(EndpointName="churn", EndpointConfigName="churn")
    rows = "\n".join(churn_csv(3).splitlines()[1:])
    answer = get_tool("sagemaker_invoke_endpoint").run(
        tool_ctx, {"endpoint_name": "churn", "payload": rows}
    )
    assert answer.data["encoded"].startswith("encoded 3 raw row(s)")


# --- 3. spot checkpoints ---------------------------------------------------------------------
def test_3_each_spot_job_checkpoints_under_its_own_prefix() -> None:
    a = _training(use_spot=True, job_name="churn-a")["CheckpointConfig"]["S3Uri"]
    b = _training(use_spot=True, job_name="churn-b")["CheckpointConfig"]["S3Uri"]
    assert a != b and a.rstrip("/").endswith("churn-a/checkpoints")
    # A tuning job's trials would share one static prefix: none is sent.
    assert "CheckpointConfig" not in _tuning(use_spot=True)["TrainingJobDefinition"]


# --- 4. pipeline processing steps --------------------------------------------------------------
def test_4_explicit_processing_steps_upload_their_code(
    tool_ctx: ToolContext, tmp_path: Any
) -> None:
    from tools.core.registry import get_tool

    tool_ctx.client("s3").create_bucket(Bucket="my-churn-data")
    script = tmp_path / "fe.py"
    script.write_text("print('features')\n")
    step = {
        "type": "processing",
        "args": {
            "script": str(script),
            "role_arn": ROLE,
            "outputs": {"features": "s3://my-churn-data/features/"},
            "max_runtime_s": 600,
        },
    }
    built = get_tool("pipelines_build_definition").run(
        tool_ctx, {"pipeline_name": "churn", "source": "steps", "steps": [step]}
    )
    code = next(
        i["S3Input"]["S3Uri"]
        for s in built.data["definition"]["Steps"]
        for i in s["Arguments"]["ProcessingInputs"]
        if i["InputName"] == "code"
    )
    # Building is a free read; creating the pipeline (a write) uploads the step's script.
    get_tool("pipelines_create_pipeline").run(
        tool_ctx, {"pipeline_name": "churn", "role_arn": ROLE}
    )
    bucket, key = code[5:].split("/", 1)
    assert (
        tool_ctx.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
        == script.read_bytes()
    )


# --- 5. Random Cut Forest and K-Means channels -----------------------------------------------
def test_5_rcf_train_channel_is_sharded_and_unsupervised_csv_says_its_label_size() -> None:
    rcf = _channels(
        _training(
            algorithm="randomcutforest",
            hyperparameters={"feature_dim": 23},
            test_s3_uri=f"{DATA}test/",
        )
    )
    assert rcf["train"]["DataSource"]["S3DataSource"]["S3DataDistributionType"] == "ShardedByS3Key"
    assert rcf["train"]["ContentType"] == "text/csv;label_size=0"
    assert rcf["test"]["ContentType"] == "text/csv;label_size=1"
    assert rcf["test"]["DataSource"]["S3DataSource"]["S3DataDistributionType"] == "FullyReplicated"
    kmeans = _training(
        algorithm="kmeans",
        content_type="text/csv;label_size=0",
        hyperparameters={"k": 3, "feature_dim": 23},
    )
    assert _channels(kmeans)["train"]["ContentType"] == "text/csv;label_size=0"


# --- 6. scikit-learn models -------------------------------------------------------------------
def test_6_a_script_mode_model_knows_its_program_and_code(tool_ctx: ToolContext) -> None:
    from tools.stages.deployment.models import CreateModelArgs, resolve_create_model_request
    from tools.stages.training.training_request import StartTrainingArgs, build_training_job_request

    args = StartTrainingArgs.model_validate(
        {
            "algorithm": "sklearn",
            "entry_point": "train.py",
            "source_s3_uri": "s3://my-churn-data/code/source.tar.gz",
            "train_s3_uri": f"{DATA}train/",
            "role_arn": ROLE,
            "job_name": "churn-sklearn",
        }
    )
    tool_ctx.client("sagemaker").create_training_job(
        **build_training_job_request(args, region=tool_ctx.region, tags=TAGS)
    )
    request = resolve_create_model_request(
        tool_ctx, CreateModelArgs(model_name="churn-sk", training_job_name="churn-sklearn")
    )
    env = request["PrimaryContainer"]["Environment"]
    assert env["SAGEMAKER_PROGRAM"] == "train.py"
    assert env["SAGEMAKER_SUBMIT_DIRECTORY"] == "s3://my-churn-data/code/source.tar.gz"
    assert env["SAGEMAKER_REGION"] == tool_ctx.region


# --- 7. Autopilot ------------------------------------------------------------------------------
def test_7_an_objective_needs_a_problem_type_and_only_tabular_objectives_are_offered() -> None:
    from tools.stages.training.autopilot import AutopilotMetric, StartAutopilotArgs

    with pytest.raises(ValidationError, match="problem_type"):
        StartAutopilotArgs.model_validate(
            {
                "data_s3_uri": "s3://my-churn-data/d.csv",
                "target_column": "y",
                "objective_metric": "F1",
            }
        )
    offered = set(AutopilotMetric.__args__)  # type: ignore[attr-defined]
    enum = set(service_model("sagemaker").shape_for("AutoMLMetricEnum").enum)
    assert offered <= enum, offered - enum  # LogLoss is reported, never an objective
    request = _autopilot(problem_type="BinaryClassification", objective_metric="AUC")
    assert problems("sagemaker", "CreateAutoMLJobV2", request) == []


# --- 8. monitoring, Glue ------------------------------------------------------------------------
def test_8_model_quality_sends_the_probability_and_its_threshold() -> None:
    found = dict(
        _schedules(
            monitor_type="model_quality",
            problem_type="BinaryClassification",
            ground_truth_s3_uri="s3://my-churn-data/labels/",
            inference_attribute="0",
            probability_threshold=0.5,
        )
    )
    endpoint_input = found["CreateModelQualityJobDefinition"]["ModelQualityJobInput"][
        "EndpointInput"
    ]
    assert endpoint_input["ProbabilityAttribute"] == "0"
    assert endpoint_input["ProbabilityThresholdAttribute"] == 0.5


def test_8_glue_spark_jobs_refuse_streaming_workers_and_runs_keep_the_jobs_workers() -> None:
    from tools.stages.collection.glue_jobs import CreateJobArgs, StartJobRunArgs

    with pytest.raises(ValidationError, match=r"G\.025X"):
        CreateJobArgs.model_validate(
            {"name": "etl", "script": "s3://my-churn-data/etl.py", "worker_type": "G.025X"}
        )
    run = StartJobRunArgs.model_validate({"job_name": "etl"})
    assert run.worker_type is None and run.number_of_workers is None


# --- 9. the suggested role ------------------------------------------------------------------------
def test_9_the_suggested_role_can_read_the_buckets_in_use() -> None:
    from tools.aws.roles import role_help

    text = role_help("SageMaker training jobs", buckets=["my-churn-data"])
    assert "arn:aws:s3:::my-churn-data/*" in text and "put-role-policy" in text
