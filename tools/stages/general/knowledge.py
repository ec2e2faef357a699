"""Knowledge tools (stage "general", free reads, no AWS calls): the stage catalog for the model.

`list_stages`, `recommend_services` (deterministic ranking, no model) and `describe_service`.
A service's sagecoach tools are listed only when they are registered in this build; the rest are
named as not available, so the model is never pointed at a tool that does not exist.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tools.catalog import lookup, recommender
from tools.core.context import ToolContext
from tools.core.declaration import REGISTRY, tool
from tools.core.errors import ToolError
from tools.core.results import ToolResult

StageId = Literal[
    "collection",
    "preparation",
    "features",
    "training",
    "tuning",
    "evaluation",
    "deployment",
    "monitoring",
    "orchestration",
]


def _available(names: tuple[str, ...]) -> tuple[list[str], list[str]]:
    have = [n for n in names if n in REGISTRY]
    return have, [n for n in names if n not in REGISTRY]


class ListStagesArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")


@tool(
    name="list_stages",
    stage="general",
    risk="read",
    phrases=(
        "what are the stages of an ml pipeline",
        "list the pipeline stages",
        "show the stages",
        "which services for each stage",
        "overview of the ml workflow on aws",
    ),
)
def list_stages(ctx: ToolContext, args: ListStagesArgs) -> ToolResult:
    """List the nine ML pipeline stages with their purpose and AWS services."""
    rows = []
    lines = []
    for st in lookup.stages():
        names = [lookup.find_service(i).name for i in st.services]  # type: ignore[union-attr]
        rows.append(
            {
                "number": st.number,
                "stage": st.id,
                "title": st.title,
                "purpose": st.purpose,
                "services": names,
            }
        )
        lines.append(
            f"{st.number}. {st.title} ({st.id}): {st.purpose} Services: {', '.join(names)}"
        )
    return ToolResult("\n".join(lines), data={"rows": rows})


class RecommendArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    goal: Annotated[
        str, Field(max_length=500, description="What the user wants to do, in their words.")
    ] = ""
    stage: Annotated[StageId | None, Field(description="Limit to one pipeline stage.")] = None
    constraints: Annotated[
        list[Annotated[str, Field(max_length=60)]],
        Field(max_length=8, description='E.g. "no code", "streaming", "cheapest", "realtime".'),
    ] = []
    limit: Annotated[int, Field(ge=1, le=10, description="How many services to return.")] = 5

    @model_validator(mode="after")
    def _need_something(self) -> RecommendArgs:
        if not self.goal.strip() and self.stage is None:
            raise ValueError("give a goal or a stage")
        return self


@tool(
    name="recommend_services",
    stage="general",
    risk="read",
    phrases=(
        "which service should I use",
        "recommend a service for",
        "what is the best way to",
        "cheapest way to deploy",
        "how should I clean my data without code",
        "what aws service for streaming data",
        "suggest services for this stage",
    ),
)
def recommend_services(ctx: ToolContext, args: RecommendArgs) -> ToolResult:
    """Rank AWS services for a goal or stage, with reasons; constraints like "no code" or "cheapest" shift the ranking."""
    try:
        ranked, understood = recommender.recommend(
            args.goal, stage=args.stage, constraints=args.constraints, limit=args.limit
        )
    except ValueError as exc:
        raise ToolError(str(exc), kind="invalid_arguments") from None
    if not ranked:
        return ToolResult(
            "No service matched. Try naming a stage (e.g. training, deployment) or the task.",
            data={"rows": [], "understood": understood},
        )
    lines = []
    rows = []
    for i, rec in enumerate(ranked, 1):
        svc = rec.service
        have, _ = _available(svc.tools)
        how = (
            f"tools: {', '.join(have[:4])}"
            if have
            else ("console: " + recommender.short(svc.console, 90))
            if svc.console
            else "no sagecoach tool yet"
        )
        what = recommender.short(svc.role_in(rec.stage or svc.stages[0]), 90)
        lines.append(f"{i}. {svc.name}: {what} | why: {'; '.join(rec.reasons[:3])} | {how}")
        rows.append(rec.to_dict() | {"available_tools": have})
    head = []
    if understood["stages"]:
        head.append("stage: " + ", ".join(understood["stages"]))
    if understood["constraints"]:
        head.append("constraints: " + ", ".join(understood["constraints"]))
    text = ("Understood " + "; ".join(head) + "\n" if head else "") + "\n".join(lines)
    return ToolResult(text, data={"rows": rows, "understood": understood})


class DescribeServiceArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service: Annotated[
        str,
        Field(
            min_length=1,
            max_length=80,
            description="Service name, e.g. Athena, Glue DataBrew, Serverless Inference.",
        ),
    ]


@tool(
    name="describe_service",
    stage="general",
    risk="read",
    phrases=(
        "what is athena",
        "tell me about glue databrew",
        "how does serverless inference bill",
        "when should I use feature store",
        "explain this aws service",
    ),
)
def describe_service(ctx: ToolContext, args: DescribeServiceArgs) -> ToolResult:
    """Explain one AWS ML service: purpose, when to use it or not, billing, and sagecoach tools for it."""
    svc = lookup.find_service(args.service)
    if svc is None:
        close = lookup.suggest_services(args.service)
        hint = f" Did you mean {', '.join(s.name for s in close)}?" if close else ""
        raise ToolError(f"'{args.service}' is not in the stage catalog.{hint}", kind="not_found")
    have, missing = _available(svc.tools)
    titles = {st.id: st.title for st in lookup.stages()}
    stage_titles = [titles[sid] for sid in svc.stages]
    lines = [
        f"{svc.name} (stages: {', '.join(stage_titles)})",
        f"Purpose: {svc.purpose}",
        f"Use when: {svc.use_when}",
        f"Avoid when: {svc.avoid_when}",
        f"Billing: {svc.billing}",
    ]
    if have:
        lines.append(f"sagecoach tools: {', '.join(have)}")
    if missing:
        lines.append(f"Not available in this build: {', '.join(missing)}")
    if svc.console:
        lines.append(f"Console: {svc.console}")
    if not have:
        lines.append(
            "No sagecoach tool acts on it in this build"
            + (": use the console as above." if svc.console else ".")
        )
    data = svc.to_dict() | {"available_tools": have, "unavailable_tools": missing}
    return ToolResult("\n".join(lines), data=data)
