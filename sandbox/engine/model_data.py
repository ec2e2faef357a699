"""What a model needs before its container starts, as SageMaker prepares it: which serving
container the image stands for, the model artifact downloaded from S3 and unpacked into
/opt/ml/model, and for script mode the user's source directory. Shared by endpoints and batch
transform. Failures carry SageMaker's reasons (a missing artifact, an archive that is not a
tar.gz, an image the sandbox cannot run)."""

from __future__ import annotations

import shutil
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.engine.images import resolve
from sandbox.engine.s3io import S3, extract_tar_gz, split_uri

SERVED_FAMILIES = ("xgboost", "linear-learner", "kmeans", "randomcutforest", "sklearn")


class ModelSetupError(Exception):
    """The model cannot be served; the message is the FailureReason."""


@dataclass
class ContainerSpec:
    """One model's serving container."""

    image: str
    family: str
    model_data_url: str | None
    environment: dict[str, str] = field(default_factory=dict)
    multi_model: bool = False

    @property
    def script_mode(self) -> bool:
        return bool(self.environment.get("SAGEMAKER_PROGRAM"))


def container_of(model: Any) -> ContainerSpec:
    """The serving container of a moto Model (one container; inference pipelines are not run)."""
    containers = list(model.containers or [])
    primary = model.primary_container or (containers[0] if len(containers) == 1 else None)
    if not primary:
        raise ModelSetupError(
            f"Model {model.model_name} has {len(containers)} containers: the sandbox serves "
            "single-container models (inference pipelines are not emulated). Run it on AWS."
        )
    image_uri = str(primary.get("Image") or "")
    image = resolve(image_uri)
    if image.family not in SERVED_FAMILIES:
        raise ModelSetupError(
            f"The sandbox cannot run the container image {image_uri}: it serves SageMaker's "
            "built-in XGBoost, Linear Learner, K-Means and Random Cut Forest models, and "
            "scikit-learn (or XGBoost) script mode, without Docker. Run this image on AWS."
        )
    source = (primary.get("ModelDataSource") or {}).get("S3DataSource") or {}
    url = primary.get("ModelDataUrl") or source.get("S3Uri")
    return ContainerSpec(
        image=image_uri,
        family=image.family,
        model_data_url=str(url) if url else None,
        environment={str(k): str(v) for k, v in (primary.get("Environment") or {}).items()},
        multi_model=primary.get("Mode") == "MultiModel",
    )


def missing_artifact_reason(uri: str) -> str:
    try:
        bucket, key = split_uri(uri)
    except ValueError:
        bucket, key = "", uri
    return (
        f"Failed to download model data(bucket: {bucket}, key: {key}). Please ensure that there "
        "is an object located at the URL and that the role passed to CreateModel has "
        "permissions to download the model."
    )


def fetch_model(s3: S3, uri: str, target: Path) -> Path:
    """Download and unpack the artifact into target (its /opt/ml/model)."""
    target.mkdir(parents=True, exist_ok=True)
    if uri.endswith("/"):  # uncompressed model data (ModelDataSource, CompressionType None)
        if not s3.download_prefix(uri, target):
            raise ModelSetupError(missing_artifact_reason(uri))
        return target
    archive = target.parent / (target.name + ".tar.gz")
    bucket, key = split_uri(uri)
    try:
        s3.s3.download_file(bucket, key, str(archive))
    except Exception:
        raise ModelSetupError(missing_artifact_reason(uri)) from None
    try:
        extract_tar_gz(archive, target)
    except (tarfile.TarError, OSError, EOFError):
        raise ModelSetupError(
            f'Failed to extract model data archive from URL "{uri}". Please ensure that the '
            "object located at the URL is a valid tar.gz archive."
        ) from None
    finally:
        archive.unlink(missing_ok=True)
    return target


def fetch_code(s3: S3, spec: ContainerSpec, root: Path) -> Path:
    """The source directory of a script-mode model: SAGEMAKER_SUBMIT_DIRECTORY's tar.gz, or
    `code/` inside the model artifact (what the SDK's repack puts there)."""
    source = spec.environment.get("SAGEMAKER_SUBMIT_DIRECTORY", "")
    if source.startswith("s3://"):
        code = root / "code"
        shutil.rmtree(code, ignore_errors=True)
        try:
            fetch_model(s3, source, code)
        except ModelSetupError:
            raise ModelSetupError(
                f"Could not download the source directory {source} (SAGEMAKER_SUBMIT_DIRECTORY)."
            ) from None
        return code
    inside = root / "model" / "code"
    return inside if inside.is_dir() else root / "model"


def check_model_data(s3: S3, model_data_url: str, multi_model: bool) -> None:
    """CreateModel's check: the artifact (or, for a multi-model endpoint, the prefix) exists."""
    objects = s3.list_prefix(model_data_url) if model_data_url.startswith("s3://") else []
    _, key = split_uri(model_data_url) if model_data_url.startswith("s3://") else ("", "")
    found = any(o.key == key for o in objects) or (
        (multi_model or model_data_url.endswith("/")) and bool(objects)
    )
    if not found and not multi_model:
        raise ModelSetupError(f"Could not find model data at {model_data_url}.")
