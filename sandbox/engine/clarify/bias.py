"""Bias metrics as SageMaker Clarify defines them (amazon-sagemaker-clarify's `smclarify`),
written afresh: each metric takes boolean masks and returns a float, or raises ValueError with
the reason Clarify reports in the metric's `error` field.

Conventions (Clarify's): `facet` marks the sensitive group d (True) against the rest a (False);
`label` marks positive observed labels, `predicted` positive predicted labels. Distribution
metrics (KL, JS, LP, TVD, KS) compare the label distributions of a and d over the values both
groups hold (Clarify's "aligned non-zero" pdfs). Results are floats; ±inf is written "Infinity".
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

INFINITY = float("inf")
FT_DEFAULT_NEIGHBORS = 5
FT_MIN_NEIGHBORS = 1
FT_SAMPLES_THRESHOLD = 9


def divide(a: float, b: float) -> float:
    """a / b with Clarify's rules: 0/0 = 0, x/0 = ±inf."""
    if b == 0:
        if a == 0:
            return 0.0
        return -INFINITY if a < 0 else INFINITY
    return a / b


def _count(mask: Any) -> int:
    return int(mask.sum())


def _require_groups(facet: Any, name: str = "") -> None:
    prefix = f"{name}: " if name else ""
    if _count(facet) == 0:
        raise ValueError(f"{prefix}Facet set is empty")
    if _count(~facet) == 0:
        raise ValueError(f"{prefix}Negated Facet set is empty")


# --- pre-training --------------------------------------------------------------------------
def class_imbalance(facet: Any) -> float:
    """CI = (n_a - n_d) / (n_a + n_d)."""
    n_d, n_a = _count(facet), _count(~facet)
    if n_a == 0:
        raise ValueError(
            "CI: negated facet set is empty. Check that x[~facet] has non-zero length."
        )
    if n_d == 0:
        raise ValueError("CI: facet set is empty. Check that x[facet] has non-zero length.")
    return (n_a - n_d) / (n_a + n_d)


def positive_proportion_difference(facet: Any, positive: Any) -> float:
    """DPL (and DPPL with predictions): q_a - q_d, the share of positives in each group."""
    n_a, n_d = _count(~facet), _count(facet)
    if n_a == 0:
        raise ValueError("Negative facet set is empty.")
    if n_d == 0:
        raise ValueError("Facet set is empty.")
    return _count(~facet & positive) / n_a - _count(facet & positive) / n_d


def _aligned_pdfs(label: Any, facet: Any) -> tuple[list[float], list[float]]:
    """The label distributions of a and d over the values present in both (non-zero in both)."""

    def pdf(values: list[Any]) -> dict[Any, float]:
        counts: dict[Any, int] = {}
        for value in values:
            counts[value] = counts.get(value, 0) + 1
        total = sum(counts.values())
        return {key: count / total for key, count in counts.items()}

    labels = list(label)
    flags = list(facet)
    p_a = pdf([v for v, f in zip(labels, flags, strict=True) if not f])
    p_d = pdf([v for v, f in zip(labels, flags, strict=True) if f])
    keys = sorted(set(p_a) & set(p_d), key=lambda k: (str(type(k)), k))
    keys = [k for k in keys if p_a.get(k, 0) > 0 and p_d.get(k, 0) > 0]
    if not keys:
        raise ValueError("No instance of common facet found, dataset may be too small")
    return [p_a[k] for k in keys], [p_d[k] for k in keys]


def kl_divergence(label: Any, facet: Any) -> float:
    """KL(P_a || P_d) = sum_x P_a(x) log(P_a(x) / P_d(x))."""
    p_a, p_d = _aligned_pdfs(label, facet)
    return float(sum(a * math.log(a / d) for a, d in zip(p_a, p_d, strict=True)))


def js_divergence(label: Any, facet: Any) -> float:
    """JS = ½ [KL(P_a || P) + KL(P_d || P)], P = ½ (P_a + P_d)."""
    p_a, p_d = _aligned_pdfs(label, facet)
    mid = [(a + d) / 2 for a, d in zip(p_a, p_d, strict=True)]
    kl_a = sum(a * math.log(a / m) for a, m in zip(p_a, mid, strict=True))
    kl_d = sum(d * math.log(d / m) for d, m in zip(p_d, mid, strict=True))
    return float(0.5 * (kl_a + kl_d))


