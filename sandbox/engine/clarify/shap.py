"""SHAP explanations for the Clarify container: TreeSHAP for XGBoost boosters (xgboost's
`pred_contribs`), KernelSHAP for any other model (exact over all coalitions for up to 12
features, sampled coalitions with the Shapley kernel beyond that), against Clarify's baseline.

Global values aggregate the local ones per feature with the config's `agg_method`
(mean_abs, median, mean_sq), as Clarify reports them under `explanations.kernel_shap.label0`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import combinations
from typing import Any

EXACT_LIMIT = 12


def baseline_rows(features: Any, given: Any, num_clusters: int | None, seed: int = 0) -> Any:
    """Clarify's baseline: the rows given, else cluster centres of the dataset (k-means; one
    cluster is the mean row)."""
    import numpy as np

    if given is not None:
        rows = np.asarray(given, dtype=float)
        if rows.ndim == 1:
            rows = rows.reshape(1, -1)
        if rows.shape[1] != features.shape[1]:
            raise ValueError(
                f"Each SHAP baseline row needs {features.shape[1]} values (the model's features),"
                f" got {rows.shape[1]}."
            )
        return rows
    clusters = max(1, min(int(num_clusters or 1), len(features)))
    if clusters == 1:
        return np.nanmean(features, axis=0, keepdims=True)
    from sklearn.cluster import KMeans

    model = KMeans(n_clusters=clusters, n_init=3, random_state=seed).fit(np.nan_to_num(features))
    return model.cluster_centers_


def _shapley_weight(size: int, width: int) -> float:
    return (width - 1) / (math.comb(width, size) * size * (width - size))


def _coalitions(width: int, samples: int, rng: Any) -> tuple[Any, Any]:
    """(masks, kernel weights): every proper coalition when few features, else a sample whose
    sizes follow the Shapley kernel."""
    import numpy as np

    if width <= EXACT_LIMIT:
        masks = [
            [i in chosen for i in range(width)]
            for size in range(1, width)
            for chosen in combinations(range(width), size)
        ]
        weights = [_shapley_weight(sum(m), width) for m in masks]
        return np.asarray(masks, dtype=bool), np.asarray(weights)
    sizes = np.arange(1, width)
    size_weights = np.array([(width - 1) / (s * (width - s)) for s in sizes])
    size_weights /= size_weights.sum()
    chosen = rng.choice(sizes, size=samples, p=size_weights)
    masks = np.zeros((samples, width), dtype=bool)
    for row, size in enumerate(chosen):
        masks[row, rng.choice(width, size=size, replace=False)] = True
    return masks, np.ones(samples)


def kernel_shap(
    predict: Callable[[Any], Any], rows: Any, baseline: Any, num_samples: int | None, seed: int = 0
) -> tuple[Any, float]:
    """(local SHAP values rows × features, expected value) by weighted least squares with the
    efficiency constraint (the values of a row sum to f(row) - E[f(baseline)])."""
    import numpy as np

    rng = np.random.default_rng(seed)
    n, width = rows.shape
    expected = float(np.mean(predict(baseline)))
    if width == 1:
        return (predict(rows) - expected).reshape(-1, 1), expected
    samples = int(num_samples or (2 * width + 2048))
    masks, weights = _coalitions(width, samples, rng)
    k, b = len(masks), len(baseline)
    values = np.zeros((n, width))
    full = predict(rows)
    for i in range(n):
        # every coalition against every baseline row, scored in one call
        mixed = np.where(masks[:, None, :], rows[i][None, None, :], baseline[None, :, :])
        outputs = predict(mixed.reshape(k * b, width)).reshape(k, b).mean(axis=1)
        target = full[i] - expected
        # eliminate the last feature with the efficiency constraint
        y = outputs - expected - masks[:, -1] * target
        x = masks[:, :-1].astype(float) - masks[:, -1:].astype(float)
        weighted = x * weights[:, None]
        try:
            head = np.linalg.solve(weighted.T @ x, weighted.T @ y)
        except np.linalg.LinAlgError:
            head = np.linalg.lstsq(weighted.T @ x, weighted.T @ y, rcond=None)[0]
        values[i, :-1] = head
        values[i, -1] = target - head.sum()
    return values, expected


def aggregate(local: Any, method: str) -> Any:
    import numpy as np

    if method == "median":
        return np.median(local, axis=0)
    if method == "mean_sq":
        return np.mean(local**2, axis=0)
    return np.mean(np.abs(local), axis=0)
