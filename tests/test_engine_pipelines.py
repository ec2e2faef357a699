"""Pipelines in the sandbox: executions run their steps in dependency order through the engine,
resolving parameters and property references; a failing step fails the execution with its
reason; definitions SageMaker would refuse are refused at CreatePipeline."""

from __future__ import annotations

import json
import time

import botocore.exceptions
import pytest

from sandbox.server import Sandbox
from tests.engine_helpers import ROLE, SKLEARN_IMAGE, XGB_IMAGE, clients

pytestmark = pytest.mark.slow

BUCKET = "sagecoach-demo"
PREPARE = """
import json, os
import numpy as np
rng = np.random.default_rng(0)
x = rng.normal(size=(160, 3))
y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(int)
os.makedirs("/opt/ml/processing/train", exist_ok=True)
np.savetxt("/opt/ml/processing/train/train.csv", np.column_stack([y, x]), delimiter=",", fmt="%.5f")
os.makedirs("/opt/ml/processing/evaluation", exist_ok=True)
with open("/opt/ml/processing/evaluation/evaluation.json", "w") as handle:
    json.dump({"metrics": {"auc": {"value": 0.91}}}, handle)
print("prepared", len(y), "rows")
"""


def _processing_step() -> dict:
    return {
        "Name": "Prepare", "Type": "Processing",
        "Arguments": {
            "ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.m5.large",
                                                      "InstanceCount": 1, "VolumeSizeInGB": 5}},
            "AppSpecification": {"ImageUri": SKLEARN_IMAGE, "ContainerEntrypoint": [
                "python3", "/opt/ml/processing/input/code/prepare.py"]},
            "RoleArn": ROLE,
            "ProcessingInputs": [{"InputName": "code", "S3Input": {
                "S3Uri": f"s3://{BUCKET}/pipeline/code/prepare.py",
                "LocalPath": "/opt/ml/processing/input/code", "S3DataType": "S3Prefix",
                "S3InputMode": "File"}}],
            "ProcessingOutputConfig": {"Outputs": [
                {"OutputName": "train", "S3Output": {
                    "S3Uri": {"Std:Join": {"On": "/", "Values": [
                        {"Get": "Parameters.OutputBase"}, {"Get": "Execution.PipelineExecutionId"},
                        "train"]}},
                    "LocalPath": "/opt/ml/processing/train", "S3UploadMode": "EndOfJob"}},
                {"OutputName": "evaluation", "S3Output": {
                    "S3Uri": f"s3://{BUCKET}/pipeline/evaluation",
                    "LocalPath": "/opt/ml/processing/evaluation", "S3UploadMode": "EndOfJob"}}]},
            "StoppingCondition": {"MaxRuntimeInSeconds": 300},
        },
        "PropertyFiles": [{"PropertyFileName": "Evaluation", "OutputName": "evaluation",
                           "FilePath": "evaluation.json"}],
    }  # fmt: skip


def _training_step(name: str = "Train", objective: object = "binary:logistic") -> dict:
    return {
        "Name": name, "Type": "Training",
        "Arguments": {
            "AlgorithmSpecification": {"TrainingImage": XGB_IMAGE, "TrainingInputMode": "File"},
            "RoleArn": ROLE,
            "HyperParameters": {"num_round": "5", "objective": objective, "eval_metric": "auc"},
            "InputDataConfig": [{"ChannelName": "train", "ContentType": "text/csv",
                                 "DataSource": {"S3DataSource": {
                                     "S3DataType": "S3Prefix", "S3DataDistributionType": "FullyReplicated",
                                     "S3Uri": {"Get": "Steps.Prepare.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"}}}}],
            "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/pipeline/models"},
            "ResourceConfig": {"InstanceType": {"Get": "Parameters.TrainingInstanceType"},
                               "InstanceCount": 1, "VolumeSizeInGB": 5},
            "StoppingCondition": {"MaxRuntimeInSeconds": 300},
        },
    }  # fmt: skip


