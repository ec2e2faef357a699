"""A SageMaker model from an Autopilot candidate (the best one unless named), as the SDK's
AutoML.create_model does: the candidate's inference containers with the response content
Autopilot should return; then sagemaker_create_endpoint deploys it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from tools.aws.roles import OptionalRoleArn, resolve_role
from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.errors import ToolError
from tools.core.results import Resource, ToolResult
from tools.core.validators import SageMakerName
from tools.stages.training.autopilot import check_short_name

ResponseKey = Literal["predicted_label", "probability", "probabilities", "labels"]


class AutopilotModelArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    job_name: Annotated[str, AfterValidator(check_short_name)]
    model_name: SageMakerName
    candidate_name: Annotated[
        str | None, Field(description="A candidate of the job; default: the best one")
    ] = None
    inference_response: Annotated[
        list[ResponseKey] | None,
        Field(
            description="What each prediction returns (classification), e.g. predicted_label, probability"
        ),
    ] = None
    role_arn: OptionalRoleArn = None


def _candidate(ctx: ToolContext, args: AutopilotModelArgs) -> dict[str, Any]:
    sm = ctx.client("sagemaker")
    if args.candidate_name is None:
        desc = sm.describe_auto_ml_job_v2(AutoMLJobName=args.job_name)
        best = desc.get("BestCandidate")
        if not best:
            raise ToolError(
                f"Autopilot job {args.job_name} has no best candidate yet (status "
                f"{desc.get('AutoMLJobStatus')}, {desc.get('AutoMLJobSecondaryStatus')}); wait "
                "for it to complete."
            )
        return dict(best)
    found = sm.list_candidates_for_auto_ml_job(
        AutoMLJobName=args.job_name, CandidateNameEquals=args.candidate_name
    ).get("Candidates", [])
    if not found:
        raise ToolError(
            f"{args.job_name} has no candidate named {args.candidate_name}; "
            "autopilot_list_candidates shows them."
        )
    return dict(found[0])


def build_autopilot_model_request(
    candidate: dict[str, Any], args: AutopilotModelArgs, role: str, tags: list[dict[str, str]]
) -> dict[str, Any]:
    containers = []
    for container in candidate.get("InferenceContainers") or []:
        entry = {k: container[k] for k in ("Image", "ModelDataUrl") if container.get(k)}
        environment = dict(container.get("Environment") or {})
        if args.inference_response and "SAGEMAKER_INFERENCE_OUTPUT" in environment:
            supported = environment.get("SAGEMAKER_INFERENCE_SUPPORTED", "").split(",")
            unknown = [
                k for k in args.inference_response if supported != [""] and k not in supported
            ]
            if unknown:
                raise ToolError(
                    f"this candidate cannot return {', '.join(unknown)} (it supports "
                    f"{', '.join(supported)})",
                    kind="invalid_arguments",
                )
            environment["SAGEMAKER_INFERENCE_OUTPUT"] = ",".join(args.inference_response)
        if environment:
            entry["Environment"] = environment
        containers.append(entry)
    if not containers:
        raise ToolError(f"candidate {candidate.get('CandidateName')} has no inference containers")
    request: dict[str, Any] = {
        "ModelName": args.model_name,
        "ExecutionRoleArn": role,
        "Tags": list(tags),
    }
    if len(containers) == 1:
        request["PrimaryContainer"] = containers[0]
    else:
        request["Containers"] = containers
        request["InferenceExecutionConfig"] = {"Mode": "Serial"}
    return request


@tool(
    name="autopilot_create_model",
    stage="training",
    risk="write",
    operations=(
        "sagemaker:DescribeAutoMLJobV2",
        "sagemaker:ListCandidatesForAutoMLJob",
        "sagemaker:CreateModel",
    ),
    phrases=(
        "deploy the best autopilot candidate",
        "create a model from the best candidate",
        "use the autopilot model",
    ),
)
def autopilot_create_model(ctx: ToolContext, args: AutopilotModelArgs) -> ToolResult:
    """Create a SageMaker model from an Autopilot job's best (or a named) candidate, ready for sagemaker_create_endpoint."""
    role = resolve_role(ctx, args.role_arn, "SageMaker models")
    candidate = _candidate(ctx, args)
    request = build_autopilot_model_request(candidate, args, role, ctx.aws.tags())
    arn = ctx.client("sagemaker").create_model(**request)["ModelArn"]
    metric = candidate.get("FinalAutoMLJobObjectiveMetric") or {}
    score = f" ({metric.get('MetricName')}={metric.get('Value'):.4g})" if metric else ""
    environment = (request.get("PrimaryContainer") or {}).get("Environment") or {}
    answers = environment.get("SAGEMAKER_INFERENCE_OUTPUT", "predicted_label")
    text = (
        f"Created model {args.model_name} from Autopilot candidate {candidate.get('CandidateName')}"
        f"{score}. It takes CSV rows of the original columns without the target and answers "
        f"{answers}. Deploy it with sagemaker_create_endpoint."
    )
    return ToolResult(
        text,
        {"model_name": args.model_name, "model_arn": arn, "candidate": candidate.get("CandidateName"),
         "request": request},
        [Resource("sagemaker_model", args.model_name, arn,
                  extra={"request": request, "autopilot_job": args.job_name})],
    )  # fmt: skip
