"""Which container a training or processing image stands for, and the metric definitions
SageMaker attaches to the built-in algorithms' images."""

from __future__ import annotations

import re
from dataclasses import dataclass

# repository name in the image URI → (family, kind)
_REPOSITORIES = {
    "sagemaker-xgboost": "xgboost",
    "xgboost": "xgboost",
    "linear-learner": "linear-learner",
    "kmeans": "kmeans",
    "randomcutforest": "randomcutforest",
    "sagemaker-scikit-learn": "sklearn",
    "sagemaker-sklearn": "sklearn",
}
_IMAGE = re.compile(
    r"^(?:[^/]+/)?(?P<repo>[a-z0-9._/-]+?)(?::(?P<tag>[\w.-]+))?(?:@sha256:[0-9a-f]+)?$"
)

XGB_MAXIMIZE = ("accuracy", "auc", "aucpr", "balanced_accuracy", "f1", "f1_binary", "f1_macro",
                "map", "ndcg", "precision", "r2", "recall")  # fmt: skip
XGB_MINIMIZE = ("error", "logloss", "mae", "mape", "merror", "mlogloss", "mphe", "mse", "rmse",
                "rmsle", "poisson-nloglik", "gamma-nloglik", "gamma-deviance", "tweedie-nloglik",
                "cox-nloglik", "aft-nloglik")  # fmt: skip

_FIRST_PARTY_METRICS = {
    "linear-learner": (
        "objective_loss", "binary_classification_accuracy", "binary_f_beta", "precision",
        "recall", "roc_auc_score", "multiclass_accuracy", "multiclass_top_k_accuracy",
        "macro_f_beta", "macro_precision", "macro_recall", "mse", "absolute_loss", "rmse",
        "r2", "dcg",
    ),
    "kmeans": ("msd", "ssd"),
    "randomcutforest": ("f1", "precision", "recall"),
}  # fmt: skip


@dataclass(frozen=True)
class Image:
    uri: str
    family: str  # xgboost | linear-learner | kmeans | randomcutforest | sklearn | custom
    version: str

    @property
    def builtin(self) -> bool:
        return self.family in ("xgboost", "linear-learner", "kmeans", "randomcutforest")


def resolve(uri: str) -> Image:
    """The family and version of an image URI (anything unknown is a custom image)."""
    found = _IMAGE.match(uri.strip())
    if not found:
        return Image(uri, "custom", "")
    repo = found.group("repo").rsplit("/", 1)[-1]
    tag = found.group("tag") or ""
    family = _REPOSITORIES.get(repo, "custom")
    if family == "xgboost":
        version = tag.split("-cpu")[0] or "1.7-1"
        if not re.match(r"^\d", version):
            version = "0.90-2" if tag == "latest" else "1.7-1"
        return Image(uri, family, version.replace("-", ".", 1) if "-" in version else version)
    if family == "sklearn":
        return Image(uri, family, tag.split("-cpu")[0])
    return Image(uri, family, tag or "1")


def metric_definitions(image: Image) -> list[dict[str, str]]:
    """What SageMaker parses from the built-in containers' logs (user definitions add to these)."""
    if image.family == "xgboost":
        return [
            {
                "Name": f"{channel}:{metric}",
                "Regex": f".*\\[[0-9]+\\].*#011{channel}-{metric}:(\\S+)",
            }
            for channel in ("train", "validation")
            for metric in (*XGB_MAXIMIZE, *XGB_MINIMIZE)
        ]
    names = _FIRST_PARTY_METRICS.get(image.family, ())
    return [
        {"Name": f"{channel}:{metric}",
         "Regex": f"#quality_metric: host=\\S+, {channel} {metric} <score>=(\\S+)"}
        for channel in ("train", "validation", "test")
        for metric in names
    ]  # fmt: skip