def _lp(label: Any, facet: Any, order: float) -> float:
    p_a, p_d = _aligned_pdfs(label, facet)
    gaps = [abs(a - d) for a, d in zip(p_a, p_d, strict=True)]
    if order == INFINITY:
        return float(max(gaps))
    return float(sum(g**order for g in gaps) ** (1 / order))


def lp_norm(label: Any, facet: Any) -> float:
    """LP = the L2 norm of P_a - P_d."""
    return _lp(label, facet, 2)


def total_variation_distance(label: Any, facet: Any) -> float:
    """TVD = ½ L1(P_a, P_d)."""
    return 0.5 * _lp(label, facet, 1)


def kolmogorov_smirnov(label: Any, facet: Any) -> float:
    """KS = max |P_a - P_d|."""
    return _lp(label, facet, INFINITY)


def conditional_demographic_disparity(facet: Any, positive: Any, group: Any) -> float:
    """CDDL (CDDPL with predictions): the group-size-weighted mean over subgroups i of
    DD_i = (d's share of the rejected in i) - (d's share of the accepted in i)."""
    if group is None or len(group) == 0:
        raise ValueError("Group variable is empty or not provided")
    if _count(positive) == 0:
        raise ValueError("No positive labels in set")
    if _count(~positive) == 0:
        raise ValueError("No negative labels in set")
    import numpy as np

    groups = np.asarray(group)
    weighted = 0.0
    total = 0
    for value in sorted(set(groups.tolist()), key=str):
        in_group = groups == value
        size = int(in_group.sum())
        accepted = _count(positive & in_group)
        rejected = _count(~positive & in_group)
        share_accepted = _count(positive & facet & in_group) / accepted if accepted else 0.0
        share_rejected = _count(~positive & facet & in_group) / rejected if rejected else 0.0
        weighted += size * (share_rejected - share_accepted)
        total += size
    return divide(weighted, total)


# --- post-training -------------------------------------------------------------------------
def disparate_impact(facet: Any, predicted: Any) -> float:
    """DI = q'_d / q'_a, the ratio of predicted-positive shares."""
    n_a, n_d = _count(~facet), _count(facet)
    if n_a == 0:
        raise ValueError("Negated facet set is empty")
    if n_d == 0:
        raise ValueError("Facet set is empty")
    return divide(_count(predicted & facet) / n_d, _count(predicted & ~facet) / n_a)


def _conditional_outcomes(facet: Any, label: Any, predicted: Any) -> tuple[float, float]:
    _require_groups(facet, "DCO")
    c_a = divide(_count(label & ~facet), _count(predicted & ~facet))
    c_d = divide(_count(label & facet), _count(predicted & facet))
    r_a = divide(_count(~label & ~facet), _count(~predicted & ~facet))
    r_d = divide(_count(~label & facet), _count(~predicted & facet))
    dca = 0.0 if c_a == c_d == INFINITY else c_a - c_d
    dcr = 0.0 if r_a == r_d == INFINITY else r_d - r_a
    return dca, dcr


def conditional_acceptance_difference(facet: Any, label: Any, predicted: Any) -> float:
    """DCA = n_a(1)/n'_a(1) - n_d(1)/n'_d(1)."""
    return _conditional_outcomes(facet, label, predicted)[0]


def conditional_rejection_difference(facet: Any, label: Any, predicted: Any) -> float:
    """DCR = n_d(0)/n'_d(0) - n_a(0)/n'_a(0)."""
    return _conditional_outcomes(facet, label, predicted)[1]


def _label_rates(facet: Any, label: Any, predicted: Any) -> tuple[float, float]:
    _require_groups(facet, "DLR")
    ar_a = divide(_count(label & predicted & ~facet), _count(predicted & ~facet))
    ar_d = divide(_count(label & predicted & facet), _count(predicted & facet))
    rr_a = divide(_count(~label & ~predicted & ~facet), _count(~predicted & ~facet))
    rr_d = divide(_count(~label & ~predicted & facet), _count(~predicted & facet))
    dar = 0.0 if ar_a == ar_d == INFINITY else ar_a - ar_d
    drr = 0.0 if rr_a == rr_d == INFINITY else rr_d - rr_a
    return dar, drr


def acceptance_rate_difference(facet: Any, label: Any, predicted: Any) -> float:
    """DAR = TP_a/n'_a(1) - TP_d/n'_d(1) (precision difference)."""
    return _label_rates(facet, label, predicted)[0]


