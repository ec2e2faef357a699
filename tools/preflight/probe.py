"""Cached, thread-safe AWS look-ups shared by the checks of one pre-flight run.

Several checks look at the same things (a channel's listing, its first object, a bucket's
region); each is fetched once per run, and the checks run on a few threads at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from tools.core.validators import parse_s3_uri

HEAD_BYTES = 64 * 1024
LIST_KEYS = 50


def error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return type(exc).__name__


def http_status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return None


class Probe:
    """One run's look-ups: each key computed once, errors remembered and re-raised."""

    def __init__(self, aws: Any) -> None:
        self.aws = aws
        self._lock = threading.Lock()
        self._memo: dict[tuple[Any, ...], Future] = {}

    @property
    def sandbox(self) -> bool:
        return bool(getattr(self.aws, "is_sandbox", False))

    @property
    def region(self) -> str:
        return str(self.aws.region)

    def client(self, service: str) -> Any:
        return self.aws.client(service)

    def once(self, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        with self._lock:
            future = self._memo.get(key)
            owner = future is None
            if owner:
                future = Future()
                self._memo[key] = future
        assert future is not None
        if owner:
            try:
                future.set_result(compute())
            except BaseException as exc:  # remembered: the next caller sees the same error
                future.set_exception(exc)
        return future.result()

    # --- S3 ---------------------------------------------------------------------------------
    def bucket_region(self, bucket: str) -> str:
        def compute() -> str:
            answer = self.client("s3").get_bucket_location(Bucket=bucket)
            return str(answer.get("LocationConstraint") or "us-east-1")

        return str(self.once(("region", bucket), compute))

    def listing(self, uri: str) -> list[dict[str, Any]]:
        """The objects a channel URI names: the object itself, or up to LIST_KEYS under it."""

        def compute() -> list[dict[str, Any]]:
            bucket, key = parse_s3_uri(uri)
            page = self.client("s3").list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=LIST_KEYS)
            found = [
                {"key": o["Key"], "size": int(o.get("Size", 0))} for o in page.get("Contents", [])
            ]
            exact = [o for o in found if o["key"] == key]
            if exact and not key.endswith("/"):
                return exact
            if key and not key.endswith("/"):  # a prefix must end at a "folder" boundary
                found = [o for o in found if o["key"][len(key) :].startswith("/")]
            return [o for o in found if not o["key"].endswith("/")]

        return list(self.once(("list", uri), compute))

    def head_bytes(self, bucket: str, key: str, size: int, limit: int = HEAD_BYTES) -> bytes:
        def compute() -> bytes:
            if size == 0:
                return b""
            end = min(size, limit) - 1
            body = self.client("s3").get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{end}")
            return bytes(body["Body"].read())

        return bytes(self.once(("head", bucket, key, limit), compute))

    def object_exists(self, uri: str) -> bool:
        from botocore.exceptions import ClientError

        def compute() -> bool:
            bucket, key = parse_s3_uri(uri)
            try:
                self.client("s3").head_object(Bucket=bucket, Key=key)
            except ClientError as exc:
                if error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                    return False
                raise
            return True

        return bool(self.once(("exists", uri), compute))

    # --- SageMaker ------------------------------------------------------------------------
    def describe(self, kind: str, name: str) -> dict[str, Any]:
        def compute() -> dict[str, Any]:
            sm = self.client("sagemaker")
            if kind == "endpoint":
                return dict(sm.describe_endpoint(EndpointName=name))
            if kind == "endpoint_config":
                return dict(sm.describe_endpoint_config(EndpointConfigName=name))
            if kind == "model":
                return dict(sm.describe_model(ModelName=name))
            if kind == "training_job":
                return dict(sm.describe_training_job(TrainingJobName=name))
            raise ValueError(kind)

        return dict(self.once(("describe", kind, name), compute))
