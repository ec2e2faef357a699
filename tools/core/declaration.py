"""The one way to declare a tool: a function, a pydantic argument model, and a declaration.

    @tool(name="s3_create_bucket", stage="collection", risk="write",
          operations=("s3:CreateBucket", "s3:PutBucketTagging"),
          phrases=("create a bucket", "make a new s3 bucket"))
    def s3_create_bucket(ctx: ToolContext, args: CreateBucketArgs) -> ToolResult:
        \"\"\"Create an S3 bucket in the session's region, tagged as created by sagecoach.\"\"\"

The docstring's first paragraph is the description the model sees. The registry is filled
as stage modules are imported (`tools.core.registry.load_all()`).
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from tools.aws.context import AwsContext
from tools.core.context import ToolContext
from tools.core.errors import ToolError
from tools.core.explain import explain_exception
from tools.core.results import CostEstimate, ToolResult
from tools.core.stages import STAGE_TITLES, Risk

# An estimator takes (args, region), or (args, region, aws) when it needs to look something up
# (a table's size in S3, a function's memory); aws is the session's AwsContext or None.
Estimator = Callable[..., CostEstimate]


def estimator_takes_aws(estimator: Callable[..., Any]) -> bool:
    """True when the estimator accepts a third parameter (the AwsContext)."""
    try:
        return _takes_aws_cached(estimator)
    except TypeError:  # an unhashable callable
        return _takes_aws(estimator)


def _takes_aws(estimator: Callable[..., Any]) -> bool:
    try:
        params = list(inspect.signature(estimator).parameters.values())
    except (TypeError, ValueError):
        return False
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params):
        return True
    positional = [
        p
        for p in params
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    return len(positional) >= 3


_takes_aws_cached = functools.lru_cache(maxsize=1024)(_takes_aws)

ToolFunc = Callable[[ToolContext, Any], ToolResult]


@dataclass(frozen=True)
class ToolSpec:
    name: str
    stage: str
    description: str
    risk: Risk
    operations: tuple[str, ...]
    args_model: type[BaseModel]
    func: ToolFunc
    estimator: Estimator | None = None
    phrases: tuple[str, ...] = ()

    @property
    def mutating(self) -> bool:
        return self.risk in ("write", "costly", "destructive")

    def validate(self, raw: dict[str, Any] | BaseModel) -> BaseModel:
        """Parse arguments; a ValidationError becomes a ToolError a person can act on."""
        if isinstance(raw, self.args_model):
            return raw
        if isinstance(raw, BaseModel):
            raw = raw.model_dump()
        try:
            model = self.args_model.model_validate(raw or {})
        except ValidationError as exc:
            raise ToolError(
                format_validation_error(self.name, exc), kind="invalid_arguments"
            ) from None
        bad = non_finite_fields(model.model_dump())
        if bad:
            raise ToolError(
                f"Invalid arguments for {self.name}: "
                + "; ".join(
                    f"{where}: must be a finite number (got {value})" for where, value in bad
                ),
                kind="invalid_arguments",
            )
        return model

    def estimate(
        self, args: BaseModel | dict[str, Any], region: str, aws: AwsContext | None = None
    ) -> CostEstimate | None:
        """The estimator's figure; `aws` goes to estimators that take it (look-ups in AWS).

        Never raises for a failed look-up or an estimator bug: the estimate becomes unknown
        (which still asks), never free. A ToolError (invalid arguments) passes through."""
        if self.estimator is None:
            return None
        model = self.validate(args)
        try:
            if estimator_takes_aws(self.estimator):
                return self.estimator(model, region, aws)
            return self.estimator(model, region)
        except ToolError:
            raise
        except Exception as exc:  # an estimator bug must not make a costly call look free
            return CostEstimate.unknown(f"estimate failed: {exc}")

    def run(self, ctx: ToolContext, raw: dict[str, Any] | BaseModel) -> ToolResult:
        """Validate, call, and turn AWS errors into readable ToolErrors; record resources."""
        args = self.validate(raw)
        ctx.current_tool = self.name
        try:
            result = self.func(ctx, args)
        except ToolError:
            raise
        except Exception as exc:
            raise explain_exception(exc, ctx, self, args) from exc
        if ctx.ledger is not None:
            for resource in result.resources:
                resource.region = resource.region or ctx.region
                ctx.ledger.record(resource, session_id=ctx.session_id)
        return result

    def to_bedrock_tool_spec(self) -> dict[str, Any]:
        """The toolSpec Bedrock Converse receives (also what the schema-size benchmark measures)."""
        return {
            "toolSpec": {
                "name": self.name,
                "description": self.description,
                "inputSchema": {"json": tool_input_schema(self.args_model)},
            }
        }


def tool_input_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON schema for a tool's arguments, without pydantic's title noise."""
    schema = model.model_json_schema()

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k != "title"}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    return strip(schema)


