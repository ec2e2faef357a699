"""The built-in algorithm catalog: image names, versions, typed hyperparameters, metrics.

Used by the training and tuning tools (and the Pipelines tool) to resolve a container image
by region and version, to validate hyperparameters before any call, and to offer tunable
objective metrics by name with their direction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

AlgorithmName = Literal["xgboost", "linear-learner", "kmeans", "randomcutforest", "sklearn"]
Direction = Literal["Maximize", "Minimize"]

GPU_FAMILIES = frozenset({"p2", "p3", "p3dn", "p4d", "p4de", "p5", "g4dn", "g5", "g6", "g6e"})


@dataclass(frozen=True)
class Metric:
    name: str
    direction: Direction


@dataclass(frozen=True)
class Algorithm:
    """One built-in algorithm or framework image."""

    name: str
    framework: str  # the name sagemaker.core.image_uris.retrieve takes
    default_version: str | None
    versions: tuple[str, ...]
    title: str
    content_types: tuple[str, ...]
    metrics: tuple[Metric, ...] = ()
    required_hyperparameters: tuple[str, ...] = ()
    cpu: bool = True
    gpu: bool = False
    needs_script: bool = False
    notes: str = ""
    typed: type[BaseModel] | None = field(default=None)

    def metric(self, name: str) -> Metric | None:
        return next((m for m in self.metrics if m.name == name), None)

    def check_instance(self, instance_type: str) -> None:
        """Raise ValueError when the algorithm cannot run on the instance's family."""
        family = instance_type.split(".")[1] if instance_type.count(".") >= 2 else ""
        is_gpu = family in GPU_FAMILIES
        if is_gpu and not self.gpu:
            raise ValueError(
                f"{self.title} runs on CPU instances only; {instance_type} is a GPU instance "
                "(try ml.m5.xlarge)"
            )
        if not is_gpu and not self.cpu:
            raise ValueError(f"{self.title} needs a GPU instance; {instance_type} has none")


def _metrics(direction_by_name: dict[str, Direction]) -> tuple[Metric, ...]:
    return tuple(Metric(n, d) for n, d in direction_by_name.items())


# --- typed hyperparameters --------------------------------------------------------------

XGBoostObjective = Literal[
    "binary:logistic",
    "binary:logitraw",
    "binary:hinge",
    "reg:squarederror",
    "reg:logistic",
    "reg:absoluteerror",
    "reg:pseudohubererror",
    "reg:squaredlogerror",
    "reg:tweedie",
    "reg:gamma",
    "count:poisson",
    "multi:softmax",
    "multi:softprob",
    "rank:pairwise",
    "rank:ndcg",
    "rank:map",
    "survival:cox",
    "survival:aft",
]
# The evaluation metrics the containers accept (sagemaker-xgboost-container xgb_constants.py);
# eval_metric is a comma-separated list of them, and error/ndcg/map take an @threshold.
XGBOOST_METRICS_1_2 = (
    "accuracy", "auc", "aucpr", "f1", "f1_binary", "f1_macro", "map", "ndcg", "r2",
    "aft-nloglik", "cox-nloglik", "error", "gamma-deviance", "gamma-nloglik",
    "interval-regression-accuracy", "logloss", "mae", "merror", "mlogloss", "mphe", "mse",
    "poisson-nloglik", "rmse", "rmsle", "tweedie-nloglik",
)  # fmt: skip
XGBOOST_METRICS_1_3 = (
    "balanced_accuracy", "precision", "recall", "precision_macro", "precision_micro",
    "recall_macro", "recall_micro", "mape",
)  # fmt: skip
XGBOOST_METRICS = XGBOOST_METRICS_1_2 + XGBOOST_METRICS_1_3
# Hyperparameters (and objectives) only some offered container versions accept.
XGBOOST_SINCE: dict[str, str] = {
    "sampling_method": "1.3-1",
    "prob_buffer_row": "1.3-1",
    "use_dask_gpu_training": "1.5-1",
    "reg:absoluteerror": "1.7-1",
    **{metric: "1.3-1" for metric in XGBOOST_METRICS_1_3},
}
XGBOOST_UNTIL: dict[str, str] = {"single_precision_histogram": "1.3-1"}


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.replace("-", ".").split(".") if p.isdigit())


