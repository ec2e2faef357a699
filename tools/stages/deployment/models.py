"""SageMaker models: register a model artifact and its serving image, list models."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tools.aws.roles import RoleArnValue, resolve_role
from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.errors import ToolError
from tools.core.results import Resource, ToolResult
from tools.core.validators import SageMakerName, derived_name, parse_s3_uri


# --- sagemaker_create_model --------------------------------------------------------------------
class CreateModelArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model_name: Annotated[
        SageMakerName | None, Field(description="default: <training job>-model")
    ] = None
    training_job_name: Annotated[
        SageMakerName | None,
        Field(description="Completed training job to take the image and artifact from"),
    ] = None
    model_package_arn: Annotated[
        str | None, Field(description="Model package (registry version) ARN instead")
    ] = None
    image_uri: Annotated[str | None, Field(description="Inference image URI (explicit form)")] = (
        None
    )
    model_data_url: Annotated[
        str | None,
        Field(description="s3:// model.tar.gz, or the artifacts prefix when mode is multi"),
    ] = None
    role_arn: Annotated[
        RoleArnValue | None,
        Field(description="Execution role; default: the training job's, else the session's"),
    ] = None
    mode: Annotated[
        Literal["single", "multi"], Field(description="multi: many artifacts under one prefix")
    ] = "single"
    environment: Annotated[
        dict[str, str] | None, Field(description="Container environment variables")
    ] = None

    @model_validator(mode="after")
    def _one_source(self) -> CreateModelArgs:
        sources = [
            self.training_job_name is not None,
            self.model_package_arn is not None,
            self.image_uri is not None,
        ]
        if sum(sources) != 1:
            raise ValueError(
                "give exactly one source: training_job_name, model_package_arn, "
                "or image_uri with model_data_url"
            )
        if self.model_name is None:
            if self.training_job_name is None:
                raise ValueError("model_name is needed when the model is not from a training job")
            self.model_name = derived_name(self.training_job_name, suffix="model")
        if self.model_package_arn and not self.model_package_arn.startswith("arn:"):
            raise ValueError("model_package_arn must be an ARN (arn:aws:sagemaker:...)")
        if self.image_uri is not None and not self.model_data_url and self.mode == "multi":
            raise ValueError("mode multi needs model_data_url: the S3 prefix of the artifacts")
        if self.model_data_url:
            parse_s3_uri(self.model_data_url)
            if self.mode == "multi" and not self.model_data_url.endswith("/"):
                raise ValueError(
                    "for a multi-model endpoint model_data_url is the S3 prefix ending in '/' "
                    "under which the model.tar.gz files live"
                )
        return self


def build_create_model_request(
    *,
    model_name: str,
    role_arn: str,
    tags: list[dict[str, str]],
    image_uri: str | None = None,
    model_data_url: Any = None,
    model_package_arn: str | None = None,
    mode: str = "single",
    environment: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The CreateModel request (also the Arguments of a pipeline Model step, minus ModelName)."""
    container: dict[str, Any]
    if model_package_arn:
        container = {"ModelPackageName": model_package_arn}
    else:
        container = {"Image": image_uri}
        if model_data_url:
            container["ModelDataUrl"] = model_data_url
        if mode == "multi":
            container["Mode"] = "MultiModel"
    if environment:
        container["Environment"] = dict(environment)
    return {
        "ModelName": model_name,
        "PrimaryContainer": container,
        "ExecutionRoleArn": role_arn,
        "Tags": list(tags),
    }