def rejection_rate_difference(facet: Any, label: Any, predicted: Any) -> float:
    """DRR = TN_d/n'_d(0) - TN_a/n'_a(0)."""
    return _label_rates(facet, label, predicted)[1]


def _label_accuracy(facet: Any, label: Any, predicted: Any) -> tuple[float, float]:
    _require_groups(facet, "DLA")

    def rates(group: Any) -> tuple[float, float]:
        tp = _count(label & predicted & group)
        fn = _count(label & ~predicted & group)
        tn = _count(~label & ~predicted & group)
        fp = _count(~label & predicted & group)
        return divide(tp, tp + fn), divide(tn, tn + fp)

    rec_a, sp_a = rates(~facet)
    rec_d, sp_d = rates(facet)
    rd = 0.0 if rec_a == rec_d == INFINITY else rec_a - rec_d
    sd = 0.0 if sp_a == sp_d == INFINITY else sp_d - sp_a
    return rd, sd


def recall_difference(facet: Any, label: Any, predicted: Any) -> float:
    """RD = recall_a - recall_d."""
    return _label_accuracy(facet, label, predicted)[0]


def specificity_difference(facet: Any, label: Any, predicted: Any) -> float:
    """SD = specificity_d - specificity_a."""
    return _label_accuracy(facet, label, predicted)[1]


def accuracy_difference(facet: Any, label: Any, predicted: Any) -> float:
    """AD = accuracy_a - accuracy_d."""
    _require_groups(facet)

    def accuracy(group: Any) -> float:
        right = _count(label & predicted & group) + _count(~label & ~predicted & group)
        return divide(right, _count(group))

    acc_a, acc_d = accuracy(~facet), accuracy(facet)
    return 0.0 if acc_a == acc_d == INFINITY else acc_a - acc_d


def treatment_equality(facet: Any, label: Any, predicted: Any) -> float:
    """TE = FN_d/FP_d - FN_a/FP_a."""
    _require_groups(facet)
    tau_a = divide(_count(label & ~predicted & ~facet), _count(~label & predicted & ~facet))
    tau_d = divide(_count(label & ~predicted & facet), _count(~label & predicted & facet))
    return 0.0 if tau_a == tau_d == INFINITY else tau_d - tau_a


def _nearest_vote(train: Any, labels: Any, queries: Any, k: int) -> Any:
    """k-nearest-neighbour majority vote (Euclidean, uniform weights; a tie goes to the
    smaller label), as scikit-learn's KNeighborsClassifier answers."""
    import numpy as np

    distances = ((queries[:, None, :] - train[None, :, :]) ** 2).sum(axis=2)
    nearest = np.argsort(distances, axis=1, kind="stable")[:, :k]
    votes = labels[nearest].astype(int)
    return (votes.sum(axis=1) * 2 > k).astype(int)


def flip_test(features: Any, facet: Any, predicted: Any) -> float:
    """FT: a k-NN fitted on group a's rows and the model's predictions is asked about d's rows;
    FT = (flips to positive - flips to negative) / n_d, comparing the model with the k-NN."""
    import numpy as np

    _require_groups(facet)
    matrix = np.asarray(features, dtype=float)
    if matrix.ndim != 2 or matrix.shape[1] == 0:
        raise ValueError("FlipTest needs at least one numeric feature besides facet and label")
    rows_a, rows_d = matrix[~facet], matrix[facet]
    pred_a = np.asarray(predicted)[~facet].astype(int)
    pred_d = np.asarray(predicted)[facet].astype(int)
    neighbors = FT_DEFAULT_NEIGHBORS if len(rows_a) > FT_SAMPLES_THRESHOLD else FT_MIN_NEIGHBORS
    as_if_a = _nearest_vote(rows_a, pred_a, rows_d, min(neighbors, len(rows_a)))
    up = int(np.sum(pred_d > as_if_a))
    down = int(np.sum(pred_d < as_if_a))
    return divide(up - down, len(rows_d))


