"""Amazon SageMaker Feature Store: feature groups made from a table's schema, described, listed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, field_validator, model_validator

from tools.aws.roles import RoleArnValue, resolve_role
from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.errors import NotEmulated, ToolError
from tools.core.local_paths import LOCAL_PATH, check_local_read
from tools.core.results import Resource, ToolResult
from tools.core.validators import parse_s3_uri
from tools.stages.shared.listing import MAX_LIST, NoArgs, Strict, cut
from tools.stages.shared.s3_reads import PREVIEW_BYTES, human_bytes, object_size
from tools.stages.shared.table_schemas import (
    FEATURE_NAME,
    RESERVED_FEATURES,
    check_feature_name,
    feature_definitions,
)
from tools.stages.shared.tabular import TabularError, detect_format, parse_table

INGEST_MAX_BYTES = 512 * 1024 * 1024


# ============================================================== Feature Store

_FG_NAME = re.compile(r"^[a-zA-Z0-9]([_-]*[a-zA-Z0-9]){0,63}$")


def check_feature_group_name(value: str) -> str:
    if not _FG_NAME.match(value):
        raise ValueError(
            f"'{value}' is not a feature group name: letters and digits, optionally joined by - or _, up to 64"
        )
    return value


FeatureGroupName = Annotated[str, AfterValidator(check_feature_group_name)]
FeatureType = Literal["Integral", "Fractional", "String"]


def read_source(
    ctx: ToolContext, s3_uri: str, local_file: str, *, whole: bool
) -> tuple[bytes, str, int]:
    """(data, name, total size): the head (or all) of a local file or S3 object."""
    if local_file:
        path = Path(local_file)
        size = path.stat().st_size
        if whole and size > INGEST_MAX_BYTES:
            raise ToolError(
                f"{path.name} is {human_bytes(size)}; ingest at most {human_bytes(INGEST_MAX_BYTES)} at a time (split the file).",
                kind="invalid_arguments",
            )
        with path.open("rb") as handle:
            data = (
                handle.read() if whole or path.suffix == ".parquet" else handle.read(PREVIEW_BYTES)
            )
        return data, path.name, size
    bucket, key = parse_s3_uri(s3_uri)
    s3 = ctx.client("s3")
    size = object_size(s3, bucket, key)  # a missing key: tools.core.explain says so
    if whole or key.endswith(".parquet"):
        if size > INGEST_MAX_BYTES:
            raise ToolError(
                f"{s3_uri} is {human_bytes(size)}; ingest at most {human_bytes(INGEST_MAX_BYTES)} at a time.",
                kind="invalid_arguments",
            )
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read(), key, size
    end = min(size, PREVIEW_BYTES) - 1
    return s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{end}")["Body"].read(), key, size


def check_source(s3_uri: str, local_file: str, *, required: bool = True) -> str:
    """Exactly one of an S3 object or a local file; returns the expanded local path."""
    if s3_uri and local_file:
        raise ValueError("give s3_uri or local_file, not both")
    if not s3_uri and not local_file:
        if required:
            raise ValueError("give s3_uri or local_file")
        return ""
    if s3_uri:
        _, key = parse_s3_uri(s3_uri)
        if not key or key.endswith("/"):
            raise ValueError(f"{s3_uri} is a prefix; name one object")
        return ""
    path = check_local_read(local_file)
    if not path.is_file():
        raise ValueError(f"local file '{local_file}' does not exist")
    return str(path)


class SourceArgs(BaseModel):
    """A table to read: a local file or an S3 object (exactly one)."""

    model_config = Strict
    s3_uri: Annotated[str, Field(description="CSV/JSON Lines/Parquet object")] = ""
    local_file: Annotated[str, LOCAL_PATH, Field(description="or a local file")] = ""

    @model_validator(mode="after")
    def _one_source(self) -> SourceArgs:
        self.local_file = check_source(self.s3_uri, self.local_file) or self.local_file
        return self


class CreateFeatureGroupArgs(BaseModel):
    model_config = Strict
    name: FeatureGroupName
    s3_uri: Annotated[str, Field(description="data to infer features from")] = ""
    local_file: Annotated[str, LOCAL_PATH, Field(description="or a local file")] = ""
    features: Annotated[dict[str, FeatureType], Field(description="or an explicit schema")] = {}
    record_identifier: Annotated[str, Field(description="unique id column")]
    event_time_feature: Annotated[str, Field(description="default: first date column")] = ""
    online: bool = True
    offline_s3_uri: Annotated[str, Field(description="s3 prefix for the offline store")] = ""
    role_arn: Annotated[
        RoleArnValue | None, Field(description="offline store role; default: the session's role")
    ] = None

    @field_validator("role_arn", mode="before")
    @classmethod
    def _empty_role(cls, value: Any) -> Any:
        return None if value == "" else value

    @model_validator(mode="after")
    def _check(self) -> CreateFeatureGroupArgs:
        local = check_source(self.s3_uri, self.local_file, required=not self.features)
        if self.features and (self.s3_uri or self.local_file):
            raise ValueError("give features or a data source to infer them from, not both")
        self.local_file = local or self.local_file
        if not self.online and not self.offline_s3_uri:
            raise ValueError("enable the online store or give offline_s3_uri (or both)")
        if self.offline_s3_uri:
            parse_s3_uri(self.offline_s3_uri)
        for name in self.features:
            check_feature_name(name)
        if self.features and self.record_identifier not in self.features:
            raise ValueError(
                f"record_identifier '{self.record_identifier}' is not among the features"
            )
        return self


def _fg_schema(
    ctx: ToolContext, args: CreateFeatureGroupArgs
) -> tuple[list[dict[str, str]], str, bool, list[str]]:
    """(feature definitions, event-time feature, whether event_time was added, notes)."""
    notes: list[str] = []
    if args.features:
        definitions = [{"FeatureName": n, "FeatureType": t} for n, t in args.features.items()]
        kinds = {
            n: ("double" if t == "Fractional" else "bigint" if t == "Integral" else "string")
            for n, t in args.features.items()
        }
    else:
        data, name, size = read_source(ctx, args.s3_uri, args.local_file, whole=False)
        try:
            preview = parse_table(data, detect_format(name, data), max_rows=500, total_bytes=size)
        except TabularError as exc:
            raise ToolError(
                f"Cannot read {args.s3_uri or args.local_file}: {exc}", kind="invalid_arguments"
            ) from None
        bad = [
            c.name
            for c in preview.columns
            if not FEATURE_NAME.match(c.name) or c.name.lower() in RESERVED_FEATURES
        ]
        if bad:
            raise ToolError(
                f"These columns are not valid feature names: {', '.join(bad)} (letters, digits, - and _; not is_deleted/write_time/api_invocation_time). Rename them or pass features.",
                kind="invalid_arguments",
            )
        definitions = feature_definitions(preview.columns)
        kinds = {c.name: c.type for c in preview.columns}
        id_col = next((c for c in preview.columns if c.name == args.record_identifier), None)
        if id_col is not None and id_col.nulls:
            notes.append(
                f"{args.record_identifier} has {id_col.nulls} empty values in the sample; those rows cannot be ingested."
            )
    names = [d["FeatureName"] for d in definitions]
    if args.record_identifier not in names:
        raise ToolError(
            f"record_identifier '{args.record_identifier}' is not a column (columns: {', '.join(names)}).",
            kind="invalid_arguments",
        )
    if kinds.get(args.record_identifier) == "double":
        raise ToolError(
            f"record_identifier '{args.record_identifier}' is fractional; Feature Store needs a String or Integral id.",
            kind="invalid_arguments",
        )
    added = False
    event = args.event_time_feature
    if event:
        if event not in names:
            raise ToolError(
                f"event_time_feature '{event}' is not a column (columns: {', '.join(names)}).",
                kind="invalid_arguments",
            )
        if kinds.get(event) not in ("date", "timestamp", "double", "string"):
            raise ToolError(
                f"event_time_feature '{event}' is {kinds.get(event)}; it must be a date/time string or fractional epoch seconds.",
                kind="invalid_arguments",
            )
    else:
        event = next((n for n in names if kinds.get(n) in ("date", "timestamp")), "")
        if not event:
            event, added = "event_time", True
            if event in names:
                raise ToolError(
                    "No date/time column found and 'event_time' is taken; pass event_time_feature.",
                    kind="invalid_arguments",
                )
            definitions.append({"FeatureName": event, "FeatureType": "Fractional"})
            notes.append(
                "No date/time column: added event_time (epoch seconds), filled at ingest time."
            )
    return definitions, event, added, notes


@tool(
    name="featurestore_create_feature_group",
    stage="features",
    risk="write",
    operations=("s3:GetObject", "sagemaker:CreateFeatureGroup"),
    phrases=(
        "create a feature group",
        "store features",
        "feature store from my csv",
        "register features",
    ),
)
def featurestore_create_feature_group(ctx: ToolContext, args: CreateFeatureGroupArgs) -> ToolResult:
    """Create a Feature Store feature group with features inferred from data or given explicitly."""
    if ctx.aws.is_sandbox and not args.offline_s3_uri:
        raise NotEmulated(
            "online-only feature groups",
            "Add offline_s3_uri to rehearse with an offline store.",
        )
    role = (
        resolve_role(ctx, args.role_arn, "Feature Store offline stores")
        if args.offline_s3_uri
        else None
    )
    definitions, event, added, notes = _fg_schema(ctx, args)
    request: dict[str, Any] = {
        "FeatureGroupName": args.name,
        "RecordIdentifierFeatureName": args.record_identifier,
        "EventTimeFeatureName": event,
        "FeatureDefinitions": definitions,
        "Tags": ctx.aws.tags(),
    }
    if args.online:
        request["OnlineStoreConfig"] = {"EnableOnlineStore": True}
    if args.offline_s3_uri:
        request["OfflineStoreConfig"] = {"S3StorageConfig": {"S3Uri": args.offline_s3_uri}}
        request["RoleArn"] = role
    arn = ctx.client("sagemaker").create_feature_group(**request)["FeatureGroupArn"]
    stores = " + ".join(
        s for s, on in (("online", args.online), ("offline", bool(args.offline_s3_uri))) if on
    )
    feats = ", ".join(f"{d['FeatureName']}:{d['FeatureType']}" for d in definitions[:40])
    text = f"Created feature group {args.name} ({stores} store; id {args.record_identifier}, event time {event}): {feats}{cut(len(definitions), 40, 'features')}."
    if notes:
        text += " " + " ".join(notes)
    return ToolResult(
        text,
        {
            "feature_group": args.name,
            "arn": arn,
            "features": definitions,
            "event_time_feature": event,
            "event_time_added": added,
        },
        [Resource("feature_group", args.name, arn, ctx.region, extra={"request": request})],
    )


class FeatureGroupArgs(BaseModel):
    model_config = Strict
    name: FeatureGroupName


@tool(
    name="featurestore_describe_feature_group",
    stage="features",
    risk="read",
    operations=("sagemaker:DescribeFeatureGroup",),
    phrases=("describe the feature group", "feature group status", "what features are stored"),
)
def featurestore_describe_feature_group(ctx: ToolContext, args: FeatureGroupArgs) -> ToolResult:
    """Show a feature group's status, features, stores and offline Glue table."""
    fg = ctx.client("sagemaker").describe_feature_group(FeatureGroupName=args.name)
    offline = fg.get("OfflineStoreConfig") or {}
    catalog = offline.get("DataCatalogConfig") or {}
    data = {
        "name": args.name,
        "status": fg.get("FeatureGroupStatus"),
        "record_identifier": fg.get("RecordIdentifierFeatureName"),
        "event_time_feature": fg.get("EventTimeFeatureName"),
        "features": fg.get("FeatureDefinitions", []),
        "online": bool((fg.get("OnlineStoreConfig") or {}).get("EnableOnlineStore")),
        "offline_s3_uri": (offline.get("S3StorageConfig") or {}).get("S3Uri"),
        "offline_table": f"{catalog.get('Database')}.{catalog.get('TableName')}"
        if catalog
        else None,
        "failure": fg.get("FailureReason"),
    }
    feats = ", ".join(f"{f['FeatureName']}:{f['FeatureType']}" for f in data["features"][:40])
    text = (
        f"{args.name}: {data['status']}; id {data['record_identifier']}, event time {data['event_time_feature']}; "
        f"online {'on' if data['online'] else 'off'}, offline {data['offline_s3_uri'] or 'off'}"
        + (f" (Athena table {data['offline_table']})" if data["offline_table"] else "")
        + f". Features: {feats}{cut(len(data['features']), 40, 'features')}."
    )
    if data["failure"]:
        text += f" Failure: {data['failure']}"
    return ToolResult(text, data)


@tool(
    name="featurestore_list_feature_groups",
    stage="features",
    risk="read",
    operations=("sagemaker:ListFeatureGroups",),
    phrases=("list feature groups", "what feature groups exist"),
)
def featurestore_list_feature_groups(ctx: ToolContext, args: NoArgs) -> ToolResult:
    """List feature groups with status and creation time."""
    if ctx.aws.is_sandbox:
        raise NotEmulated(
            "listing feature groups", "featurestore_describe_feature_group works for a named group."
        )
    rows = []
    for page in ctx.client("sagemaker").get_paginator("list_feature_groups").paginate():
        for g in page.get("FeatureGroupSummaries", []):
            rows.append(
                {
                    "name": g["FeatureGroupName"],
                    "status": g.get("FeatureGroupStatus"),
                    "created": str(g.get("CreationTime", ""))[:19],
                }
            )
    if not rows:
        return ToolResult("No feature groups.", {"rows": []})
    shown = rows[:MAX_LIST]
    return ToolResult(
        f"{len(rows)} feature groups: "
        + ", ".join(f"{r['name']} ({r['status']})" for r in shown)
        + cut(len(rows), len(shown)),
        {"rows": rows},
    )
