"""Pipelines: a definition assembled from the session's own requests, created and started in moto."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from sandbox.server import seed_demo
from tools.core.context import ToolContext
from tools.core.errors import ToolError
from tools.ledger.store import ResourceLedger
from tools.stages.deployment.models import sagemaker_create_model
from tools.stages.features.processing import sagemaker_start_processing_job
from tools.stages.orchestration.definition import (
    StepDraft,
    assemble_definition,
    validate_definition,
)
from tools.stages.orchestration.executions import (
    pipelines_describe_execution,
    pipelines_list_executions,
)
from tools.stages.orchestration.pipelines import (
    estimate_pipeline,
    pipelines_build_definition,
    pipelines_create_pipeline,
    pipelines_start_execution,
)
from tools.stages.training.jobs import sagemaker_start_training_job

ROLE = "arn:aws:iam::123456789012:role/sagemaker-exec"
PROC_OUT = "s3://sagecoach-demo/processed/train/"


def resolve(node: Any, params: dict[str, str], steps: dict[str, str]) -> Any:
    """Evaluate Get/Join with parameter defaults and the values the session actually had."""
    if isinstance(node, dict):
        if set(node) == {"Get"}:
            ref = node["Get"]
            return params[ref.split(".", 1)[1]] if ref.startswith("Parameters.") else steps[ref]
        if set(node) == {"Std:Join"}:
            spec = node["Std:Join"]
            return spec["On"].join(str(resolve(v, params, steps)) for v in spec["Values"])
        return {k: resolve(v, params, steps) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(v, params, steps) for v in node]
    return node


def run_session(ctx: ToolContext, tmp_path: Path) -> dict[str, dict[str, Any]]:
    """processing → training → create-model through the stage tools; returns the requests sent."""
    seed_demo(ctx.client("s3"), rows=200)
    script = tmp_path / "prep.py"
    script.write_text("print('split the churn data')\n")
    proc = sagemaker_start_processing_job.spec.run(
        ctx,
        {
            "job_name": "churn-prep",
            "script": str(script),
            "role_arn": ROLE,
            "inputs": {"raw": "s3://sagecoach-demo/churn/"},
            "outputs": {"train": PROC_OUT},
            "max_runtime_s": 1800,
        },
    )
    train = sagemaker_start_training_job.spec.run(
        ctx,
        {
            "job_name": "churn-train",
            "algorithm": "xgboost",
            "train_s3_uri": PROC_OUT,
            "output_s3_uri": "s3://sagecoach-demo/models/",
            "role_arn": ROLE,
            "max_runtime_s": 3600,
        },
    )
    model = sagemaker_create_model.spec.run(
        ctx, {"model_name": "churn-model", "training_job_name": "churn-train"}
    )
    return {
        "processing": proc.resources[0].extra["request"],
        "training": next(r for r in train.resources if r.kind == "sagemaker_training_job").extra[
            "request"
        ],
        "model": model.resources[0].extra["request"],
    }


@pytest.fixture
def ctx(tool_ctx: ToolContext) -> ToolContext:
    assert tool_ctx.state_dir is not None
    tool_ctx.ledger = ResourceLedger.in_state_dir(tool_ctx.state_dir)
    return tool_ctx


def test_definition_from_the_session(
    ctx: ToolContext, tmp_path: Path, aws_calls: list[dict]
) -> None:
    sent = run_session(ctx, tmp_path)
    # The ledger holds exactly what went over the wire.
    wire = {c["operation"]: c["params"] for c in aws_calls}
    assert wire["CreateProcessingJob"] == sent["processing"]
    assert wire["CreateTrainingJob"] == sent["training"]
    assert wire["CreateModel"] == sent["model"]

    result = pipelines_build_definition.spec.run(ctx, {"pipeline_name": "churn-pipeline"})
    definition = result.data["definition"]
    assert definition["Version"] == "2020-12-01"
    steps = {s["Name"]: s for s in definition["Steps"]}
    assert [(s["Name"], s["Type"]) for s in definition["Steps"]] == [
        ("Preprocess", "Processing"),
        ("Train", "Training"),
        ("CreateModel", "Model"),
    ]
    # Dependencies are data references, not guesses.
    train_uri = steps["Train"]["Arguments"]["InputDataConfig"][0]["DataSource"]["S3DataSource"][
        "S3Uri"
    ]
    assert train_uri == {
        "Get": "Steps.Preprocess.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"
    }
    assert steps["CreateModel"]["Arguments"]["PrimaryContainer"]["ModelDataUrl"] == {
        "Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"
    }
    assert [n["depends_on"] for n in result.data["steps"]] == [[], ["Preprocess"], ["Train"]]
    assert all("DependsOn" not in s for s in definition["Steps"])
    # Parameters for what a person varies.
    params = {p["Name"]: p["DefaultValue"] for p in definition["Parameters"]}
    assert params == {
        "InputDataUri": "s3://sagecoach-demo/churn/",
        "ProcessingInstanceType": "ml.m5.xlarge",
        "TrainingInstanceType": "ml.m5.large",
    }
    assert all(p["Type"] == "String" for p in definition["Parameters"])
    raw = next(
        i for i in steps["Preprocess"]["Arguments"]["ProcessingInputs"] if i["InputName"] == "raw"
    )
    assert raw["S3Input"]["S3Uri"] == {"Get": "Parameters.InputDataUri"}
    assert steps["Train"]["Arguments"]["ResourceConfig"]["InstanceType"] == {
        "Get": "Parameters.TrainingInstanceType"
    }
    # Arguments are the requests the tools sent, minus the names a pipeline generates.
    actual = {
        "Steps.Preprocess.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri": PROC_OUT,
        "Steps.Train.ModelArtifacts.S3ModelArtifacts": "s3://sagecoach-demo/models/churn-train/output/model.tar.gz",
    }
    expected = {
        "Preprocess": {k: v for k, v in sent["processing"].items() if k != "ProcessingJobName"},
        "Train": {
            k: v
            for k, v in sent["training"].items()
            if k not in ("TrainingJobName", "ExperimentConfig")
        },
        "CreateModel": {k: v for k, v in sent["model"].items() if k != "ModelName"},
    }
    for name, request in expected.items():
        assert resolve(steps[name]["Arguments"], params, actual) == request, name
    # Saved for review, valid, and shown to the person.
    saved = json.loads(Path(result.data["path"]).read_text())
    assert saved == definition and validate_definition(definition) == []
    assert (
        "Preprocess (Processing" in result.text
        and "InputDataUri=s3://sagecoach-demo/churn/" in result.text
    )


def test_create_update_and_start(ctx: ToolContext, tmp_path: Path, aws_calls: list[dict]) -> None:
    run_session(ctx, tmp_path)
    built = pipelines_build_definition.spec.run(ctx, {"pipeline_name": "churn-pipeline"})
    created = pipelines_create_pipeline.spec.run(
        ctx, {"pipeline_name": "churn-pipeline", "role_arn": ROLE}
    )
    sm = ctx.client("sagemaker")
    desc = sm.describe_pipeline(PipelineName="churn-pipeline")
    assert json.loads(desc["PipelineDefinition"]) == built.data["definition"]
    assert desc["RoleArn"] == ROLE and created.data["action"] == "created"
    tags = sm.list_tags(ResourceArn=desc["PipelineArn"])["Tags"]
    assert {"Key": "CreatedBy", "Value": "sagecoach"} in tags
    again = pipelines_create_pipeline.spec.run(
        ctx, {"pipeline_name": "churn-pipeline", "role_arn": ROLE}
    )
    assert again.data["action"] == "updated" and "Updated" in again.text

    spec = pipelines_start_execution.spec
    args = {
        "pipeline_name": "churn-pipeline",
        "parameters": {"TrainingInstanceType": "ml.m5.xlarge"},
    }
    estimate = spec.estimate(args, "us-east-1")
    assert estimate is not None and estimate.known
    # 0.5 h × ml.m5.xlarge processing ($0.23) + 1 h × ml.m5.xlarge training ($0.23, overridden)
    assert estimate.high_usd == pytest.approx(0.115 + 0.23)
    assert "Preprocess" in estimate.basis and "Train" in estimate.basis

    aws_calls.clear()
    started = spec.run(ctx, args)
    call = next(c for c in aws_calls if c["operation"] == "StartPipelineExecution")
    assert call["params"]["PipelineParameters"] == [
        {"Name": "TrainingInstanceType", "Value": "ml.m5.xlarge"}
    ]
    assert started.data["status"] == "Succeeded"  # plain moto: at once, without running steps
    assert started.resources[0].kind == "sagemaker_pipeline_execution"
    with pytest.raises(ToolError, match="unknown pipeline parameter"):
        spec.run(ctx, {"pipeline_name": "churn-pipeline", "parameters": {"Nope": "x"}})

    listed = pipelines_list_executions.spec.run(ctx, {"pipeline_name": "churn-pipeline"})
    assert [r["arn"] for r in listed.data["rows"]] == [started.data["execution_arn"]]


def test_create_without_a_definition_says_what_to_do(ctx: ToolContext) -> None:
    with pytest.raises(ToolError, match="build one first with pipelines_build_definition"):
        pipelines_create_pipeline.spec.run(ctx, {"pipeline_name": "never-built", "role_arn": ROLE})


def test_failed_or_missing_jobs_are_skipped(ctx: ToolContext, tmp_path: Path) -> None:
    from tools.core.results import Resource

    run_session(ctx, tmp_path)
    ctx.ledger.record(  # type: ignore[union-attr]
        Resource(
            "sagemaker_training_job",
            "ghost-job",
            extra={"request": {"TrainingJobName": "ghost-job"}},
        ),
        session_id=ctx.session_id,
    )
    result = pipelines_build_definition.spec.run(ctx, {"pipeline_name": "p1"})
    assert [s["Name"] for s in result.data["definition"]["Steps"]] == [
        "Preprocess",
        "Train",
        "CreateModel",
    ]
    assert result.data["skipped"] == ["ghost-job (gone)"]


def test_explicit_steps_with_the_stage_builders(ctx: ToolContext) -> None:
    steps = [
        {
            "type": "training",
            "args": {
                "job_name": "t1",
                "algorithm": "xgboost",
                "train_s3_uri": "s3://sagecoach-demo/churn/",
                "role_arn": ROLE,
                "output_s3_uri": "s3://sagecoach-demo/models/",
            },
        },
        {"type": "model", "args": {"model_name": "m1", "training_job_name": "t1"}},
        {
            "type": "transform",
            "args": {
                "job_name": "b1",
                "model_name": "m1",
                "input_s3_uri": "s3://sagecoach-demo/churn/test/",
                "output_s3_uri": "s3://sagecoach-demo/predictions/",
            },
        },
        {
            "type": "register_model",
            "args": {"model_package_group_name": "churn", "training_job_name": "t1"},
        },
    ]
    result = pipelines_build_definition.spec.run(
        ctx, {"pipeline_name": "explicit", "source": "steps", "steps": steps}
    )
    definition = result.data["definition"]
    by_name = {s["Name"]: s for s in definition["Steps"]}
    assert list(by_name) == ["Train", "CreateModel", "BatchTransform", "RegisterModel"]
    assert by_name["BatchTransform"]["Arguments"]["ModelName"] == {
        "Get": "Steps.CreateModel.ModelName"
    }
    assert by_name["BatchTransform"]["Arguments"]["TransformResources"]["InstanceType"] == {
        "Get": "Parameters.TransformInstanceType"
    }
    container = by_name["RegisterModel"]["Arguments"]["InferenceSpecification"]["Containers"][0]
    assert container["ModelDataUrl"] == {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}
    assert by_name["RegisterModel"]["Arguments"]["ModelApprovalStatus"] == "PendingManualApproval"
    params = {p["Name"]: p["DefaultValue"] for p in definition["Parameters"]}
    assert params["InputDataUri"] == "s3://sagecoach-demo/churn/"
    assert params["TransformInputUri"] == "s3://sagecoach-demo/churn/test/"
    assert "TrainingJobName" not in by_name["Train"]["Arguments"]
    assert validate_definition(definition) == []

    with pytest.raises(ToolError, match="not a training step earlier"):
        pipelines_build_definition.spec.run(
            ctx,
            {
                "pipeline_name": "bad",
                "source": "steps",
                "steps": [
                    {"type": "model", "args": {"model_name": "m", "training_job_name": "nope"}}
                ],
            },
        )
    with pytest.raises(ToolError, match="training step"):
        pipelines_build_definition.spec.run(
            ctx,
            {
                "pipeline_name": "bad",
                "source": "steps",
                "steps": [{"type": "training", "args": {"algorithm": "xgboost"}}],
            },
        )


def test_tuning_best_model_and_ordering_without_data_links() -> None:
    tuning = {
        "HyperParameterTuningJobName": "hpo1",
        "HyperParameterTuningJobConfig": {
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 4, "MaxParallelTrainingJobs": 2}
        },
        "TrainingJobDefinition": {
            "OutputDataConfig": {"S3OutputPath": "s3://bkt/hpo/"},
            "ResourceConfig": {
                "InstanceType": "ml.m5.large",
                "InstanceCount": 1,
                "VolumeSizeInGB": 10,
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": 1800},
            "InputDataConfig": [],
        },
    }
    model = {
        "ModelName": "best",
        "PrimaryContainer": {
            "Image": "img",
            "ModelDataUrl": "s3://bkt/hpo/hpo1-003-abc/output/model.tar.gz",
        },
        "ExecutionRoleArn": ROLE,
    }
    unrelated = {
        "ModelName": "other",
        "PrimaryContainer": {"Image": "img", "ModelDataUrl": "s3://bkt/x.tar.gz"},
        "ExecutionRoleArn": ROLE,
    }
    definition, notes = assemble_definition(
        [
            StepDraft("sagemaker_tuning_job", tuning),
            StepDraft("sagemaker_model", model),
            StepDraft("sagemaker_model", unrelated),
        ]
    )
    url = definition["Steps"][1]["Arguments"]["PrimaryContainer"]["ModelDataUrl"]
    assert url == {
        "Std:Join": {
            "On": "/",
            "Values": [
                "s3://bkt/hpo",
                {"Get": "Steps.Tune.BestTrainingJob.TrainingJobName"},
                "output/model.tar.gz",
            ],
        }
    }
    # No data link: the session's order is kept with DependsOn.
    assert definition["Steps"][2]["Name"] == "CreateModel-2" and definition["Steps"][2][
        "DependsOn"
    ] == ["CreateModel"]
    assert notes[1]["references"] == ["Tune"]
    assert validate_definition(definition) == []
    # 4 jobs × 0.5 h × $0.115 = $0.23
    assert estimate_pipeline(definition, {}, "us-east-1").high_usd == pytest.approx(0.23)


def test_validate_definition_catches_bad_references() -> None:
    bad = {
        "Version": "2020-12-01",
        "Parameters": [],
        "Steps": [
            {"Name": "A", "Type": "Training", "Arguments": {"X": {"Get": "Parameters.Missing"}}},
            {
                "Name": "B",
                "Type": "Model",
                "DependsOn": ["C"],
                "Arguments": {"Y": {"Get": "Steps.C.ModelName"}},
            },
            {"Name": "B", "Type": "Bogus", "Arguments": {}},
        ],
    }
    problems = validate_definition(copy.deepcopy(bad))
    assert "step A uses unknown parameter Missing" in problems
    assert "step B depends on C, which is not before it" in problems
    assert "step B reads step C, which is not before it" in problems
    assert "step names must be unique" in problems
    assert "step B: unsupported type 'Bogus'" in problems
    assert validate_definition({"Version": "2020-12-01", "Steps": []}) == [
        "the definition has no steps"
    ]


PREPARE = """
import os
import pandas as pd

