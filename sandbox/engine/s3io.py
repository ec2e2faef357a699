"""Reading and writing the sandbox's S3 the way the SageMaker platform does for a job.

The engine talks to its own server with plain boto3 clients (dummy credentials, no retries), so
what a job downloads or uploads goes through the same S3 emulation any client sees.
"""

from __future__ import annotations

import os
import tarfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_CLIENTS: dict[tuple[str, str, str], Any] = {}
SMALL_OBJECT = 16 * 1024 * 1024
_LOCK = threading.Lock()


def client(endpoint: str, service: str, region: str = "us-east-1") -> Any:
    """A cached boto3 client on the sandbox (thread-safe to share, as boto3 clients are)."""
    key = (endpoint, service, region)
    with _LOCK:
        cached = _CLIENTS.get(key)
        if cached is None:
            import boto3
            from botocore.config import Config

            cached = boto3.session.Session().client(
                service,
                endpoint_url=endpoint,
                region_name=region,
                aws_access_key_id="sandbox",
                aws_secret_access_key="sandbox",
                config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=60),
            )
            _CLIENTS[key] = cached
        return cached


def split_uri(uri: str) -> tuple[str, str]:
    """s3://bucket/key → (bucket, key); raises ValueError for anything else."""
    if not uri.startswith("s3://"):
        raise ValueError(f"'{uri}' is not an s3:// URI")
    bucket, _, key = uri[5:].partition("/")
    if not bucket:
        raise ValueError(f"'{uri}' has no bucket")
    return bucket, key


@dataclass(frozen=True)
class S3Object:
    key: str
    size: int


class S3:
    """The few S3 operations a job needs, on one region's client."""

    def __init__(self, endpoint: str, region: str = "us-east-1") -> None:
        self.s3 = client(endpoint, "s3", region)

    def list_prefix(self, uri: str) -> list[S3Object]:
        """Every object under the prefix (an exact key counts too); [] when the bucket is missing."""
        bucket, prefix = split_uri(uri)
        found: list[S3Object] = []
        try:
            pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for page in pages:
                found.extend(S3Object(o["Key"], int(o["Size"])) for o in page.get("Contents", []))
        except self.s3.exceptions.NoSuchBucket:
            return []
        return found

    def download_prefix(self, uri: str, target: Path) -> list[Path]:
        """Download every object under the prefix into target, keeping paths relative to it.

        As SageMaker does for S3Prefix channels: the part of the key after the prefix becomes the
        file's path under the channel directory ("folder" placeholder keys are skipped).
        """
        bucket, prefix = split_uri(uri)
        target.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        for obj in self.list_prefix(uri):
            if obj.key.endswith("/"):
                continue
            relative = obj.key[len(prefix) :].lstrip("/") or os.path.basename(obj.key)
            path = (target / relative).resolve()
            if target.resolve() not in path.parents and path != target.resolve():
                continue  # a key with ../ must not escape the job directory
            path.parent.mkdir(parents=True, exist_ok=True)
            self.s3.download_file(bucket, obj.key, str(path))
            written.append(path)
        return written

    def upload_file(self, path: Path, uri: str) -> None:
        bucket, key = split_uri(uri)
        if path.stat().st_size <= SMALL_OBJECT:  # one request; no transfer-manager threads
            self.s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
        else:
            self.s3.upload_file(str(path), bucket, key)

    def upload_dir(self, source: Path, uri: str) -> int:
        """Upload every file under source to the prefix; returns how many."""
        bucket, prefix = split_uri(uri)
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        count = 0
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            self.upload_file(path, f"s3://{bucket}/{prefix}{path.relative_to(source).as_posix()}")
            count += 1
        return count

    def put_bytes(self, uri: str, data: bytes) -> None:
        bucket, key = split_uri(uri)
        self.s3.put_object(Bucket=bucket, Key=key, Body=data)

    def get_bytes(self, uri: str) -> bytes:
        bucket, key = split_uri(uri)
        return bytes(self.s3.get_object(Bucket=bucket, Key=key)["Body"].read())

    def bucket_exists(self, bucket: str) -> bool:
        try:
            self.s3.head_bucket(Bucket=bucket)
            return True
        except Exception:
            return False


def tar_gz_dir(source: Path, archive: Path) -> Path:
    """model.tar.gz as SageMaker writes it: the directory's contents at the archive root."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "w:gz", compresslevel=1) as tar:
        for path in sorted(source.rglob("*")):
            tar.add(path, arcname=path.relative_to(source).as_posix(), recursive=False)
    return archive


def extract_tar_gz(archive: Path, target: Path) -> None:
    """Unpack a source or model archive, refusing members that would land outside target."""
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "r:*") as tar:
        tar.extractall(target, filter="data")
