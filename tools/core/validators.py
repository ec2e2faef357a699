"""Annotated types for AWS naming rules, shared by every tool's argument model.

Each rejects what AWS would reject, before any call, with a message a person understands.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, Field

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def check_bucket_name(name: str) -> str:
    if not 3 <= len(name) <= 63:
        raise ValueError(f"bucket name '{name}' must be 3 to 63 characters long")
    if name != name.lower():
        raise ValueError(f"bucket name '{name}' must be lower case (try '{name.lower()}')")
    if "_" in name:
        raise ValueError(f"bucket name '{name}' may not contain underscores (use hyphens)")
    if not _BUCKET.match(name):
        raise ValueError(
            f"bucket name '{name}' may contain only a-z, 0-9, dots and hyphens, "
            "and must start and end with a letter or digit"
        )
    if ".." in name or ".-" in name or "-." in name:
        raise ValueError(
            f"bucket name '{name}' may not have adjacent dots or a dot next to a hyphen"
        )
    try:
        ipaddress.ip_address(name)
        raise ValueError(f"bucket name '{name}' may not look like an IP address")
    except ValueError as exc:
        if "IP address" in str(exc):
            raise
    if name.startswith(("xn--", "sthree-", "amzn-s3-demo-")) or name.endswith(
        ("-s3alias", "--ol-s3", ".mrap", "--x-s3")
    ):
        raise ValueError(f"bucket name '{name}' uses a prefix or suffix AWS reserves")
    return name


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """('bucket', 'key/prefix') from s3://bucket/key; raises ValueError saying what is wrong."""
    if not uri.startswith("s3://"):
        raise ValueError(f"'{uri}' is not an S3 URI; write it as s3://bucket/path")
    rest = uri[5:]
    bucket, _, key = rest.partition("/")
    if not bucket:
        raise ValueError(f"'{uri}' has no bucket name; write it as s3://bucket/path")
    check_bucket_name(bucket)
    return bucket, key


def check_s3_uri(uri: str) -> str:
    parse_s3_uri(uri)
    return uri


def check_s3_prefix_uri(uri: str) -> str:
    """An S3 URI that may be just a bucket (s3://bucket or s3://bucket/)."""
    parse_s3_uri(uri)
    return uri


_JOB = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")


def derived_name(*parts: str, suffix: str = "", limit: int = 63) -> str:
    """A name a tool declares as its default, made from what the call is about
    ("xgb-1" + "model" -> "xgb-1-model"): letters, digits and hyphens, within `limit`
    (long ones keep a short hash so they stay distinct). Deterministic, so an approval and
    the call it approved name the same thing."""
    import hashlib

    raw = "-".join(p for p in (*parts, suffix) if p)
    name = re.sub(r"[^A-Za-z0-9]+", "-", raw).strip("-") or "sagecoach"
    if len(name) > limit:
        digest = hashlib.sha1(raw.encode()).hexdigest()[:6]
        tail = f"-{suffix}-{digest}" if suffix else f"-{digest}"
        name = name[: limit - len(tail)].rstrip("-") + tail
    return name


def check_sagemaker_name(name: str) -> str:
    """SageMaker job, model, endpoint and config names: 1–63 letters, digits and hyphens."""
    if not name:
        raise ValueError("the name may not be empty")
    if len(name) > 63:
        raise ValueError(f"'{name}' is {len(name)} characters; SageMaker allows at most 63")
    if not _JOB.match(name):
        raise ValueError(
            f"'{name}' may contain only letters, digits and hyphens, and must start with a letter or digit"
        )
    return name


_GLUE = re.compile(r"^[a-z0-9_]{1,255}$")


def check_glue_name(name: str) -> str:
    """Glue database and table names: lower case letters, digits and underscores (Athena-friendly)."""
    if not _GLUE.match(name):
        suggestion = re.sub(r"[^a-z0-9_]", "_", name.lower())
        raise ValueError(
            f"'{name}' is not a usable Glue/Athena name: use lower case letters, digits and underscores "
            f"(for example '{suggestion}')"
        )
    return name


_ROLE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")


def check_role_arn(arn: str) -> str:
    if not _ROLE.match(arn):
        raise ValueError(
            f"'{arn}' is not an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>). "
            "Create a SageMaker execution role in the IAM console (trusted entity: SageMaker) "
            "and pass its ARN."
        )
    return arn


_INSTANCE = re.compile(r"^ml\.[a-z0-9]+\.[a-z0-9]+$")


def check_instance_type(value: str) -> str:
    if not _INSTANCE.match(value):
        raise ValueError(f"'{value}' is not a SageMaker instance type (for example ml.m5.xlarge)")
    return value


def check_local_file(path: str) -> str:
    p = Path(path).expanduser()
    if not p.exists():
        raise ValueError(f"local file '{path}' does not exist")
    if not p.is_file():
        raise ValueError(f"'{path}' is not a file")
    return str(p)


def check_local_path(path: str) -> str:
    p = Path(path).expanduser()
    if not p.exists():
        raise ValueError(f"local path '{path}' does not exist")
    return str(p)


BucketName = Annotated[
    str,
    AfterValidator(check_bucket_name),
    Field(description="S3 bucket name (lower case, 3-63 chars)"),
]
S3Uri = Annotated[str, AfterValidator(check_s3_uri), Field(description="S3 URI, s3://bucket/key")]
S3PrefixUri = Annotated[
    str,
    AfterValidator(check_s3_prefix_uri),
    Field(description="S3 URI of a prefix, s3://bucket/prefix/"),
]
SageMakerName = Annotated[str, AfterValidator(check_sagemaker_name)]
GlueName = Annotated[str, AfterValidator(check_glue_name)]
RoleArn = Annotated[
    str, AfterValidator(check_role_arn), Field(description="IAM role ARN SageMaker assumes")
]
InstanceType = Annotated[str, AfterValidator(check_instance_type)]
LocalFile = Annotated[str, AfterValidator(check_local_file)]
LocalPath = Annotated[str, AfterValidator(check_local_path)]
