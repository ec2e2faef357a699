"""Every tool's request builder, checked offline against botocore's service model: enums,
patterns, lengths and ranges, for representative arguments of each builder."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.botocore_shapes import problems

ROLE = "arn:aws:iam::123456789012:role/SagecoachExecutionRole"
TAGS = [{"Key": "CreatedBy", "Value": "sagecoach"}, {"Key": "sagecoach:session", "Value": "s-1"}]
REGION = "us-east-1"
DATA = "s3://my-churn-data/sagecoach/prepared/churn/"


def _training(**extra: Any) -> dict[str, Any]:
    from tools.stages.training.training_request import StartTrainingArgs, build_training_job_request

    base = {
        "train_s3_uri": f"{DATA}train/",
        "validation_s3_uri": f"{DATA}validation/",
        "role_arn": ROLE,
    }
    args = StartTrainingArgs.model_validate({**base, **extra})
    return build_training_job_request(args, region=REGION, tags=TAGS)


def _tuning(**extra: Any) -> dict[str, Any]:
    from tools.stages.tuning.tuning_jobs import StartTuningArgs, build_tuning_job_request

    args = StartTuningArgs.model_validate(
        {
            "train_s3_uri": f"{DATA}train/",
            "validation_s3_uri": f"{DATA}validation/",
            "role_arn": ROLE,
            "ranges": [
                {"name": "eta", "min": 0.05, "max": 0.5},
                {"name": "max_depth", "min": 3, "max": 9, "type": "integer"},
            ],
            **extra,
        }
    )
    return build_tuning_job_request(args, region=REGION, tags=TAGS)


def _processing(tmp: Any) -> dict[str, Any]:
    from tools.stages.features.processing import ProcessingJobArgs, build_processing_job_request

    script = tmp / "fe.py"
    script.write_text("print('hi')\n")
    args = ProcessingJobArgs.model_validate(
        {
            "job_name": "churn-features",
            "script": str(script),
            "role_arn": ROLE,
            "inputs": {"raw": "s3://my-churn-data/raw/"},
            "outputs": {"features": "s3://my-churn-data/features/"},
            "max_runtime_s": 900,
            "arguments": ["--n", "3"],
        }
    )
    return build_processing_job_request(
        args, region=REGION, tags=TAGS, code_uri="s3://my-churn-data/code/fe.py"
    )


def _model() -> dict[str, Any]:
    from tools.stages.deployment.models import build_create_model_request

    return build_create_model_request(
        model_name="churn-model",
        role_arn=ROLE,
        tags=TAGS,
        image_uri="683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
        model_data_url="s3://my-churn-data/out/job/output/model.tar.gz",
    )


def _endpoint_config(**extra: Any) -> dict[str, Any]:
    from tools.stages.deployment.endpoint_config import (
        CreateEndpointArgs,
        build_endpoint_config_request,
    )

    args = CreateEndpointArgs.model_validate(
        {"endpoint_name": "churn-ep", "model_name": "churn-model", **extra}
    )
    return build_endpoint_config_request(args, config_name="churn-ep-cfg-1", tags=TAGS)


def _transform(**extra: Any) -> dict[str, Any]:
    from tools.stages.deployment.transform import TransformJobArgs, build_transform_job_request

    args = TransformJobArgs.model_validate(
        {
            "job_name": "churn-batch",
            "model_name": "churn-model",
            "input_s3_uri": f"{DATA}test/",
            "output_s3_uri": "s3://my-churn-data/predictions/",
            **extra,
        }
    )
    return build_transform_job_request(args, region=REGION, tags=TAGS)


def _autopilot(**extra: Any) -> dict[str, Any]:
    from tools.stages.training.autopilot import StartAutopilotArgs, build_autopilot_request

    args = StartAutopilotArgs.model_validate(
        {
            "data_s3_uri": "s3://my-churn-data/raw/churn.csv",
            "target_column": "churned",
            "role_arn": ROLE,
            **extra,
        }
    )
    return build_autopilot_request(args, args.problem_type, tags=TAGS)


def _schedules(**extra: Any) -> list[tuple[str, dict[str, Any]]]:
    from tools.stages.monitoring.model_monitor import MonitorScheduleArgs, build_schedule_requests

    args = MonitorScheduleArgs.model_validate(
        {
            "schedule_name": "churn-monitor",
            "endpoint_name": "churn-ep",
            "output_s3_uri": "s3://my-churn-data/monitoring/",
            "role_arn": ROLE,
            **extra,
        }
    )
    definition, schedule = build_schedule_requests(args, region=REGION, tags=TAGS)
    out = [("CreateMonitoringSchedule", schedule)]
    if definition is not None:
        out.append(("CreateModelQualityJobDefinition", definition))
    return out


def _alarm() -> dict[str, Any]:
    from tools.stages.monitoring.cloudwatch_alarms import PutAlarmArgs, build_alarm_request

    args = PutAlarmArgs.model_validate(
        {"alarm_name": "churn-latency", "endpoint_name": "churn-ep", "threshold": 500}
    )
    return build_alarm_request(args, tags=TAGS)


def _drift_alarm() -> dict[str, Any]:
    from tools.stages.monitoring.cloudwatch_alarms import DriftAlarmArgs, build_drift_alarm_request

    args = DriftAlarmArgs.model_validate(
        {
            "alarm_name": "churn-drift-tenure",
            "endpoint_name": "churn-ep",
            "schedule_name": "churn-monitor",
            "feature": "tenure",
            "threshold": 0.1,
            "sns_topic_arn": "arn:aws:sns:us-east-1:123456789012:ml-alerts",
        }
    )
    return build_drift_alarm_request(args, tags=TAGS)


def _autopilot_model(*, several: bool = False) -> dict[str, Any]:
    """The best candidate as DescribeAutoMLJobV2 returns it (one container, or the
    feature-transform + algorithm pair of a classic Autopilot candidate)."""
    from tools.stages.training.autopilot_models import (
        AutopilotModelArgs,
        build_autopilot_model_request,
    )

    image = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    algorithm = {
        "Image": image,
        "ModelDataUrl": "s3://my-churn-data/automl/churn/models/c1/model.tar.gz",
        "Environment": {
            "SAGEMAKER_INFERENCE_OUTPUT": "predicted_label",
            "SAGEMAKER_INFERENCE_SUPPORTED": "predicted_label,probability,probabilities,labels",
        },
    }
    transform = {
        "Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-sklearn-automl:2.5-1-cpu-py3",
        "ModelDataUrl": "s3://my-churn-data/automl/churn/data-processor-models/dpp0/model.tar.gz",
        "Environment": {"AUTOML_TRANSFORM_MODE": "feature-transform"},
    }
    candidate = {
        "CandidateName": "churn-c1",
        "InferenceContainers": [transform, algorithm] if several else [algorithm],
    }
    args = AutopilotModelArgs.model_validate(
        {
            "job_name": "churn-automl",
            "model_name": "churn-automl-best",
            "inference_response": ["predicted_label", "probability"],
        }
    )
    return build_autopilot_model_request(candidate, args, ROLE, TAGS)


def _register() -> dict[str, Any]:
    from tools.stages.orchestration.drafts import RegisterModelArgs, build_register_model_request

    args = RegisterModelArgs.model_validate(
        {"model_package_group_name": "churn-models", "training_job_name": "churn-xgb-1"}
    )
    return build_register_model_request(
        group="churn-models",
        image="683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
        model_data_url="s3://my-churn-data/out/job/output/model.tar.gz",
        args=args,
    )


CASES: dict[str, Callable[[Any], list[tuple[str, str, dict[str, Any]]]]] = {
    "training xgboost": lambda t: [("sagemaker", "CreateTrainingJob", _training(hyperparameters={"num_round": 50, "eval_metric": "auc,logloss"}))],
    "training xgboost spot": lambda t: [("sagemaker", "CreateTrainingJob", _training(use_spot=True, max_wait_s=7200, job_name="churn-spot-1"))],
    "training linear learner": lambda t: [("sagemaker", "CreateTrainingJob", _training(algorithm="linear-learner", hyperparameters={"predictor_type": "binary_classifier"}))],
    "training kmeans": lambda t: [("sagemaker", "CreateTrainingJob", _training(algorithm="kmeans", hyperparameters={"k": 3, "feature_dim": 23}))],
    "training random cut forest": lambda t: [("sagemaker", "CreateTrainingJob", _training(algorithm="randomcutforest", hyperparameters={"feature_dim": 23}, test_s3_uri=f"{DATA}test/"))],
    "training sklearn": lambda t: [("sagemaker", "CreateTrainingJob", _training(algorithm="sklearn", entry_point="train.py", source_s3_uri="s3://my-churn-data/code/source.tar.gz", metric_definitions=[{"name": "acc", "regex": "acc=([0-9.]+)"}]))],
    "training debugger": lambda t: [("sagemaker", "CreateTrainingJob", _training(debugger_rules=["overfit"], experiment_name="churn", trial_name="t1"))],
    "tuning": lambda t: [("sagemaker", "CreateHyperParameterTuningJob", _tuning())],
    "tuning grid": lambda t: [("sagemaker", "CreateHyperParameterTuningJob", _tuning(strategy="Grid", ranges=[{"name": "max_depth", "type": "categorical", "values": ["3", "5"]}]))],
    "processing": lambda t: [("sagemaker", "CreateProcessingJob", _processing(t))],
    "model": lambda t: [("sagemaker", "CreateModel", _model())],
    "endpoint config serverless": lambda t: [("sagemaker", "CreateEndpointConfig", _endpoint_config(endpoint_type="serverless"))],
    "endpoint config realtime with capture": lambda t: [("sagemaker", "CreateEndpointConfig", _endpoint_config(data_capture={"destination_s3_uri": "s3://my-churn-data/capture/"}))],
    "transform": lambda t: [("sagemaker", "CreateTransformJob", _transform())],
    "transform joined": lambda t: [("sagemaker", "CreateTransformJob", _transform(join_input=True))],
    "autopilot": lambda t: [("sagemaker", "CreateAutoMLJobV2", _autopilot(objective_metric="F1", problem_type="BinaryClassification"))],
    "monitoring data quality": lambda t: [("sagemaker", op, r) for op, r in _schedules()],
    "monitoring model quality": lambda t: [("sagemaker", op, r) for op, r in _schedules(monitor_type="model_quality", problem_type="BinaryClassification", ground_truth_s3_uri="s3://my-churn-data/labels/", inference_attribute="0", probability_threshold=0.5)],
    "alarm": lambda t: [("cloudwatch", "PutMetricAlarm", _alarm())],
    "drift alarm": lambda t: [("cloudwatch", "PutMetricAlarm", _drift_alarm())],
    "autopilot model": lambda t: [("sagemaker", "CreateModel", _autopilot_model())],
    "autopilot model pipeline": lambda t: [("sagemaker", "CreateModel", _autopilot_model(several=True))],
    "register model": lambda t: [("sagemaker", "CreateModelPackage", _register())],
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_request_matches_the_service_model(case: str, tmp_path: Any) -> None:
    for service, operation, request in CASES[case](tmp_path):
        assert problems(service, operation, request) == [], (case, operation)


def test_the_checker_catches_what_aws_would_reject() -> None:
    bad = _training()
    bad["ResourceConfig"]["InstanceType"] = "ml.foo.bar"
    bad["TrainingJobName"] = "has_underscore"
    bad["StoppingCondition"]["MaxRuntimeInSeconds"] = 0
    bad["Surprise"] = 1
    found = "\n".join(problems("sagemaker", "CreateTrainingJob", bad))
    assert "InstanceType: 'ml.foo.bar' is not one of" in found
    assert "TrainingJobName: 'has_underscore' does not match" in found
    assert "MaxRuntimeInSeconds: 0 is under the minimum 1" in found
    assert "Surprise: not a member" in found


def test_every_request_builder_is_covered() -> None:
    """A new build_*_request function must get a case here."""
    import importlib
    import inspect

    from tools.core.registry import TOOL_MODULES

    builders = set()
    import pkgutil

    import tools.stages

    stage_modules = [
        m.name for m in pkgutil.walk_packages(tools.stages.__path__, "tools.stages.") if not m.ispkg
    ]
    for module_name in (*TOOL_MODULES, *stage_modules):
        module = importlib.import_module(module_name)
        for name, func in inspect.getmembers(module, inspect.isfunction):
            if (
                name.startswith("build_")
                and name.endswith(("_request", "_requests"))
                and func.__module__ == module.__name__
            ):
                builders.add(name)
    covered = {
        "build_training_job_request", "build_tuning_job_request", "build_processing_job_request",
        "build_create_model_request", "build_endpoint_config_request", "build_transform_job_request",
        "build_autopilot_request", "build_schedule_requests", "build_alarm_request",
        "build_register_model_request", "build_drift_alarm_request",
        "build_autopilot_model_request",
    }  # fmt: skip
    assert builders <= covered, builders - covered
