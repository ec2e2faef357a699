"""Pipeline steps drafted from what the session ran (the requests kept in the ledger) or from
an explicit list of steps, built with the same request builders as the stage tools.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field, model_validator

from tools.aws.roles import resolve_role, with_role
from tools.core.context import ToolContext
from tools.core.errors import ToolError
from tools.core.explain import is_not_found
from tools.core.validators import SageMakerName
from tools.stages.deployment.models import CreateModelArgs, build_create_model_request
from tools.stages.deployment.transform import TransformJobArgs, build_transform_job_request
from tools.stages.orchestration.definition import (
    JOB_STATUS,
    STEP_KINDS,
    STEP_TYPE_WORDS,
    StepDraft,
    norm_key,
)


# --- builders for explicit steps -------------------------------------------------------------
class RegisterModelArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model_package_group_name: Annotated[SageMakerName, Field(description="Registry group")]
    training_job_name: SageMakerName | None = None
    image_uri: str | None = None
    model_data_url: str | None = None
    approval_status: Literal["PendingManualApproval", "Approved", "Rejected"] = (
        "PendingManualApproval"
    )
    content_types: list[str] = ["text/csv"]
    response_types: list[str] = ["text/csv"]
    inference_instance_types: list[str] = ["ml.m5.large"]
    transform_instance_types: list[str] = ["ml.m5.large"]
    description: str = ""

    @model_validator(mode="after")
    def _source(self) -> RegisterModelArgs:
        if self.training_job_name is None and not (self.image_uri and self.model_data_url):
            raise ValueError("give training_job_name, or image_uri and model_data_url")
        return self


def build_register_model_request(
    *, group: str, image: str, model_data_url: str, args: RegisterModelArgs
) -> dict[str, Any]:
    """The CreateModelPackage request a RegisterModel step carries."""
    request: dict[str, Any] = {
        "ModelPackageGroupName": group,
        "InferenceSpecification": {
            "Containers": [{"Image": image, "ModelDataUrl": model_data_url}],
            "SupportedContentTypes": list(args.content_types),
            "SupportedResponseMIMETypes": list(args.response_types),
            "SupportedRealtimeInferenceInstanceTypes": list(args.inference_instance_types),
            "SupportedTransformInstanceTypes": list(args.transform_instance_types),
        },
        "ModelApprovalStatus": args.approval_status,
    }
    if args.description:
        request["ModelPackageDescription"] = args.description
    return request


class StepSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Annotated[
        Literal["processing", "training", "tuning", "model", "transform", "register_model"],
        Field(description="Step kind"),
    ]
    args: Annotated[dict[str, Any], Field(description="The same arguments the stage tool takes")]
    name: Annotated[str | None, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")] = None


def _training_by_job(drafts: list[StepDraft], job: str) -> StepDraft | None:
    return next(
        (
            d
            for d in drafts
            if d.kind == "sagemaker_training_job" and d.request.get("TrainingJobName") == job
        ),
        None,
    )


# code S3 URI -> the local script an explicit processing step runs (uploaded at create time).
LOCAL_CODE: dict[str, str] = {}


def upload_step_code(ctx: ToolContext, definition: dict[str, Any]) -> list[str]:
    """Upload the local scripts the definition's processing steps point at; their S3 URIs."""
    uploaded = []
    for step in definition.get("Steps", []):
        for item in (step.get("Arguments") or {}).get("ProcessingInputs", []) or []:
            uri = (item.get("S3Input") or {}).get("S3Uri")
            local = LOCAL_CODE.get(uri) if isinstance(uri, str) else None
            if local:
                bucket, _, key = uri[5:].partition("/")
                ctx.client("s3").upload_file(local, bucket, key)
                uploaded.append(uri)
    return uploaded


