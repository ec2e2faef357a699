"""The IAM execution role AWS jobs run as: the one a call names, else the session's default.

SageMaker jobs, Glue crawlers and jobs, DataBrew jobs, Lambda functions and pipelines all run as
an IAM role the service assumes. A person should not have to paste an ARN into every sentence,
so a session has a default: `role_arn` in the settings (SAGECOACH_ROLE_ARN or config.toml), or
in the sandbox a role sagecoach creates in moto at session start. `resolve_role` is the one place
that picks the role and the one message that says how to create one when there is none.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, Field

from tools.core.errors import ToolError
from tools.core.validators import check_role_arn

if TYPE_CHECKING:
    from tools.aws.context import AwsContext
    from tools.core.context import ToolContext

M = TypeVar("M", bound=BaseModel)

SANDBOX_ROLE_NAME = "sagecoach-sandbox-execution-role"
TRUSTED_SERVICES: tuple[str, ...] = (
    "sagemaker.amazonaws.com",
    "glue.amazonaws.com",
    "databrew.amazonaws.com",
    "lambda.amazonaws.com",
)
# What the schema says about every optional role field (kept short: it is sent with every tool).
ROLE_FIELD_DESCRIPTION = "role ARN; default: the session's role"
# A role ARN without a description of its own (the field that uses it says what it is for).
RoleArnValue = Annotated[str, AfterValidator(check_role_arn)]
# The usual role field: `role_arn: OptionalRoleArn = None`.
OptionalRoleArn = Annotated[RoleArnValue | None, Field(description=ROLE_FIELD_DESCRIPTION)]


def trust_policy(services: tuple[str, ...] = TRUSTED_SERVICES) -> dict[str, Any]:
    """An assume-role policy letting these AWS services run as the role."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": list(services)},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def role_help(
    purpose: str = "SageMaker jobs",
    field: str = "role_arn",
    buckets: tuple[str, ...] | list[str] = (),
) -> str:
    """How to get a role: the one message every tool shows when there is none. The managed
    policies reach only buckets named like *sagemaker*; the data's buckets get their own policy."""
    principals = ",".join(f'"{s}"' for s in TRUSTED_SERVICES)
    scoped = ""
    if buckets:
        from tools.preflight.checks_iam import grant_command

        scoped = (
            f" Then let it read and write your data's buckets ({', '.join(sorted(set(buckets)))}): "
            f"`{grant_command('SagecoachExecutionRole', list(buckets))}`."
        )
    return (
        f"No IAM execution role: {purpose} run as an IAM role that AWS assumes, and this session "
        f"has no default. Pass {field}, or set a default once with SAGECOACH_ROLE_ARN or "
        'role_arn = "arn:aws:iam::<account>:role/<name>" in config.toml. To create one: IAM '
        "console > Roles > Create role > AWS service (SageMaker, Glue, DataBrew or Lambda), attach "
        "the service's policy (AmazonSageMakerFullAccess, AWSGlueServiceRole, "
        "AWSGlueDataBrewServiceRole, AWSLambdaBasicExecutionRole) and allow it to read your S3 "
        "data; or with the CLI: `aws iam create-role --role-name SagecoachExecutionRole "
        "--assume-role-policy-document "
        f'\'{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":'
        f'[{principals}]}},"Action":"sts:AssumeRole"}}]}}\'` then `aws iam attach-role-policy '
        "--role-name SagecoachExecutionRole --policy-arn "
        "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess`." + scoped
    )


_SANDBOX_IAM: dict[str, Any] = {}


def _sandbox_iam(endpoint: str, region: str) -> Any:
    """A plain IAM client on the sandbox server: setting up the sandbox is not a session action,
    so it is neither guarded (read-only) nor written to the audit log as one."""
    client = _SANDBOX_IAM.get(endpoint)
    if client is None:
        import boto3
        import botocore.session
        from botocore.config import Config

        core = botocore.session.Session(session_vars={"profile": (None, None, None, None)})
        session = boto3.Session(
            botocore_session=core,
            aws_access_key_id="sandbox",
            aws_secret_access_key="sandbox",
            aws_session_token="sandbox",
            region_name=region,
        )
        client = session.client(
            "iam", endpoint_url=endpoint, config=Config(retries={"max_attempts": 1})
        )
        _SANDBOX_IAM[endpoint] = client
    return client


