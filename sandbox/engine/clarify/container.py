"""The SageMaker Clarify processing container, without Docker:
`python -m sandbox.engine.clarify.container <job dir>`.

Reads /opt/ml/processing/input/config/analysis_config.json and the dataset under
/opt/ml/processing/input/data (both mapped to the job directory), computes what `methods` asks
for (pre_training_bias, post_training_bias, shap), and writes analysis.json in Clarify's layout,
a readable report (`<report name>.html`) and, when asked, explanations_shap/out.csv to
/opt/ml/processing/output. A problem the user can fix is written to /opt/ml/output/failure as a
ClientError and the process exits 1.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from sandbox.engine.clarify import bias, shap
from sandbox.engine.clarify.dataset import (
    ConfigError,
    column,
    facet_groups,
    load_config,
    load_dataset,
    positive_mask,
)

log = logging.getLogger("analyzer")


def _features(frame: Any, config: dict[str, Any], skip: list[str]) -> tuple[list[str], Any]:
    """The columns the model sees (all but label, predicted label, excluded ones) as numbers."""
    import numpy as np
    import pandas as pd

    excluded = set(skip)
    for name in config.get("excluded_columns") or []:
        excluded.add(column(frame, name, "excluded"))
    names = [c for c in frame.columns if c not in excluded]
    numbers = frame[names].apply(pd.to_numeric, errors="coerce")
    bad = [c for c in names if numbers[c].isna().all() and frame[c].notna().any()]
    if bad:
        raise ConfigError(
            f"Column(s) {', '.join(bad)} are not numeric, so the model cannot be called with "
            "them; add them to excluded_columns or encode them first."
        )
    return names, numbers.to_numpy(dtype=np.float64)


def _predictions(frame: Any, config: dict[str, Any], spec: Path | None, label: str | None) -> Any:
    """The model's scores for every row (the shadow endpoint's answers)."""
    if spec is None or not spec.exists():
        raise ConfigError(
            "Post-training bias needs predictions: set predicted_label (a column of the dataset)"
            " or predictor.model_name in the analysis config."
        )
    from sandbox.engine.clarify.predictor import Predictor

    skip = [label] if label else []
    _, features = _features(frame, config, skip)
    return Predictor(spec).scores(features)


def _bias_section(
    frame: Any, config: dict[str, Any], stage: str, predicted: Any | None
) -> dict[str, Any]:
    import numpy as np

    label = column(frame, config.get("label"), "label")
    label_mask, label_value = positive_mask(frame[label], config.get("label_values_or_threshold"))
    group = None
    if config.get("group_variable") is not None:
        group = frame[column(frame, config["group_variable"], "group_variable")].to_numpy()
    methods = config["methods"][f"{stage}_bias"].get("methods", "all")
    catalog = bias.PRE_TRAINING if stage == "pre_training" else bias.POST_TRAINING
    metrics = bias.select(catalog, methods)
    facets: dict[str, list[dict[str, Any]]] = {}
    for facet in config.get("facet") or []:
        name = column(frame, facet.get("name_or_index"), "facet")
        values = facet.get("value_or_threshold")
        values = values if isinstance(values, list) or values is None else [values]
        drop = {name, label}
        if config.get("predicted_label") is not None:
            drop.add(column(frame, config["predicted_label"], "predicted_label"))
        others = [c for c in frame.columns if c not in drop]
        numeric = frame[others].select_dtypes(include=[np.number, bool]).to_numpy(dtype=float)
        entries = []
        for found in facet_groups(frame[name], values):
            inputs = {"facet": found.mask, "label": label_mask, "group": group,
                      "predicted": predicted, "features": numeric}  # fmt: skip
            entries.append({
                "value_or_threshold": found.value_or_threshold,
                "metrics": [bias.run(m, inputs) for m in metrics],
            })  # fmt: skip
        facets[name] = entries
    if not facets:
        raise ConfigError("The analysis config names no facet (facet: [{name_or_index: ...}]).")
    return {"label": label, "facets": facets, "label_value_or_threshold": label_value}


def _predicted_mask(frame: Any, config: dict[str, Any], spec: Path | None) -> Any:
    """Positive predicted labels: from the predicted_label column, else the model's scores
    against probability_threshold (0.5 by default)."""
    import numpy as np

    label = column(frame, config.get("label"), "label")
    values = config.get("label_values_or_threshold")
    if config.get("predicted_label") is not None:
        predicted = frame[column(frame, config["predicted_label"], "predicted_label")]
        mask, _ = positive_mask(predicted, values, "predicted label")
        return mask
    scores = np.asarray(_predictions(frame, config, spec, label), dtype=float)
    threshold = float(config.get("probability_threshold", 0.5))
    is_probability = ((scores >= 0) & (scores <= 1)).all() and not set(np.unique(scores)) <= {0, 1}
    if is_probability:
        return scores > threshold
    import pandas as pd

    mask, _ = positive_mask(pd.Series(scores, name="predicted_label"), values, "predicted label")
    return mask


def _explanations(
    frame: Any, config: dict[str, Any], spec: Path | None, output: Path
) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    settings = config["methods"]["shap"]
    label = None
    if config.get("label") is not None:
        label = column(frame, config["label"], "label")
    skip = [c for c in [label] if c]
    if config.get("predicted_label") is not None:
        skip.append(column(frame, config["predicted_label"], "predicted_label"))
    names, features = _features(frame, config, skip)
    if spec is None or not spec.exists():
        raise ConfigError("SHAP needs a model: set predictor.model_name in the analysis config.")
    from sandbox.engine.clarify.predictor import Predictor

    model = Predictor(spec)
    seed = int(settings.get("seed", 0) or 0)
    given = settings.get("baseline")
    if isinstance(given, str):
        given = _read_baseline(given)
    base = shap.baseline_rows(features, given, settings.get("num_clusters"), seed)
    contributions = model.contributions(features)
    if contributions is not None:  # TreeSHAP (margin space), XGBoost's own
        local, expected = contributions[:, :-1], float(np.mean(contributions[:, -1]))
        method = "TreeSHAP (xgboost pred_contribs, log-odds for logistic objectives)"
    else:
        local, expected = shap.kernel_shap(model.scores, features, base,
                                           settings.get("num_samples"), seed)  # fmt: skip
        method = "KernelSHAP"
    log.info("Computed SHAP values for %d records with %s", len(features), method)
    global_values = shap.aggregate(local, str(settings.get("agg_method", "mean_abs")))
    if settings.get("save_local_shap_values", True):
        folder = output / "explanations_shap"
        folder.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(local, columns=names).to_csv(folder / "out.csv", index=False)
    if settings.get("baseline") is None:
        folder = output / "explanations_shap"
        folder.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(base, columns=names).to_csv(folder / "baseline.csv", index=False, header=False)
    return {
        "kernel_shap": {
            "label0": {
                "global_shap_values": {
                    n: float(v) for n, v in zip(names, global_values, strict=True)
                },
                "expected_value": expected,
            }
        },
        "_sandbox_method": method,
    }


def _read_baseline(uri: str) -> Any:
    import io

    import boto3
    import pandas as pd

    bucket, _, key = uri[5:].partition("/")
    body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    return pd.read_csv(io.BytesIO(body), header=None).to_numpy(dtype=float)


def analyze(root: Path) -> dict[str, Any]:
    processing = root / "processing"
    config = load_config(processing / "input" / "config")
    frame = load_dataset(processing / "input" / "data", config)
    log.info("Read the dataset: %d rows, %d columns", len(frame), len(frame.columns))
    spec = root / "clarify-model.json"
    methods = config["methods"]
    result: dict[str, Any] = {"version": "1.0"}
    if "pre_training_bias" in methods:
        result["pre_training_bias_metrics"] = _bias_section(frame, config, "pre_training", None)
        log.info("Computed pre-training bias metrics")
    if "post_training_bias" in methods:
        predicted = _predicted_mask(frame, config, spec if spec.exists() else None)
        result["post_training_bias_metrics"] = _bias_section(
            frame, config, "post_training", predicted
        )
        log.info("Computed post-training bias metrics")
    output = processing / "output"
    output.mkdir(parents=True, exist_ok=True)
    method_note = None
    if "shap" in methods:
        explanations = _explanations(frame, config, spec if spec.exists() else None, output)
        method_note = explanations.pop("_sandbox_method")
        result["explanations"] = explanations
    (output / "analysis.json").write_text(json.dumps(result, indent=2))
    from sandbox.engine.clarify.report import write_report

    name = (methods.get("report") or {}).get("name", "report")
    write_report(output / f"{name}.html", result, methods.get("report") or {}, method_note)
    return result


def main(argv: list[str]) -> int:
    logging.basicConfig(stream=sys.stdout, level=logging.INFO,
                        format="%(levelname)s:%(name)s:%(message)s")  # fmt: skip
    root = Path(argv[0])
    failure = root / "output" / "failure"
    failure.parent.mkdir(parents=True, exist_ok=True)
    try:
        analyze(root)
    except ConfigError as exc:
        log.error("%s", exc)
        failure.write_text(f"ClientError: {exc}")
        return 1
    except Exception as exc:
        log.exception("Clarify analysis failed")
        failure.write_text(f"AlgorithmError: {type(exc).__name__}: {exc}")
        return 1
    log.info("Analysis complete; results written to /opt/ml/processing/output")
    return 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    os._exit(code)