def check_eval_metric(value: str, objective: str) -> str:
    """A comma-separated list the container accepts (names, error@0.7, ndcg@5 ...)."""
    metrics = [m.strip() for m in value.split(",") if m.strip()]
    if not metrics:
        raise ValueError("eval_metric is empty")
    for metric in metrics:
        name, at, threshold = metric.partition("@")
        if at:
            if name not in ("error", "ndcg", "map"):
                raise ValueError(f"eval_metric {metric}: only error, ndcg and map take @threshold")
            try:
                float(threshold.rstrip("-"))
            except ValueError:
                raise ValueError(f"eval_metric {metric}: the threshold must be a number") from None
        elif name not in XGBOOST_METRICS:
            raise ValueError(
                f"eval_metric '{name}' is not an XGBoost metric (e.g. auc, logloss, error, rmse)"
            )
    if "auc" in metrics and not objective.startswith(("binary:", "rank:")):
        raise ValueError("eval_metric auc applies to binary: and rank: objectives only")
    return ",".join(metrics)


def xgboost_version_problems(version: str, hyperparameters: dict[str, Any]) -> list[str]:
    """What this container version would refuse ('Extraneous hyperparameter', unknown metric)."""
    have = _version_key(version)
    names = set(hyperparameters)
    names.add(str(hyperparameters.get("objective", "")))
    names.update(
        m.split("@")[0].strip() for m in str(hyperparameters.get("eval_metric", "")).split(",")
    )
    problems = []
    for name in sorted(names):
        since, until = XGBOOST_SINCE.get(name), XGBOOST_UNTIL.get(name)
        if since and have < _version_key(since):
            problems.append(f"{name} needs XGBoost {since} or later (this job uses {version})")
        if until and have > _version_key(until):
            problems.append(f"{name} was removed after XGBoost {until} (this job uses {version})")
    return problems


