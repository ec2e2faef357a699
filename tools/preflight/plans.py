"""Per tool: what a call needs (tools/preflight/needs.py), from its validated arguments only.

Every `costly` tool has an entry (a test keeps it so), as does invoke (billable, and the place
where rows meet a model). A tool whose needs are outside what pre-flight can see (a Glue job's
own role, a Batch queue) has an entry that returns empty Needs, so the omission is deliberate.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tools.core.validators import parse_s3_uri
from tools.preflight.needs import (
    Channel,
    DataContract,
    InstanceNeed,
    Needs,
    PayloadNeed,
    PrepareNeed,
)
from tools.stages.training.algorithms import channel_content_type

BUILT_IN_CONTRACTS = ("xgboost", "linear-learner", "kmeans", "randomcutforest")
Plan = Callable[[Any, "str | None"], Needs]
PLANS: dict[str, Plan] = {}


def plan(*names: str) -> Callable[[Plan], Plan]:
    def register(func: Plan) -> Plan:
        for name in names:
            PLANS[name] = func
        return func

    return register


def _bucket_default(uri: str, tail: str) -> str:
    bucket, _ = parse_s3_uri(uri)
    return f"s3://{bucket}/{tail}"


def training_needs(args: Any, default_role: str | None, usage_count: int = 1) -> Needs:
    role = args.role_arn or default_role
    output = args.output_s3_uri or _bucket_default(args.train_s3_uri, "sagecoach/output/")
    channels = [
        Channel(name, uri, channel_content_type(args.algorithm, name, args.content_type))
        for name, uri in (
            ("train", args.train_s3_uri),
            ("validation", args.validation_s3_uri),
            ("test", args.test_s3_uri),
        )
        if uri
    ]
    reads = [c.uri for c in channels]
    if args.source_s3_uri:
        reads.append(args.source_s3_uri)
    needs = Needs(role_arn=role, needs_role=True, reads=reads, writes=[output])
    usage = "spot training" if args.use_spot else "training"
    needs.instances.append(
        InstanceNeed(args.instance_type, args.instance_count * usage_count, usage)
    )
    if args.algorithm in BUILT_IN_CONTRACTS:
        from tools.stages.training.training_request import static_hyperparameters

        try:
            hyperparameters = static_hyperparameters(args)
        except Exception:
            hyperparameters = {k: str(v) for k, v in args.hyperparameters.items()}
        needs.contract = DataContract(
            args.algorithm, args.version, hyperparameters, tuple(channels)
        )
    return needs


@plan("sagemaker_start_training_job")
def _training(args: Any, default_role: str | None) -> Needs:
    return training_needs(args, default_role)


@plan("sagemaker_start_tuning_job")
def _tuning(args: Any, default_role: str | None) -> Needs:
    return training_needs(
        args, default_role, usage_count=getattr(args, "max_parallel_jobs", 1) or 1
    )


@plan("sagemaker_start_processing_job")
def _processing(args: Any, default_role: str | None) -> Needs:
    writes = list(args.outputs.values()) + ([args.code_s3_uri] if args.code_s3_uri else [])
    return Needs(
        role_arn=args.role_arn or default_role,
        needs_role=True,
        reads=list(args.inputs.values()),
        writes=writes,
        instances=[InstanceNeed(args.instance_type, args.instance_count, "processing")],
    )


@plan("clarify_start_bias_job", "clarify_start_explainability_job", "monitor_suggest_baseline")
def _clarify(args: Any, default_role: str | None) -> Needs:
    data = getattr(args, "data_s3_uri", None) or getattr(args, "dataset_s3_uri", None)
    output = args.output_s3_uri or (_bucket_default(data, "sagecoach/") if data else None)
    needs = Needs(
        role_arn=args.role_arn or default_role,
        needs_role=True,
        reads=[data] if data else [],
        writes=[output] if output else [],
        instances=[InstanceNeed(args.instance_type, args.instance_count, "processing")],
    )
    model = getattr(args, "model_name", None)
    if model:
        needs.model_names.append(model)
    return needs


@plan("autopilot_start_job")
def _autopilot(args: Any, default_role: str | None) -> Needs:
    output = args.output_s3_uri or _bucket_default(args.data_s3_uri, "sagecoach/autopilot/")
    return Needs(
        role_arn=args.role_arn or default_role,
        needs_role=True,
        reads=[args.data_s3_uri],
        writes=[output],
    )


@plan("sagemaker_start_transform_job")
def _transform(args: Any, default_role: str | None) -> Needs:
    return Needs(
        reads=[args.input_s3_uri],
        writes=[args.output_s3_uri],
        instances=[InstanceNeed(args.instance_type, args.instance_count, "transform")],
        model_names=[args.model_name],
        payload=PayloadNeed(
            model_name=args.model_name,
            input_uri=args.input_s3_uri,
            content_type=args.content_type,
            encodes_raw=True,  # the transform tool encodes raw rows or filters the label out
        ),
    )


@plan("sagemaker_create_endpoint")
def _endpoint(args: Any, default_role: str | None) -> Needs:
    needs = Needs(model_names=[args.model_name])
    if args.endpoint_type != "serverless":
        needs.instances.append(InstanceNeed(args.instance_type, args.instance_count, "endpoint"))
    for extra in getattr(args, "extra_variants", None) or []:
        needs.model_names.append(extra.model_name)
        instance = getattr(extra, "instance_type", None)
        if instance:
            needs.instances.append(
                InstanceNeed(instance, getattr(extra, "instance_count", 1), "endpoint")
            )
    return needs


@plan("sagemaker_update_endpoint")
def _update_endpoint(args: Any, default_role: str | None) -> Needs:
    needs = Needs(model_names=[args.model_name] if args.model_name else [])
    if args.instance_type:
        needs.instances.append(
            InstanceNeed(args.instance_type, args.instance_count or 1, "endpoint")
        )
    return needs


@plan("sagemaker_invoke_endpoint")
def _invoke(args: Any, default_role: str | None) -> Needs:
    body = args.payload.encode() if args.payload is not None else None
    if body is None and args.payload_file:
        with open(str(args.payload_file), "rb") as handle:
            body = handle.read(65536)
    return Needs(
        payload=PayloadNeed(
            endpoint_name=args.endpoint_name,
            body=body,
            content_type=args.content_type,
            encodes_raw=True,  # the invoke tool encodes raw rows with the model's manifest
        )
    )


@plan("monitor_create_schedule")
def _monitor(args: Any, default_role: str | None) -> Needs:
    needs = Needs(
        role_arn=args.role_arn or default_role,
        needs_role=True,
        capture_endpoint=args.endpoint_name,
        instances=[InstanceNeed(args.instance_type, 1, "processing")],
    )
    if args.output_s3_uri:
        needs.writes.append(args.output_s3_uri)
    for uri in (
        args.baseline_constraints_uri,
        args.baseline_statistics_uri,
        args.ground_truth_s3_uri,
    ):
        if uri:
            needs.reads.append(uri)
    return needs


@plan("prepare_training_data")
def _prepare(args: Any, default_role: str | None) -> Needs:
    options = {
        "problem_type": args.problem_type,
        "drop_columns": list(args.drop_columns),
        "max_categories": args.max_categories,
        "categorical_encoding": args.categorical_encoding,
        "run_as": args.run_as,
        "instance_type": args.instance_type,
    }
    return Needs(
        role_arn=args.role_arn or default_role,
        reads=[args.source_s3_uri],
        writes=[args.output_s3_uri] if args.output_s3_uri else [],
        prepare=PrepareNeed(args.source_s3_uri, args.target_column, args.algorithm, options),
    )


@plan("pipelines_start_execution")
def _pipeline(args: Any, default_role: str | None) -> Needs:
    return Needs(pipeline_name=args.pipeline_name)


@plan("glue_start_job_run")
def _glue_run(args: Any, default_role: str | None) -> Needs:
    return Needs(
        glue_run={
            "job_name": args.job_name,
            "worker_type": getattr(args, "worker_type", None),
            "number_of_workers": getattr(args, "number_of_workers", None),
        }
    )


@plan("glue_start_crawler", "kinesis_create_stream", "databrew_start_job_run", "batch_submit_job")
def _nothing_visible(args: Any, default_role: str | None) -> Needs:
    """These run as roles and resources fixed when they were created (checked then)."""
    return Needs()
