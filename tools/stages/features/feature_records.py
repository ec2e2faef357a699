"""Feature Store records: ingest a table's rows (PutRecord, a few in flight) and read one back."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.errors import NotEmulated, ToolError
from tools.core.results import ToolResult
from tools.stages.features.feature_groups import FeatureGroupName, SourceArgs, read_source
from tools.stages.shared.listing import Strict
from tools.stages.shared.tabular import (
    TabularError,
    detect_format,
    is_null,
    read_rows,
    to_iso_event_time,
)

INGEST_WORKERS = 4  # PutRecord calls in flight


class IngestArgs(SourceArgs):
    name: FeatureGroupName
    max_rows: Annotated[int, Field(ge=1, le=1_000_000)] = 10_000


def _record(
    row: dict[str, Any], features: dict[str, str], event: str, now: float
) -> list[dict[str, str]]:
    record = []
    for name, kind in features.items():
        value = row.get(name)
        if name == event and is_null(value):
            value = (
                now
                if kind == "Fractional"
                else datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            )
        if is_null(value):
            continue
        if name == event and kind == "String":
            value = to_iso_event_time(value)
        elif name == event and kind == "Fractional" and not isinstance(value, int | float):
            text = to_iso_event_time(value)
            try:
                value = datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
            except ValueError:
                pass
        elif (
            kind == "Integral"
            and isinstance(value, str)
            and re.match(r"^[+-]?\d+\.0*$", value.strip())
        ):
            value = value.strip().split(".")[0]
        if isinstance(value, bool):
            value = str(value).lower()
        record.append({"FeatureName": name, "ValueAsString": str(value)})
    return record


@tool(
    name="featurestore_ingest",
    stage="features",
    risk="write",
    operations=("sagemaker:DescribeFeatureGroup", "sagemaker-featurestore-runtime:PutRecord"),
    phrases=(
        "ingest features",
        "load my csv into the feature store",
        "put records in the feature group",
    ),
)
def featurestore_ingest(ctx: ToolContext, args: IngestArgs) -> ToolResult:
    """Write rows of a local file or S3 object into a feature group (PutRecord)."""
    if ctx.aws.is_sandbox:
        raise NotEmulated(
            "the Feature Store runtime (PutRecord)",
            "Feature groups can be created and described in the sandbox.",
        )
    fg = ctx.client("sagemaker").describe_feature_group(FeatureGroupName=args.name)
    if fg.get("FeatureGroupStatus") not in (None, "Created"):
        raise ToolError(
            f"Feature group {args.name} is {fg.get('FeatureGroupStatus')}; wait until it is Created.",
            kind="not_ready",
        )
    features = {f["FeatureName"]: f["FeatureType"] for f in fg["FeatureDefinitions"]}
    record_id = fg["RecordIdentifierFeatureName"]
    event = fg["EventTimeFeatureName"]
    data, name, _ = read_source(ctx, args.s3_uri, args.local_file, whole=True)
    try:
        columns, rows = read_rows(data, detect_format(name, data))
    except TabularError as exc:
        raise ToolError(
            f"Cannot read {args.s3_uri or args.local_file}: {exc}", kind="invalid_arguments"
        ) from None
    if record_id not in columns:
        raise ToolError(
            f"The data has no '{record_id}' column (the record identifier).",
            kind="invalid_arguments",
        )
    unknown = [c for c in columns if c not in features]
    rows = rows[: args.max_rows]
    runtime = ctx.client("sagemaker-featurestore-runtime")
    now = time.time()
    failures: list[str] = []
    skipped = 0
    done = 0

    def put(row: dict[str, Any]) -> str:
        record = _record(row, features, event, now)
        runtime.put_record(FeatureGroupName=args.name, Record=record)
        return ""

    with ThreadPoolExecutor(max_workers=max(1, INGEST_WORKERS)) as pool:
        futures = []
        for row in rows:
            if is_null(row.get(record_id)):
                skipped += 1
                continue
            futures.append(pool.submit(put, row))
        for future in futures:
            ctx.check_cancelled()
            try:
                future.result()
            except Exception as exc:
                failures.append(str(exc))
            done += 1
            if done % 100 == 0 or done == len(futures):
                ctx.report(f"ingesting into {args.name}", done, len(futures), "rows")
    written = done - len(failures)
    text = f"Wrote {written} of {len(rows)} rows to feature group {args.name}."
    if skipped:
        text += f" {skipped} rows had no {record_id} and were skipped."
    if failures:
        text += f" {len(failures)} failed, e.g. {failures[0][:200]}"
    if unknown:
        text += f" Columns not in the group were ignored: {', '.join(unknown[:10])}."
    return ToolResult(
        text,
        {"written": written, "failed": len(failures), "skipped": skipped, "errors": failures[:10]},
    )


class GetRecordArgs(BaseModel):
    model_config = Strict
    name: FeatureGroupName
    record_id: str
    features: Annotated[list[str], Field(description="empty: all")] = []


@tool(
    name="featurestore_get_record",
    stage="features",
    risk="read",
    operations=("sagemaker-featurestore-runtime:GetRecord",),
    phrases=(
        "get a feature record",
        "look up features for a customer",
        "read from the online store",
    ),
)
def featurestore_get_record(ctx: ToolContext, args: GetRecordArgs) -> ToolResult:
    """Read one record from a feature group's online store by its identifier."""
    if ctx.aws.is_sandbox:
        raise NotEmulated("the Feature Store runtime (GetRecord)")
    params: dict[str, Any] = {
        "FeatureGroupName": args.name,
        "RecordIdentifierValueAsString": args.record_id,
    }
    if args.features:
        params["FeatureNames"] = list(args.features)
    response = ctx.client("sagemaker-featurestore-runtime").get_record(**params)
    record = {f["FeatureName"]: f.get("ValueAsString") for f in response.get("Record", [])}
    if not record:
        return ToolResult(
            f"No record '{args.record_id}' in {args.name}'s online store.", {"record": None}
        )
    text = f"{args.name}[{args.record_id}]: " + ", ".join(
        f"{k}={v}" for k, v in list(record.items())[:40]
    )
    return ToolResult(text, {"record": record})