def draft_from_spec(ctx: ToolContext, spec: StepSpec, earlier: list[StepDraft]) -> StepDraft:
    """Build the request for one explicit step with the stage tool's own request builder."""
    from pydantic import ValidationError

    kind = STEP_TYPE_WORDS[spec.type]
    tags = ctx.aws.tags()
    try:
        if spec.type == "processing":
            from tools.stages.features.processing import (
                ProcessingJobArgs,
                build_processing_job_request,
                default_code_uri,
                processing_job_name,
            )

            pargs = with_role(ctx, ProcessingJobArgs.model_validate(spec.args))
            name = processing_job_name(pargs)
            pargs = pargs.model_copy(update={"job_name": name})
            code_uri = default_code_uri(pargs, name)
            request = build_processing_job_request(
                pargs, region=ctx.region, tags=tags, code_uri=code_uri
            )
            LOCAL_CODE[code_uri] = str(pargs.script)  # uploaded by pipelines_create_pipeline
        elif spec.type == "training":
            from tools.stages.training.training_request import (
                StartTrainingArgs,
                build_training_job_request,
            )

            request = build_training_job_request(
                with_role(ctx, StartTrainingArgs.model_validate(spec.args)),
                region=ctx.region,
                tags=tags,
            )
        elif spec.type == "tuning":
            from tools.stages.tuning.tuning_jobs import StartTuningArgs, build_tuning_job_request

            request = build_tuning_job_request(
                with_role(ctx, StartTuningArgs.model_validate(spec.args)),
                region=ctx.region,
                tags=tags,
            )
        elif spec.type == "model":
            margs = CreateModelArgs.model_validate(spec.args)
            image, data, role = margs.image_uri, margs.model_data_url, margs.role_arn
            if margs.training_job_name:
                train = _training_by_job(earlier, margs.training_job_name)
                if train is None:
                    raise ToolError(
                        f"model step: training job {margs.training_job_name} is not a training "
                        "step earlier in this list; name one, or give image_uri and model_data_url"
                    )
                image = image or train.request["AlgorithmSpecification"]["TrainingImage"]
                out = norm_key(train.request["OutputDataConfig"]["S3OutputPath"])
                data = data or f"{out}/{margs.training_job_name}/output/model.tar.gz"
                role = role or train.request["RoleArn"]
            request = build_create_model_request(
                model_name=margs.model_name,
                role_arn=role or resolve_role(ctx, None, "SageMaker models"),
                tags=tags,
                image_uri=image,
                model_data_url=data,
                model_package_arn=margs.model_package_arn,
                mode=margs.mode,
                environment=margs.environment,
            )
        elif spec.type == "transform":
            request = build_transform_job_request(
                TransformJobArgs.model_validate(spec.args), region=ctx.region, tags=tags
            )
        else:
            rargs = RegisterModelArgs.model_validate(spec.args)
            image, data = rargs.image_uri, rargs.model_data_url
            if rargs.training_job_name:
                train = _training_by_job(earlier, rargs.training_job_name)
                if train is None:
                    raise ToolError(
                        f"register_model step: {rargs.training_job_name} is not an earlier training step"
                    )
                image = image or train.request["AlgorithmSpecification"]["TrainingImage"]
                out = norm_key(train.request["OutputDataConfig"]["S3OutputPath"])
                data = data or f"{out}/{rargs.training_job_name}/output/model.tar.gz"
            request = build_register_model_request(
                group=rargs.model_package_group_name,
                image=str(image),
                model_data_url=str(data),
                args=rargs,
            )
    except ValidationError as exc:
        from tools.core.declaration import format_validation_error

        raise ToolError(
            format_validation_error(f"the {spec.type} step", exc), kind="invalid_arguments"
        ) from None
    except ValueError as exc:
        raise ToolError(f"{spec.type} step: {exc}", kind="invalid_arguments") from None
    return StepDraft(kind, request, spec.name or "", "explicit")


def drafts_from_session(
    ctx: ToolContext, names: list[str] | None
) -> tuple[list[StepDraft], list[str]]:
    """The session's successful jobs and models (with their requests), oldest first."""
    ledger = ctx.ledger
    if ledger is None or not hasattr(ledger, "entries"):
        raise ToolError(
            "This session has no resource ledger to build from; pass an explicit list of steps."
        )
    entries = [
        e
        for e in ledger.entries(session_id=ctx.session_id, kinds=STEP_KINDS)  # type: ignore[attr-defined]
        if isinstance(e.extra.get("request"), dict) and (not names or e.name in names)
    ]
    skipped: list[str] = []
    drafts: list[StepDraft] = []
    sm = ctx.client("sagemaker")
    for entry in entries:
        if entry.kind in JOB_STATUS:
            describe, param, key = JOB_STATUS[entry.kind]
            try:
                status = getattr(sm, describe)(**{param: entry.name}).get(key)
            except ClientError as exc:
                if not is_not_found(exc):
                    raise
                status = "gone"
            if status != "Completed":
                skipped.append(f"{entry.name} ({status})")
                continue
        drafts.append(StepDraft(entry.kind, entry.extra["request"], "", entry.name))
    return drafts, skipped


def definitions_dir(ctx: ToolContext) -> Path | None:
    return (ctx.state_dir / "pipelines") if ctx.state_dir else None
