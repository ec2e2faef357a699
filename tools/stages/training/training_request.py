"""What a training job is: its arguments (built-in algorithm, scikit-learn script or custom
image) and the CreateTrainingJob request built from them, shared with tuning and Pipelines.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from tools.aws.roles import OptionalRoleArn, require_role
from tools.core.context import ToolContext
from tools.core.results import CostEstimate, Resource
from tools.core.validators import InstanceType, S3Uri, SageMakerName, parse_s3_uri
from tools.cost.estimates import estimate_instances
from tools.cost.prices import check_instance_for, instance_hourly
from tools.stages.training.algorithms import (
    ALGORITHMS,
    get_algorithm,
    hyperparameter_strings,
    retrieve_image,
    stringify,
)
from tools.stages.training.algorithms import image_uri as algorithm_image_uri

AlgorithmChoice = Literal[
    "xgboost", "linear-learner", "kmeans", "randomcutforest", "sklearn", "custom"
]
DebuggerRule = Literal[
    "loss_not_decreasing", "overfit", "overtraining", "vanishing_gradient", "class_imbalance"
]
DEBUGGER_RULES: dict[str, str] = {
    "loss_not_decreasing": "LossNotDecreasing",
    "overfit": "Overfit",
    "overtraining": "Overtraining",
    "vanishing_gradient": "VanishingGradient",
    "class_imbalance": "ClassImbalance",
}
METRICS_NAMESPACE = "/aws/sagemaker/TrainingJobs"
MAX_RUNTIME_LIMIT_S = 28 * 24 * 3600

_ECR_IMAGE = re.compile(
    r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[a-z0-9._/-]+(:[\w.-]+|@sha256:[0-9a-f]{64})?$"
)


def check_ecr_image(uri: str) -> str:
    if not _ECR_IMAGE.match(uri):
        raise ValueError(
            f"'{uri}' is not an ECR image URI (<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>)"
        )
    return uri


def check_training_instance(value: str) -> str:
    return check_instance_for("training", value)


EcrImage = Annotated[str, AfterValidator(check_ecr_image)]
TrainingInstance = Annotated[InstanceType, AfterValidator(check_training_instance)]
HyperValue = str | int | float | bool


def check_typed_hyperparameters(
    model: type[BaseModel], title: str, values: dict[str, Any]
) -> BaseModel:
    """Validate against the algorithm's typed model; one readable line per problem."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = f"is not a {title} hyperparameter"
            problems.append(f"hyperparameters.{where}: {msg}" if where else msg)
        raise ValueError("; ".join(problems)) from None


class MetricDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(min_length=1, max_length=255)]
    regex: Annotated[str, Field(min_length=1, max_length=500, description="one capture group")]


class TrainingDefinition(BaseModel):
    """What a training job runs on: shared by the training and tuning tools."""

    model_config = ConfigDict(extra="forbid")

    algorithm: Annotated[
        AlgorithmChoice, Field(description="built-in, or custom with image_uri")
    ] = "xgboost"
    version: Annotated[str | None, Field(description="algorithm version, e.g. 1.7-1")] = None
    image_uri: Annotated[EcrImage | None, Field(description="custom ECR image")] = None
    hyperparameters: Annotated[
        dict[str, HyperValue], Field(description="typed+range-checked for xgboost/linear-learner")
    ] = {}
    entry_point: Annotated[str | None, Field(description="sklearn: script file name")] = None
    source_s3_uri: Annotated[S3Uri | None, Field(description="sklearn: source .tar.gz")] = None
    metric_definitions: list[MetricDefinition] = []
    train_s3_uri: Annotated[S3Uri, Field(description="train channel")]
    validation_s3_uri: S3Uri | None = None
    test_s3_uri: S3Uri | None = None
    content_type: Annotated[str, Field(description="channel content type")] = "text/csv"
    output_s3_uri: Annotated[
        S3Uri | None, Field(description="default: <train bucket>/sagecoach/output/")
    ] = None
    instance_type: TrainingInstance = "ml.m5.large"
    instance_count: Annotated[int, Field(ge=1, le=100)] = 1
    volume_size_gb: Annotated[int, Field(ge=1, le=16384)] = 30
    max_runtime_s: Annotated[
        int, Field(ge=60, le=MAX_RUNTIME_LIMIT_S, description="stop after")
    ] = 3600
    use_spot: Annotated[bool, Field(description="managed spot")] = False
    max_wait_s: Annotated[
        int | None,
        Field(ge=60, le=2 * MAX_RUNTIME_LIMIT_S, description="spot: total wait; >= max_runtime_s"),
    ] = None
    role_arn: OptionalRoleArn = None

    @model_validator(mode="after")
    def _check(self) -> TrainingDefinition:
        if self.algorithm == "custom":
            if not self.image_uri:
                raise ValueError("algorithm 'custom' needs image_uri (your ECR training image)")
        else:
            if self.image_uri:
                raise ValueError("image_uri is only for algorithm 'custom'")
            algo = get_algorithm(self.algorithm)
            if self.version and self.version not in algo.versions:
                raise ValueError(
                    f"{algo.title} version '{self.version}' is not offered "
                    f"(versions: {', '.join(algo.versions)})"
                )
            algo.check_instance(self.instance_type)
            media = self.content_type.split(";")[0].strip()
            if algo.content_types and media not in algo.content_types:
                raise ValueError(
                    f"{algo.title} does not read {self.content_type} "
                    f"(it reads {', '.join(algo.content_types)})"
                )
            if algo.typed is not None:
                check_typed_hyperparameters(algo.typed, algo.title, self.hyperparameters)
            missing = [
                h
                for h in algo.required_hyperparameters
                if h not in self.hyperparameters and algo.typed is None
            ]
            if missing:
                raise ValueError(f"{algo.title} needs hyperparameters: {', '.join(missing)}")
            if algo.needs_script and not (self.entry_point and self.source_s3_uri):
                raise ValueError(
                    f"{algo.title} needs entry_point (script name) and source_s3_uri (a .tar.gz "
                    "with the script, uploaded to S3)"
                )
            if self.metric_definitions and not algo.needs_script:
                raise ValueError(
                    f"{algo.title} emits its own metrics; metric_definitions are only for "
                    "sklearn or custom images"
                )
        if self.use_spot and self.max_wait_s is not None and self.max_wait_s < self.max_runtime_s:
            raise ValueError("max_wait_s must be at least max_runtime_s")
        if not self.use_spot and self.max_wait_s is not None:
            raise ValueError("max_wait_s only applies with use_spot")
        return self

    @property
    def max_hours(self) -> float:
        return self.max_runtime_s / 3600


