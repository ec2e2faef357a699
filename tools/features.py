"""Stage 3, feature engineering: Feature Store, SageMaker Processing jobs, and the job waiter.

`build_processing_job_request` is pure and public: the Pipelines tool builds its processing
steps with it, so a session's processing job and a pipeline step send the same request.
"""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from tools import tabular
from tools.base import CostEstimate, NotEmulated, Resource, ToolContext, ToolError, ToolResult, tool
from tools.jobs import JOB_APIS, wait_for_job
from tools.local_paths import LOCAL_PATH, check_local_read
from tools.pricing import check_instance_for, estimate_instances, instance_hourly
from tools.roles import OptionalRoleArn, RoleArnValue, require_role, resolve_role, with_role
from tools.validators import (
    InstanceType,
    LocalFile,
    SageMakerName,
    parse_s3_uri,
)

Strict = ConfigDict(extra="forbid")
MAX_LIST = 50
INGEST_WORKERS = 4  # PutRecord calls in flight
INGEST_MAX_BYTES = 512 * 1024 * 1024


def _cut(total: int, shown: int, what: str = "more") -> str:
    return f" ... {total - shown} {what} not shown." if total > shown else ""


# ============================================================== Feature Store

_FG_NAME = re.compile(r"^[a-zA-Z0-9]([_-]*[a-zA-Z0-9]){0,63}$")


def _check_fg_name(value: str) -> str:
    if not _FG_NAME.match(value):
        raise ValueError(
            f"'{value}' is not a feature group name: letters and digits, optionally joined by - or _, up to 64"
        )
    return value


FeatureGroupName = Annotated[str, AfterValidator(_check_fg_name)]
FeatureType = Literal["Integral", "Fractional", "String"]


def _read_source(
    ctx: ToolContext, s3_uri: str, local_file: str, *, whole: bool
) -> tuple[bytes, str, int]:
    """(data, name, total size): the head (or all) of a local file or S3 object."""
    if local_file:
        path = Path(local_file)
        size = path.stat().st_size
        if whole and size > INGEST_MAX_BYTES:
            raise ToolError(
                f"{path.name} is {tabular.human_bytes(size)}; ingest at most {tabular.human_bytes(INGEST_MAX_BYTES)} at a time (split the file).",
                kind="invalid_arguments",
            )
        with path.open("rb") as handle:
            data = (
                handle.read()
                if whole or path.suffix == ".parquet"
                else handle.read(tabular.PREVIEW_BYTES)
            )
        return data, path.name, size
    bucket, key = parse_s3_uri(s3_uri)
    s3 = ctx.client("s3")
    size = tabular.object_size(s3, bucket, key)  # a missing key: errors.py says so
    if whole or key.endswith(".parquet"):
        if size > INGEST_MAX_BYTES:
            raise ToolError(
                f"{s3_uri} is {tabular.human_bytes(size)}; ingest at most {tabular.human_bytes(INGEST_MAX_BYTES)} at a time.",
                kind="invalid_arguments",
            )
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read(), key, size
    end = min(size, tabular.PREVIEW_BYTES) - 1
    return s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{end}")["Body"].read(), key, size


def _check_source(s3_uri: str, local_file: str, *, required: bool = True) -> str:
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
        self.local_file = _check_source(self.s3_uri, self.local_file) or self.local_file
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
        local = _check_source(self.s3_uri, self.local_file, required=not self.features)
        if self.features and (self.s3_uri or self.local_file):
            raise ValueError("give features or a data source to infer them from, not both")
        self.local_file = local or self.local_file
        if not self.online and not self.offline_s3_uri:
            raise ValueError("enable the online store or give offline_s3_uri (or both)")
        if self.offline_s3_uri:
            parse_s3_uri(self.offline_s3_uri)
        for name in self.features:
            tabular.check_feature_name(name)
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
        data, name, size = _read_source(ctx, args.s3_uri, args.local_file, whole=False)
        try:
            preview = tabular.parse_table(
                data, tabular.detect_format(name, data), max_rows=500, total_bytes=size
            )
        except tabular.TabularError as exc:
            raise ToolError(
                f"Cannot read {args.s3_uri or args.local_file}: {exc}", kind="invalid_arguments"
            ) from None
        bad = [
            c.name
            for c in preview.columns
            if not tabular.FEATURE_NAME.match(c.name) or c.name.lower() in tabular.RESERVED_FEATURES
        ]
        if bad:
            raise ToolError(
                f"These columns are not valid feature names: {', '.join(bad)} (letters, digits, - and _; not is_deleted/write_time/api_invocation_time). Rename them or pass features.",
                kind="invalid_arguments",
            )
        definitions = tabular.feature_definitions(preview.columns)
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
    text = f"Created feature group {args.name} ({stores} store; id {args.record_identifier}, event time {event}): {feats}{_cut(len(definitions), 40, 'features')}."
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
        + f". Features: {feats}{_cut(len(data['features']), 40, 'features')}."
    )
    if data["failure"]:
        text += f" Failure: {data['failure']}"
    return ToolResult(text, data)