def ensure_sandbox_role(aws: AwsContext, *, create: bool = True) -> str | None:
    """The sandbox's execution role in moto, created (tagged) when missing; its ARN.

    Idempotent. With create=False only looks it up (None when absent). Only for the sandbox:
    it refuses a real AWS context and never creates anything in a real account."""
    from botocore.exceptions import ClientError

    if not aws.is_sandbox or not aws.sandbox_endpoint:
        raise RuntimeError("ensure_sandbox_role is only for the sandbox")
    iam = _sandbox_iam(aws.sandbox_endpoint, aws.region)
    try:
        return str(iam.get_role(RoleName=SANDBOX_ROLE_NAME)["Role"]["Arn"])
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "NoSuchEntity":
            raise
    if not create:
        return None
    try:
        role = iam.create_role(
            RoleName=SANDBOX_ROLE_NAME,
            AssumeRolePolicyDocument=json.dumps(trust_policy()),
            Description="sagecoach sandbox: default execution role for SageMaker, Glue, DataBrew and Lambda",
            Tags=aws.tags(),
        )["Role"]
    except ClientError as exc:  # created meanwhile by another session on the same server
        if exc.response.get("Error", {}).get("Code") != "EntityAlreadyExists":
            raise
        role = iam.get_role(RoleName=SANDBOX_ROLE_NAME)["Role"]
    return str(role["Arn"])


def default_role_for(aws: AwsContext, configured: str | None) -> str | None:
    """A session's default role: the configured one, else in the sandbox the sandbox role.

    Never raises: a sandbox that cannot make the role leaves the default empty (resolve_role
    tries again when a tool needs it)."""
    if configured:
        return configured
    if not aws.is_sandbox:
        return None
    try:
        return ensure_sandbox_role(aws)
    except Exception:
        return None


def resolve_role(
    ctx: ToolContext,
    given: str | None,
    purpose: str = "SageMaker jobs",
    *,
    field: str = "role_arn",
    buckets: list[str] | tuple[str, ...] = (),
) -> str:
    """The role a call runs as: `given`, else the session's default; else a ToolError saying how
    to create one. Raised before any AWS call outside the sandbox."""
    if given:
        return given
    default = getattr(ctx, "default_role_arn", None)
    if default:
        return str(default)
    if ctx.aws.is_sandbox:
        # The session normally made it at start; a read-only start, a reset sandbox or a bare
        # ToolContext (tests, scripts) did not.
        try:
            arn = ensure_sandbox_role(ctx.aws, create=True)
        except Exception:
            arn = None
        if arn:
            ctx.default_role_arn = arn
            return arn
    raise ToolError(role_help(purpose, field, buckets), kind="invalid_arguments")


def buckets_in(args: BaseModel) -> list[str]:
    """The S3 buckets a call's arguments name (what its role must reach)."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str) and value.startswith("s3://"):
            bucket = value[5:].split("/", 1)[0]
            if bucket and bucket not in found:
                found.append(bucket)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)

    walk(args.model_dump())
    return found


def with_role(
    ctx: ToolContext, args: M, purpose: str = "SageMaker jobs", *, field: str = "role_arn"
) -> M:
    """A copy of `args` whose role field holds the resolved role (for the request builders)."""
    given = getattr(args, field)
    role = resolve_role(ctx, given, purpose, field=field, buckets=buckets_in(args))
    return args if role == given else args.model_copy(update={field: role})


def require_role(role: str | None, purpose: str = "SageMaker jobs", field: str = "role_arn") -> str:
    """For request builders: the role they were given, or the one readable ToolError."""
    if not role:
        raise ToolError(role_help(purpose, field), kind="invalid_arguments")
    return role


__all__ = [
    "ROLE_FIELD_DESCRIPTION",
    "SANDBOX_ROLE_NAME",
    "TRUSTED_SERVICES",
    "OptionalRoleArn",
    "RoleArnValue",
    "default_role_for",
    "ensure_sandbox_role",
    "require_role",
    "resolve_role",
    "role_help",
    "trust_policy",
    "with_role",
]
