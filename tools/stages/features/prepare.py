"""prepare_training_data: a user's table in S3 becomes a built-in algorithm's input.

Label first, no header, numbers only, split into train/validation/test under an output prefix,
with `schema.json` saying how (the manifest invoke, transform, Clarify and monitoring reuse).
Small data is prepared here with pandas; above LOCAL_LIMIT_BYTES the same file
(tools/dataprep/core.py) runs as a SageMaker Processing job in the scikit-learn image.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tools.aws.roles import OptionalRoleArn, with_role
from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.errors import ToolError
from tools.core.results import CostEstimate, Resource, ToolResult
from tools.core.validators import InstanceType, S3PrefixUri, S3Uri, parse_s3_uri
from tools.cost.estimates import estimate_instances
from tools.cost.lookups import cached_lookup
from tools.cost.prices import check_instance_for, instance_hourly
from tools.dataprep import core
from tools.dataprep.source import LOCAL_LIMIT_BYTES, source_objects
from tools.stages.shared.s3_reads import human_bytes

CORE_FILE = Path(core.__file__)
PROCESSING_INPUT = "/opt/ml/processing/input/data"
PROCESSING_OUTPUT = "/opt/ml/processing/output/prepared"


class PrepareArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source_s3_uri: Annotated[
        S3Uri, Field(description="table: CSV/TSV/Parquet/JSONL object or prefix")
    ]
    target_column: Annotated[
        str | None, Field(description="label column (kmeans/rcf: optional)")
    ] = None
    algorithm: Literal["xgboost", "linear-learner", "kmeans", "randomcutforest"] = "xgboost"
    output_s3_uri: Annotated[
        S3PrefixUri | None, Field(description="default: <bucket>/sagecoach/prepared/<name>/")
    ] = None
    problem_type: Literal[
        "auto", "binary_classification", "multiclass_classification", "regression"
    ] = "auto"
    drop_columns: Annotated[list[str], Field(description="columns to leave out")] = []
    max_categories: Annotated[int, Field(ge=2, le=200, description="one-hot cap per column")] = 20
    categorical_encoding: Literal["onehot", "ordinal"] = "onehot"
    validation_fraction: Annotated[float, Field(ge=0, le=0.5)] = 0.15
    test_fraction: Annotated[float, Field(ge=0, le=0.5)] = 0.15
    seed: int = 42
    run_as: Annotated[
        Literal["auto", "local", "processing"],
        Field(
            description=f"auto: here up to {LOCAL_LIMIT_BYTES // 2**20} MB, else a processing job"
        ),
    ] = "auto"
    instance_type: InstanceType = "ml.m5.xlarge"
    max_runtime_s: Annotated[int, Field(ge=60, le=86_400)] = 3600
    role_arn: OptionalRoleArn = None

    @model_validator(mode="after")
    def _check(self) -> PrepareArgs:
        if self.algorithm in core.SUPERVISED and not self.target_column:
            raise ValueError(f"{self.algorithm} learns from a label: give target_column")
        if self.validation_fraction + self.test_fraction >= 0.9:
            raise ValueError("validation_fraction + test_fraction must leave rows to train on")
        check_instance_for("processing", self.instance_type)
        return self

    @property
    def split(self) -> tuple[float, float, float]:
        rest = 1 - self.validation_fraction - self.test_fraction
        return (round(rest, 6), self.validation_fraction, self.test_fraction)


def default_output(source_uri: str) -> str:
    bucket, key = parse_s3_uri(source_uri)
    stem = Path(key.rstrip("/")).name.split(".")[0] or "data"
    return f"s3://{bucket}/sagecoach/prepared/{stem}/"


def output_of(args: PrepareArgs) -> str:
    out = args.output_s3_uri or default_output(args.source_s3_uri)
    return out if out.endswith("/") else out + "/"


def source_bytes(aws: Any, uri: str) -> int:
    def compute() -> int:
        return sum(size for _, size in source_objects(aws.client("s3"), uri))

    return int(cached_lookup(aws, ("prepare-source-bytes", uri), compute))


def runs_locally(args: PrepareArgs, size: int | None) -> bool:
    if args.run_as != "auto":
        return args.run_as == "local"
    return size is not None and size <= LOCAL_LIMIT_BYTES


def estimate_prepare(args: PrepareArgs, region: str, aws: Any = None) -> CostEstimate:
    size = None
    if args.run_as == "auto" and aws is not None:
        size = source_bytes(aws, args.source_s3_uri)
    if args.run_as == "auto" and size is None:
        return CostEstimate.unknown("the source's size decides: here (free) or a processing job")
    if runs_locally(args, size):
        return CostEstimate(
            0.0,
            0.0,
            "runs on this machine with pandas: no SageMaker compute (S3 requests only)",
            source="no AWS compute",
        )
    return estimate_instances(
        args.instance_type, 1, args.max_runtime_s / 3600, "processing", region
    )


def upload_prepared(ctx: ToolContext, folder: Path, output: str) -> list[str]:
    bucket, prefix = parse_s3_uri(output)
    s3 = ctx.client("s3")
    keys = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        key = prefix + path.relative_to(folder).as_posix()
        s3.upload_file(str(path), bucket, key)
        keys.append(key)
    return keys


def prepare_locally(ctx: ToolContext, args: PrepareArgs, output: str) -> dict[str, Any]:
    s3 = ctx.client("s3")
    bucket, _ = parse_s3_uri(args.source_s3_uri)
    objects = source_objects(s3, args.source_s3_uri)
    total = sum(size for _, size in objects)
    if total > LOCAL_LIMIT_BYTES:
        raise ToolError(
            f"the source is {human_bytes(total)}, over the {human_bytes(LOCAL_LIMIT_BYTES)} this "
            "machine prepares; use run_as=processing (a SageMaker Processing job does it)",
            kind="invalid_arguments",
        )
    with tempfile.TemporaryDirectory(prefix="sagecoach-prepare-") as tmp:
        source_dir, out_dir = Path(tmp, "in"), Path(tmp, "out")
        source_dir.mkdir()
        for index, (key, _) in enumerate(objects):
            ctx.report(f"downloading {key}", index, len(objects), "files")
            s3.download_file(bucket, key, str(source_dir / f"{index:05d}-{Path(key).name}"))
        ctx.report("encoding and splitting")
        try:
            manifest = core.run(
                str(source_dir),
                str(out_dir),
                target=args.target_column,
                algorithm=args.algorithm,
                problem_type=args.problem_type,
                drop=tuple(args.drop_columns),
                max_categories=args.max_categories,
                encoding=args.categorical_encoding,
                split=args.split,
                seed=args.seed,
                output_uri=output,
                source_uri=args.source_s3_uri,
            )
        except core.PrepareError as exc:
            raise ToolError(str(exc), kind="invalid_arguments") from None
        ctx.report(f"uploading to {output}")
        upload_prepared(ctx, out_dir, output)
    manifest["uri"] = f"{output}{core.MANIFEST_NAME}"
    return manifest


def processing_arguments(args: PrepareArgs, output: str) -> list[str]:
    out = [
        "--input", PROCESSING_INPUT, "--output", PROCESSING_OUTPUT,
        "--algorithm", args.algorithm, "--problem-type", args.problem_type,
        "--max-categories", str(args.max_categories), "--encoding", args.categorical_encoding,
        "--split", ",".join(str(f) for f in args.split), "--seed", str(args.seed),
        "--output-uri", output, "--source-uri", args.source_s3_uri,
    ]  # fmt: skip
    if args.target_column:
        out += ["--target", args.target_column]
    if args.drop_columns:
        out += ["--drop", ",".join(args.drop_columns)]
    return out


def start_processing(ctx: ToolContext, args: PrepareArgs, output: str) -> ToolResult:
    from tools.stages.features.processing import (
        ProcessingJobArgs,
        build_processing_job_request,
        processing_job_name,
    )

    args = with_role(ctx, args, "the data preparation processing job")
    job = ProcessingJobArgs(
        script=str(CORE_FILE),
        framework="sklearn",
        role_arn=args.role_arn,
        inputs={"data": args.source_s3_uri},
        outputs={"prepared": output.rstrip("/")},
        code_s3_uri=f"{output}code/",
        instance_type=args.instance_type,
        max_runtime_s=args.max_runtime_s,
        arguments=processing_arguments(args, output),
    )
    name = processing_job_name(job).replace("sagecoach-sklearn", "sagecoach-prepare")
    job = job.model_copy(update={"job_name": name})
    code_uri = f"{output}code/{CORE_FILE.name}"
    request = build_processing_job_request(
        job, region=ctx.region, tags=ctx.aws.tags(), code_uri=code_uri
    )
    bucket, key = parse_s3_uri(code_uri)
    ctx.client("s3").upload_file(str(CORE_FILE), bucket, key)
    arn = ctx.client("sagemaker").create_processing_job(**request)["ProcessingJobArn"]
    quote = instance_hourly(args.instance_type, "processing", ctx.region)
    text = (
        f"Started processing job {name} to prepare {args.source_s3_uri} for {args.algorithm} "
        f"on 1 × {args.instance_type} (the same code as a local run). When it completes, the "
        f"channels are {output}train/, {output}validation/, {output}test/ and the manifest "
        f"{output}{core.MANIFEST_NAME}. Wait with sagemaker_wait_for_job (kind processing)."
    )
    return ToolResult(
        text,
        {"job_name": name, "arn": arn, "output_s3_uri": output, "request": request},
        [Resource("sagemaker_processing_job", name, arn, hourly_usd=quote.usd if quote else None)],
    )


def describe_result(args: PrepareArgs, manifest: dict[str, Any], output: str) -> str:
    from tools.preflight.checks_prepare import plan_lines

    label = manifest["label"]
    rows = manifest["split"]["rows"]
    parts = " / ".join(
        f"{name} {rows[name]}" for name in ("train", "validation", "test") if rows.get(name)
    )
    dropped, encoded = plan_lines(manifest)
    lines = [
        f"Prepared {args.source_s3_uri} for {args.algorithm}: {manifest['source']['rows']} rows → "
        f"{parts} ({'stratified, ' if manifest['split']['stratified'] else ''}seed {args.seed}); "
        f"{len(manifest['features'])} numeric features, no header"
        + (f", label {label['name']} first" if label and args.algorithm in core.SUPERVISED else "")
        + ".",
    ]
    if label and label["classes"]:
        mapping = ", ".join(f"{c} → {i}" for i, c in enumerate(label["classes"][:6]))
        lines.append(f"Label {label['name']}: {mapping}.")
    if manifest["split"].get("rows_without_label"):
        lines.append(f"Left out {manifest['split']['rows_without_label']} rows without a label.")
    if dropped:
        lines.append("Dropped: " + "; ".join(dropped) + ".")
    if encoded:
        lines.append("Encoded: " + "; ".join(encoded) + ".")
    hp = json.dumps(manifest["hyperparameters"])
    channels = manifest["channels"]
    content = manifest["content_types"].get("train", "text/csv")
    lines.append(
        f"Manifest: {output}{core.MANIFEST_NAME}. Train with train_s3_uri={channels['train']}"
        + (f" validation_s3_uri={channels['validation']}" if "validation" in channels else "")
        + f" (content type {content}) and hyperparameters {hp}."
    )
    return "\n".join(lines)


@tool(
    name="prepare_training_data",
    stage="features",
    risk="costly",
    operations=(
        "s3:ListBucket",
        "s3:GetObject",
        "s3:PutObject",
        "sagemaker:CreateProcessingJob",
    ),
    estimator=estimate_prepare,
    phrases=(
        "prepare the data for training",
        "prepare it for xgboost",
        "make the csv ready for the algorithm",
        "encode categories and split train validation test",
        "put the label first and remove the header",
        "split the data into train and validation",
    ),
)
def prepare_training_data(ctx: ToolContext, args: PrepareArgs) -> ToolResult:
    """Make a table in S3 ready for a built-in algorithm: label first, no header, numbers only (categories one-hot, dates to parts, ids and constant columns dropped), a seeded stratified train/validation/test split and a schema.json manifest; small data runs here, large data as a processing job."""
    output = output_of(args)
    size = None if args.run_as != "auto" else source_bytes(ctx.aws, args.source_s3_uri)
    if not runs_locally(args, size):
        return start_processing(ctx, args, output)
    manifest = prepare_locally(ctx, args, output)
    text = describe_result(args, manifest, output)
    data = {
        "manifest_uri": manifest["uri"],
        "channels": manifest["channels"],
        "content_types": manifest["content_types"],
        "rows": manifest["split"]["rows"],
        "features": manifest["features"],
        "dropped": [t for t in manifest["transforms"] if t["kind"] == "drop"],
        "label": manifest["label"],
        "hyperparameters": manifest["hyperparameters"],
    }
    return ToolResult(text, data)