class XGBoostHyperparameters(BaseModel):
    """SageMaker XGBoost hyperparameters (ranges from the algorithm's reference)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    objective: Annotated[XGBoostObjective, Field(description="learning task")] = "binary:logistic"
    num_round: Annotated[int, Field(ge=1, le=100_000, description="boosting rounds")] = 100
    eta: Annotated[float, Field(ge=0, le=1, description="learning rate")] = 0.3
    max_depth: Annotated[int, Field(ge=0, le=100, description="max tree depth")] = 6
    min_child_weight: Annotated[float, Field(ge=0)] | None = None
    subsample: Annotated[float, Field(gt=0, le=1)] | None = None
    colsample_bytree: Annotated[float, Field(gt=0, le=1)] | None = None
    gamma: Annotated[float, Field(ge=0)] | None = None
    alpha: Annotated[float, Field(ge=0, description="L1 regularisation")] | None = None
    reg_lambda: float | None = Field(default=None, ge=0, alias="lambda", description="L2")
    scale_pos_weight: Annotated[float, Field(gt=0)] | None = None
    max_delta_step: Annotated[float, Field(ge=0)] | None = None
    num_class: Annotated[int, Field(ge=2, description="classes, for multi:*")] | None = None
    eval_metric: Annotated[
        str | None, Field(description="comma-separated, e.g. auc,logloss or error@0.7")
    ] = None
    early_stopping_rounds: Annotated[int, Field(ge=1)] | None = None
    tree_method: Literal["auto", "exact", "approx", "hist", "gpu_hist"] | None = None
    verbosity: Annotated[int, Field(ge=0, le=3)] | None = None
    csv_weights: (
        Annotated[int, Field(ge=0, le=1, description="1: weights in CSV column 2")] | None
    ) = None
    max_bin: Annotated[int, Field(ge=0, description="hist: max buckets per feature")] | None = None
    booster: Literal["gbtree", "gblinear", "dart"] | None = None
    nthread: Annotated[int, Field(ge=1)] | None = None
    colsample_bylevel: Annotated[float, Field(gt=0, le=1)] | None = None
    colsample_bynode: Annotated[float, Field(gt=0, le=1)] | None = None
    grow_policy: Literal["depthwise", "lossguide"] | None = None
    max_leaves: Annotated[int, Field(ge=0)] | None = None
    num_parallel_tree: Annotated[int, Field(ge=1)] | None = None
    seed: Annotated[int, Field(gt=-(2**31), lt=2**31 - 1)] | None = None
    base_score: Annotated[float, Field(ge=0)] | None = None
    tweedie_variance_power: Annotated[float, Field(gt=1, lt=2)] | None = None
    sampling_method: Literal["uniform", "gradient_based"] | None = None
    sketch_eps: Annotated[float, Field(gt=0, lt=1)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _not_in_the_containers(cls, data: Any) -> Any:
        if isinstance(data, dict) and "device" in data:
            raise ValueError(
                "device is not a hyperparameter of the SageMaker XGBoost containers sagecoach "
                "offers (1.2-2 to 3.0-5 refuse it as extraneous); for GPU training use "
                "tree_method=gpu_hist on a GPU instance"
            )
        return data

    @model_validator(mode="after")
    def _num_class(self) -> XGBoostHyperparameters:
        if self.objective.startswith("multi:") and self.num_class is None:
            raise ValueError(f"objective {self.objective} needs num_class (the number of classes)")
        if self.num_class is not None and not self.objective.startswith("multi:"):
            raise ValueError("num_class only applies to multi:softmax / multi:softprob")
        if self.eval_metric is not None:
            self.eval_metric = check_eval_metric(self.eval_metric, self.objective)
        return self


class LinearLearnerHyperparameters(BaseModel):
    """SageMaker Linear Learner hyperparameters (ranges from the algorithm's reference)."""

    model_config = ConfigDict(extra="forbid")

    predictor_type: Annotated[
        Literal["binary_classifier", "multiclass_classifier", "regressor"],
        Field(description="problem type"),
    ] = "binary_classifier"
    num_classes: Annotated[int, Field(ge=3, le=1_000_000)] | None = None
    epochs: Annotated[int, Field(ge=1, le=10_000, description="passes over the data")] = 15
    learning_rate: Annotated[float, Field(gt=0, le=10)] | None = None
    mini_batch_size: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    l1: Annotated[float, Field(ge=0)] | None = None
    wd: Annotated[float, Field(ge=0, description="L2 weight decay")] | None = None
    optimizer: Literal["auto", "sgd", "adam", "rmsprop"] | None = None
    loss: (
        Literal[
            "auto",
            "logistic",
            "squared_loss",
            "absolute_loss",
            "hinge_loss",
            "eps_insensitive_squared_loss",
            "eps_insensitive_absolute_loss",
            "quantile_loss",
            "huber_loss",
            "softmax_loss",
        ]
        | None
    ) = None
    normalize_data: bool | None = None
    normalize_label: bool | None = None
    feature_dim: Annotated[int, Field(ge=1)] | None = None
    num_models: Annotated[int, Field(ge=1, le=1000)] | None = None
    early_stopping_patience: Annotated[int, Field(ge=1)] | None = None
    binary_classifier_model_selection_criteria: (
        Literal[
            "accuracy",
            "f_beta",
            "precision_at_target_recall",
            "recall_at_target_precision",
            "loss_function",
        ]
        | None
    ) = None

    @model_validator(mode="after")
    def _classes(self) -> LinearLearnerHyperparameters:
        if self.predictor_type == "multiclass_classifier" and self.num_classes is None:
            raise ValueError("predictor_type multiclass_classifier needs num_classes (3 or more)")
        if self.num_classes is not None and self.predictor_type != "multiclass_classifier":
            raise ValueError("num_classes only applies to predictor_type multiclass_classifier")
        return self


def hyperparameter_strings(model: BaseModel) -> dict[str, str]:
    """The HyperParameters map SageMaker takes: every value a string, unset ones left out."""
    out: dict[str, str] = {}
    for key, value in model.model_dump(by_alias=True, exclude_none=True).items():
        out[key] = stringify(value)
    return out


def stringify(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(value)
    return str(value)


# --- the catalog ------------------------------------------------------------------------

_XGB_METRICS = _metrics(
    {
        "validation:auc": "Maximize",
        "validation:aucpr": "Maximize",
        "validation:accuracy": "Maximize",
        "validation:f1": "Maximize",
        "validation:error": "Minimize",
        "validation:logloss": "Minimize",
        "validation:rmse": "Minimize",
        "validation:mae": "Minimize",
        "validation:mse": "Minimize",
        "validation:merror": "Minimize",
        "validation:mlogloss": "Minimize",
        "validation:ndcg": "Maximize",
        "validation:map": "Maximize",
        "train:auc": "Maximize",
        "train:rmse": "Minimize",
        "train:logloss": "Minimize",
        "train:error": "Minimize",
    }
)
_LL_METRICS = _metrics(
    {
        "validation:objective_loss": "Minimize",
        "validation:binary_classification_accuracy": "Maximize",
        "validation:binary_f_beta": "Maximize",
        "validation:precision": "Maximize",
        "validation:recall": "Maximize",
        "validation:roc_auc_score": "Maximize",
        "validation:multiclass_accuracy": "Maximize",
        "validation:macro_f_beta": "Maximize",
        "validation:mse": "Minimize",
        "validation:absolute_loss": "Minimize",
        "test:objective_loss": "Minimize",
        "test:binary_classification_accuracy": "Maximize",
        "test:binary_f_beta": "Maximize",
        "test:mse": "Minimize",
        "test:multiclass_accuracy": "Maximize",
    }
)

ALGORITHMS: dict[str, Algorithm] = {
    "xgboost": Algorithm(
        name="xgboost",
        framework="xgboost",
        default_version="1.7-1",
        versions=("1.2-2", "1.3-1", "1.5-1", "1.7-1", "3.0-5"),
        title="XGBoost",
        content_types=(
            "text/csv",
            "text/libsvm",
            "application/x-parquet",
            "application/x-recordio-protobuf",
        ),
        metrics=_XGB_METRICS,
        required_hyperparameters=("num_round",),
        cpu=True,
        gpu=True,
        notes="CSV: label in the first column, no header row.",
        typed=XGBoostHyperparameters,
    ),
    "linear-learner": Algorithm(
        name="linear-learner",
        framework="linear-learner",
        default_version="1",
        versions=("1",),
        title="Linear Learner",
        content_types=("text/csv", "application/x-recordio-protobuf"),
        metrics=_LL_METRICS,
        required_hyperparameters=("predictor_type",),
        cpu=True,
        gpu=True,
        notes="CSV: label in the first column, no header row.",
        typed=LinearLearnerHyperparameters,
    ),
    "kmeans": Algorithm(
        name="kmeans",
        framework="kmeans",
        default_version="1",
        versions=("1",),
        title="K-Means",
        content_types=("text/csv", "application/x-recordio-protobuf"),
        metrics=_metrics({"test:msd": "Minimize", "test:ssd": "Minimize"}),
        required_hyperparameters=("k", "feature_dim"),
        cpu=True,
        gpu=True,
        notes="Unsupervised: CSV without a label column; metrics need a test channel.",
    ),
    "randomcutforest": Algorithm(
        name="randomcutforest",
        framework="randomcutforest",
        default_version="1",
        versions=("1",),
        title="Random Cut Forest",
        content_types=("text/csv", "application/x-recordio-protobuf"),
        metrics=_metrics({"test:f1": "Maximize"}),
        required_hyperparameters=("feature_dim",),
        cpu=True,
        gpu=False,
        notes="Anomaly detection; CPU only; test channel (label_size=1) for the F1 metric.",
    ),
    "sklearn": Algorithm(
        name="sklearn",
        framework="sklearn",
        default_version="1.2-1",
        versions=("1.0-1", "1.2-1", "1.4-2"),
        title="scikit-learn (script mode)",
        content_types=(),
        metrics=(),
        cpu=True,
        gpu=False,
        needs_script=True,
        notes="Runs your script (entry_point) from a source tar.gz in S3; CPU only.",
    ),
}


def get_algorithm(name: str) -> Algorithm:
    try:
        return ALGORITHMS[name]
    except KeyError:
        raise ValueError(
            f"unknown algorithm '{name}' (built-in: {', '.join(ALGORITHMS)}; or give image_uri)"
        ) from None


def image_uri(algorithm: str, region: str, version: str | None = None) -> str:
    """The region's ECR image for a built-in algorithm, through the SageMaker SDK's image URIs."""
    algo = get_algorithm(algorithm)
    version = version or algo.default_version
    if version not in algo.versions:
        raise ValueError(
            f"{algo.title} version '{version}' is not offered (versions: {', '.join(algo.versions)})"
        )
    return retrieve_image(algo.framework, region, version)


def retrieve_image(framework: str, region: str, version: str | None = None, **kwargs: Any) -> str:
    """sagemaker.core.image_uris.retrieve, imported lazily (about a second on first use)."""
    from sagemaker.core import image_uris

    try:
        if framework == "sklearn":
            kwargs.setdefault("py_version", "py3")
            kwargs.setdefault("instance_type", "ml.m5.xlarge")
        return str(image_uris.retrieve(framework, region=region, version=version, **kwargs))
    except ValueError as exc:
        raise ValueError(f"no {framework} image for {region}: {str(exc).split('. ')[0]}") from None


def channel_content_type(algorithm: str, channel: str, content_type: str) -> str:
    """The ContentType a channel is sent with: K-Means and Random Cut Forest read plain CSV
    rows as unlabelled (label_size=0), and RCF's test channel leads with the label (=1)."""
    if algorithm in ("kmeans", "randomcutforest") and content_type == "text/csv":
        has_label = algorithm == "randomcutforest" and channel == "test"
        return f"text/csv;label_size={1 if has_label else 0}"
    return content_type


def channel_distribution(algorithm: str, channel: str) -> str:
    """Random Cut Forest shards its train channel across instances (the SDK's RecordSet default
    and the algorithm's requirement); every other channel is copied whole to each instance."""
    if algorithm == "randomcutforest" and channel == "train":
        return "ShardedByS3Key"
    return "FullyReplicated"


def unquoted(value: str) -> str:
    """The SDK JSON-encodes framework hyperparameters ('"train.py"'); sagecoach does not."""
    text = str(value)
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def script_mode_environment(hyperparameters: dict[str, str], region: str) -> dict[str, str]:
    """The serving environment of a script-mode model, from its training job's hyperparameters,
    as the SDK's FrameworkModel sets it: the entry point, the code, the log level, the region."""
    program = hyperparameters.get("sagemaker_program")
    source = hyperparameters.get("sagemaker_submit_directory")
    if not program or not source:
        return {}
    return {
        "SAGEMAKER_PROGRAM": unquoted(program),
        "SAGEMAKER_SUBMIT_DIRECTORY": unquoted(source),
        "SAGEMAKER_CONTAINER_LOG_LEVEL": unquoted(
            hyperparameters.get("sagemaker_container_log_level", "20")
        ),
        "SAGEMAKER_REGION": region,
    }


def default_objective(algorithm: str, hyperparameters: dict[str, str]) -> Metric | None:
    """A sensible tuning objective for the algorithm and its problem type."""
    if algorithm == "xgboost":
        objective = hyperparameters.get("objective", "binary:logistic")
        if objective.startswith("binary:"):
            return Metric("validation:auc", "Maximize")
        if objective.startswith("multi:"):
            return Metric("validation:merror", "Minimize")
        if objective.startswith("rank:"):
            return Metric("validation:ndcg", "Maximize")
        return Metric("validation:rmse", "Minimize")
    if algorithm == "linear-learner":
        predictor = hyperparameters.get("predictor_type", "binary_classifier")
        if predictor == "binary_classifier":
            return Metric("validation:binary_f_beta", "Maximize")
        if predictor == "multiclass_classifier":
            return Metric("validation:multiclass_accuracy", "Maximize")
        return Metric("validation:mse", "Minimize")
    algo = ALGORITHMS.get(algorithm)
    return algo.metrics[0] if algo and algo.metrics else None


def catalog_rows() -> list[dict[str, Any]]:
    """The catalog as rows for a table (the knowledge tools and `sagecoach stages` may show it)."""
    return [
        {
            "algorithm": a.name,
            "title": a.title,
            "default_version": a.default_version,
            "content_types": list(a.content_types),
            "instances": "CPU+GPU" if a.cpu and a.gpu else ("GPU" if a.gpu else "CPU"),
            "metrics": [f"{m.name} ({m.direction})" for m in a.metrics],
            "required_hyperparameters": list(a.required_hyperparameters),
            "notes": a.notes,
        }
        for a in ALGORITHMS.values()
    ]