def non_finite_fields(value: Any, where: str = "") -> list[tuple[str, float]]:
    """(path, value) of every NaN or infinity in validated arguments (JSON's 1e309 parses as
    inf; AWS must never see one, and NaN compares false with every limit)."""
    import math

    if isinstance(value, float) and not math.isfinite(value):
        return [(where or "arguments", value)]
    found: list[tuple[str, float]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found += non_finite_fields(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found += non_finite_fields(item, f"{where}[{index}]")
    return found


def format_validation_error(tool_name: str, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "arguments"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            msg = "is required"
        elif err["type"] == "extra_forbidden":
            msg = "is not an argument of this tool"
        lines.append(f"{loc}: {msg}")
    return f"Invalid arguments for {tool_name}: " + "; ".join(lines)


class Registry:
    def __init__(self) -> None:
        self._tools: dict[str, ToolSpec] = {}

    def register(self, spec: ToolSpec) -> None:
        if spec.name in self._tools and self._tools[spec.name].func is not spec.func:
            raise ValueError(f"tool {spec.name} registered twice")
        self._tools[spec.name] = spec

    def get(self, name: str) -> ToolSpec:
        try:
            return self._tools[name]
        except KeyError:
            raise KeyError(f"unknown tool '{name}'") from None

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def all(self) -> list[ToolSpec]:
        return list(self._tools.values())

    def by_stage(self, stage: str) -> list[ToolSpec]:
        return [t for t in self._tools.values() if t.stage == stage]


REGISTRY = Registry()


def _args_model_of(func: Callable[..., Any]) -> type[BaseModel]:
    hints = typing.get_type_hints(func)
    params = list(inspect.signature(func).parameters)
    if len(params) != 2:
        raise TypeError(f"{func.__name__}: a tool takes (ctx: ToolContext, args: <Model>)")
    model = hints.get(params[1])
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise TypeError(
            f"{func.__name__}: the second parameter must be annotated with a pydantic model"
        )
    return model


def tool(
    *,
    name: str,
    stage: str,
    risk: Risk,
    operations: Iterable[str] = (),
    estimator: Estimator | None = None,
    phrases: Iterable[str] = (),
    description: str | None = None,
) -> Callable[[ToolFunc], ToolFunc]:
    """Declare and register a tool; the function is returned unchanged, with `.spec` attached."""
    if stage not in STAGE_TITLES:
        raise ValueError(f"unknown stage {stage!r}")
    if risk in ("billable_read", "costly") and estimator is None:
        raise ValueError(f"{name}: {risk} tools need an estimator")

    def wrap(func: ToolFunc) -> ToolFunc:
        doc = description or inspect.cleandoc(func.__doc__ or "").split("\n\n")[0].replace(
            "\n", " "
        )
        if not doc:
            raise ValueError(f"{name}: a tool needs a description (docstring)")
        spec = ToolSpec(
            name=name,
            stage=stage,
            description=doc,
            risk=risk,
            operations=tuple(operations),
            args_model=_args_model_of(func),
            func=func,
            estimator=estimator,
            phrases=tuple(phrases),
        )
        REGISTRY.register(spec)
        func.spec = spec  # type: ignore[attr-defined]
        return func

    return wrap