def _definition() -> dict:
    return {
        "Version": "2020-12-01",
        "Parameters": [
            {"Name": "OutputBase", "Type": "String", "DefaultValue": f"s3://{BUCKET}/pipeline/runs"},
            {"Name": "TrainingInstanceType", "Type": "String", "DefaultValue": "ml.m5.large"},
            {"Name": "MinAuc", "Type": "Float", "DefaultValue": 0.8},
        ],
        "Steps": [
            _processing_step(),
            _training_step(),
            {"Name": "CheckAuc", "Type": "Condition", "DependsOn": ["Train"], "Arguments": {
                "Conditions": [{"Type": "GreaterThanOrEqualTo",
                                "LeftValue": {"Std:JsonGet": {
                                    "PropertyFile": {"Get": "Steps.Prepare.PropertyFiles.Evaluation"},
                                    "Path": "metrics.auc.value"}},
                                "RightValue": {"Get": "Parameters.MinAuc"}}],
                "IfSteps": [{"Name": "CreateModel", "Type": "Model", "Arguments": {
                    "ExecutionRoleArn": ROLE,
                    "PrimaryContainer": {"Image": XGB_IMAGE, "ModelDataUrl": {
                        "Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}}}},
                    {"Name": "Score", "Type": "Transform", "Arguments": {
                        "ModelName": {"Get": "Steps.CreateModel.ModelName"},
                        "TransformInput": {"ContentType": "text/csv", "SplitType": "Line",
                                           "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix",
                                               "S3Uri": {"Get": "Steps.Prepare.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"}}}},
                        "TransformOutput": {"S3OutputPath": f"s3://{BUCKET}/pipeline/scores", "AssembleWith": "Line"},
                        "DataProcessing": {"InputFilter": "$[1:]"},
                        "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1}}}],
                "ElseSteps": [{"Name": "TooWeak", "Type": "Fail", "Arguments": {
                    "ErrorMessage": {"Std:Join": {"On": " ", "Values": [
                        "AUC below", {"Get": "Parameters.MinAuc"}]}}}}],
            }},
        ],
    }  # fmt: skip


def _wait(sm, arn: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        desc = sm.describe_pipeline_execution(PipelineExecutionArn=arn)
        if (
            desc["PipelineExecutionStatus"] not in ("Executing", "Stopping")
            or time.monotonic() > deadline
        ):
            return desc
        time.sleep(0.2)


def _steps(sm, arn: str) -> dict[str, dict]:
    steps = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn, SortOrder="Ascending")
    return {s["StepName"]: s for s in steps["PipelineExecutionSteps"]}


def test_an_execution_runs_its_steps_in_order_and_a_failing_step_fails_it(
    engine_sandbox: Sandbox,
) -> None:
    sm, s3 = clients(engine_sandbox.endpoint, "sagemaker", "s3")
    s3.put_object(Bucket=BUCKET, Key="pipeline/code/prepare.py", Body=PREPARE.encode())
    sm.create_pipeline(
        PipelineName="churn", RoleArn=ROLE, PipelineDefinition=json.dumps(_definition())
    )
    broken = {
        **_definition(),
        "Steps": [_processing_step(), _training_step("Bad", "binary:nonsense")],
    }
    sm.create_pipeline(PipelineName="broken", RoleArn=ROLE, PipelineDefinition=json.dumps(broken))
    good = sm.start_pipeline_execution(PipelineName="churn")["PipelineExecutionArn"]
    strict = sm.start_pipeline_execution(
        PipelineName="churn", PipelineParameters=[{"Name": "MinAuc", "Value": "0.95"}]
    )["PipelineExecutionArn"]
    failing = sm.start_pipeline_execution(PipelineName="broken")["PipelineExecutionArn"]
    assert (
        sm.describe_pipeline_execution(PipelineExecutionArn=good)["PipelineExecutionStatus"]
        == "Executing"
    )

    desc = _wait(sm, good)
    assert desc["PipelineExecutionStatus"] == "Succeeded", desc.get("FailureReason")
    steps = _steps(sm, good)
    assert set(steps) == {
        "Prepare",
        "Train",
        "CheckAuc",
        "CreateModel",
        "Score",
    }  # TooWeak never ran
    assert all(s["StepStatus"] == "Succeeded" for s in steps.values())
    assert steps["Prepare"]["EndTime"] <= steps["Train"]["StartTime"]
    assert steps["Train"]["EndTime"] <= steps["CheckAuc"]["StartTime"]
    assert steps["CheckAuc"]["Metadata"] == {"Condition": {"Outcome": "True"}}
    job_arn = steps["Train"]["Metadata"]["TrainingJob"]["Arn"]
    job = sm.describe_training_job(TrainingJobName=job_arn.rsplit("/", 1)[-1])
    execution_id = good.rsplit("/", 1)[-1]
    source = job["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"]
    assert source == f"s3://{BUCKET}/pipeline/runs/{execution_id}/train"  # Get + Std:Join resolved
    model = sm.describe_model(
        ModelName=steps["CreateModel"]["Metadata"]["Model"]["Arn"].rsplit("/", 1)[-1]
    )
    assert model["PrimaryContainer"]["ModelDataUrl"] == job["ModelArtifacts"]["S3ModelArtifacts"]

    desc = _wait(sm, strict)
    assert desc["PipelineExecutionStatus"] == "Failed"
    assert desc["FailureReason"] == "AUC below 0.95"
    steps = _steps(sm, strict)
    assert steps["CheckAuc"]["Metadata"] == {"Condition": {"Outcome": "False"}}
    assert steps["TooWeak"]["StepStatus"] == "Failed" and "CreateModel" not in steps

    desc = _wait(sm, failing)
    assert desc["PipelineExecutionStatus"] == "Failed"
    assert desc["FailureReason"] == "Step failure: One or multiple steps failed."
    bad = _steps(sm, failing)["Bad"]
    assert bad["StepStatus"] == "Failed"
    assert "objective" in bad["FailureReason"] and "binary:nonsense" in bad["FailureReason"]


REFUSED = [
        ([{"Name": "A", "Type": "Training", "DependsOn": ["B"], "Arguments": {}},
          {"Name": "B", "Type": "Training", "DependsOn": ["A"], "Arguments": {}}],
         "the steps depend on each other in a cycle: "),
        ([{"Name": "A", "Type": "Training", "Arguments": {
            "X": {"Get": "Steps.Missing.ModelArtifacts.S3ModelArtifacts"}}}],
         "step 'A' reads 'Steps.Missing.ModelArtifacts.S3ModelArtifacts', but there is no step named 'Missing'"),
        ([{"Name": "A", "Type": "Training", "Arguments": {"X": {"Get": "Parameters.Nope"}}}],
         "step 'A' uses parameter 'Nope', which is not declared in Parameters"),
        ([{"Name": "A", "Type": "Shell", "Arguments": {}}], "step 'A' has an unknown type 'Shell'"),
]  # fmt: skip


def test_definitions_sagemaker_would_refuse_are_refused(engine_sandbox: Sandbox) -> None:
    (sm,) = clients(engine_sandbox.endpoint, "sagemaker")
    sm.create_pipeline(
        PipelineName="kept", RoleArn=ROLE, PipelineDefinition=json.dumps(_definition())
    )
    for steps, expected in REFUSED:
        definition = json.dumps({"Version": "2020-12-01", "Steps": steps})
        with pytest.raises(botocore.exceptions.ClientError) as caught:
            sm.create_pipeline(PipelineName="refused", RoleArn=ROLE, PipelineDefinition=definition)
        assert caught.value.response["Error"]["Code"] == "ValidationException"
        assert expected in caught.value.response["Error"]["Message"]
        with pytest.raises(botocore.exceptions.ClientError) as caught:
            sm.update_pipeline(PipelineName="kept", PipelineDefinition=definition)
        assert expected in caught.value.response["Error"]["Message"]
    with pytest.raises(botocore.exceptions.ClientError):
        sm.describe_pipeline(PipelineName="refused")
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        sm.start_pipeline_execution(
            PipelineName="kept", PipelineParameters=[{"Name": "Typo", "Value": "1"}]
        )
    assert (
        "Typo are not declared in the pipeline definition"
        in caught.value.response["Error"]["Message"]
    )