class NoArgs(BaseModel):
    model_config = Strict


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
        + _cut(len(rows), len(shown)),
        {"rows": rows},
    )


class IngestArgs(SourceArgs):
    name: FeatureGroupName
    max_rows: Annotated[int, Field(ge=1, le=1_000_000)] = 10_000


def _record(
    row: dict[str, Any], features: dict[str, str], event: str, now: float
) -> list[dict[str, str]]:
    record = []
    for name, kind in features.items():
        value = row.get(name)
        if name == event and tabular.is_null(value):
            value = (
                now
                if kind == "Fractional"
                else datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            )
        if tabular.is_null(value):
            continue
        if name == event and kind == "String":
            value = tabular.to_iso_event_time(value)
        elif name == event and kind == "Fractional" and not isinstance(value, int | float):
            text = tabular.to_iso_event_time(value)
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
    data, name, _ = _read_source(ctx, args.s3_uri, args.local_file, whole=True)
    try:
        columns, rows = tabular.read_rows(data, tabular.detect_format(name, data))
    except tabular.TabularError as exc:
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
            if tabular.is_null(row.get(record_id)):
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


# ============================================================ Processing jobs

FRAMEWORK_DEFAULTS = {"sklearn": "1.2-1", "spark": "3.3"}
CODE_DIR = "/opt/ml/processing/input/code"
_CHANNEL = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_-]{0,63}$")


def _check_channels(value: dict[str, str]) -> dict[str, str]:
    for name, uri in value.items():
        if not _CHANNEL.match(name) or name == "code":
            raise ValueError(
                f"channel name '{name}' must be letters, digits, - or _ (and not 'code')"
            )
        parse_s3_uri(uri)
    return value


Channels = Annotated[dict[str, str], AfterValidator(_check_channels)]


class ProcessingJobArgs(BaseModel):
    model_config = Strict
    job_name: str = ""
    script: Annotated[LocalFile, Field(description="local .py script")]
    framework: Literal["sklearn", "spark"] = "sklearn"
    framework_version: str = ""
    role_arn: OptionalRoleArn = None
    inputs: Annotated[Channels, Field(description="name: s3 uri")] = {}
    outputs: Annotated[Channels, Field(description="name: s3 uri")] = {}
    code_s3_uri: Annotated[str, Field(description="s3 prefix for the script")] = ""
    instance_type: InstanceType = "ml.m5.xlarge"
    instance_count: Annotated[int, Field(ge=1, le=100)] = 1
    max_runtime_s: Annotated[int, Field(ge=60, le=432_000)]
    arguments: list[str] = []
    volume_gb: Annotated[int, Field(ge=1, le=16_384)] = 30

    @model_validator(mode="after")
    def _check(self) -> ProcessingJobArgs:
        if self.job_name:
            from tools.validators import check_sagemaker_name

            check_sagemaker_name(self.job_name)
        if not self.script.endswith(".py"):
            raise ValueError("script must be a .py file")
        check_instance_for("processing", self.instance_type)
        if self.code_s3_uri:
            parse_s3_uri(self.code_s3_uri)
        elif not self.outputs and not self.inputs:
            raise ValueError(
                "give code_s3_uri (s3://bucket/prefix/) or an input or output, so the script has "
                "an S3 bucket to go to"
            )
        return self


def default_code_uri(args: ProcessingJobArgs, job_name: str) -> str:
    """Where the script goes: code_s3_uri, else <first output or input bucket>/sagecoach/code/<job>/."""
    if args.code_s3_uri:
        base = args.code_s3_uri if args.code_s3_uri.endswith("/") else args.code_s3_uri + "/"
    else:
        place = next(iter(args.outputs.values()), None) or next(iter(args.inputs.values()), None)
        if place is None:
            raise ToolError(
                "Give code_s3_uri (s3://bucket/prefix/) or an input or output, so the script has "
                "an S3 bucket to go to.",
                kind="invalid_arguments",
            )
        bucket, _ = parse_s3_uri(place)
        base = f"s3://{bucket}/sagecoach/code/{job_name}/"
    return base + Path(args.script).name


