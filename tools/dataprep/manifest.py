"""Finding and using a prepared dataset's manifest (`schema.json`).

prepare_training_data writes it next to the train/, validation/ and test/ channels. A training
job on those channels is tagged with its URI, and so is a model made from the job; invoke,
transform, Clarify and monitoring find it from an endpoint or a model and encode raw rows the
way the model was trained (features in order, label and ids dropped, categories encoded).
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from tools.core.validators import parse_s3_uri
from tools.dataprep import core

MANIFEST_TAG = "sagecoach:manifest"


def manifest_uri_near(channel_uri: str) -> str:
    """Where the manifest of a prepared channel would be: <prepared>/schema.json."""
    bucket, key = parse_s3_uri(channel_uri)
    parts = [p for p in key.split("/") if p]
    if parts and "." in parts[-1]:
        parts = parts[:-1]  # a file: its folder is the channel
    parent = "/".join(parts[:-1])
    return f"s3://{bucket}/{parent + '/' if parent else ''}{core.MANIFEST_NAME}"


def read_manifest(s3: Any, uri: str) -> dict[str, Any] | None:
    """The manifest at uri, or None when there is none (or it is not sagecoach's)."""
    from botocore.exceptions import ClientError

    bucket, key = parse_s3_uri(uri)
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("format") != core.MANIFEST_FORMAT:
        return None
    data["uri"] = uri
    return data


def manifest_for_channel(s3: Any, channel_uri: str) -> dict[str, Any] | None:
    return read_manifest(s3, manifest_uri_near(channel_uri))


def _tags(sm: Any, arn: str) -> dict[str, str]:
    try:
        tags = sm.list_tags(ResourceArn=arn).get("Tags", [])
    except Exception:
        return {}
    return {t["Key"]: t["Value"] for t in tags}


def manifest_uri_for_training_job(sm: Any, job: dict[str, Any]) -> str | None:
    arn = job.get("TrainingJobArn")
    tagged = _tags(sm, arn).get(MANIFEST_TAG) if arn else None
    if tagged:
        return tagged
    for channel in job.get("InputDataConfig", []) or []:
        if channel.get("ChannelName") == "train":
            uri = channel.get("DataSource", {}).get("S3DataSource", {}).get("S3Uri")
            return manifest_uri_near(uri) if uri else None
    return None


def manifest_for_model(aws: Any, model_name: str) -> dict[str, Any] | None:
    """The manifest of the data a model was trained on: its tag, else its training job's."""
    sm, s3 = aws.client("sagemaker"), aws.client("s3")
    try:
        model = sm.describe_model(ModelName=model_name)
    except Exception:
        return None
    uri = _tags(sm, model.get("ModelArn", "")).get(MANIFEST_TAG)
    if not uri:
        artifact = str((model.get("PrimaryContainer") or {}).get("ModelDataUrl") or "")
        job_name = training_job_of_artifact(artifact)
        if job_name:
            try:
                job = sm.describe_training_job(TrainingJobName=job_name)
            except Exception:
                job = {}
            uri = manifest_uri_for_training_job(sm, job) if job else None
    return read_manifest(s3, uri) if uri else None


def training_job_of_artifact(artifact: str) -> str | None:
    """<output>/<job>/output/model.tar.gz -> <job> (the path every training job writes)."""
    parts = artifact.split("/")
    if len(parts) >= 3 and parts[-1] == "model.tar.gz" and parts[-2] == "output":
        return parts[-3]
    return None


def model_of_endpoint(aws: Any, endpoint_name: str) -> str | None:
    sm = aws.client("sagemaker")
    try:
        endpoint = sm.describe_endpoint(EndpointName=endpoint_name)
        config = sm.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    except Exception:
        return None
    variants = config.get("ProductionVariants") or []
    return variants[0].get("ModelName") if variants else None


def image_of_model(aws: Any, model_name: str) -> str:
    try:
        model = aws.client("sagemaker").describe_model(ModelName=model_name)
    except Exception:
        return ""
    return str((model.get("PrimaryContainer") or {}).get("Image") or "")


# --- rows --------------------------------------------------------------------------------
def parse_rows(text: str) -> list[list[str]]:
    lines = [line for line in text.splitlines() if line.strip()]
    return list(csv.reader(io.StringIO("\n".join(lines))))


def row_shape(manifest: dict[str, Any], rows: list[list[str]]) -> str:
    """'features' (ready), 'labelled' (prepared rows, label first), 'raw' (source columns,
    encoded before sending), 'header+raw', or 'bad'."""
    if not rows:
        return "bad"
    source = manifest["source_columns"]
    widths = {len(r) for r in rows}
    if [c.strip() for c in rows[0]] == source:
        return "header+raw"
    numeric = all(core.as_number(c) is not None or not c.strip() for r in rows for c in r)
    if numeric and widths == {len(manifest["features"])}:
        return "features"
    if numeric and manifest.get("label") and widths == {len(manifest["features"]) + 1}:
        return "labelled"
    label = (manifest.get("label") or {}).get("name")
    if widths <= {len(source), len(source) - (1 if label else 0)}:
        return "raw"
    return "bad"


def encode_rows(manifest: dict[str, Any], rows: list[list[str]]) -> list[str]:
    """Raw rows (all source columns, or all but the label) as model-ready CSV lines."""
    source = list(manifest["source_columns"])
    if rows and [c.strip() for c in rows[0]] == source:
        rows = rows[1:]
    label = (manifest.get("label") or {}).get("name")
    without_label = [c for c in source if c != label]
    out = []
    for row in rows:
        names = source if len(row) == len(source) else without_label
        record = dict(zip(names, row, strict=False))
        out.append(core.csv_line(core.encode_record(manifest, record)))
    return out


def encoding_summary(manifest: dict[str, Any]) -> str:
    """One line: what is dropped and how categories are encoded."""
    dropped = [t["column"] for t in manifest["transforms"] if t["kind"] == "drop"]
    label = (manifest.get("label") or {}).get("name")
    encoded = [
        f"{t['column']} ({t['kind']})"
        for t in manifest["transforms"]
        if t["kind"] in ("onehot", "ordinal", "date", "boolean")
    ]
    parts = []
    if label or dropped:
        parts.append("drops " + ", ".join([*([label] if label else []), *dropped]))
    if encoded:
        parts.append("encodes " + ", ".join(encoded[:6]) + (", …" if len(encoded) > 6 else ""))
    parts.append(f"{len(manifest['features'])} features in training order")
    return "; ".join(parts)


def transform_input(
    s3: Any, manifest: dict[str, Any], input_uri: str, staging_uri: str, max_bytes: int
) -> tuple[str, str | None, str]:
    """(input URI, InputFilter or None, what was done) for a batch transform with a manifest.

    Prepared rows with their label first get the filter `$[1:]` (the label column dropped, as
    SageMaker's DataProcessing does); raw rows from the source table are encoded into
    staging_uri first (up to max_bytes); feature rows go as they are."""
    from tools.dataprep.source import source_objects

    bucket, _ = parse_s3_uri(input_uri)
    objects = source_objects(s3, input_uri)
    if not objects:
        raise ValueError(f"nothing to score under {input_uri}")
    head = s3.get_object(Bucket=bucket, Key=objects[0][0], Range="bytes=0-65535")["Body"].read()
    text = head.decode("utf-8", errors="replace")
    if objects[0][1] > len(head):
        text = text.rsplit("\n", 1)[0]
    shape = row_shape(manifest, parse_rows(text))
    if shape == "features":
        return input_uri, None, "rows hold the features in training order"
    if shape == "labelled":
        return input_uri, "$[1:]", "the label column is dropped with InputFilter $[1:]"
    if shape == "bad":
        raise ValueError(
            f"rows under {input_uri} match neither the model's {len(manifest['features'])} "
            f"features nor the source table's {len(manifest['source_columns'])} columns"
        )
    total = sum(size for _, size in objects)
    if total > max_bytes:
        raise ValueError(
            f"{input_uri} holds raw rows ({total:,} bytes): prepare it with prepare_training_data "
            "first, or score its prepared test/ rows"
        )
    out_bucket, out_prefix = parse_s3_uri(
        staging_uri if staging_uri.endswith("/") else staging_uri + "/"
    )
    for key, _ in objects:
        body = (
            s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8", errors="replace")
        )
        lines = encode_rows(manifest, parse_rows(body))
        name = key.rsplit("/", 1)[-1]
        s3.put_object(
            Bucket=out_bucket, Key=out_prefix + name, Body=("\n".join(lines) + "\n").encode()
        )
    staged = f"s3://{out_bucket}/{out_prefix}"
    return (
        staged,
        None,
        f"raw rows encoded with the manifest into {staged} ({encoding_summary(manifest)})",
    )


def encode_payload(
    aws: Any, endpoint_name: str, body: bytes, content_type: str
) -> tuple[bytes, str]:
    """(the body to send, a note) for an invoke: raw source rows are encoded with the model's
    manifest (features in training order, label and ids dropped); anything else goes as is."""
    if content_type.split(";")[0].strip().lower() != "text/csv":
        return body, ""
    model = model_of_endpoint(aws, endpoint_name)
    found = manifest_for_model(aws, model) if model else None
    if found is None:
        return body, ""
    rows = parse_rows(body.decode("utf-8", errors="replace"))
    if row_shape(found, rows) not in ("raw", "header+raw"):
        return body, ""
    lines = encode_rows(found, rows)
    note = f"encoded {len(lines)} raw row(s) with {found.get('uri')}: {encoding_summary(found)}"
    return ("\n".join(lines)).encode(), note