class StartTrainingArgs(TrainingDefinition):
    job_name: Annotated[SageMakerName | None, Field(description="default: generated")] = None
    experiment_name: Annotated[
        SageMakerName | None, Field(description="associate with an experiment")
    ] = None
    trial_name: SageMakerName | None = None
    debugger_rules: list[DebuggerRule] = []
    wait: Annotated[bool, Field(description="wait until the job ends")] = False

    @model_validator(mode="after")
    def _trial(self) -> StartTrainingArgs:
        if self.trial_name and not self.experiment_name:
            raise ValueError("trial_name needs experiment_name")
        return self


# --- pure request construction (also used by the Pipelines tool) -------------------------


def generated_name(prefix: str, max_len: int = 63) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    suffix = uuid.uuid4().hex[:4]
    base = re.sub(r"[^A-Za-z0-9-]", "-", prefix).strip("-")[: max_len - len(stamp) - 6]
    return f"{base}-{stamp}-{suffix}"


def default_output_uri(train_s3_uri: str) -> str:
    bucket, _ = parse_s3_uri(train_s3_uri)
    return f"s3://{bucket}/sagecoach/output/"


def resolve_image(defn: TrainingDefinition, region: str) -> str:
    if defn.algorithm == "custom":
        return str(defn.image_uri)
    return algorithm_image_uri(defn.algorithm, region, defn.version)


def static_hyperparameters(defn: TrainingDefinition) -> dict[str, str]:
    """HyperParameters as strings; typed algorithms get their defaults filled in."""
    if defn.algorithm in ALGORITHMS and ALGORITHMS[defn.algorithm].typed is not None:
        typed = ALGORITHMS[defn.algorithm].typed.model_validate(defn.hyperparameters)  # type: ignore[union-attr]
        params = hyperparameter_strings(typed)
    else:
        params = {k: stringify(v) for k, v in defn.hyperparameters.items()}
    if defn.algorithm == "sklearn":
        params["sagemaker_program"] = str(defn.entry_point)
        params["sagemaker_submit_directory"] = str(defn.source_s3_uri)
        params.setdefault("sagemaker_container_log_level", "20")
    return params


def input_channels(defn: TrainingDefinition) -> list[dict[str, Any]]:
    from tools.stages.training.algorithms import channel_content_type, channel_distribution

    channels = []
    for name, uri in (
        ("train", defn.train_s3_uri),
        ("validation", defn.validation_s3_uri),
        ("test", defn.test_s3_uri),
    ):
        if not uri:
            continue
        channels.append(
            {
                "ChannelName": name,
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": uri,
                        "S3DataDistributionType": channel_distribution(defn.algorithm, name),
                    }
                },
                "ContentType": channel_content_type(defn.algorithm, name, defn.content_type),
                "CompressionType": "None",
            }
        )
    return channels


