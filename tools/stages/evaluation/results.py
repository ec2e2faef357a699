"""The results of Clarify and Model Monitor baseline jobs, read from their output in S3:
the bias metrics table and feature importance (analysis.json), the baseline's statistics and
suggested constraints (statistics.json, constraints.json)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field

from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.errors import ToolError
from tools.core.results import ToolResult
from tools.core.validators import SageMakerName, parse_s3_uri

# A difference metric (in [-1, 1]) this far from 0, or DI outside [0.8, 1.25] (the four-fifths
# rule), is worth a look; Clarify leaves the judgement to the user, so these are flags only.
DIFFERENCE_FLAG = 0.1
DI_RANGE = (0.8, 1.25)
_DIFFERENCES = {"CI", "DPL", "DPPL", "AD", "DAR", "DCA", "DCR", "DRR", "RD", "SD", "CDDL", "CDDPL"}


class JobResultArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    job_name: Annotated[SageMakerName, Field(description="The Clarify or baseline processing job")]


def _finished_output(ctx: ToolContext, job_name: str) -> tuple[dict[str, Any], str | None]:
    """(the job's description, its output prefix once Completed, else None)."""
    job = ctx.client("sagemaker").describe_processing_job(ProcessingJobName=job_name)
    outputs = (job.get("ProcessingOutputConfig") or {}).get("Outputs") or []
    uri = next((o["S3Output"]["S3Uri"] for o in outputs if "S3Output" in o), None)
    if job.get("ProcessingJobStatus") != "Completed":
        return dict(job), None
    return dict(job), uri.rstrip("/") if uri else None


def _read_json(ctx: ToolContext, uri: str) -> dict[str, Any] | None:
    bucket, key = parse_s3_uri(uri)
    try:
        body = ctx.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError:
        return None
    return json.loads(body)


def _not_ready(job: dict[str, Any], name: str) -> ToolResult:
    status = job.get("ProcessingJobStatus")
    text = f"{name} is {status}; its results are written when it completes."
    if job.get("FailureReason"):
        text = f"{name} {status}: {job['FailureReason']}"
    return ToolResult(text, {"job_name": name, "status": status, "rows": []})


def _flag(name: str, value: Any) -> str:
    if not isinstance(value, (int, float)):
        return ""
    if name == "DI" and not DI_RANGE[0] <= value <= DI_RANGE[1]:
        return "outside 0.8–1.25"
    if name in _DIFFERENCES and abs(value) > DIFFERENCE_FLAG:
        return "large"
    return ""


def bias_rows(analysis: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for key, stage in (("pre_training_bias_metrics", "pre-training"),
                       ("post_training_bias_metrics", "post-training")):  # fmt: skip
        section = analysis.get(key) or {}
        for facet, groups in (section.get("facets") or {}).items():
            for group in groups:
                for metric in group.get("metrics", []):
                    value = metric.get("value")
                    rows.append({
                        "stage": stage, "facet": f"{facet}={group.get('value_or_threshold')}",
                        "metric": metric.get("name"),
                        "value": round(value, 4) if isinstance(value, float) else value,
                        "flag": _flag(metric.get("name", ""), value) or ("error" if metric.get("error") else ""),
                        "meaning": metric.get("error") or metric.get("description"),
                    })  # fmt: skip
    return rows


@tool(
    name="clarify_get_results",
    stage="evaluation",
    risk="read",
    operations=("sagemaker:DescribeProcessingJob", "s3:GetObject"),
    phrases=(
        "show the bias report",
        "clarify results",
        "what did clarify find",
        "which features matter",
    ),
)
def clarify_get_results(ctx: ToolContext, args: JobResultArgs) -> ToolResult:
    """Bias metrics (per facet group) and SHAP feature importance from a finished Clarify job's analysis.json."""
    job, output = _finished_output(ctx, args.job_name)
    if output is None:
        return _not_ready(job, args.job_name)
    analysis = _read_json(ctx, f"{output}/analysis.json")
    if analysis is None:
        raise ToolError(f"{args.job_name} completed but wrote no analysis.json under {output}/")
    rows = bias_rows(analysis)
    shap = ((analysis.get("explanations") or {}).get("kernel_shap") or {}).get("label0") or {}
    ranked = sorted((shap.get("global_shap_values") or {}).items(), key=lambda kv: -abs(kv[1]))
    lines: list[str] = []
    for key, label in (("pre_training_bias_metrics", "Pre-training"),
                       ("post_training_bias_metrics", "Post-training")):  # fmt: skip
        section = analysis.get(key)
        if not section:
            continue
        for facet in sorted({r["facet"] for r in rows if r["stage"].startswith(label.lower())}):
            group = [r for r in rows if r["facet"] == facet and r["stage"].startswith(label.lower())
                     and r["value"] is not None]  # fmt: skip
            group.sort(key=lambda r: (not r["flag"], r["metric"]))
            shown = ", ".join(f"{r['metric']} {r['value']}" + (f" ({r['flag']})" if r["flag"] else "")
                              for r in group)  # fmt: skip
            lines.append(
                f"{label} bias of '{section.get('label')}' (positive "
                f"{section.get('label_value_or_threshold')}) for {facet}: {shown}."
            )
    if ranked:
        lines.append(
            "Feature importance (mean |SHAP|): "
            + ", ".join(f"{n} {v:.3f}" for n, v in ranked[:8])
            + "."
        )
    head = f"Clarify job {args.job_name}"
    lines = [f"{head} — {lines[0]}" if lines else f"{head} found nothing to report.", *lines[1:]]
    lines.append(f"Results: {output}/ (analysis.json, report.html).")
    data = {"job_name": args.job_name, "output": output, "rows": rows,
            "shap": [{"feature": n, "importance": round(v, 4)} for n, v in ranked]}  # fmt: skip
    if not rows and ranked:
        data["rows"] = data["shap"]
    return ToolResult("\n".join(lines), data)


def baseline_rows(statistics: dict[str, Any], constraints: dict[str, Any]) -> list[dict[str, Any]]:
    limits = {f["name"]: f for f in constraints.get("features", [])}
    rows = []
    for feature in statistics.get("features", []):
        block = feature.get("numerical_statistics") or feature.get("string_statistics") or {}
        common = block.get("common", {})
        total = common.get("num_present", 0) + common.get("num_missing", 0)
        row: dict[str, Any] = {"feature": feature["name"], "type": feature.get("inferred_type"),
                               "complete": round(common.get("num_present", 0) / total, 3) if total else None}  # fmt: skip
        if "numerical_statistics" in feature:
            row.update(
                mean=round(block.get("mean", 0.0), 4), min=block.get("min"), max=block.get("max")
            )
        else:
            buckets = block.get("distribution", {}).get("categorical", {}).get("buckets", [])
            row["values"] = ", ".join(str(b["value"]) for b in buckets[:5]) + (
                " …" if len(buckets) > 5 else ""
            )
        limit = limits.get(feature["name"], {})
        rules = []
        if (limit.get("num_constraints") or {}).get("is_non_negative"):
            rules.append("non-negative")
        if "domains" in (limit.get("string_constraints") or {}):
            rules.append(f"{len(limit['string_constraints']['domains'])} known values")
        row["constraints"] = ", ".join(rules)
        rows.append(row)
    return rows


@tool(
    name="monitor_get_baseline",
    stage="evaluation",
    risk="read",
    operations=("sagemaker:DescribeProcessingJob", "s3:GetObject"),
    phrases=("show the baseline", "baseline statistics", "what constraints were suggested"),
)
def monitor_get_baseline(ctx: ToolContext, args: JobResultArgs) -> ToolResult:
    """A finished baseline job's statistics and suggested constraints (per feature), the reference for drift monitoring."""
    job, output = _finished_output(ctx, args.job_name)
    if output is None:
        return _not_ready(job, args.job_name)
    statistics = _read_json(ctx, f"{output}/statistics.json")
    constraints = _read_json(ctx, f"{output}/constraints.json")
    if statistics is None or constraints is None:
        raise ToolError(
            f"{args.job_name} completed but wrote no statistics.json/constraints.json under {output}/"
        )
    rows = baseline_rows(statistics, constraints)
    drift = (constraints.get("monitoring_config") or {}).get("distribution_constraints") or {}
    features = ", ".join(f"{r['feature']} {r['type']}" for r in rows[:12])
    text = (
        f"Baseline {args.job_name}: {statistics.get('dataset', {}).get('item_count')} rows, "
        f"{len(rows)} features ({features}). "
        f"Drift is flagged above distance {drift.get('comparison_threshold', 0.1)}. "
        f"Constraints: {output}/constraints.json — pass it and statistics.json to monitor_create_schedule."
    )
    return ToolResult(
        text,
        {"job_name": args.job_name, "rows": rows, "statistics": f"{output}/statistics.json",
         "constraints": f"{output}/constraints.json"},
    )  # fmt: skip