def processing_job_name(args: ProcessingJobArgs) -> str:
    return (
        args.job_name or f"sagecoach-{args.framework}-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}"
    )


def build_processing_job_request(
    args: ProcessingJobArgs, *, region: str, tags: list[dict], code_uri: str
) -> dict:
    """The CreateProcessingJob request for these arguments (pure apart from the image look-up).

    The image is the SageMaker scikit-learn or Spark processing image for the region (from the
    SageMaker SDK's bundled image URIs); `code_uri` is where the script is (or will be) in S3.
    An empty job name is generated from the framework and the current time.
    """
    from sagemaker.core import image_uris  # ~1 s on first import

    version = args.framework_version or FRAMEWORK_DEFAULTS[args.framework]
    try:
        image = image_uris.retrieve(
            args.framework, region=region, version=version, instance_type=args.instance_type
        )
    except ValueError as exc:
        raise ToolError(
            f"No SageMaker {args.framework} {version} processing image in {region}: {exc}",
            kind="invalid_arguments",
        ) from None
    script = f"{CODE_DIR}/{Path(args.script).name}"
    entry = ["smspark-submit", script] if args.framework == "spark" else ["python3", script]
    app: dict[str, Any] = {"ImageUri": image, "ContainerEntrypoint": entry}
    if args.arguments:
        app["ContainerArguments"] = list(args.arguments)
    inputs = [
        {
            "InputName": "code",
            "S3Input": {
                "S3Uri": code_uri,
                "LocalPath": CODE_DIR,
                "S3DataType": "S3Prefix",
                "S3InputMode": "File",
                "S3DataDistributionType": "FullyReplicated",
            },
        }
    ]
    for name, uri in args.inputs.items():
        inputs.append(
            {
                "InputName": name,
                "S3Input": {
                    "S3Uri": uri,
                    "LocalPath": f"/opt/ml/processing/input/{name}",
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                    "S3DataDistributionType": "FullyReplicated",
                },
            }
        )
    request: dict[str, Any] = {
        "ProcessingJobName": processing_job_name(args),
        "RoleArn": require_role(args.role_arn, "SageMaker processing jobs"),
        "AppSpecification": app,
        "ProcessingInputs": inputs,
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceCount": args.instance_count,
                "InstanceType": args.instance_type,
                "VolumeSizeInGB": args.volume_gb,
            }
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": args.max_runtime_s},
        "Tags": list(tags),
    }
    if args.outputs:
        request["ProcessingOutputConfig"] = {
            "Outputs": [
                {
                    "OutputName": name,
                    "S3Output": {
                        "S3Uri": uri,
                        "LocalPath": f"/opt/ml/processing/output/{name}",
                        "S3UploadMode": "EndOfJob",
                    },
                }
                for name, uri in args.outputs.items()
            ]
        }
    return request


def _processing_estimate(args: ProcessingJobArgs, region: str) -> CostEstimate:
    return estimate_instances(
        args.instance_type, args.instance_count, args.max_runtime_s / 3600, "processing", region
    )


@tool(
    name="sagemaker_start_processing_job",
    stage="features",
    risk="costly",
    operations=("s3:PutObject", "sagemaker:CreateProcessingJob"),
    estimator=_processing_estimate,
    phrases=(
        "run a processing job",
        "feature engineering script",
        "preprocess data with sklearn",
        "run my spark script on sagemaker",
        "start processing job",
    ),
)
def sagemaker_start_processing_job(ctx: ToolContext, args: ProcessingJobArgs) -> ToolResult:
    """Run a local Python script as a SageMaker Processing job (scikit-learn or Spark image)."""
    name = processing_job_name(args)
    args = with_role(ctx, args, "SageMaker processing jobs")
    args = args.model_copy(update={"job_name": name})
    code_uri = default_code_uri(args, name)
    request = build_processing_job_request(
        args, region=ctx.region, tags=ctx.aws.tags(), code_uri=code_uri
    )
    bucket, key = parse_s3_uri(code_uri)
    ctx.client("s3").upload_file(args.script, bucket, key)
    arn = ctx.client("sagemaker").create_processing_job(**request)["ProcessingJobArn"]
    quote = instance_hourly(args.instance_type, "processing", ctx.region)
    hourly = round(quote.usd * args.instance_count, 4) if quote else None
    return ToolResult(
        f"Started processing job {name} ({args.instance_count} × {args.instance_type}, stops after {args.max_runtime_s} s) running {Path(args.script).name} in the {args.framework} image. "
        "Wait with sagemaker_wait_for_job (kind processing).",
        {
            "job": name,
            "arn": arn,
            "code_uri": code_uri,
            "image": request["AppSpecification"]["ImageUri"],
        },
        [
            Resource(
                "sagemaker_processing_job",
                name,
                arn,
                ctx.region,
                hourly_usd=hourly,
                extra={"request": request},
            )
        ],
    )