def resolve_create_model_request(ctx: ToolContext, args: CreateModelArgs) -> dict[str, Any]:
    """Fill image, artifact and role from a training job when one is named; else the role is the
    given one or the session's (resolved before any AWS call)."""
    image, data, role = args.image_uri, args.model_data_url, args.role_arn
    environment = args.environment
    if not args.training_job_name:
        role = resolve_role(ctx, role, "SageMaker models")
    else:
        job = ctx.client("sagemaker").describe_training_job(TrainingJobName=args.training_job_name)
        status = job.get("TrainingJobStatus")
        if status != "Completed":
            raise ToolError(
                f"training job {args.training_job_name} is {status}; a model needs a completed job"
            )
        image = image or job["AlgorithmSpecification"].get("TrainingImage")
        data = data or job.get("ModelArtifacts", {}).get("S3ModelArtifacts")
        role = role or job.get("RoleArn") or resolve_role(ctx, None, "SageMaker models")
        from tools.stages.training.algorithms import script_mode_environment

        script_env = script_mode_environment(job.get("HyperParameters") or {}, ctx.region)
        environment = {**script_env, **(environment or {})} or None
        if not image:
            raise ToolError(
                f"training job {args.training_job_name} used an algorithm resource, not an image; "
                "pass image_uri and model_data_url"
            )
    return build_create_model_request(
        model_name=args.model_name,
        role_arn=str(role),
        tags=ctx.aws.tags(),
        image_uri=image,
        model_data_url=data,
        model_package_arn=args.model_package_arn,
        mode=args.mode,
        environment=environment,
    )


@tool(
    name="sagemaker_create_model",
    stage="deployment",
    risk="write",
    operations=("sagemaker:CreateModel", "sagemaker:DescribeTrainingJob"),
    phrases=(
        "create a model from the training job",
        "register the trained model for hosting",
        "make a sagemaker model",
        "prepare the model for deployment",
    ),
)
def sagemaker_create_model(ctx: ToolContext, args: CreateModelArgs) -> ToolResult:
    """Create a SageMaker model from a training job, a model package, or an image + model data URI."""
    request = resolve_create_model_request(ctx, args)
    response = ctx.client("sagemaker").create_model(**request)
    arn = response["ModelArn"]
    source = (
        f"training job {args.training_job_name}"
        if args.training_job_name
        else (args.model_package_arn or args.image_uri)
    )
    container = request["PrimaryContainer"]
    text = (
        f"Created model {args.model_name} from {source}"
        f"{' (multi-model)' if args.mode == 'multi' else ''}. "
        f"Artifact: {container.get('ModelDataUrl', container.get('ModelPackageName', '-'))}. "
        "Deploy it with sagemaker_create_endpoint or run sagemaker_start_transform_job."
    )
    return ToolResult(
        text,
        data={"model_name": args.model_name, "model_arn": arn, "container": container},
        resources=[
            Resource(
                "sagemaker_model",
                args.model_name,
                arn,
                extra={"request": request, "training_job": args.training_job_name},
            )
        ],
    )


# --- sagemaker_list_models ---------------------------------------------------------------------
class ListModelsArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name_contains: Annotated[str | None, Field(description="Filter by name substring")] = None
    max_results: Annotated[int, Field(ge=1, le=100)] = 20


@tool(
    name="sagemaker_list_models",
    stage="deployment",
    risk="read",
    operations=("sagemaker:ListModels",),
    phrases=("list my models", "which models do I have", "show sagemaker models"),
)
def sagemaker_list_models(ctx: ToolContext, args: ListModelsArgs) -> ToolResult:
    """List SageMaker models, newest first."""
    params: dict[str, Any] = {
        "SortBy": "CreationTime",
        "SortOrder": "Descending",
        "MaxResults": args.max_results,
    }
    if args.name_contains:
        params["NameContains"] = args.name_contains
    response = ctx.client("sagemaker").list_models(**params)
    rows = [
        {
            "name": m["ModelName"],
            "arn": m["ModelArn"],
            "created": str(m.get("CreationTime", ""))[:19],
        }
        for m in response.get("Models", [])
    ]
    if not rows:
        return ToolResult("No models found.", data={"rows": []})
    more = " (more exist; narrow with name_contains)" if response.get("NextToken") else ""
    lines = [f"- {r['name']} (created {r['created']})" for r in rows]
    return ToolResult(f"{len(rows)} models{more}:\n" + "\n".join(lines), data={"rows": rows})
