"""The issue's "Done when" flow, end to end in the sandbox through the tools' Python API."""

from __future__ import annotations

from sandbox.demo_data import churn_csv
from tools.aws.context import AwsContext
from tools.core.context import ToolContext
from tools.core.registry import get_tool

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"


def run(ctx: ToolContext, name: str, args: dict):
    return get_tool(name).run(ctx, args)


def test_train_tune_compare_autopilot_jumpstart(tool_ctx: ToolContext, aws: AwsContext) -> None:
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="churn-data")
    s3.put_object(Bucket="churn-data", Key="raw/churn.csv", Body=churn_csv(500).encode())
    data = "s3://churn-data/raw/churn.csv"

    # Train XGBoost on the uploaded CSV.
    trained = run(
        tool_ctx,
        "sagemaker_start_training_job",
        {
            "job_name": "churn-xgb",
            "train_s3_uri": data,
            "validation_s3_uri": data,
            "hyperparameters": {"num_round": 50, "max_depth": 4},
            "role_arn": ROLE,
            "wait": True,
        },
    )
    assert trained.data["status"] == "Completed"
    assert trained.resources[-1].extra["request"]["TrainingJobName"] == "churn-xgb"

    # Describe it and get its metrics.
    described = run(tool_ctx, "sagemaker_describe_training_job", {"job_name": "churn-xgb"})
    assert described.data["status"] == "Completed"
    assert described.data["artifact"] == (
        "s3://churn-data/sagecoach/output/churn-xgb/output/model.tar.gz"
    )
    metrics = run(tool_ctx, "sagemaker_get_training_metrics", {"job_name": "churn-xgb"})
    assert metrics.data["metrics"] == {"train:progress": 100.0}
    assert "No metric time series in CloudWatch yet" in metrics.text  # plain moto records none

    # Start a tuning job with two ranges and find the best job.
    tuned = run(
        tool_ctx,
        "sagemaker_start_tuning_job",
        {
            "job_name": "churn-hpo",
            "train_s3_uri": data,
            "validation_s3_uri": data,
            "role_arn": ROLE,
            "ranges": [
                {"name": "eta", "min": 0.05, "max": 0.5, "scaling": "Logarithmic"},
                {"name": "max_depth", "type": "integer", "min": 3, "max": 8},
            ],
            "max_jobs": 6,
            "max_parallel_jobs": 2,
        },
    )
    ranges = tuned.data["request"]["HyperParameterTuningJobConfig"]["ParameterRanges"]
    assert len(ranges["ContinuousParameterRanges"]) == len(ranges["IntegerParameterRanges"]) == 1
    best = run(tool_ctx, "sagemaker_describe_tuning_job", {"job_name": "churn-hpo"})
    assert (
        best.data["best_job"] == "FakeTrainingJobName"
    )  # plain moto's (test_serving_tools runs real ones)

    # Compare two jobs.
    run(
        tool_ctx,
        "sagemaker_start_training_job",
        {
            "job_name": "churn-xgb-deeper",
            "train_s3_uri": data,
            "hyperparameters": {"num_round": 80, "max_depth": 8},
            "role_arn": ROLE,
        },
    )
    compared = run(
        tool_ctx,
        "sagemaker_compare_training_jobs",
        {"job_names": ["churn-xgb", "churn-xgb-deeper"]},
    )
    assert {r["job"] for r in compared.data["rows"]} == {"churn-xgb", "churn-xgb-deeper"}
    assert set(compared.data["varying_hyperparameters"]) == {"max_depth", "num_round"}

    # Start an Autopilot job (plain moto needs the problem type; Autopilot would infer it).
    autopilot = run(
        tool_ctx,
        "autopilot_start_job",
        {"data_s3_uri": data, "target_column": "churned", "role_arn": ROLE, "job_name": "churn-ap",
         "problem_type": "BinaryClassification"},
    )  # fmt: skip
    assert autopilot.data["problem_type"] == "BinaryClassification"
    status = run(tool_ctx, "autopilot_describe_job", {"job_name": "churn-ap"})
    assert status.data["status"] == "InProgress"

    # List JumpStart models: offline here, so the clear message, never a made-up list.
    jumpstart = run(tool_ctx, "jumpstart_list_models", {"task": "llm"})
    assert jumpstart.data["available"] is False and jumpstart.data["rows"] == []
    assert "cannot be reached" in jumpstart.text

    # Everything created is tagged and visible in the sandbox.
    sm = aws.client("sagemaker")
    names = {j["TrainingJobName"] for j in sm.list_training_jobs()["TrainingJobSummaries"]}
    assert names == {"churn-xgb", "churn-xgb-deeper"}
    arn = sm.describe_training_job(TrainingJobName="churn-xgb")["TrainingJobArn"]
    assert {"Key": "CreatedBy", "Value": "sagecoach"} in sm.list_tags(ResourceArn=arn)["Tags"]
