"""AWS Lambda for light data preparation: create a function from a handler file, invoke it, list."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, model_validator

from tools.aws.roles import RoleArnValue, resolve_role
from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.results import CostEstimate, Resource, ToolResult
from tools.core.validators import LocalFile, derived_name
from tools.cost.lookups import cached_lookup
from tools.cost.prices import unit_price
from tools.stages.preparation.athena import MB
from tools.stages.shared.listing import MAX_LIST, NoArgs, Strict, cut

# ====================================================================== Lambda

FunctionName = Annotated[str, AfterValidator(lambda v: check_function_name(v))]


def check_function_name(value: str) -> str:
    if not re.match(r"^[a-zA-Z0-9_-]{1,64}$", value):
        raise ValueError(
            f"'{value}' is not a Lambda function name (letters, digits, - and _; up to 64)"
        )
    return value


class CreateFunctionArgs(BaseModel):
    model_config = Strict
    name: Annotated[FunctionName | None, Field(description="default: the handler file's name")] = (
        None
    )
    handler_file: LocalFile
    handler_function: Annotated[str, Field(description="default: lambda_handler or handler")] = ""
    role_arn: Annotated[
        RoleArnValue | None, Field(description="execution role; default: the session's role")
    ] = None
    runtime: Literal["python3.10", "python3.11", "python3.12", "python3.13"] = "python3.12"
    memory_mb: Annotated[int, Field(ge=128, le=10240)] = 256
    timeout_s: Annotated[int, Field(ge=1, le=900)] = 30

    @model_validator(mode="after")
    def _check_handler(self) -> CreateFunctionArgs:
        path = Path(self.handler_file)
        if self.name is None:
            self.name = derived_name(path.stem, suffix="fn", limit=64)
        if path.suffix != ".py":
            raise ValueError(f"handler_file must be a .py file, not '{path.name}'")
        if path.stat().st_size > 50 * MB:
            raise ValueError("handler_file is over 50 MB; package large code as a layer or image")
        source = path.read_text(errors="replace")
        defined = re.findall(r"^(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\(", source, re.M)
        if not self.handler_function:
            found = next((n for n in ("lambda_handler", "handler") if n in defined), None)
            if found is None:
                raise ValueError(
                    f"{path.name} defines neither lambda_handler nor handler; name the function "
                    "with handler_function"
                )
            self.handler_function = found
        if not re.match(r"^[A-Za-z_]\w*$", self.handler_function):
            raise ValueError(f"'{self.handler_function}' is not a Python function name")
        if self.handler_function not in defined:
            raise ValueError(f"{path.name} defines no function '{self.handler_function}'")
        return self


def zip_handler(path: Path) -> bytes:
    """A deployment package with the handler file at the root, as Lambda expects."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(path, path.name)
    return buffer.getvalue()


@tool(
    name="lambda_create_function",
    stage="preparation",
    risk="write",
    operations=("lambda:CreateFunction",),
    phrases=(
        "create a lambda function",
        "deploy my python handler",
        "serverless transform function",
    ),
)
def lambda_create_function(ctx: ToolContext, args: CreateFunctionArgs) -> ToolResult:
    """Create a Python Lambda function from a local handler file (zipped by the tool)."""
    role = resolve_role(ctx, args.role_arn, "Lambda functions")
    path = Path(args.handler_file)
    package = zip_handler(path)
    handler = f"{path.stem}.{args.handler_function}"
    request = {
        "FunctionName": args.name,
        "Runtime": args.runtime,
        "Role": role,
        "Handler": handler,
        "MemorySize": args.memory_mb,
        "Timeout": args.timeout_s,
        "Tags": ctx.aws.tag_map(),
        "Code": {"ZipFile": package},
    }
    response = ctx.client("lambda").create_function(**request)
    recorded = {k: v for k, v in request.items() if k != "Code"}
    return ToolResult(
        f"Created Lambda function {args.name} ({args.runtime}, handler {handler}, {args.memory_mb} MB, {args.timeout_s} s); state {response.get('State', 'unknown')}.",
        {
            "function": args.name,
            "arn": response["FunctionArn"],
            "handler": handler,
            "zip_bytes": len(package),
        },
        [
            Resource(
                "lambda_function",
                args.name,
                response["FunctionArn"],
                ctx.region,
                extra={"request": recorded},
            )
        ],
    )


