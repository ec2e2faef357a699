"""A public door to an endpoint: a Lambda proxy that calls it, and an API Gateway REST API in front."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tools.aws.roles import RoleArnValue, resolve_role
from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.results import Resource, ToolResult, utc_now
from tools.core.validators import SageMakerName
from tools.ledger.recording import record_now
from tools.stages.deployment.invoke import PayloadType

# --- Lambda proxy + API Gateway ----------------------------------------------------------------
LAMBDA_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

PROXY_HANDLER = '''"""Calls a SageMaker endpoint; written by sagecoach."""
import base64
import json
import os

import boto3

RUNTIME = boto3.client("sagemaker-runtime")
ENDPOINT = os.environ["ENDPOINT_NAME"]
CONTENT_TYPE = os.environ.get("CONTENT_TYPE", "text/csv")


def handler(event, context):
    body = event.get("body", event) if isinstance(event, dict) else event
    if isinstance(event, dict) and event.get("isBase64Encoded"):
        body = base64.b64decode(body)
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    try:
        response = RUNTIME.invoke_endpoint(
            EndpointName=ENDPOINT, ContentType=CONTENT_TYPE, Body=body or b""
        )
    except Exception as exc:  # the caller gets a readable error, not a stack trace
        return {"statusCode": 502, "body": json.dumps({"error": str(exc)})}
    return {
        "statusCode": 200,
        "headers": {"Content-Type": response.get("ContentType", "text/plain")},
        "body": response["Body"].read().decode("utf-8", "replace"),
    }
'''


def proxy_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo("handler.py", date_time=(2020, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        archive.writestr(info, PROXY_HANDLER)
    return buffer.getvalue()


class LambdaProxyArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    function_name: str
    endpoint_name: Annotated[SageMakerName, Field(description="Endpoint it calls")]
    role_arn: Annotated[
        RoleArnValue | None,
        Field(description="role allowed sagemaker:InvokeEndpoint; default: the session's role"),
    ] = None
    content_type: PayloadType = "text/csv"
    memory_mb: Annotated[int, Field(ge=128, le=3008)] = 256
    timeout_s: Annotated[int, Field(ge=3, le=900)] = 30

    @model_validator(mode="after")
    def _name(self) -> LambdaProxyArgs:
        if not LAMBDA_NAME.match(self.function_name):
            raise ValueError(
                f"'{self.function_name}' is not a Lambda name: 1-64 letters, digits, - or _"
            )
        return self


@tool(
    name="lambda_create_endpoint_proxy",
    stage="deployment",
    risk="write",
    operations=("lambda:CreateFunction",),
    phrases=(
        "put a lambda in front of the endpoint",
        "lambda that calls the endpoint",
        "serverless function for predictions",
    ),
)
def lambda_create_endpoint_proxy(ctx: ToolContext, args: LambdaProxyArgs) -> ToolResult:
    """Create a small Lambda function (Python) that forwards requests to an endpoint."""
    role = resolve_role(ctx, args.role_arn, "Lambda functions")
    code = proxy_zip()
    response = ctx.client("lambda").create_function(
        FunctionName=args.function_name,
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": code},
        Description=f"sagecoach proxy to SageMaker endpoint {args.endpoint_name}",
        Timeout=args.timeout_s,
        MemorySize=args.memory_mb,
        Environment={
            "Variables": {"ENDPOINT_NAME": args.endpoint_name, "CONTENT_TYPE": args.content_type}
        },
        Tags=ctx.aws.tag_map(),
    )
    arn = response["FunctionArn"]
    text = (
        f"Created Lambda {args.function_name} (python3.12) that calls endpoint {args.endpoint_name}. "
        "Put an HTTPS API in front of it with apigateway_create_rest_api."
    )
    return ToolResult(
        text,
        data={
            "function_name": args.function_name,
            "function_arn": arn,
            "state": response.get("State"),
            "code_sha256": response.get("CodeSha256"),
            "handler_source": PROXY_HANDLER,
        },
        resources=[
            Resource(
                "lambda_function",
                args.function_name,
                arn,
                extra={"endpoint": args.endpoint_name},
            )
        ],
    )


class RestApiArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    api_name: Annotated[str, Field(min_length=1, max_length=128)]
    function_name: Annotated[str, Field(description="Lambda function to integrate")]
    stage_name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_]{1,128}$")] = "prod"
    path: Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,64}$", description="Resource path")] = (
        "predict"
    )


@tool(
    name="apigateway_create_rest_api",
    stage="deployment",
    risk="write",
    operations=(
        "apigateway:CreateRestApi",
        "apigateway:CreateResource",
        "apigateway:PutMethod",
        "apigateway:PutIntegration",
        "apigateway:CreateDeployment",
        "lambda:AddPermission",
        "lambda:GetFunction",
    ),
    phrases=(
        "create a rest api for the model",
        "expose the endpoint over https",
        "api gateway in front of the lambda",
        "give me a url for predictions",
    ),
)
def apigateway_create_rest_api(ctx: ToolContext, args: RestApiArgs) -> ToolResult:
    """Create a REST API with one POST method integrated with a Lambda, deployed to a stage."""
    lam = ctx.client("lambda")
    function_arn = lam.get_function(FunctionName=args.function_name)["Configuration"]["FunctionArn"]
    account = function_arn.split(":")[4]
    gateway = ctx.client("apigateway")
    api = gateway.create_rest_api(
        name=args.api_name,
        description=f"sagecoach: POST /{args.path} → Lambda {args.function_name}",
        endpointConfiguration={"types": ["REGIONAL"]},
        tags=ctx.aws.tag_map(),
    )
    api_id = api["id"]
    resource = Resource(
        "apigateway_rest_api",
        args.api_name,
        f"arn:aws:apigateway:{ctx.region}::/restapis/{api_id}",
        extra={"id": api_id, "function": args.function_name},
    )
    record_now(ctx, resource)
    root = api.get("rootResourceId") or next(
        item["id"]
        for item in gateway.get_resources(restApiId=api_id)["items"]
        if item.get("path") == "/"
    )
    child = gateway.create_resource(restApiId=api_id, parentId=root, pathPart=args.path)
    gateway.put_method(
        restApiId=api_id, resourceId=child["id"], httpMethod="POST", authorizationType="NONE"
    )
    gateway.put_integration(
        restApiId=api_id,
        resourceId=child["id"],
        httpMethod="POST",
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=f"arn:aws:apigateway:{ctx.region}:lambda:path/2015-03-31/functions/{function_arn}/invocations",
    )
    lam.add_permission(
        FunctionName=args.function_name,
        StatementId=f"sagecoach-apigw-{api_id}",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:{ctx.region}:{account}:{api_id}/*/POST/{args.path}",
    )
    gateway.create_deployment(restApiId=api_id, stageName=args.stage_name)
    url = f"https://{api_id}.execute-api.{ctx.region}.amazonaws.com/{args.stage_name}/{args.path}"
    text = (
        f"REST API {args.api_name} ({api_id}) is deployed: POST {url} → Lambda {args.function_name}. "
        "It has no authorization; add an API key or IAM auth before sharing it."
    )
    if ctx.aws.is_sandbox:
        text += " (sandbox: the URL is not served.)"
    return ToolResult(
        text,
        data={"api_id": api_id, "invoke_url": url, "stage": args.stage_name, "created": utc_now()},
        resources=[resource],
    )
