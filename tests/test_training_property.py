"""Property: for every mutating tool of stages 4-6, a denied or unapproved call sends no mutating
AWS operation, and in read-only mode the client-layer guard refuses before anything is sent."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.server import DEMO_BUCKET, DEMO_KEY, Sandbox, seed_demo
from tests.safety_helpers import check_unapproved_call_sends_nothing
from tests.safety_helpers import mutating_tools as _mutating_tools
from tools.aws.context import AwsContext
from tools.core.context import ToolContext
from tools.core.errors import ToolError
from tools.core.registry import get_tool

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
DATA = f"s3://{DEMO_BUCKET}/{DEMO_KEY}"
MODULES = ("tools.stages.training.", "tools.stages.tuning.", "tools.stages.evaluation.")

SAMPLE_ARGS: dict[str, dict] = {
    "sagemaker_start_training_job": {"train_s3_uri": DATA, "role_arn": ROLE, "job_name": "p-train"},
    "sagemaker_stop_training_job": {"job_name": "p-train"},
    "autopilot_start_job": {"data_s3_uri": DATA, "target_column": "churned", "role_arn": ROLE, "problem_type": "BinaryClassification"},
    "autopilot_create_model": {"job_name": "p-ap", "model_name": "p-ap-model", "role_arn": ROLE},
    "experiments_create_experiment": {"experiment_name": "p-exp", "trial_name": "p-trial"},
    "batch_submit_job": {"job_name": "p-batch", "job_queue": "p-queue", "job_definition": "p-def"},
    "sagemaker_start_tuning_job": {"train_s3_uri": DATA, "validation_s3_uri": DATA, "role_arn": ROLE, "ranges": [{"name": "eta", "min": 0.1, "max": 0.3}]},
    "sagemaker_stop_tuning_job": {"job_name": "p-hpo"},
    "clarify_start_bias_job": {"data_s3_uri": DATA, "label": "churned", "facet": "state", "stage": "pre_training", "role_arn": ROLE},
    "clarify_start_explainability_job": {"data_s3_uri": DATA, "label": "churned", "model_name": "m", "role_arn": ROLE},
    "clarify_create_bias_job_definition": {"definition_name": "p-def", "endpoint_name": "e", "ground_truth_s3_uri": DATA, "headers": ["churned", "state"], "label": "churned", "facet": "state", "role_arn": ROLE},
    "monitor_suggest_baseline": {"dataset_s3_uri": DATA, "role_arn": ROLE},
}  # fmt: skip


def mutating_tools() -> list[str]:
    return _mutating_tools(MODULES)


def test_every_mutating_tool_has_sample_arguments() -> None:
    assert mutating_tools() == sorted(SAMPLE_ARGS)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    name=st.sampled_from(sorted(SAMPLE_ARGS)),
    mode=st.sampled_from(["ask", "read-only", "dry-run", "auto"]),
    per_call=st.floats(min_value=0, max_value=0.001),
)
def test_unapproved_calls_send_nothing(
    moto_server: Sandbox, name: str, mode: str, per_call: float
) -> None:
    check_unapproved_call_sends_nothing(
        moto_server.endpoint, name, SAMPLE_ARGS[name], mode, per_call
    )


@pytest.fixture
def prepared(aws: AwsContext) -> None:
    """Data and a Batch queue exist, so each tool gets as far as its first mutating call."""
    seed_demo(aws.client("s3"), rows=50)
    iam = aws.client("iam")
    role = iam.create_role(RoleName="svc", AssumeRolePolicyDocument=json.dumps({}))["Role"]["Arn"]
    batch = aws.client("batch")
    env = batch.create_compute_environment(
        computeEnvironmentName="p-env", type="UNMANAGED", state="ENABLED", serviceRole=role
    )["computeEnvironmentArn"]
    batch.create_job_queue(
        jobQueueName="p-queue",
        state="ENABLED",
        priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": env}],
    )
    # An Autopilot job with a best candidate, so a model can be made from it.
    aws.client("sagemaker").create_auto_ml_job_v2(
        AutoMLJobName="p-ap",
        AutoMLJobInputDataConfig=[{"ChannelType": "training", "DataSource": {"S3DataSource": {
            "S3DataType": "S3Prefix", "S3Uri": DATA}}}],
        OutputDataConfig={"S3OutputPath": f"s3://{DEMO_BUCKET}/ap/"},
        AutoMLProblemTypeConfig={"TabularJobConfig": {"TargetAttributeName": "churned",
                                                      "ProblemType": "BinaryClassification",
                                                      "CompletionCriteria": {"MaxCandidates": 1}}},
        RoleArn=role,
    )  # fmt: skip
    # A training job that is still running, so stopping it gets as far as StopTrainingJob
    # (plain moto completes jobs at once: set its status as the engine would have it).
    aws.client("sagemaker").create_training_job(
        TrainingJobName="p-train",
        AlgorithmSpecification={"TrainingImage": "x", "TrainingInputMode": "File"},
        RoleArn=role,
        OutputDataConfig={"S3OutputPath": f"s3://{DEMO_BUCKET}/out/"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        StoppingCondition={"MaxRuntimeInSeconds": 60},
    )
    from moto.backends import get_backend

    backend = get_backend("sagemaker")["123456789012"][aws.region]
    backend.training_jobs["p-train"].training_job_status = "InProgress"
    # Likewise a tuning job still running, so stopping it gets as far as its stop call.
    aws.client("sagemaker").create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="p-hpo",
        HyperParameterTuningJobConfig={
            "Strategy": "Random",
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 2, "MaxParallelTrainingJobs": 1},
            "HyperParameterTuningJobObjective": {
                "Type": "Maximize",
                "MetricName": "validation:auc",
            },
        },
        TrainingJobDefinition={
            "AlgorithmSpecification": {"TrainingImage": "x", "TrainingInputMode": "File"},
            "RoleArn": role,
            "OutputDataConfig": {"S3OutputPath": f"s3://{DEMO_BUCKET}/out/"},
            "ResourceConfig": {
                "InstanceType": "ml.m5.large",
                "InstanceCount": 1,
                "VolumeSizeInGB": 1,
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": 60},
        },
    )
    backend.hyper_parameter_tuning_jobs["p-hpo"].hyper_parameter_tuning_job_status = "InProgress"


def _state(aws: AwsContext) -> dict:
    sm = aws.client("sagemaker")
    s3 = aws.client("s3")
    return {
        "training": sm.list_training_jobs()["TrainingJobSummaries"],
        "tuning": sm.list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"],
        "processing": sm.list_processing_jobs()["ProcessingJobSummaries"],
        "automl": sm.list_auto_ml_jobs()["AutoMLJobSummaries"],
        "experiments": sm.list_experiments()["ExperimentSummaries"],
        "bias_defs": sm.list_model_bias_job_definitions()["JobDefinitionSummaries"],
        "batch": aws.client("batch").list_jobs(jobQueue="p-queue")["jobSummaryList"],
        "objects": sorted(
            o["Key"] for o in s3.list_objects_v2(Bucket=DEMO_BUCKET).get("Contents", [])
        ),
    }


@pytest.mark.parametrize("name", sorted(SAMPLE_ARGS))
def test_read_only_guard_refuses_before_sending(
    sandbox: Sandbox, aws: AwsContext, prepared: None, name: str, tmp_path
) -> None:
    before = _state(aws)
    calls: list[dict] = []
    ro = AwsContext(sandbox_endpoint=sandbox.endpoint, read_only=True, on_aws_call=calls.append)
    ctx = ToolContext(ro, state_dir=tmp_path, sandbox=sandbox)
    with pytest.raises(ToolError) as err:
        get_tool(name).run(ctx, SAMPLE_ARGS[name])
    assert err.value.kind in ("read_only", "not_emulated")
    sent_mutations = [c for c in calls if c["op_class"] == "mutating" and not c.get("blocked")]
    assert sent_mutations == []
    if err.value.kind == "read_only":
        assert [c for c in calls if c.get("blocked")], "the guard recorded the refusal"
    assert _state(aws) == before