class InvokeArgs(BaseModel):
    model_config = Strict
    name: FunctionName
    payload: Annotated[dict[str, Any], Field(description="JSON event")] = {}


def _invoke_estimate(args: InvokeArgs, region: str, aws: Any = None) -> CostEstimate:
    requests = unit_price("lambda_request_million", region)
    compute = unit_price("lambda_gb_second", region)
    if requests is None or compute is None:
        return CostEstimate.unknown(f"no Lambda price for {region}")
    memory_mb, timeout_s, known = 10240, 900, False
    if aws is not None:
        try:
            config = cached_lookup(
                aws,
                ("lambda", region, args.name),
                lambda: aws.client("lambda").get_function_configuration(FunctionName=args.name),
            )
            memory_mb, timeout_s, known = int(config["MemorySize"]), int(config["Timeout"]), True
        except Exception:
            pass
    request_cost = requests.usd / 1_000_000
    low = request_cost + memory_mb / 1024 * 0.001 * compute.usd  # a 1 ms run
    high = request_cost + memory_mb / 1024 * timeout_s * compute.usd
    basis = f"1 request + {memory_mb} MB × up to {timeout_s} s × ${compute.usd:g}/GB-s"
    notes = (
        () if known else ("function settings not looked up: assumed the maximum 10 GB and 900 s",)
    )
    return CostEstimate(
        round(low, 8), round(high, 6), basis, compute.source, compute.price_date, notes=notes
    )


@tool(
    name="lambda_invoke",
    stage="preparation",
    risk="billable_read",
    operations=("lambda:Invoke",),
    estimator=_invoke_estimate,
    phrases=("invoke the lambda", "test my function", "invoke my function with a test event"),
)
def lambda_invoke(ctx: ToolContext, args: InvokeArgs) -> ToolResult:
    """Invoke a Lambda function synchronously with a JSON payload and return its response."""
    response = ctx.client("lambda").invoke(
        FunctionName=args.name,
        Payload=json.dumps(args.payload).encode(),
        LogType="Tail" if not ctx.aws.is_sandbox else "None",
    )
    body = response["Payload"].read().decode("utf-8", errors="replace")
    try:
        parsed: Any = json.loads(body) if body else None
    except ValueError:
        parsed = body
    error = response.get("FunctionError")
    shown = body if len(body) <= 2000 else body[:2000] + f"... ({len(body)} characters, cut)"
    text = f"{args.name} returned{' an error (' + error + ')' if error else ''}: {shown}"
    if ctx.aws.is_sandbox:
        text += " (The sandbox does not run your code: without Docker it echoes the payload.)"
    return ToolResult(
        text, {"status": response.get("StatusCode"), "function_error": error, "response": parsed}
    )


@tool(
    name="lambda_list_functions",
    stage="preparation",
    risk="read",
    operations=("lambda:ListFunctions",),
    phrases=("list lambda functions", "what functions do I have"),
)
def lambda_list_functions(ctx: ToolContext, args: NoArgs) -> ToolResult:
    """List Lambda functions with runtime, memory and timeout."""
    rows = []
    for page in ctx.client("lambda").get_paginator("list_functions").paginate():
        for f in page.get("Functions", []):
            rows.append(
                {
                    "name": f["FunctionName"],
                    "runtime": f.get("Runtime"),
                    "memory_mb": f.get("MemorySize"),
                    "timeout_s": f.get("Timeout"),
                    "modified": str(f.get("LastModified", ""))[:19],
                }
            )
    if not rows:
        return ToolResult("No Lambda functions.", {"rows": []})
    shown = rows[:MAX_LIST]
    text = f"{len(rows)} functions: " + "; ".join(
        f"{r['name']} ({r['runtime']}, {r['memory_mb']} MB, {r['timeout_s']} s)" for r in shown
    )
    return ToolResult(text + cut(len(rows), len(shown)), {"rows": rows})
