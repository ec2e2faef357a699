"""Stage 4 tools against moto (and botocore's Stubber where moto lacks the operation)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from botocore.stub import ANY, Stubber

from sandbox.server import seed_demo
from tools.aws.context import AwsContext
from tools.core.context import ToolContext
from tools.core.errors import ToolError
from tools.core.registry import get_tool
from tools.stages.training.algorithms import (
    ALGORITHMS,
    XGBoostHyperparameters,
    hyperparameter_strings,
)
from tools.stages.training.training_request import StartTrainingArgs, build_training_job_request

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
XGB_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"


@pytest.fixture
def demo_uri(aws: AwsContext) -> str:
    return seed_demo(aws.client("s3"), rows=300)


@pytest.fixture
def stub_ctx(tmp_path) -> ToolContext:
    """A context that is not the sandbox; every call is answered by a Stubber, nothing is sent."""
    aws = AwsContext(region="us-east-1", session_id="stub-session")
    return ToolContext(aws, session_id="stub-session", state_dir=tmp_path)


def start(ctx: ToolContext, **args):
    return get_tool("sagemaker_start_training_job").run(ctx, {"role_arn": ROLE, **args})


# --- request construction -------------------------------------------------------------


def test_training_request_matches_the_api_reference() -> None:
    args = StartTrainingArgs(
        job_name="churn-xgb",
        train_s3_uri="s3://data-bucket/churn/train/",
        validation_s3_uri="s3://data-bucket/churn/validation/",
        hyperparameters={"num_round": 50, "eta": "0.2", "max_depth": 4, "lambda": 2},
        instance_type="ml.m5.xlarge",
        instance_count=2,
        max_runtime_s=7200,
        use_spot=True,
        role_arn=ROLE,
    )
    tags = [{"Key": "CreatedBy", "Value": "sagecoach"}]
    request = build_training_job_request(args, region="us-east-1", tags=tags)
    assert request == {
        "TrainingJobName": "churn-xgb",
        "AlgorithmSpecification": {
            "TrainingImage": XGB_IMAGE,
            "TrainingInputMode": "File",
            "EnableSageMakerMetricsTimeSeries": True,
        },
        "RoleArn": ROLE,
        "InputDataConfig": [
            {
                "ChannelName": name,
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": f"s3://data-bucket/churn/{name}/",
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
                "ContentType": "text/csv",
                "CompressionType": "None",
            }
            for name in ("train", "validation")
        ],
        "OutputDataConfig": {"S3OutputPath": "s3://data-bucket/sagecoach/output/"},
        "ResourceConfig": {
            "InstanceType": "ml.m5.xlarge",
            "InstanceCount": 2,
            "VolumeSizeInGB": 30,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": 7200, "MaxWaitTimeInSeconds": 14400},
        "EnableManagedSpotTraining": True,
        "CheckpointConfig": {"S3Uri": "s3://data-bucket/sagecoach/output/churn-xgb/checkpoints/"},
        "HyperParameters": {
            "objective": "binary:logistic",
            "num_round": "50",
            "eta": "0.2",
            "max_depth": "4",
            "lambda": "2.0",
        },
        "Tags": tags,
    }


def test_image_resolved_per_region_and_algorithm() -> None:
    for algorithm, hyper, image in (
        ("linear-learner", {"predictor_type": "regressor"}, "linear-learner:1"),
        ("kmeans", {"k": 3, "feature_dim": 8}, "kmeans:1"),
        ("randomcutforest", {"feature_dim": 8}, "randomcutforest:1"),
    ):
        args = StartTrainingArgs(
            algorithm=algorithm, hyperparameters=hyper, train_s3_uri="s3://b-1/x", role_arn=ROLE
        )
        request = build_training_job_request(args, region="eu-west-1", tags=[])
        uri = request["AlgorithmSpecification"]["TrainingImage"]
        assert ".dkr.ecr.eu-west-1.amazonaws.com/" in uri and uri.endswith(image)
    sk = StartTrainingArgs(
        algorithm="sklearn",
        entry_point="train.py",
        source_s3_uri="s3://b-1/code/source.tar.gz",
        metric_definitions=[{"name": "val:auc", "regex": "auc=([0-9.]+)"}],
        train_s3_uri="s3://b-1/x",
        role_arn=ROLE,
    )
    request = build_training_job_request(sk, region="us-east-1", tags=[])
    assert request["AlgorithmSpecification"]["TrainingImage"].endswith(
        "sagemaker-scikit-learn:1.2-1-cpu-py3"
    )
    assert request["AlgorithmSpecification"]["MetricDefinitions"] == [
        {"Name": "val:auc", "Regex": "auc=([0-9.]+)"}
    ]
    assert request["HyperParameters"]["sagemaker_program"] == "train.py"
    assert request["HyperParameters"]["sagemaker_submit_directory"] == "s3://b-1/code/source.tar.gz"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"algorithm": "prophet"}, "algorithm: Input should be"),
        ({"hyperparameters": {"eta": 1.5}}, "hyperparameters.eta: Input should be less than or equal to 1"),
        ({"hyperparameters": {"num_round": 0}}, "hyperparameters.num_round"),
        ({"hyperparameters": {"colour": 3}}, "colour: is not a XGBoost hyperparameter"),
        ({"hyperparameters": {"objective": "multi:softmax"}}, "needs num_class"),
        ({"instance_type": "ml.t3.medium"}, "ml.t3.medium is not a known SageMaker training instance type"),
        ({"algorithm": "randomcutforest", "instance_type": "ml.p3.2xlarge", "hyperparameters": {"feature_dim": 3}}, "CPU instances only"),
        ({"algorithm": "kmeans", "hyperparameters": {"k": 3}}, "needs hyperparameters: feature_dim"),
        ({"algorithm": "sklearn"}, "needs entry_point"),
        ({"algorithm": "custom"}, "needs image_uri"),
        ({"algorithm": "custom", "image_uri": "docker.io/me/trainer"}, "is not an ECR image URI"),
        ({"use_spot": True, "max_runtime_s": 7200, "max_wait_s": 3600}, "max_wait_s must be at least"),
        ({"version": "9.9"}, "version '9.9' is not offered"),
        ({"content_type": "image/png"}, "does not read image/png"),
        ({"hyperparameters": {"predictor_type": "regressor"}, "algorithm": "linear-learner", "instance_type": "ml.m5.large"}, None),
    ],
)  # fmt: skip
def test_bad_training_input_is_rejected_before_any_call(
    tool_ctx: ToolContext, aws_calls: list[dict], args: dict, message: str | None
) -> None:
    spec = get_tool("sagemaker_start_training_job")
    full = {"train_s3_uri": "s3://b-1/train.csv", "role_arn": ROLE, **args}
    if message is None:
        spec.validate(full)  # the control case validates
        return
    with pytest.raises(ToolError) as err:
        spec.run(tool_ctx, full)
    assert err.value.kind == "invalid_arguments"
    assert message in err.value.message
    assert aws_calls == []


def test_role_is_optional_in_the_schema_and_defaults_to_the_session_role() -> None:
    spec = get_tool("sagemaker_start_training_job")
    args = spec.validate({"train_s3_uri": "s3://b-1/train.csv"})  # no role: still valid
    assert args.role_arn is None
    schema = spec.to_bedrock_tool_spec()["toolSpec"]["inputSchema"]["json"]
    assert "role_arn" not in schema.get("required", [])
    assert "session's role" in schema["properties"]["role_arn"]["description"]


def test_typed_hyperparameters_serialise_as_strings() -> None:
    model = XGBoostHyperparameters.model_validate(
        {"num_round": 10, "objective": "multi:softprob", "num_class": 3, "subsample": 0.5}
    )
    assert hyperparameter_strings(model) == {
        "objective": "multi:softprob",
        "num_round": "10",
        "eta": "0.3",
        "max_depth": "6",
        "subsample": "0.5",
        "num_class": "3",
    }
    assert {"xgboost", "linear-learner", "kmeans", "randomcutforest", "sklearn"} <= set(ALGORITHMS)


def test_estimate_on_demand_and_spot() -> None:
    spec = get_tool("sagemaker_start_training_job")
    base = {"train_s3_uri": "s3://b-1/t.csv", "role_arn": ROLE, "instance_type": "ml.m5.xlarge"}
    on_demand = spec.estimate({**base, "instance_count": 2, "max_runtime_s": 7200}, "us-east-1")
    assert on_demand is not None and on_demand.high_usd == pytest.approx(0.23 * 2 * 2)
    assert "2 × ml.m5.xlarge × up to 2 h × $0.23/h" in on_demand.basis
    spot = spec.estimate(
        {**base, "instance_count": 2, "max_runtime_s": 7200, "use_spot": True}, "us-east-1"
    )
    assert spot is not None
    assert spot.high_usd == pytest.approx(0.23 * 2 * 2 * 0.5)
    assert spot.low_usd == pytest.approx(0.23 * 2 * 0.1 * 0.1)
    assert "managed spot" in spot.basis


# --- moto happy paths ------------------------------------------------------------------


def test_start_training_job_creates_the_job_in_moto(
    tool_ctx: ToolContext, aws: AwsContext, aws_calls: list[dict], demo_uri: str
) -> None:
    result = start(
        tool_ctx,
        job_name="churn-xgb-1",
        train_s3_uri=demo_uri,
        hyperparameters={"num_round": 20},
        experiment_name="churn-exp",
        trial_name="baseline",
        debugger_rules=["loss_not_decreasing", "overfit"],
        wait=True,
    )
    sm = aws.client("sagemaker")
    desc = sm.describe_training_job(TrainingJobName="churn-xgb-1")
    assert desc["AlgorithmSpecification"]["TrainingImage"] == XGB_IMAGE
    assert desc["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] == demo_uri
    assert desc["ResourceConfig"] == {
        "InstanceType": "ml.m5.large",
        "InstanceCount": 1,
        "VolumeSizeInGB": 30,
    }
    assert desc["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600}
    assert desc["HyperParameters"]["num_round"] == "20"
    assert desc["ExperimentConfig"]["TrialName"] == "baseline"
    rules = [r["RuleParameters"]["rule_to_invoke"] for r in desc["DebugRuleConfigurations"]]
    assert rules == ["LossNotDecreasing", "Overfit"]
    tags = sm.list_tags(ResourceArn=desc["TrainingJobArn"])["Tags"]
    assert {"Key": "CreatedBy", "Value": "sagecoach"} in tags
    assert {"Key": "sagecoach:session", "Value": "test-session"} in tags
    # The experiment and trial were created so the job could join them.
    assert sm.describe_trial(TrialName="baseline")["ExperimentName"] == "churn-exp"
    kinds = [r.kind for r in result.resources]
    assert kinds == ["sagemaker_experiment", "sagemaker_experiment_trial", "sagemaker_training_job"]
    job = result.resources[-1]
    assert job.arn == desc["TrainingJobArn"]
    assert job.extra["request"]["TrainingJobName"] == "churn-xgb-1"
    assert job.hourly_usd == pytest.approx(0.115)
    assert result.data["status"] == "Completed"
    sent = [c for c in aws_calls if c["operation"] == "CreateTrainingJob"]
    assert len(sent) == 1 and sent[0]["status"] == 200
    assert sent[0]["params"]["TrainingJobName"] == "churn-xgb-1"


def test_describe_and_list_training_jobs(tool_ctx: ToolContext, demo_uri: str) -> None:
    for name in ("churn-a", "churn-b", "other-c"):
        start(tool_ctx, job_name=name, train_s3_uri=demo_uri)
    described = get_tool("sagemaker_describe_training_job").run(tool_ctx, {"job_name": "churn-a"})
    assert described.data["status"] == "Completed"
    assert described.data["artifact"].endswith("churn-a/output/model.tar.gz")
    assert described.data["metrics"] == {"train:progress": 100.0}
    assert "Final metrics: train:progress=100" in described.text  # plain moto's placeholder
    listed = get_tool("sagemaker_list_training_jobs").run(tool_ctx, {"name_contains": "churn"})
    assert sorted(r["name"] for r in listed.data["rows"]) == ["churn-a", "churn-b"]
    capped = get_tool("sagemaker_list_training_jobs").run(tool_ctx, {"max_results": 1})
    assert len(capped.data["rows"]) == 1 and capped.data["truncated"] is True
    assert "more exist" in capped.text
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    none = get_tool("sagemaker_list_training_jobs").run(tool_ctx, {"created_after": future})
    assert none.data["rows"] == []


def test_training_metrics_series_from_cloudwatch(
    tool_ctx: ToolContext, aws: AwsContext, demo_uri: str
) -> None:
    start(tool_ctx, job_name="churn-curves", train_s3_uri=demo_uri)
    empty = get_tool("sagemaker_get_training_metrics").run(tool_ctx, {"job_name": "churn-curves"})
    assert empty.data["series"] == {}
    assert "No metric time series in CloudWatch yet" in empty.text
    started = aws.client("sagemaker").describe_training_job(TrainingJobName="churn-curves")[
        "TrainingStartTime"
    ]
    cw = aws.client("cloudwatch")
    dims = [
        {"Name": "Host", "Value": "algo-1"},
        {"Name": "TrainingJobName", "Value": "churn-curves"},
    ]
    for minute, (auc, loss) in enumerate([(0.70, 0.60), (0.78, 0.50), (0.83, 0.45)]):
        cw.put_metric_data(
            Namespace="/aws/sagemaker/TrainingJobs",
            MetricData=[
                {
                    "MetricName": name,
                    "Dimensions": dims,
                    "Timestamp": started + timedelta(minutes=minute),
                    "Value": value,
                }
                for name, value in (("validation:auc", auc), ("train:logloss", loss))
            ],
        )
    result = get_tool("sagemaker_get_training_metrics").run(tool_ctx, {"job_name": "churn-curves"})
    series = result.data["series"]
    assert [p[1] for p in series["validation:auc"]] == [0.70, 0.78, 0.83]
    assert [p[1] for p in series["train:logloss"]] == [0.60, 0.50, 0.45]
    assert [p[0] for p in series["validation:auc"]] == pytest.approx([0, 60, 120], abs=1)
    assert "validation:auc: 3 points by seconds since the start, 0.7 → 0.83" in result.text


def test_in_the_engine_sandbox_jobs_run_stop_and_plot_per_iteration(engine_sandbox) -> None:
    """Through the tools: a job that runs shows SageMaker's stages in the wait's progress, its
    curves come per iteration, and a running job can be stopped."""
    import time

    from tests.engine_helpers import SKLEARN_IMAGE, channel, clients, tar_gz, training_request

    aws = AwsContext(sandbox_endpoint=engine_sandbox.endpoint, session_id="engine-tools")
    reports: list = []
    ctx = ToolContext(aws, session_id="engine-tools", progress=reports.append)
    started = start(ctx, job_name="churn-real", train_s3_uri="s3://sagecoach-demo/churn/churn.csv",
                    hyperparameters={"num_round": 8}, wait=True)  # fmt: skip
    assert started.data["status"] == "Completed"
    steps = [r.done for r in reports if r.unit == "steps"]
    assert steps and steps[-1] == 5 and steps == sorted(steps)
    curves = get_tool("sagemaker_get_training_metrics").run(ctx, {"job_name": "churn-real"})
    assert curves.data["x_axis"] == "iteration"
    assert [p[0] for p in curves.data["series"]["train:logloss"]] == list(range(8))

    sm, s3 = clients(engine_sandbox.endpoint, "sagemaker", "s3")
    s3.put_object(Bucket="sagecoach-demo", Key="code/sleepy.tar.gz",
                  Body=tar_gz({"train.py": "import time\ntime.sleep(60)\n"}))  # fmt: skip
    request = training_request("sleepy", SKLEARN_IMAGE, {
        "sagemaker_program": '"train.py"',
        "sagemaker_submit_directory": '"s3://sagecoach-demo/code/sleepy.tar.gz"'},
        [channel("train", "s3://sagecoach-demo/churn/")], "s3://sagecoach-demo/out/")  # fmt: skip
    sm.create_training_job(**request)
    deadline = time.monotonic() + 30
    while sm.describe_training_job(TrainingJobName="sleepy")["SecondaryStatus"] != "Training":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    stopped = get_tool("sagemaker_stop_training_job").run(ctx, {"job_name": "sleepy"})
    assert stopped.data["stopped"] is True
    while sm.describe_training_job(TrainingJobName="sleepy")["TrainingJobStatus"] != "Stopped":
        assert time.monotonic() < deadline + 20
        time.sleep(0.05)


def test_stop_training_job_sends_stop_when_running(stub_ctx: ToolContext) -> None:
    sm = stub_ctx.client("sagemaker")
    with Stubber(sm) as stub:
        stub.add_response(
            "describe_training_job",
            _described("job-1", "InProgress"),
            {"TrainingJobName": "job-1"},
        )
        stub.add_response("stop_training_job", {}, {"TrainingJobName": "job-1"})
        result = get_tool("sagemaker_stop_training_job").run(stub_ctx, {"job_name": "job-1"})
        stub.assert_no_pending_responses()
    assert result.data == {"job_name": "job-1", "status": "Stopping", "stopped": True}
    with Stubber(sm) as stub:
        stub.add_response(
            "describe_training_job", _described("job-2", "Completed"), {"TrainingJobName": "job-2"}
        )
        done = get_tool("sagemaker_stop_training_job").run(stub_ctx, {"job_name": "job-2"})
        stub.assert_no_pending_responses()  # no StopTrainingJob was sent
    assert done.data["stopped"] is False and "nothing to stop" in done.text


def _described(name: str, status: str) -> dict:
    now = datetime.now(UTC)
    return {
        "TrainingJobName": name,
        "TrainingJobArn": f"arn:aws:sagemaker:us-east-1:123456789012:training-job/{name}",
        "TrainingJobStatus": status,
        "SecondaryStatus": "Training",
        "AlgorithmSpecification": {"TrainingInputMode": "File", "TrainingImage": XGB_IMAGE},
        "ModelArtifacts": {"S3ModelArtifacts": ""},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 30},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        "CreationTime": now,
    }


# --- Autopilot ---------------------------------------------------------------------------


def test_autopilot_start_leaves_the_problem_type_to_autopilot_with_a_note(
    tool_ctx: ToolContext, demo_uri: str
) -> None:
    expected = {
        "AutoMLJobName": "churn-ap",
        "AutoMLJobInputDataConfig": [
            {
                "ChannelType": "training",
                "ContentType": "text/csv;header=present",
                "CompressionType": "None",
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": demo_uri}},
            }
        ],
        "OutputDataConfig": {"S3OutputPath": ANY},
        "AutoMLProblemTypeConfig": {
            "TabularJobConfig": {
                "TargetAttributeName": "churned",
                "CompletionCriteria": {
                    "MaxCandidates": 10,
                    "MaxRuntimePerTrainingJobInSeconds": 1800,
                    "MaxAutoMLJobRuntimeInSeconds": 14400,
                },
                "Mode": "AUTO",
            }
        },
        "RoleArn": ROLE,
        "Tags": ANY,
    }
    arn = "arn:aws:sagemaker:us-east-1:123456789012:automl-job/churn-ap"
    with Stubber(tool_ctx.client("sagemaker")) as stub:  # S3 reads go to the sandbox
        stub.add_response("create_auto_ml_job_v2", {"AutoMLJobArn": arn}, expected)
        result = get_tool("autopilot_start_job").run(
            tool_ctx,
            {"data_s3_uri": demo_uri, "target_column": "churned", "role_arn": ROLE,
             "job_name": "churn-ap"},
        )  # fmt: skip
        stub.assert_no_pending_responses()
    assert "Autopilot infers the problem type from 'churned'" in result.text
    assert "it looks like BinaryClassification" in result.text
    assert result.data["problem_type"] is None
    assert result.resources[0].extra["request"]["AutoMLJobName"] == "churn-ap"


def test_autopilot_rejects_unknown_target_and_honours_given_problem_type(
    tool_ctx: ToolContext, aws: AwsContext, demo_uri: str, aws_calls: list[dict]
) -> None:
    with pytest.raises(ToolError) as err:
        get_tool("autopilot_start_job").run(
            tool_ctx, {"data_s3_uri": demo_uri, "target_column": "Churn", "role_arn": ROLE}
        )
    assert "target column 'Churn' is not in the CSV header" in err.value.message
    assert not [c for c in aws_calls if c["operation"] == "CreateAutoMLJobV2"]
    result = get_tool("autopilot_start_job").run(
        tool_ctx,
        {
            "data_s3_uri": demo_uri,
            "target_column": "monthly_charges",
            "problem_type": "Regression",
            "objective_metric": "RMSE",
            "role_arn": ROLE,
        },
    )
    assert "picked" not in result.text
    request = result.data["request"]
    assert request["AutoMLJobObjective"] == {"MetricName": "RMSE"}
    assert request["AutoMLProblemTypeConfig"]["TabularJobConfig"]["ProblemType"] == "Regression"
    assert len(request["AutoMLJobName"]) <= 32


def test_autopilot_estimate_is_a_range() -> None:
    est = get_tool("autopilot_start_job").estimate(
        {"data_s3_uri": "s3://b-1/d.csv", "target_column": "y", "max_total_runtime_s": 7200},
        "us-east-1",
    )
    assert est is not None and est.known
    assert est.low_usd == pytest.approx(0.23)
    assert est.high_usd == pytest.approx(0.922 * 4 * 2)


def test_autopilot_candidates_are_a_leaderboard(stub_ctx: ToolContext) -> None:
    sm = stub_ctx.client("sagemaker")
    with Stubber(sm) as stub:
        stub.add_response(
            "list_candidates_for_auto_ml_job",
            {
                "Candidates": [
                    {
                        "CandidateName": f"cand-{i}",
                        "CandidateStatus": "Completed",
                        "ObjectiveStatus": "Succeeded",
                        "FinalAutoMLJobObjectiveMetric": {"MetricName": "F1", "Value": v},
                        "CandidateSteps": [],
                        "CreationTime": datetime.now(UTC),
                        "LastModifiedTime": datetime.now(UTC),
                    }
                    for i, v in ((1, 0.91), (2, 0.88))
                ]
            },
            {
                "AutoMLJobName": "churn-ap",
                "SortBy": "FinalObjectiveMetricValue",
                "MaxResults": 10,
            },
        )
        result = get_tool("autopilot_list_candidates").run(stub_ctx, {"job_name": "churn-ap"})
    assert [r["candidate"] for r in result.data["rows"]] == ["cand-1", "cand-2"]
    assert "1. cand-1  Completed  F1=0.91" in result.text


# --- Experiments -------------------------------------------------------------------------


def test_experiments_create_and_list_runs(
    tool_ctx: ToolContext, aws: AwsContext, aws_calls: list[dict]
) -> None:
    created = get_tool("experiments_create_experiment").run(
        tool_ctx, {"experiment_name": "churn", "trial_name": "xgb-trials", "description": "d"}
    )
    assert [r.kind for r in created.resources] == [
        "sagemaker_experiment",
        "sagemaker_experiment_trial",
    ]
    sm = aws.client("sagemaker")
    arn = sm.describe_experiment(ExperimentName="churn")["ExperimentArn"]
    assert arn == created.data["experiment_arn"]
    sent = next(c for c in aws_calls if c["operation"] == "CreateExperiment")
    assert {"Key": "CreatedBy", "Value": "sagecoach"} in sent["params"]["Tags"]
    empty = get_tool("experiments_list_runs").run(tool_ctx, {"experiment_name": "churn"})
    assert empty.data["rows"] == [] and "no recorded runs" in empty.text
    for i, eta in enumerate(("0.1", "0.3")):
        sm.create_trial_component(
            TrialComponentName=f"run-{i}",
            Parameters={"eta": {"StringValue": eta}, "num_round": {"NumberValue": 100}},
        )
        sm.associate_trial_component(TrialComponentName=f"run-{i}", TrialName="xgb-trials")
    runs = get_tool("experiments_list_runs").run(tool_ctx, {"experiment_name": "churn"})
    assert [r["run"] for r in runs.data["rows"]] == ["run-0", "run-1"]
    assert runs.data["rows"][1]["parameters"] == {"eta": "0.3", "num_round": 100.0}
    capped = get_tool("experiments_list_runs").run(
        tool_ctx, {"experiment_name": "churn", "max_results": 1}
    )
    assert len(capped.data["rows"]) == 1 and capped.data["truncated"]


# --- JumpStart --------------------------------------------------------------------------


def test_jumpstart_offline_message_in_sandbox(tool_ctx: ToolContext) -> None:
    result = get_tool("jumpstart_list_models").run(tool_ctx, {})
    assert result.data == {
        "available": False,
        "rows": [],
        "reason": "s3://jumpstart-cache-prod-us-east-1/models_manifest.json could not be read (NoSuchBucket)",
    }
    assert "cannot be reached" in result.text and "the sandbox has no network" in result.text


MANIFEST = [
    {"model_id": "huggingface-llm-falcon-7b-bf16", "version": "1.0.0", "min_version": "2.0", "spec_key": "a", "search_keywords": ["Text Generation"]},
    {"model_id": "huggingface-llm-falcon-7b-bf16", "version": "1.10.0", "min_version": "2.0", "spec_key": "b"},
    {"model_id": "meta-textgeneration-llama-3-8b", "version": "2.1.0", "min_version": "2.0", "spec_key": "c", "search_keywords": ["Llama"]},
    {"model_id": "pytorch-ic-mobilenet-v2", "version": "3.0.0", "min_version": "2.0", "spec_key": "d"},
]  # fmt: skip


def test_jumpstart_reads_the_regions_manifest(tool_ctx: ToolContext, aws: AwsContext) -> None:
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="jumpstart-cache-prod-us-east-1")
    s3.put_object(
        Bucket="jumpstart-cache-prod-us-east-1",
        Key="models_manifest.json",
        Body=json.dumps(MANIFEST).encode(),
    )
    spec = get_tool("jumpstart_list_models")
    everything = spec.run(tool_ctx, {})
    assert [r["model_id"] for r in everything.data["rows"]] == [
        "huggingface-llm-falcon-7b-bf16",
        "meta-textgeneration-llama-3-8b",
        "pytorch-ic-mobilenet-v2",
    ]
    assert everything.data["rows"][0]["version"] == "1.10.0"  # newest version, by number
    llm = spec.run(tool_ctx, {"task": "llm"})
    assert [r["model_id"] for r in llm.data["rows"]] == ["huggingface-llm-falcon-7b-bf16"]
    llama = spec.run(tool_ctx, {"text": "llama"})
    assert [r["framework"] for r in llama.data["rows"]] == ["meta"]
    capped = spec.run(tool_ctx, {"max_results": 1})
    assert capped.data["total"] == 3 and "first 1 of 3" in capped.text


def test_jumpstart_local_manifest_override(tool_ctx: ToolContext, tmp_path, monkeypatch) -> None:
    (tmp_path / "models_manifest.json").write_text(json.dumps(MANIFEST))
    monkeypatch.setenv("AWS_JUMPSTART_MANIFEST_LOCAL_ROOT_DIR_OVERRIDE", str(tmp_path))
    result = get_tool("jumpstart_list_models").run(tool_ctx, {"framework": "pytorch"})
    assert [r["task"] for r in result.data["rows"]] == ["ic"]


# --- Batch and Studio -------------------------------------------------------------------


def _batch_setup(aws: AwsContext) -> None:
    iam = aws.client("iam")
    role = iam.create_role(
        RoleName="batch-service",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    batch = aws.client("batch")
    env = batch.create_compute_environment(
        computeEnvironmentName="train-env", type="UNMANAGED", state="ENABLED", serviceRole=role
    )["computeEnvironmentArn"]
    batch.create_job_queue(
        jobQueueName="train-queue",
        state="ENABLED",
        priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": env}],
    )
    batch.register_job_definition(
        jobDefinitionName="trainer",
        type="container",
        containerProperties={
            "image": "busybox",
            "command": ["echo", "hi"],
            "resourceRequirements": [
                {"type": "VCPU", "value": "1"},
                {"type": "MEMORY", "value": "512"},
            ],
        },
    )


def test_batch_queues_definitions_submit_and_describe(
    tool_ctx: ToolContext, aws: AwsContext
) -> None:
    none = get_tool("batch_list_job_queues").run(tool_ctx, {})
    assert none.data["rows"] == [] and "No AWS Batch job queues" in none.text
    _batch_setup(aws)
    queues = get_tool("batch_list_job_queues").run(tool_ctx, {})
    assert queues.data["rows"][0]["name"] == "train-queue"
    assert queues.data["rows"][0]["compute"] == ["train-env"]
    defs = get_tool("batch_list_job_definitions").run(tool_ctx, {})
    assert defs.data["rows"][0]["name"] == "trainer:1"
    assert defs.data["rows"][0]["vcpus"] == "1"
    with pytest.raises(ToolError) as err:
        get_tool("batch_submit_job").run(
            tool_ctx, {"job_name": "j1", "job_queue": "nope", "job_definition": "trainer"}
        )
    assert "does not exist" in err.value.message
    submitted = get_tool("batch_submit_job").run(
        tool_ctx,
        {
            "job_name": "train-1",
            "job_queue": "train-queue",
            "job_definition": "trainer",
            "command": ["python", "train.py"],
            "environment": {"EPOCHS": "3"},
        },
    )
    job_id = submitted.data["job_id"]
    assert submitted.resources[0].kind == "batch_job"
    request = submitted.data["request"]
    assert request["containerOverrides"] == {
        "command": ["python", "train.py"],
        "environment": [{"name": "EPOCHS", "value": "3"}],
    }
    assert request["tags"] == {"CreatedBy": "sagecoach", "sagecoach:session": "test-session"}
    described = get_tool("batch_describe_job").run(tool_ctx, {"job_id": job_id})
    assert described.data["name"] == "train-1"
    assert described.data["status"] in {
        "SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED"
    }  # fmt: skip
    assert aws.client("batch").describe_jobs(jobs=[job_id])["jobs"][0]["jobName"] == "train-1"


def test_batch_estimate_is_unknown_not_free() -> None:
    est = get_tool("batch_submit_job").estimate(
        {"job_name": "j", "job_queue": "q", "job_definition": "d"}, "us-east-1"
    )
    assert est is not None and not est.known and "compute environment" in est.basis


def test_list_domains(tool_ctx: ToolContext, aws: AwsContext) -> None:
    empty = get_tool("sagemaker_list_domains").run(tool_ctx, {})
    assert empty.data["rows"] == [] and "No SageMaker Studio domain" in empty.text
    aws.client("sagemaker").create_domain(
        DomainName="team",
        AuthMode="IAM",
        DefaultUserSettings={"ExecutionRole": ROLE},
        SubnetIds=["subnet-1"],
        VpcId="vpc-1",
    )
    result = get_tool("sagemaker_list_domains").run(tool_ctx, {})
    assert [r["name"] for r in result.data["rows"]] == ["team"]