class ProcessingNameArgs(BaseModel):
    model_config = Strict
    name: SageMakerName


@tool(
    name="sagemaker_describe_processing_job",
    stage="features",
    risk="read",
    operations=("sagemaker:DescribeProcessingJob",),
    phrases=("processing job status", "describe processing job", "did preprocessing finish"),
)
def sagemaker_describe_processing_job(ctx: ToolContext, args: ProcessingNameArgs) -> ToolResult:
    """Show a processing job's status, duration, instances, outputs and failure reason."""
    job = ctx.client("sagemaker").describe_processing_job(ProcessingJobName=args.name)
    cluster = job.get("ProcessingResources", {}).get("ClusterConfig", {})
    outputs = [
        o["S3Output"]["S3Uri"]
        for o in job.get("ProcessingOutputConfig", {}).get("Outputs", [])
        if "S3Output" in o
    ]
    start, end = job.get("ProcessingStartTime"), job.get("ProcessingEndTime")
    duration = (end - start).total_seconds() if start and end else None
    data = {
        "name": args.name,
        "status": job.get("ProcessingJobStatus"),
        "instance_type": cluster.get("InstanceType"),
        "instance_count": cluster.get("InstanceCount"),
        "duration_s": duration,
        "outputs": outputs,
        "failure": job.get("FailureReason"),
        "exit_message": job.get("ExitMessage"),
    }
    text = f"Processing job {args.name}: {data['status']}"
    if cluster:
        text += f" on {data['instance_count']} × {data['instance_type']}"
    if duration is not None:
        text += f", ran {duration:.0f} s"
    if outputs:
        text += f"; outputs {', '.join(outputs)}"
    if data["failure"]:
        text += f". Failure: {data['failure']}"
    return ToolResult(text + ".", data)


# ================================================================== the waiter


class WaitArgs(BaseModel):
    model_config = Strict
    kind: Literal[tuple(JOB_APIS)]  # type: ignore[valid-type]
    name: Annotated[str, Field(min_length=1, description="job name (pipeline_execution: its ARN)")]
    timeout_s: Annotated[int, Field(ge=1, le=86_400)] = 3600


@tool(
    name="sagemaker_wait_for_job",
    stage="general",
    risk="read",
    operations=("sagemaker:Describe*",),
    phrases=("wait for the job", "wait until training finishes", "is it done yet", "poll the job"),
)
def sagemaker_wait_for_job(ctx: ToolContext, args: WaitArgs) -> ToolResult:
    """Wait for a SageMaker job, endpoint or pipeline execution to finish, up to a timeout."""
    outcome = wait_for_job(ctx, args.kind, args.name, timeout_s=args.timeout_s)
    desc = outcome.description
    failure = desc.get("FailureReason")
    data = {
        "kind": args.kind,
        "name": args.name,
        "status": outcome.status,
        "waited_s": round(outcome.waited_s, 1),
        "timed_out": outcome.timed_out,
        "failure": failure,
    }
    if outcome.timed_out:
        text = f"{args.kind} {args.name} is still {outcome.status} after {args.timeout_s} s; it keeps running (and billing). Wait again or stop it."
    else:
        text = f"{args.kind} {args.name} finished: {outcome.status} after {outcome.waited_s:.0f} s of waiting."
        if outcome.sandbox_short_circuit:
            text += " (The sandbox never completes Autopilot jobs; its secondary status says Completed.)"
    if failure:
        text += f" Failure: {failure}"
    return ToolResult(text, data)
