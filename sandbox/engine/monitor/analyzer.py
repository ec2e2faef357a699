"""The Model Monitor analyzer container (`sagemaker-model-monitor-analyzer`), without Docker.

Driven by its environment as the real one is: `dataset_format`, `dataset_source`,
`output_path`, `baseline_constraints`, `baseline_statistics`, `analysis_type` (MODEL_QUALITY
for model quality), `problem_type`, `inference_attribute`, `probability_attribute`,
`probability_threshold_attribute`, `ground_truth_attribute`, `publish_cloudwatch_metrics`,
`start_time`/`end_time` (the window of captured data a scheduled run looks at).

Writes statistics.json, constraints.json (a baseline: no baseline given) and
constraint_violations.json (a run against a baseline) to output_path, and CloudWatch metric
data to /opt/ml/output/metrics/cloudwatch/metrics.json for the platform to publish.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sandbox.engine.monitor import checks, model_quality, stats
from sandbox.engine.monitor.capture import (
    DataError,
    capture_frame,
    captured_records,
    ground_truth,
    read_table,
)

log = logging.getLogger("analyzer")
OPT_ML = "/opt/ml"


def _env(name: str, default: str | None = None) -> str | None:
    """The container's settings: lower-case environment variables, as the real analyzer's."""
    return os.environ.get(name, default)


class _Paths:
    def __init__(self, root: Path) -> None:
        self.root = root

    def local(self, virtual: str) -> Path:
        if virtual == OPT_ML or virtual.startswith(OPT_ML + "/"):
            return self.root / virtual[len(OPT_ML) :].lstrip("/")
        return Path(virtual)


def _time(name: str) -> datetime | None:
    raw = os.environ.get(name)
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def _json(paths: _Paths, env: str) -> dict[str, Any] | None:
    raw = os.environ.get(env)
    if not raw:
        return None
    path = paths.local(raw)
    if not path.exists():
        raise DataError(f"The {env.replace('_', ' ')} file {raw} is not in the job's inputs.")
    return json.loads(path.read_text())


def _column(frame: Any, attribute: str | None, role: str) -> Any:
    if attribute is None or attribute == "":
        raise DataError(f"Model quality needs the {role} (environment {role}).")
    if attribute in frame.columns:
        return frame[attribute]
    if str(attribute).isdigit() and int(attribute) < frame.shape[1]:
        return frame.iloc[:, int(attribute)]
    raise DataError(
        f"The {role} '{attribute}' is not a column of the data ({', '.join(map(str, frame.columns[:20]))})."
    )


def _load(paths: _Paths, names: list[str] | None) -> tuple[Any, list[dict[str, Any]] | None]:
    """(table, capture records or None)."""
    dataset_format = json.loads(_env("dataset_format") or '{"csv": {"header": true}}')
    source = paths.local(_env("dataset_source", "/opt/ml/processing/input"))
    if "sagemakerCaptureJson" in dataset_format:
        records = captured_records(source, _time("start_time"), _time("end_time"))
        if not records:
            raise DataError("Job inputs had no data: no captured requests in the analysis window.")
        return capture_frame(records, names), records
    return read_table(source, dataset_format), None


def _model_quality(
    paths: _Paths, frame: Any, records: list[dict[str, Any]] | None
) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    problem = _env("problem_type", "")
    if records is not None:  # a scheduled run: merge captured predictions with ground truth
        truth = ground_truth(paths.local(_env("ground_truth_source",
                                                         "/opt/ml/processing/groundtruth")))  # fmt: skip
        labels = []
        keep = []
        position = 0
        for record in records:
            event = (record.get("eventMetadata") or {}).get("eventId")
            rows = len(capture_frame([record]))
            for _ in range(rows):
                if event is not None and str(event) in truth:
                    labels.append(truth[str(event)])
                    keep.append(position)
                position += 1
        if not keep:
            raise DataError(
                "Job inputs had no data: no captured request has ground truth (merge by eventId)."
            )
        frame = frame.iloc[keep].reset_index(drop=True)
        frame["groundTruthLabel"] = labels
        truth_column = frame["groundTruthLabel"]
    else:
        truth_column = _column(frame, _env("ground_truth_attribute"), "ground_truth_attribute")
    truth_values = pd.to_numeric(truth_column, errors="coerce").to_numpy(dtype=float)
    scores = None
    threshold = float(_env("probability_threshold_attribute") or 0.5)
    if _env("probability_attribute"):
        scores = pd.to_numeric(_column(frame, str(_env("probability_attribute")),
                                       "probability_attribute"), errors="coerce").to_numpy(float)  # fmt: skip
    if _env("inference_attribute"):
        predicted = pd.to_numeric(_column(frame, str(_env("inference_attribute")),
                                          "inference_attribute"), errors="coerce").to_numpy(float)  # fmt: skip
    elif scores is not None:
        predicted = scores
    else:
        raise DataError("Model quality needs inference_attribute or probability_attribute.")
    if problem == "BinaryClassification":
        if scores is None and ((predicted > 0) & (predicted < 1)).any():
            scores = predicted
        if scores is not None:
            predicted = (scores > threshold).astype(float)
        truth_values = truth_values.astype(int)
        predicted = predicted.astype(int)
    elif problem == "MulticlassClassification":
        truth_values, predicted = truth_values.astype(int), predicted.astype(int)
    ok = ~np.isnan(truth_values.astype(float)) & ~np.isnan(predicted.astype(float))
    return model_quality.statistics(problem, truth_values[ok], predicted[ok],
                                    None if scores is None else scores[ok])  # fmt: skip


def _metrics(
    drift: dict[str, float], frame: Any, stats_doc: dict[str, Any]
) -> list[dict[str, Any]]:
    endpoint = _env("sagemaker_endpoint_name")
    schedule = _env("sagemaker_monitoring_schedule_name")
    dims = [{"Name": "Endpoint", "Value": endpoint}] if endpoint else []
    if schedule:
        dims.append({"Name": "MonitoringSchedule", "Value": schedule})
    stamp = (_time("end_time") or datetime.now(UTC)).isoformat()
    data = []
    for feature in stats_doc.get("features", []):
        name = feature["name"]
        block = feature.get("numerical_statistics") or feature.get("string_statistics") or {}
        common = block.get("common", {})
        total = common.get("num_present", 0) + common.get("num_missing", 0)
        data.append({"MetricName": f"feature_non_null_{name}", "Timestamp": stamp, "Dimensions": dims,
                     "Value": common.get("num_present", 0) / total if total else 0.0})  # fmt: skip
        if "numerical_statistics" in feature and common.get("num_present"):
            data.append({"MetricName": f"feature_data_{name}", "Timestamp": stamp, "Dimensions": dims,
                         "StatisticValues": {"SampleCount": float(common["num_present"]),
                                             "Sum": block["sum"], "Minimum": block["min"],
                                             "Maximum": block["max"]}})  # fmt: skip
        if name in drift:
            data.append({"MetricName": f"feature_baseline_drift_{name}", "Timestamp": stamp,
                         "Dimensions": dims, "Value": drift[name]})  # fmt: skip
    return data


def analyze(root: Path) -> dict[str, Any]:
    paths = _Paths(root)
    output = paths.local(_env("output_path", "/opt/ml/processing/output"))
    output.mkdir(parents=True, exist_ok=True)
    baseline_constraints = _json(paths, "baseline_constraints")
    baseline_statistics = _json(paths, "baseline_statistics")
    names = [f["name"] for f in (baseline_constraints or {}).get("features", [])] or None
    frame, records = _load(paths, names)
    log.info("Read %d records with %d columns", len(frame), frame.shape[1])
    summary: dict[str, Any] = {"violations": []}
    metric_data: list[dict[str, Any]] = []
    if _env("analysis_type") == "MODEL_QUALITY":
        problem = _env("problem_type", "")
        doc = _model_quality(paths, frame, records)
        (output / "statistics.json").write_text(json.dumps(doc, indent=2))
        if baseline_constraints is None:
            (output / "constraints.json").write_text(
                json.dumps(model_quality.constraints(problem, doc), indent=2)
            )
        else:
            summary["violations"] = model_quality.check(problem, doc, baseline_constraints)
        section = doc.get(model_quality.SECTIONS[problem][0], {})
        for name, value in section.items():
            if isinstance(value, dict) and "value" in value:
                metric_data.append({"MetricName": name, "Value": float(value["value"]),
                                    "Timestamp": (_time("end_time") or datetime.now(UTC)).isoformat(),
                                    "Dimensions": _metric_dims()})  # fmt: skip
    else:
        doc = stats.statistics(frame)
        (output / "statistics.json").write_text(json.dumps(doc, indent=2))
        if baseline_constraints is None:
            (output / "constraints.json").write_text(json.dumps(stats.constraints(doc), indent=2))
        else:
            summary["violations"], drift = checks.check(
                frame, doc, baseline_constraints, baseline_statistics
            )
            metric_data = _metrics(drift, frame, doc)
    if baseline_constraints is not None:
        (output / "constraint_violations.json").write_text(
            json.dumps({"violations": summary["violations"]}, indent=2)
        )
    if _env("publish_cloudwatch_metrics", "Disabled") == "Enabled" and metric_data:
        folder = root / "output" / "metrics" / "cloudwatch"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "metrics.json").write_text(json.dumps(metric_data))
    return summary


def _metric_dims() -> list[dict[str, str]]:
    dims = []
    if _env("sagemaker_endpoint_name"):
        dims.append({"Name": "Endpoint", "Value": str(_env("sagemaker_endpoint_name"))})
    if _env("sagemaker_monitoring_schedule_name"):
        dims.append({"Name": "MonitoringSchedule",
                     "Value": str(_env("sagemaker_monitoring_schedule_name"))})  # fmt: skip
    return dims


def main(argv: list[str]) -> int:
    logging.basicConfig(stream=sys.stdout, level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")  # fmt: skip
    root = Path(argv[0])
    failure = root / "output" / "failure"
    failure.parent.mkdir(parents=True, exist_ok=True)
    try:
        summary = analyze(root)
    except (DataError, ValueError, KeyError) as exc:
        log.error("%s", exc)
        failure.write_text(f"ClientError: {exc}")
        return 1
    except Exception as exc:
        log.exception("analysis failed")
        failure.write_text(f"AlgorithmError: {type(exc).__name__}: {exc}")
        return 1
    count = len(summary["violations"])
    message = (
        f"CompletedWithViolations: Job completed successfully with {count} violations."
        if count
        else "Completed: Job completed successfully with no violations."
    )
    (root / "output" / "message").write_text(message)
    log.info("%s", message)
    return 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    os._exit(code)
