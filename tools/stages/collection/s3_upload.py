"""Uploading local files to S3 (multipart for big ones), tagged as created by sagecoach."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, Field, model_validator

from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.local_paths import walk_upload
from tools.core.results import CostEstimate, Resource, ToolResult
from tools.core.validators import LocalPath, S3PrefixUri, parse_s3_uri
from tools.cost.prices import unit_price
from tools.stages.collection.s3 import common_dir, s3_tagging
from tools.stages.shared.listing import Strict
from tools.stages.shared.s3_reads import human_bytes

MULTIPART_THRESHOLD = 64 * 1024 * 1024
MULTIPART_CHUNK = 16 * 1024 * 1024


class UploadArgs(BaseModel):
    model_config = Strict
    local_path: Annotated[LocalPath, Field(description="local file or folder")]
    s3_uri: Annotated[
        S3PrefixUri,
        Field(description="key, or prefix ending in /"),
    ]
    _files: list[tuple[Path, str]] = []
    _size: int = 0

    @model_validator(mode="after")
    def _measure(self) -> UploadArgs:
        """Walk the files once (bounded: tools/core/local_paths.py) so the size is known before
        approval; hidden and credential files in a folder are left out."""
        root = Path(self.local_path)
        _, key = parse_s3_uri(self.s3_uri)
        if root.is_file():
            target = key + root.name if (not key or key.endswith("/")) else key
            self._files = [(root, target)]
            self._size = root.stat().st_size
            return self
        prefix = key if (not key or key.endswith("/")) else key + "/"
        files, size = walk_upload(root, prefix)
        if not files:
            raise ValueError(f"folder '{self.local_path}' has no files to upload")
        self._files = files
        self._size = size
        return self

    @property
    def files(self) -> list[tuple[Path, str]]:
        return self._files

    @property
    def size_bytes(self) -> int:
        return self._size


def _upload_estimate(args: UploadArgs, region: str) -> CostEstimate:
    """Write risk has no price gate; this shows the size in the approval and the storage cost."""
    gb = args.size_bytes / 1024**3
    quote = unit_price("s3_gb_month", region)
    basis = f"{len(args.files)} file(s), {human_bytes(args.size_bytes)} to upload"
    if quote is None:
        return CostEstimate.unknown(basis)
    monthly = gb * quote.usd
    return CostEstimate(
        0.0,
        round(monthly, 6),
        f"{basis}; storage {human_bytes(args.size_bytes)} × ${quote.usd}/GB-month",
        quote.source,
        quote.price_date,
        notes=("upload requests cost fractions of a cent",),
    )


@tool(
    name="s3_upload_file",
    stage="collection",
    risk="write",
    operations=(
        "s3:PutObject",
        "s3:CreateMultipartUpload",
        "s3:UploadPart",
        "s3:CompleteMultipartUpload",
    ),
    estimator=_upload_estimate,
    phrases=(
        "upload a file to s3",
        "put my csv in s3",
        "copy this folder to s3",
        "upload churn.csv",
    ),
)
def s3_upload_file(ctx: ToolContext, args: UploadArgs) -> ToolResult:
    """Upload a local file or folder to S3 (multipart for large files), with progress."""
    from boto3.s3.transfer import TransferConfig

    bucket, _ = parse_s3_uri(args.s3_uri)
    s3 = ctx.client("s3")
    config = TransferConfig(
        multipart_threshold=MULTIPART_THRESHOLD,
        multipart_chunksize=MULTIPART_CHUNK,
        max_concurrency=4,
    )
    total = args.size_bytes
    done = [0]
    lock = threading.Lock()

    def progress(amount: int) -> None:
        ctx.check_cancelled()  # raising here aborts the transfer
        with lock:
            done[0] += amount
            sent = done[0]
        ctx.report(f"uploading to s3://{bucket}", sent, total, "bytes")

    extra = {"Tagging": s3_tagging(ctx)}
    uploaded = []
    for path, key in args.files:
        s3.upload_file(str(path), bucket, key, ExtraArgs=extra, Callback=progress, Config=config)
        uploaded.append(
            {
                "key": key,
                "size": path.stat().st_size,
                "uri": f"s3://{bucket}/{key}",
                "multipart": path.stat().st_size >= MULTIPART_THRESHOLD,
            }
        )
    first = uploaded[0]["uri"]
    if len(uploaded) == 1:
        text = f"Uploaded {args.local_path} ({human_bytes(total)}) to {first}."
    else:
        text = f"Uploaded {len(uploaded)} files ({human_bytes(total)}) to s3://{bucket}/{common_dir([u['key'] for u in uploaded])}."
    return ToolResult(
        text,
        {"rows": uploaded[:200], "files": len(uploaded), "total_bytes": total, "uri": first},
        [
            Resource(
                "s3_object" if len(uploaded) == 1 else "s3_prefix",
                first,
                None,
                ctx.region,
                extra={"bytes": total, "files": len(uploaded)},
            )
        ],
    )
