"""Hyperparameter tuning in the sandbox engine, through plain boto3: the children are real
training jobs, the best one is the best by the objective, stop stops them, and what SageMaker
refuses is refused."""

from __future__ import annotations

import time
from typing import Any

import pytest

from sandbox.server import Sandbox
from tests.engine_helpers import ROLE, XGB_IMAGE, channel, clients, label_first_csv, signal_rows

pytestmark = pytest.mark.slow


def _data(s3: Any, bucket: str) -> None:
    s3.create_bucket(Bucket=bucket)
    labels, rows = signal_rows(300, seed=3)
    s3.put_object(Bucket=bucket, Key="train/a.csv", Body=label_first_csv(labels[:200], rows[:200]))
    s3.put_object(
        Bucket=bucket, Key="validation/a.csv", Body=label_first_csv(labels[200:], rows[200:])
    )


def _request(name: str, bucket: str, strategy: str = "Bayesian", jobs: int = 6, parallel: int = 2,
             metric: str = "validation:auc", kind: str = "Maximize", rounds: str = "8",
             ranges: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    return {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobConfig": {
            "Strategy": strategy,
            "HyperParameterTuningJobObjective": {"Type": kind, "MetricName": metric},
            "ResourceLimits": {"MaxNumberOfTrainingJobs": jobs, "MaxParallelTrainingJobs": parallel},
            "ParameterRanges": ranges or {
                "IntegerParameterRanges": [{"Name": "max_depth", "MinValue": "1", "MaxValue": "4"}],
                "ContinuousParameterRanges": [{"Name": "eta", "MinValue": "0.01", "MaxValue": "0.5",
                                               "ScalingType": "Logarithmic"}],
            },
            "RandomSeed": 7,
        },
        "TrainingJobDefinition": {
            "AlgorithmSpecification": {"TrainingImage": XGB_IMAGE, "TrainingInputMode": "File"},
            "RoleArn": ROLE,
            "StaticHyperParameters": {"num_round": rounds, "objective": "binary:logistic"},
            "InputDataConfig": [channel("train", f"s3://{bucket}/train/"),
                                channel("validation", f"s3://{bucket}/validation/")],
            "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/out/"},
            "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
            "StoppingCondition": {"MaxRuntimeInSeconds": 300},
        },
    }  # fmt: skip


def _wait(sm: Any, name: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        desc = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
        if (
            desc["HyperParameterTuningJobStatus"] in ("Completed", "Failed", "Stopped")
            or time.monotonic() > deadline
        ):
            return dict(desc)
        time.sleep(0.1)


def test_bayesian_tuning_runs_six_real_training_jobs_two_at_a_time(engine_sandbox: Sandbox) -> None:
    sm, s3 = clients(engine_sandbox.endpoint, "sagemaker", "s3")
    _data(s3, "tune-data")
    sm.create_hyper_parameter_tuning_job(**_request("churn-tune", "tune-data"))
    first = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="churn-tune")
    assert first["HyperParameterTuningJobStatus"] == "InProgress"
    most_running = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        desc = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="churn-tune")
        most_running = max(most_running, desc["TrainingJobStatusCounters"]["InProgress"])
        if desc["HyperParameterTuningJobStatus"] != "InProgress":
            break
        time.sleep(0.05)
    assert desc["HyperParameterTuningJobStatus"] == "Completed", desc.get("FailureReason")
    assert desc["TrainingJobStatusCounters"]["Completed"] == 6
    assert desc["ObjectiveStatusCounters"] == {"Succeeded": 6, "Pending": 0, "Failed": 0}
    assert 1 <= most_running <= 2

    children = sm.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="churn-tune", MaxResults=100)["TrainingJobSummaries"]  # fmt: skip
    assert len(children) == 6
    values = {
        c["TrainingJobName"]: c["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
        for c in children
    }
    best = desc["BestTrainingJob"]
    assert best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == max(values.values())
    assert values[best["TrainingJobName"]] == max(values.values()) > 0.8
    assert (
        best["TrainingJobName"].startswith("churn-tune-")
        and len(best["TrainingJobName"].split("-")) == 4
    )
    tuned = [c["TunedHyperParameters"] for c in children]
    assert all(1 <= int(t["max_depth"]) <= 4 and 0.01 <= float(t["eta"]) <= 0.5 for t in tuned)
    assert len({(t["max_depth"], t["eta"]) for t in tuned}) == 6

    # Each child is an ordinary training job, with its tuned values and its objective.
    job = sm.describe_training_job(TrainingJobName=best["TrainingJobName"])
    assert job["TuningJobArn"] == desc["HyperParameterTuningJobArn"]
    assert job["HyperParameters"]["eta"] == best["TunedHyperParameters"]["eta"]
    assert job["HyperParameters"]["_tuning_objective_metric"] == "validation:auc"
    final = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}
    assert final["validation:auc"] == values[best["TrainingJobName"]]
    listed = {
        j["TrainingJobName"] for j in sm.list_training_jobs(MaxResults=100)["TrainingJobSummaries"]
    }
    assert set(values) <= listed


