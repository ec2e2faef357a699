"""Stage 5: Automatic Model Tuning tools against moto (Stubber for stop)."""

from __future__ import annotations

import pytest
from botocore.stub import Stubber

from tools.aws.context import AwsContext
from tools.core.context import ToolContext
from tools.core.errors import ToolError
from tools.core.registry import get_tool
from tools.stages.tuning.tuning_jobs import StartTuningArgs, build_tuning_job_request

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
BASE = {
    "train_s3_uri": "s3://data-bucket/churn/train/",
    "validation_s3_uri": "s3://data-bucket/churn/validation/",
    "role_arn": ROLE,
    "hyperparameters": {"num_round": 100, "max_depth": 5},
}
RANGES = [
    {"name": "eta", "type": "continuous", "min": 0.01, "max": 0.5, "scaling": "Logarithmic"},
    {"name": "max_depth", "type": "integer", "min": 3, "max": 10},
]


def test_tuning_request_shape() -> None:
    args = StartTuningArgs.model_validate(
        {**BASE, "job_name": "churn-hpo", "ranges": RANGES, "max_jobs": 8, "max_parallel_jobs": 2}
    )
    request = build_tuning_job_request(args, region="us-east-1", tags=[{"Key": "k", "Value": "v"}])
    config = request["HyperParameterTuningJobConfig"]
    assert request["HyperParameterTuningJobName"] == "churn-hpo"
    assert config == {
        "Strategy": "Bayesian",
        "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "validation:auc"},
        "ResourceLimits": {"MaxParallelTrainingJobs": 2, "MaxNumberOfTrainingJobs": 8},
        "ParameterRanges": {
            "ContinuousParameterRanges": [
                {"Name": "eta", "MinValue": "0.01", "MaxValue": "0.5", "ScalingType": "Logarithmic"}
            ],
            "IntegerParameterRanges": [
                {"Name": "max_depth", "MinValue": "3", "MaxValue": "10", "ScalingType": "Auto"}
            ],
            "CategoricalParameterRanges": [],
        },
        "TrainingJobEarlyStoppingType": "Off",
    }
    definition = request["TrainingJobDefinition"]
    # Tuned hyperparameters are not static; the rest are, as strings.
    assert definition["StaticHyperParameters"] == {
        "objective": "binary:logistic",
        "num_round": "100",
    }
    assert definition["AlgorithmSpecification"] == {
        "TrainingImage": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
        "TrainingInputMode": "File",
    }
    assert [c["ChannelName"] for c in definition["InputDataConfig"]] == ["train", "validation"]
    assert definition["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600}
    assert definition["RoleArn"] == ROLE
    assert request["Tags"] == [{"Key": "k", "Value": "v"}]


def test_objective_offered_by_name_with_direction() -> None:
    args = StartTuningArgs.model_validate(
        {**BASE, "ranges": RANGES, "objective_metric": "validation:logloss"}
    )
    assert (args.objective_metric, args.objective_type) == ("validation:logloss", "Minimize")
    ll = StartTuningArgs.model_validate(
        {
            **BASE,
            "algorithm": "linear-learner",
            "hyperparameters": {"predictor_type": "regressor"},
            "ranges": [{"name": "learning_rate", "min": 0.0001, "max": 0.1}],
        }
    )
    assert (ll.objective_metric, ll.objective_type) == ("validation:mse", "Minimize")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"max_jobs": 4, "max_parallel_jobs": 5}, "max_parallel_jobs (5) may not exceed max_jobs (4)"),
        ({"ranges": [{"name": "eta", "min": 0.1, "max": 2.0}]}, "range eta value 2.0: hyperparameters.eta: Input should be less than or equal to 1"),
        ({"ranges": [{"name": "learning_rate", "min": 0.1, "max": 0.2}]}, "range learning_rate: not a XGBoost hyperparameter"),
        ({"ranges": [{"name": "eta", "min": 0.5, "max": 0.1}]}, "min must be below max"),
        ({"ranges": [{"name": "eta", "min": 0, "max": 0.3, "scaling": "Logarithmic"}]}, "logarithmic scaling needs min > 0"),
        ({"ranges": [{"name": "eta", "type": "categorical", "min": 0.1}]}, "categorical takes values only"),
        ({"strategy": "Grid"}, "Grid search takes categorical ranges only"),
        ({"strategy": "Hyperband", "early_stopping": "Auto"}, "set early_stopping Off"),
        ({"objective_metric": "validation:accuracyy"}, "does not emit 'validation:accuracyy'"),
        ({"objective_metric": "validation:auc", "objective_type": "Minimize"}, "should be Maximized"),
        ({"validation_s3_uri": None}, "objective validation:auc needs validation_s3_uri"),
        ({"job_name": "a-tuning-job-name-longer-than-32-chars"}, "this job name allows at most 32"),
        ({"instance_type": "ml.t3.large"}, "not a known SageMaker training instance type"),
        ({"ranges": [{"name": "eta", "min": 0.1, "max": 0.2}, {"name": "eta", "min": 0.2, "max": 0.3}]}, "only one range"),
    ],
)  # fmt: skip
def test_bad_tuning_input_rejected_early(
    tool_ctx: ToolContext, aws_calls: list[dict], extra: dict, message: str
) -> None:
    with pytest.raises(ToolError) as err:
        get_tool("sagemaker_start_tuning_job").run(tool_ctx, {**BASE, "ranges": RANGES, **extra})
    assert err.value.kind == "invalid_arguments"
    assert message in err.value.message
    assert aws_calls == []