def generalized_entropy(label: Any, predicted: Any, alpha: float = 2.0) -> float:
    """GE (α = 2): benefit b_i = ŷ_i - y_i + 1; GE = Σ((b_i/mean b)^α - 1) / (n α (α-1))."""
    import numpy as np

    benefit = np.asarray(predicted, dtype=int) - np.asarray(label, dtype=int) + 1
    if len(benefit) == 0:
        raise ValueError("dataset must be non-empty")
    mean = benefit.mean()
    if mean == 0:
        raise ValueError(
            "All predicted labels are false negatives. There should be at least one prediction "
            "that is not false negative."
        )
    ratio = benefit / mean
    return float(((ratio**alpha) - 1).sum() / (len(benefit) * alpha * (alpha - 1)))


# --- registry --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Metric:
    name: str
    description: str
    needs: tuple[str, ...]  # which inputs: facet, label, predicted, group, features
    compute: Callable[..., float]


PRE_TRAINING = [
    Metric("CDDL", "Conditional Demographic Disparity in Labels (CDDL)", ("facet", "label", "group"),
           conditional_demographic_disparity),
    Metric("CI", "Class Imbalance (CI)", ("facet",), class_imbalance),
    Metric("DPL", "Difference in Positive Proportions in Labels (DPL)", ("facet", "label"),
           positive_proportion_difference),
    Metric("JS", "Jensen-Shannon Divergence (JS)", ("label", "facet"), js_divergence),
    Metric("KL", "Kullback-Liebler Divergence (KL)", ("label", "facet"), kl_divergence),
    Metric("KS", "Kolmogorov-Smirnov Distance (KS)", ("label", "facet"), kolmogorov_smirnov),
    Metric("LP", "L-p Norm (LP)", ("label", "facet"), lp_norm),
    Metric("TVD", "Total Variation Distance (TVD)", ("label", "facet"), total_variation_distance),
]  # fmt: skip

POST_TRAINING = [
    Metric("AD", "Accuracy Difference (AD)", ("facet", "label", "predicted"), accuracy_difference),
    Metric("CDDPL", "Conditional Demographic Disparity in Predicted Labels (CDDPL)",
           ("facet", "predicted", "group"), conditional_demographic_disparity),
    Metric("DAR", "Difference in Acceptance Rates (DAR)", ("facet", "label", "predicted"),
           acceptance_rate_difference),
    Metric("DCA", "Difference in Conditional Acceptance (DCA)", ("facet", "label", "predicted"),
           conditional_acceptance_difference),
    Metric("DCR", "Difference in Conditional Rejection (DCR)", ("facet", "label", "predicted"),
           conditional_rejection_difference),
    Metric("DI", "Disparate Impact (DI)", ("facet", "predicted"), disparate_impact),
    Metric("DPPL", "Difference in Positive Proportions in Predicted Labels (DPPL)",
           ("facet", "predicted"), positive_proportion_difference),
    Metric("DRR", "Difference in Rejection Rates (DRR)", ("facet", "label", "predicted"),
           rejection_rate_difference),
    Metric("FT", "Flip Test (FT)", ("features", "facet", "predicted"), flip_test),
    Metric("GE", "Generalized Entropy (GE)", ("label", "predicted"), generalized_entropy),
    Metric("RD", "Recall Difference (RD)", ("facet", "label", "predicted"), recall_difference),
    Metric("SD", "Specificity Difference (SD)", ("facet", "label", "predicted"),
           specificity_difference),
    Metric("TE", "Treatment Equality (TE)", ("facet", "label", "predicted"), treatment_equality),
]  # fmt: skip


def select(catalog: list[Metric], wanted: Any) -> list[Metric]:
    """`"all"` or a list of names (unknown names are an error, as Clarify's)."""
    if wanted in (None, "all", ["all"]):
        return list(catalog)
    names = [wanted] if isinstance(wanted, str) else list(wanted)
    known = {m.name for m in catalog}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(
            f"Invalid metric_name: metrics should be one of the registered metrics {sorted(known)}"
            f" (not {unknown})"
        )
    return [m for m in catalog if m.name in names]


def run(metric: Metric, inputs: dict[str, Any]) -> dict[str, Any]:
    """One metric's entry in analysis.json: name, description, value (or error)."""
    try:
        value = metric.compute(*(inputs[need] for need in metric.needs))
    except Exception as exc:  # Clarify records the error and goes on with the others
        return {"name": metric.name, "description": metric.description, "value": None,
                "error": str(exc)}  # fmt: skip
    if value in (INFINITY, -INFINITY):
        shown: Any = "Infinity" if value > 0 else "-Infinity"
    else:
        shown = float(value)
    return {"name": metric.name, "description": metric.description, "value": shown}