frame = pd.read_csv("/opt/ml/processing/input/raw/churn.csv")
frame = frame[["churned", "tenure_months", "support_calls", "monthly_charges"]].dropna()
os.makedirs("/opt/ml/processing/output/train", exist_ok=True)
frame.to_csv("/opt/ml/processing/output/train/train.csv", header=False, index=False)
print(f"wrote {len(frame)} rows")
"""


@pytest.mark.slow
def test_the_pipeline_built_from_a_session_runs_step_by_step(
    engine_sandbox: Any, tmp_path: Path
) -> None:
    """In the engine sandbox: the session's processing, training and model steps become a
    pipeline whose execution runs each of them again, in order, with real jobs."""
    from tools.aws.context import AwsContext
    from tools.stages.features.wait import sagemaker_wait_for_job

    aws = AwsContext(sandbox_endpoint=engine_sandbox.endpoint, session_id="pipeline-session")
    state = tmp_path / "engine-state"
    state.mkdir()
    ctx = ToolContext(aws, session_id="pipeline-session", state_dir=state, sandbox=engine_sandbox,
                      poll_interval=0.2)  # fmt: skip
    ctx.ledger = ResourceLedger.in_state_dir(state)
    script = tmp_path / "prepare.py"
    script.write_text(PREPARE)
    sagemaker_start_processing_job.spec.run(ctx, {
        "job_name": "churn-prep", "script": str(script), "role_arn": ROLE,
        "inputs": {"raw": "s3://sagecoach-demo/churn/"}, "outputs": {"train": PROC_OUT},
        "max_runtime_s": 600})  # fmt: skip
    wait = sagemaker_wait_for_job.spec
    assert wait.run(ctx, {"kind": "processing", "name": "churn-prep"}).data["status"] == "Completed"
    sagemaker_start_training_job.spec.run(ctx, {
        "job_name": "churn-train", "algorithm": "xgboost", "train_s3_uri": PROC_OUT,
        "output_s3_uri": "s3://sagecoach-demo/models/", "role_arn": ROLE,
        "hyperparameters": {"num_round": 5}, "max_runtime_s": 600})  # fmt: skip
    assert wait.run(ctx, {"kind": "training", "name": "churn-train"}).data["status"] == "Completed"
    sagemaker_create_model.spec.run(
        ctx, {"model_name": "churn-model", "training_job_name": "churn-train"}
    )

    pipelines_build_definition.spec.run(ctx, {"pipeline_name": "churn-pipeline"})
    pipelines_create_pipeline.spec.run(ctx, {"pipeline_name": "churn-pipeline", "role_arn": ROLE})
    started = pipelines_start_execution.spec.run(ctx, {"pipeline_name": "churn-pipeline"})
    assert started.data["status"] == "Executing"
    done = wait.run(ctx, {"kind": "pipeline_execution", "name": started.data["execution_arn"]})
    assert done.data["status"] == "Succeeded", done.text
    described = pipelines_describe_execution.spec.run(ctx, {"pipeline_name": "churn-pipeline"})
    rows = described.data["rows"]
    assert [(r["step"], r["type"], r["status"]) for r in rows] == [
        ("Preprocess", "Processing", "Succeeded"),
        ("Train", "Training", "Succeeded"),
        ("CreateModel", "Model", "Succeeded"),
    ]
    assert rows[1]["after"] == "Preprocess" and rows[2]["after"] == "Train"
    assert "Train (Training, after Preprocess): Succeeded" in described.text
    sm = aws.client("sagemaker")
    job = sm.describe_training_job(TrainingJobName=rows[1]["job"])
    assert job["TrainingJobStatus"] == "Completed" and job["TrainingJobName"] != "churn-train"
    model = sm.describe_model(ModelName=rows[2]["job"])
    assert model["PrimaryContainer"]["ModelDataUrl"] == job["ModelArtifacts"]["S3ModelArtifacts"]
