"""Autopilot in the sandbox: an AutoML v2 tabular job infers the problem type, trains real
candidates on a split of the data, ranks them by the objective and names the best, whose
inference container answers raw rows."""

from __future__ import annotations

import time

import pytest

from sandbox.server import Sandbox
from tests.engine_helpers import ROLE, clients
from tests.serving_helpers import deploy, realtime_variant

pytestmark = pytest.mark.slow
BUCKET = "sagecoach-demo"


def signal_csv(rows: int = 300) -> str:
    """Churn follows tenure and plan; an id column and a noise column carry nothing."""
    import numpy as np

    rng = np.random.default_rng(7)
    lines = ["customer_id,tenure,plan,monthly_charges,noise,churned"]
    for i in range(rows):
        tenure = int(rng.integers(1, 72))
        plan = ["basic", "pro", "max"][int(rng.integers(0, 3))]
        charges = round(float(rng.normal(60, 15)), 2)
        score = -0.08 * tenure + (1.5 if plan == "basic" else 0.0) + 2.0 + rng.normal(0, 0.5)
        lines.append(
            f"C{i:05d},{tenure},{plan},{charges},{rng.normal():.3f},{'yes' if score > 0 else 'no'}"
        )
    return "\n".join(lines) + "\n"


def _start(sm, name: str, target: str, **config) -> None:
    sm.create_auto_ml_job_v2(
        AutoMLJobName=name,
        AutoMLJobInputDataConfig=[{"ChannelType": "training", "ContentType": "text/csv;header=present",
                                   "CompressionType": "None", "DataSource": {"S3DataSource": {
                                       "S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/automl/data/"}}}],
        OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/automl/output"},
        AutoMLProblemTypeConfig={"TabularJobConfig": {
            "TargetAttributeName": target, "CompletionCriteria": {"MaxCandidates": 3}, **config}},
        RoleArn=ROLE,
    )  # fmt: skip


def _wait(sm, name: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        desc = sm.describe_auto_ml_job_v2(AutoMLJobName=name)
        if (
            desc["AutoMLJobStatus"] in ("Completed", "Failed", "Stopped")
            or time.monotonic() > deadline
        ):
            return desc
        time.sleep(0.25)


def test_autopilot_ranks_real_candidates_and_names_the_best(engine_sandbox: Sandbox) -> None:
    sm, s3 = clients(engine_sandbox.endpoint, "sagemaker", "s3")
    s3.put_object(Bucket=BUCKET, Key="automl/data/churn.csv", Body=signal_csv().encode())
    _start(sm, "churn-automl", "churned")
    _start(sm, "wrong-target", "churn")  # a column that is not in the header
    desc = sm.describe_auto_ml_job_v2(AutoMLJobName="churn-automl")
    assert desc["AutoMLJobStatus"] == "InProgress"
    failed = _wait(sm, "wrong-target")
    assert failed["AutoMLJobStatus"] == "Failed"
    assert "Target attribute name 'churn' is not in the dataset's header" in failed["FailureReason"]
    assert "churned" in failed["FailureReason"]

    desc = _wait(sm, "churn-automl")
    assert desc["AutoMLJobStatus"] == "Completed", desc.get("FailureReason")
    assert desc["AutoMLJobSecondaryStatus"] == "MaxCandidatesReached"
    resolved = desc["ResolvedAttributes"]
    assert resolved["AutoMLProblemTypeResolvedAttributes"]["TabularResolvedAttributes"] == {
        "ProblemType": "BinaryClassification"
    }
    assert resolved["AutoMLJobObjective"] == {"MetricName": "F1"}
    ranked = sm.list_candidates_for_auto_ml_job(
        AutoMLJobName="churn-automl", SortBy="FinalObjectiveMetricValue", SortOrder="Descending"
    )["Candidates"]
    assert len(ranked) == 3 and all(c["CandidateStatus"] == "Completed" for c in ranked)
    values = [c["FinalAutoMLJobObjectiveMetric"]["Value"] for c in ranked]
    assert values == sorted(values, reverse=True)
    best = desc["BestCandidate"]
    assert best["CandidateName"] == ranked[0]["CandidateName"]
    assert best["FinalAutoMLJobObjectiveMetric"]["MetricName"] == "F1"
    assert values[0] > 0.75  # the signal is learnable
    kinds = {step["CandidateStepType"] for step in best["CandidateSteps"]}
    assert kinds == {"AWS::SageMaker::ProcessingJob", "AWS::SageMaker::TrainingJob"}
    images = {sm.describe_training_job(TrainingJobName=c["CandidateName"])["AlgorithmSpecification"]["TrainingImage"]
              for c in ranked}  # fmt: skip
    assert any("xgboost" in i for i in images) and any("linear-learner" in i for i in images)
    container = best["InferenceContainers"][0]
    assert container["Environment"]["SAGEMAKER_PROGRAM"] == "inference.py"

    # the best candidate deploys and answers raw rows (the original columns, no target)
    sm.create_model(
        ModelName="churn-best", ExecutionRoleArn=ROLE, Containers=best["InferenceContainers"]
    )
    deploy(sm, "churn-automl-ep", [realtime_variant("churn-best")])
    (runtime,) = clients(engine_sandbox.endpoint, "sagemaker-runtime")
    answer = runtime.invoke_endpoint(
        EndpointName="churn-automl-ep", ContentType="text/csv", Accept="text/csv",
        Body=b"C99999,2,basic,70.0,0.1\nC99998,70,max,55.0,-0.3\n",
    )["Body"].read().decode()  # fmt: skip
    first, second = answer.strip().splitlines()
    assert first.split(",")[0] == "yes" and second.split(",")[0] == "no"
    assert 0.5 < float(first.split(",")[1]) <= 1.0  # predicted_label,probability