def training_parts(defn: TrainingDefinition, region: str) -> dict[str, Any]:
    """The pieces a CreateTrainingJob and a tuning TrainingJobDefinition share."""
    check_instance_for("training", defn.instance_type, region)
    role = require_role(defn.role_arn, "SageMaker training jobs")
    algorithm_spec: dict[str, Any] = {
        "TrainingImage": resolve_image(defn, region),
        "TrainingInputMode": "File",
    }
    if defn.metric_definitions:
        algorithm_spec["MetricDefinitions"] = [
            {"Name": m.name, "Regex": m.regex} for m in defn.metric_definitions
        ]
    stopping: dict[str, Any] = {"MaxRuntimeInSeconds": defn.max_runtime_s}
    output = defn.output_s3_uri or default_output_uri(defn.train_s3_uri)
    parts: dict[str, Any] = {
        "AlgorithmSpecification": algorithm_spec,
        "RoleArn": role,
        "InputDataConfig": input_channels(defn),
        "OutputDataConfig": {"S3OutputPath": output},
        "ResourceConfig": {
            "InstanceType": defn.instance_type,
            "InstanceCount": defn.instance_count,
            "VolumeSizeInGB": defn.volume_size_gb,
        },
        "StoppingCondition": stopping,
    }
    if defn.use_spot:
        stopping["MaxWaitTimeInSeconds"] = defn.max_wait_s or 2 * defn.max_runtime_s
        parts["EnableManagedSpotTraining"] = True
    return parts


def checkpoint_config(output_uri: str, job_name: str) -> dict[str, str]:
    """Spot checkpoints under the job's own prefix (<output>/<job>/checkpoints/, as the SDK's
    ModelTrainer does): a shared prefix lets a later job resume an earlier job's model."""
    return {"S3Uri": f"{output_uri.rstrip('/')}/{job_name}/checkpoints/"}


def build_training_job_request(
    args: StartTrainingArgs, *, region: str, tags: list[dict]
) -> dict[str, Any]:
    """The CreateTrainingJob request for these arguments (no AWS call)."""
    name = args.job_name or generated_name(f"sagecoach-{args.algorithm}")
    parts = training_parts(args, region)
    request: dict[str, Any] = {"TrainingJobName": name, **parts}
    if args.use_spot:
        request["CheckpointConfig"] = checkpoint_config(
            parts["OutputDataConfig"]["S3OutputPath"], name
        )
    request["HyperParameters"] = static_hyperparameters(args)
    request["AlgorithmSpecification"]["EnableSageMakerMetricsTimeSeries"] = True
    if args.experiment_name:
        config = {"ExperimentName": args.experiment_name, "TrialComponentDisplayName": name}
        if args.trial_name:
            config["TrialName"] = args.trial_name
        request["ExperimentConfig"] = config
    if args.debugger_rules:
        rule_image = retrieve_image("debugger", region)
        output = request["OutputDataConfig"]["S3OutputPath"].rstrip("/")
        request["DebugHookConfig"] = {"S3OutputPath": f"{output}/debug-output"}
        request["DebugRuleConfigurations"] = [
            {
                "RuleConfigurationName": DEBUGGER_RULES[rule],
                "RuleEvaluatorImage": rule_image,
                "RuleParameters": {"rule_to_invoke": DEBUGGER_RULES[rule]},
            }
            for rule in args.debugger_rules
        ]
    request["Tags"] = list(tags)
    return request


def estimate_training(args: TrainingDefinition, region: str) -> CostEstimate:
    return estimate_instances(
        args.instance_type,
        args.instance_count,
        args.max_hours,
        "training",
        region,
        spot=args.use_spot,
    )


def hourly_rate(
    instance_type: str, count: int, region: str, component: Any = "training"
) -> float | None:
    quote = instance_hourly(instance_type, component, region)
    return round(quote.usd * count, 4) if quote else None


def algorithm_label(args: TrainingDefinition) -> str:
    if args.algorithm == "custom":
        return f"custom image {args.image_uri}"
    algo = get_algorithm(args.algorithm)
    return f"{algo.title} {args.version or algo.default_version}"


def _missing(exc: Exception, sandbox: bool) -> bool:
    """A describe that failed because the thing does not exist (moto answers 500 there)."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return False
    code = str(response.get("Error", {}).get("Code", ""))
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    message = str(response.get("Error", {}).get("Message", "")).lower()
    return (
        code in ("ResourceNotFound", "ResourceNotFoundException")
        or (code == "ValidationException" and "not" in message)
        or (sandbox and status == 500)
    )


def ensure_experiment(ctx: ToolContext, experiment: str, trial: str | None) -> list[Resource]:
    """Create the experiment (and trial) when missing, so the job can be associated."""
    from botocore.exceptions import ClientError

    sm = ctx.client("sagemaker")
    created: list[Resource] = []
    try:
        sm.describe_experiment(ExperimentName=experiment)
    except ClientError as exc:
        if not _missing(exc, ctx.aws.is_sandbox):
            raise
        arn = sm.create_experiment(ExperimentName=experiment, Tags=ctx.aws.tags())["ExperimentArn"]
        created.append(Resource("sagemaker_experiment", experiment, arn))
    if trial:
        try:
            sm.describe_trial(TrialName=trial)
        except ClientError as exc:
            if not _missing(exc, ctx.aws.is_sandbox):
                raise
            arn = sm.create_trial(TrialName=trial, ExperimentName=experiment, Tags=ctx.aws.tags())[
                "TrialArn"
            ]
            created.append(Resource("sagemaker_experiment_trial", trial, arn))
    return created
