"""prepare_training_data's pre-flight: the source can be read, the target column is there, and
the plan (what is dropped, how each column is encoded) is shown before approval."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tools.core.validators import parse_s3_uri
from tools.dataprep import core
from tools.dataprep.source import LOCAL_LIMIT_BYTES, SourceError, sample_table, source_objects
from tools.preflight.needs import InstanceNeed, Needs
from tools.preflight.probe import Probe, error_code
from tools.preflight.report import CheckResult, failed, passed, skipped
from tools.stages.shared.s3_reads import human_bytes


def plan_lines(plan: dict) -> tuple[list[str], list[str]]:
    """('customer_id: id-like …', …) dropped, ('state: one-hot (10 values)', …) encoded."""
    dropped = [f"{t['column']}: {t['reason']}" for t in plan["transforms"] if t["kind"] == "drop"]
    encoded = []
    for t in plan["transforms"]:
        kind = t["kind"]
        if kind == "onehot":
            other = " + other" if t.get("other") else ""
            encoded.append(f"{t['column']}: one-hot ({len(t['values'])} values{other})")
        elif kind == "ordinal":
            encoded.append(f"{t['column']}: ordinal ({len(t['values'])} values)")
        elif kind == "date":
            encoded.append(f"{t['column']}: date → {', '.join(t['parts'])}")
        elif kind == "boolean":
            encoded.append(f"{t['column']}: {'/'.join(t['true'])} → 1, else 0")
        elif kind == "numeric" and "fill" in t:
            encoded.append(f"{t['column']}: missing → median {core.format_cell(t['fill'])}")
    return dropped, encoded


def options_route(need: Any) -> str:
    return str(need.options.get("run_as", "auto"))


def processing_route_checks(probe: Probe, needs: Needs) -> list[CheckResult]:
    """Above the local limit a Processing job does the work: its role and instance are checked."""
    from tools.preflight.checks_capacity import check_offered, check_quotas
    from tools.preflight.checks_iam import check_role

    instance = (
        str(needs.prepare.options.get("instance_type", "ml.m5.xlarge"))
        if needs.prepare
        else "ml.m5.xlarge"
    )
    job = replace(needs, needs_role=True, instances=[InstanceNeed(instance, 1, "processing")])
    return check_role(probe, job) + check_offered(probe, job) + check_quotas(probe, job)


def check_prepare(probe: Probe, needs: Needs) -> list[CheckResult]:
    need = needs.prepare
    if need is None:
        return []
    subject = need.source_uri
    try:
        objects = probe.once(
            ("source", need.source_uri), lambda: source_objects(probe.client("s3"), need.source_uri)
        )
    except Exception as exc:
        return [skipped("prepare.source", f"could not list ({error_code(exc)})", subject)]
    if not objects:
        return [
            failed(
                "prepare.source",
                "no data files there",
                "upload the table first (s3_upload_file) or fix source_s3_uri",
                subject,
            )
        ]
    total = sum(size for _, size in objects)
    bucket, _ = parse_s3_uri(need.source_uri)
    try:
        fmt, columns, rows, complete = sample_table(probe.client("s3"), bucket, objects)
    except SourceError as exc:
        return [
            failed(
                "prepare.source", str(exc), "give a CSV, TSV, JSON Lines or Parquet table", subject
            )
        ]
    out = [
        passed(
            "prepare.source",
            f"{fmt.upper()}, {len(objects)} file(s), {human_bytes(total)}, {len(columns)} columns"
            + (
                ""
                if total <= LOCAL_LIMIT_BYTES
                else f" (over {human_bytes(LOCAL_LIMIT_BYTES)}: runs as a SageMaker Processing job)"
            ),
            subject,
            bytes=total,
            local=total <= LOCAL_LIMIT_BYTES,
        )
    ]
    route = options_route(need)
    if route == "processing" or (route == "auto" and total > LOCAL_LIMIT_BYTES):
        out += processing_route_checks(probe, needs)
    options = need.options
    try:
        plan = core.make_plan(
            columns,
            rows,
            target=need.target,
            algorithm=need.algorithm,
            problem_type=options.get("problem_type", "auto"),
            drop=tuple(options.get("drop_columns", ())),
            max_categories=int(options.get("max_categories", 20)),
            encoding=options.get("categorical_encoding", "onehot"),
        )
    except core.PrepareError as exc:
        return [
            *out,
            failed("prepare.plan", str(exc), "change target_column or drop_columns", subject),
        ]
    dropped, encoded = plan_lines(plan)
    label = plan["label"]
    label_text = (
        f"label {label['name']} ({label['problem_type'].replace('_', ' ')}"
        + (f": {' / '.join(label['classes'][:5])})" if label["classes"] else ")")
        if label
        else "no label"
    )
    sample = "all rows" if complete else f"a sample of {len(rows)} rows"
    message = (
        f"{label_text}; {len(plan['features'])} features; drops "
        + (", ".join(t.split(":")[0] for t in dropped) or "nothing")
        + f" (from {sample})"
    )
    out.append(
        passed(
            "prepare.plan",
            message,
            subject,
            dropped=dropped,
            encoded=encoded,
            features=plan["features"],
            hyperparameters=plan["hyperparameters"],
        )
    )
    return out