def test_custom_image_needs_objective_from_metric_definitions() -> None:
    base = {
        **BASE,
        "algorithm": "custom",
        "image_uri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/trainer:1",
        "hyperparameters": {"epochs": 3},
        "ranges": [{"name": "lr", "min": 0.001, "max": 0.1}],
    }
    with pytest.raises(ValueError, match="give objective_metric and objective_type"):
        StartTuningArgs.model_validate(base)
    with pytest.raises(ValueError, match="must be one of metric_definitions"):
        StartTuningArgs.model_validate(
            {**base, "objective_metric": "val:acc", "objective_type": "Maximize"}
        )
    ok = StartTuningArgs.model_validate(
        {
            **base,
            "objective_metric": "val:acc",
            "objective_type": "Maximize",
            "metric_definitions": [{"name": "val:acc", "regex": "acc=([0-9.]+)"}],
        }
    )
    request = build_tuning_job_request(ok, region="us-east-1", tags=[])
    spec = request["TrainingJobDefinition"]["AlgorithmSpecification"]
    assert spec["MetricDefinitions"] == [{"Name": "val:acc", "Regex": "acc=([0-9.]+)"}]


def test_grid_runs_every_combination() -> None:
    args = StartTuningArgs.model_validate(
        {
            **BASE,
            "strategy": "Grid",
            "max_jobs": 50,
            "ranges": [
                {"name": "max_depth", "type": "categorical", "values": ["3", "5", "7"]},
                {"name": "eta", "type": "categorical", "values": ["0.1", "0.3"]},
            ],
        }
    )
    assert args.total_jobs == 6
    request = build_tuning_job_request(args, region="us-east-1", tags=[])
    assert (
        "MaxNumberOfTrainingJobs" not in request["HyperParameterTuningJobConfig"]["ResourceLimits"]
    )
    est = get_tool("sagemaker_start_tuning_job").estimate(args, "us-east-1")
    assert est is not None and est.high_usd == pytest.approx(6 * 0.115)


def test_tuning_estimate_is_jobs_times_one_bound_with_parallelism_noted() -> None:
    spec = get_tool("sagemaker_start_tuning_job")
    args = {**BASE, "ranges": RANGES, "max_jobs": 20, "max_parallel_jobs": 4, "max_runtime_s": 1800}
    est = spec.estimate({**args, "instance_type": "ml.m5.xlarge"}, "us-east-1")
    assert est is not None
    assert est.high_usd == pytest.approx(20 * 0.23 * 0.5)
    assert est.basis.startswith("20 jobs × 1 × ml.m5.xlarge × up to 0.5 h")
    assert any("4 jobs run at once" in n and "~2.5 h" in n for n in est.notes)
    spot = spec.estimate({**args, "instance_type": "ml.m5.xlarge", "use_spot": True}, "us-east-1")
    assert spot is not None and spot.high_usd == pytest.approx(20 * 0.23 * 0.5 * 0.5)


def test_tuning_in_moto_start_describe_list(
    tool_ctx: ToolContext, aws: AwsContext, aws_calls: list[dict]
) -> None:
    result = get_tool("sagemaker_start_tuning_job").run(
        tool_ctx, {**BASE, "job_name": "churn-hpo", "ranges": RANGES}
    )
    sm = aws.client("sagemaker")
    desc = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="churn-hpo")
    ranges = desc["HyperParameterTuningJobConfig"]["ParameterRanges"]
    assert ranges["ContinuousParameterRanges"][0]["Name"] == "eta"
    assert desc["TrainingJobDefinition"]["StaticHyperParameters"]["num_round"] == "100"
    resource = result.resources[0]
    assert (
        resource.kind == "sagemaker_tuning_job"
        and resource.arn == desc["HyperParameterTuningJobArn"]
    )
    assert resource.extra["request"]["HyperParameterTuningJobName"] == "churn-hpo"
    sent = next(c for c in aws_calls if c["operation"] == "CreateHyperParameterTuningJob")
    assert {"Key": "CreatedBy", "Value": "sagecoach"} in sent["params"]["Tags"]
    described = get_tool("sagemaker_describe_tuning_job").run(tool_ctx, {"job_name": "churn-hpo"})
    assert described.data["status"] == "Completed"
    assert (
        described.data["best_job"] == "FakeTrainingJobName"
    )  # plain moto's; the engine runs real ones
    assert described.data["counts"]["Completed"] == 1
    assert "Best: FakeTrainingJobName" in described.text
    listed = get_tool("sagemaker_list_tuning_jobs").run(tool_ctx, {"name_contains": "churn"})
    assert [r["name"] for r in listed.data["rows"]] == ["churn-hpo"]


def test_stop_tuning_job(tool_ctx: ToolContext, tmp_path) -> None:
    ctx = ToolContext(AwsContext(region="us-east-1"), state_dir=tmp_path)
    sm = ctx.client("sagemaker")
    described = {
        "HyperParameterTuningJobName": "churn-hpo",
        "HyperParameterTuningJobArn": "arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/churn-hpo",
        "HyperParameterTuningJobConfig": {
            "Strategy": "Bayesian",
            "ResourceLimits": {"MaxParallelTrainingJobs": 1},
        },
        "HyperParameterTuningJobStatus": "InProgress",
        "CreationTime": "2026-01-01T00:00:00Z",
        "TrainingJobStatusCounters": {},
        "ObjectiveStatusCounters": {},
    }
    with Stubber(sm) as stub:
        stub.add_response(
            "describe_hyper_parameter_tuning_job",
            described,
            {"HyperParameterTuningJobName": "churn-hpo"},
        )
        stub.add_response(
            "stop_hyper_parameter_tuning_job", {}, {"HyperParameterTuningJobName": "churn-hpo"}
        )
        result = get_tool("sagemaker_stop_tuning_job").run(ctx, {"job_name": "churn-hpo"})
        stub.assert_no_pending_responses()
    assert result.data["stopped"] is True
