"""Amazon Kinesis Data Streams: create a stream, list streams, put sample records from a file."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field

from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.errors import ToolError
from tools.core.results import CostEstimate, Resource, ToolResult
from tools.core.validators import LocalFile
from tools.cost.prices import unit_price
from tools.stages.shared.listing import MAX_LIST, NoArgs, Strict, cut
from tools.stages.shared.tabular import TabularError, detect_format, read_rows

# ==================================================================== Kinesis

StreamName = Annotated[str, AfterValidator(lambda v: _check_stream_name(v))]


def _check_stream_name(value: str) -> str:
    if not re.match(r"^[a-zA-Z0-9_.-]{1,128}$", value):
        raise ValueError(
            f"'{value}' is not a Kinesis stream name (letters, digits, _ . -, up to 128)"
        )
    return value


class CreateStreamArgs(BaseModel):
    model_config = Strict
    name: StreamName
    mode: Literal["provisioned", "on_demand"] = "provisioned"
    shards: Annotated[int, Field(ge=1, le=500, description="provisioned mode only")] = 1


def _stream_estimate(args: CreateStreamArgs, region: str) -> CostEstimate:
    if args.mode == "on_demand":
        key, qty, what = (
            "kinesis_on_demand_stream_hour",
            1,
            "on-demand stream-hour (plus per-GB data)",
        )
    else:
        key, qty, what = "kinesis_shard_hour", args.shards, f"{args.shards} shard-hour(s)"
    quote = unit_price(key, region)
    if quote is None:
        return CostEstimate.unknown(f"{what}; no price for {region}")
    hourly = quote.usd * qty
    return CostEstimate(
        round(hourly, 4),
        round(hourly * 24, 4),
        f"{what} × ${quote.usd}/h = ${hourly:.4f}/h; shown: first hour to first day",
        quote.source,
        quote.price_date,
        hourly_usd=round(hourly, 4),
        notes=("bills until the stream is deleted", "PUT payload units billed separately"),
    )


@tool(
    name="kinesis_create_stream",
    stage="collection",
    risk="costly",
    operations=("kinesis:CreateStream",),
    estimator=_stream_estimate,
    phrases=("create a kinesis stream", "streaming ingestion", "new data stream"),
)
def kinesis_create_stream(ctx: ToolContext, args: CreateStreamArgs) -> ToolResult:
    """Create a Kinesis data stream; bills hourly until deleted."""
    params: dict[str, Any] = {"StreamName": args.name, "Tags": ctx.aws.tag_map()}
    if args.mode == "on_demand":
        params["StreamModeDetails"] = {"StreamMode": "ON_DEMAND"}
    else:
        params["ShardCount"] = args.shards
        params["StreamModeDetails"] = {"StreamMode": "PROVISIONED"}
    kinesis = ctx.client("kinesis")
    kinesis.create_stream(**params)
    summary = kinesis.describe_stream_summary(StreamName=args.name)["StreamDescriptionSummary"]
    hourly = _stream_estimate(args, ctx.region).hourly_usd
    return ToolResult(
        f"Created Kinesis stream {args.name} ({args.mode}{'' if args.mode == 'on_demand' else f', {args.shards} shard(s)'}); status {summary['StreamStatus']}. It bills hourly until deleted.",
        {"stream": args.name, "status": summary["StreamStatus"], "arn": summary["StreamARN"]},
        [
            Resource(
                "kinesis_stream", args.name, summary["StreamARN"], ctx.region, hourly_usd=hourly
            )
        ],
    )


@tool(
    name="kinesis_list_streams",
    stage="collection",
    risk="read",
    operations=("kinesis:ListStreams",),
    phrases=("list kinesis streams", "what streams do I have"),
)
def kinesis_list_streams(ctx: ToolContext, args: NoArgs) -> ToolResult:
    """List Kinesis data streams with mode and status."""
    rows = []
    for page in ctx.client("kinesis").get_paginator("list_streams").paginate():
        for s in page.get("StreamSummaries", []):
            rows.append(
                {
                    "name": s["StreamName"],
                    "status": s.get("StreamStatus"),
                    "mode": s.get("StreamModeDetails", {}).get("StreamMode"),
                }
            )
    if not rows:
        return ToolResult("No Kinesis streams.", {"rows": []})
    shown = rows[:MAX_LIST]
    return ToolResult(
        f"{len(rows)} streams: "
        + ", ".join(f"{r['name']} ({r['mode']}, {r['status']})" for r in shown)
        + cut(len(rows), len(shown)),
        {"rows": rows},
    )


class PutRecordsArgs(BaseModel):
    model_config = Strict
    stream: StreamName
    local_file: Annotated[LocalFile, Field(description="CSV or JSON Lines")]
    partition_key_column: Annotated[str, Field(description="empty: row number")] = ""
    max_records: Annotated[int, Field(ge=1, le=10_000)] = 500


@tool(
    name="kinesis_put_sample_records",
    stage="collection",
    risk="write",
    operations=("kinesis:PutRecords",),
    phrases=("send sample records to kinesis", "put test data in the stream", "stream my csv"),
)
def kinesis_put_sample_records(ctx: ToolContext, args: PutRecordsArgs) -> ToolResult:
    """Send rows of a local CSV/JSON file to a Kinesis stream as JSON records."""
    path = Path(args.local_file)
    try:
        fmt = detect_format(path.name, path.read_bytes()[:4096])
        names, rows = read_rows(path.read_bytes(), fmt)
    except TabularError as exc:
        raise ToolError(f"Cannot read {path}: {exc}", kind="invalid_arguments") from None
    if args.partition_key_column and args.partition_key_column not in names:
        raise ToolError(
            f"Column '{args.partition_key_column}' is not in the file (columns: {', '.join(names)}).",
            kind="invalid_arguments",
        )
    rows = rows[: args.max_records]
    kinesis = ctx.client("kinesis")
    sent = failed = 0
    first_error = ""
    for start in range(0, len(rows), 500):
        ctx.check_cancelled()
        batch = rows[start : start + 500]
        records = [
            {
                "Data": json.dumps(row, default=str).encode(),
                "PartitionKey": str(
                    row.get(args.partition_key_column) if args.partition_key_column else start + i
                )
                or "empty",
            }
            for i, row in enumerate(batch)
        ]
        response = kinesis.put_records(StreamName=args.stream, Records=records)
        failed += int(response.get("FailedRecordCount", 0))
        sent += len(batch)
        if not first_error:
            first_error = next(
                (
                    r.get("ErrorMessage", "")
                    for r in response.get("Records", [])
                    if r.get("ErrorCode")
                ),
                "",
            )
        ctx.report(f"sending to {args.stream}", sent, len(rows), "rows")
    text = f"Sent {sent - failed} of {sent} records to {args.stream}."
    if failed:
        text += f" {failed} failed (e.g. {first_error}); throttled records can be retried."
    return ToolResult(text, {"sent": sent - failed, "failed": failed, "stream": args.stream})
