"""The model a Clarify job calls for post-training bias and SHAP.

On AWS Clarify starts a shadow endpoint from `predictor.model_name` (or calls
`predictor.endpoint_name`) and sends it the features as CSV. Here the engine resolves the model
the same way (model → container image and ModelDataUrl), unpacks its artifact into the job's
directory before the container starts, and the container scores rows with the artifact the way
the built-in container would: XGBoost's booster (one probability or value per row), Linear
Learner's model (score), or a scikit-learn estimator saved with joblib.
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

SPEC = "clarify-model.json"


class ModelError(ValueError):
    """The model cannot be resolved or loaded here (the job fails with this reason)."""


# --- engine side: find and unpack the artifact --------------------------------------------
def resolve(engine: Any, region: str, account: str, predictor: dict[str, Any]) -> tuple[str, str]:
    """(image, ModelDataUrl) of the predictor's model (named directly or behind an endpoint)."""
    backend = engine.sagemaker(region, account)
    name = predictor.get("model_name")
    if not name and predictor.get("endpoint_name"):
        endpoint = backend.endpoints.get(predictor["endpoint_name"])
        if endpoint is None:
            raise ModelError(f"Endpoint {predictor['endpoint_name']} does not exist.")
        config = backend.endpoint_configs.get(endpoint.endpoint_config_name)
        variants = (getattr(config, "production_variants", None) or []) if config else []
        name = variants[0].get("ModelName") if variants else None
    if not name:
        raise ModelError("The analysis config's predictor names no model_name or endpoint_name.")
    model = backend._models.get(name) if hasattr(backend, "_models") else None
    if model is None:
        raise ModelError(f'Could not find model "{name}" (predictor.model_name).')
    container = getattr(model, "primary_container", None) or {}
    if not container and getattr(model, "containers", None):
        container = model.containers[0]
    image = container.get("Image", "")
    data = container.get("ModelDataUrl", "")
    if not data:
        raise ModelError(f"Model {name} has no ModelDataUrl; Clarify needs a model artifact.")
    return image, data


def stage(engine: Any, region: str, account: str, predictor: dict[str, Any], root: Path) -> Path:
    """Download and unpack the predictor's artifact under the job's directory; returns the spec
    file the container reads."""
    from sandbox.engine.images import resolve as resolve_image

    image_uri, data_url = resolve(engine, region, account, predictor)
    image = resolve_image(image_uri)
    target = root / "clarify-model"
    target.mkdir(parents=True, exist_ok=True)
    archive = target / "model.tar.gz"
    try:
        archive.write_bytes(engine.s3(region).get_bytes(data_url))
    except Exception:
        raise ModelError(
            f"Could not read the model artifact {data_url}; check that the training job wrote it."
        ) from None
    try:
        with tarfile.open(archive, "r:*") as tar:
            tar.extractall(target, filter="data")
    except tarfile.TarError as exc:
        raise ModelError(f"The model artifact {data_url} is not a tar.gz archive: {exc}") from None
    spec = root / SPEC
    spec.write_text(json.dumps({"family": image.family, "dir": str(target), "image": image_uri}))
    return spec


# --- container side: load and score ---------------------------------------------------------
class Predictor:
    """Scores a feature matrix: `scores(x)` → one float per row (probability, value or label)."""

    def __init__(self, spec_path: Path) -> None:
        spec = json.loads(spec_path.read_text())
        self.family: str = spec["family"]
        self.dir = Path(spec["dir"])
        self.booster: Any = None
        self.estimator: Any = None
        self._load()

    def _load(self) -> None:
        import joblib

        if self.family == "xgboost":
            import xgboost as xgb

            path = self.dir / "xgboost-model"
            if not path.exists():
                found = [p for p in self.dir.iterdir() if p.is_file() and p.suffix != ".gz"]
                if not found:
                    raise ModelError("The XGBoost artifact holds no model file.")
                path = found[0]
            self.booster = xgb.Booster()
            try:
                self.booster.load_model(str(path))
            except Exception:
                self.booster = joblib.load(path)  # a pickled booster (older containers)
            return
        if self.family == "linear-learner":
            payload = joblib.load(self.dir / "model_algo-1")
            self.estimator = payload["model"]
            return
        candidates = sorted(self.dir.rglob("*.joblib")) + sorted(self.dir.rglob("*.pkl"))
        for path in candidates:
            try:
                loaded = joblib.load(path)
            except Exception:
                continue
            if hasattr(loaded, "predict"):
                self.estimator = loaded
                return
        raise ModelError(
            f"The sandbox cannot load this model for Clarify (image family {self.family}): it "
            "scores XGBoost, Linear Learner and scikit-learn estimators saved with joblib."
        )

    def scores(self, features: Any) -> Any:
        import numpy as np

        matrix = np.asarray(features, dtype=float)
        if self.booster is not None:
            import xgboost as xgb

            out = self.booster.predict(xgb.DMatrix(matrix))
            return out if out.ndim == 1 else out.argmax(axis=1).astype(float)
        if hasattr(self.estimator, "predict_proba"):
            proba = self.estimator.predict_proba(matrix)
            if proba.shape[1] == 2:
                return proba[:, 1]
            return proba.argmax(axis=1).astype(float)
        return np.asarray(self.estimator.predict(matrix), dtype=float)

    def contributions(self, features: Any) -> Any | None:
        """TreeSHAP values (rows × features+1, the last column the bias) for a booster."""
        if self.booster is None:
            return None
        import numpy as np
        import xgboost as xgb

        return self.booster.predict(xgb.DMatrix(np.asarray(features, dtype=float)),
                                    pred_contribs=True)  # fmt: skip