def test_stop_tuning_job_stops_its_training_jobs(engine_sandbox: Sandbox) -> None:
    sm, s3 = clients(engine_sandbox.endpoint, "sagemaker", "s3")
    _data(s3, "tune-stop")
    sm.create_hyper_parameter_tuning_job(**_request("stop-tune", "tune-stop", strategy="Random",
                                                    jobs=4, parallel=2, rounds="3000"))  # fmt: skip
    deadline = time.monotonic() + 30
    while (
        time.monotonic() < deadline
        and not sm.list_training_jobs(StatusEquals="InProgress")["TrainingJobSummaries"]
    ):
        time.sleep(0.05)
    sm.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName="stop-tune")
    desc = _wait(sm, "stop-tune")
    assert desc["HyperParameterTuningJobStatus"] == "Stopped"
    counters = desc["TrainingJobStatusCounters"]
    assert counters["InProgress"] == 0 and counters["Completed"] + counters["Stopped"] <= 2
    statuses = [sm.describe_training_job(TrainingJobName=c["TrainingJobName"])["TrainingJobStatus"]
                for c in sm.list_training_jobs_for_hyper_parameter_tuning_job(
                    HyperParameterTuningJobName="stop-tune")["TrainingJobSummaries"]]  # fmt: skip
    assert statuses and set(statuses) <= {"Stopped", "Completed"}


def test_what_sagemaker_refuses_is_refused(engine_sandbox: Sandbox) -> None:
    sm, s3 = clients(engine_sandbox.endpoint, "sagemaker", "s3")
    _data(s3, "tune-bad")
    with pytest.raises(sm.exceptions.ClientError, match="not a metric the xgboost algorithm emits"):
        sm.create_hyper_parameter_tuning_job(
            **_request("bad-metric", "tune-bad", metric="validation:accuracy_score")
        )
    with pytest.raises(
        sm.exceptions.ClientError, match="isn't valid for the \\[xgboost\\] algorithm"
    ):
        sm.create_hyper_parameter_tuning_job(**_request("bad-type", "tune-bad", kind="Minimize"))
    with pytest.raises(
        sm.exceptions.ClientError, match="Grid strategy tunes categorical parameters only"
    ):
        sm.create_hyper_parameter_tuning_job(**_request("bad-grid", "tune-bad", strategy="Grid"))
    custom = _request("bad-custom", "tune-bad")
    custom["TrainingJobDefinition"]["AlgorithmSpecification"]["TrainingImage"] = (
        "1.dkr.ecr.us-east-1.amazonaws.com/mine:1"
    )
    with pytest.raises(
        sm.exceptions.ClientError,
        match="A metric is required for this hyperparameter tuning job objective",
    ):
        sm.create_hyper_parameter_tuning_job(**custom)
    assert sm.list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"] == []
