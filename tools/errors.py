"""AWS and local errors turned into sentences that say what happened and what to do."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from tools.base import NotEmulated, ToolError
from tools.guard import ReadOnlyViolation

if TYPE_CHECKING:
    from tools.base import ToolContext, ToolSpec

_ACTION = re.compile(r"perform:\s*([a-z0-9-]+:[A-Za-z0-9]+)")


def _client_error_parts(exc: Any) -> tuple[str, str, int | None]:
    response = getattr(exc, "response", {}) or {}
    error = response.get("Error", {}) or {}
    status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
    return str(error.get("Code", "")), str(error.get("Message", "")), status


def _looks_unimplemented(code: str, message: str, status: int | None) -> bool:
    html = "<html" in message.lower() or "<!doctype" in message.lower()
    return (
        (
            code in ("500", "404", "NotImplemented", "InternalFailure", "InternalError")
            and (status in (500, 404, 501) or html)
        )
        or (status in (404, 500) and html)
        or "not yet implemented" in message.lower()
    )


def explain_exception(
    exc: BaseException, ctx: ToolContext | None = None, spec: ToolSpec | None = None
) -> ToolError:
    """Map any exception from a tool body to a ToolError; never lets a traceback reach the user."""
    from botocore import exceptions as bx

    what = spec.name if spec else "the call"
    sandbox = bool(ctx and ctx.aws.is_sandbox)
    profile = (ctx.aws.profile if ctx else None) or "default"

    if isinstance(exc, ToolError):
        return exc
    if isinstance(exc, ReadOnlyViolation):
        return ToolError(str(exc), kind="read_only")
    if isinstance(exc, bx.ClientError):
        code, message, status = _client_error_parts(exc)
        operation = getattr(exc, "operation_name", "") or ""
        if sandbox and _looks_unimplemented(code, message, status):
            return NotEmulated(f"{operation or what}")
        if code in (
            "AccessDenied",
            "AccessDeniedException",
            "UnauthorizedOperation",
            "AuthorizationError",
        ):
            action = _ACTION.search(message)
            needed = (
                action.group(1)
                if action
                else (spec.operations[0] if spec and spec.operations else operation)
            )
            return ToolError(
                f"Access denied: your identity may not call {needed}. "
                f"Ask an administrator to allow {needed}, or switch to a profile that has it.",
                kind="access_denied",
            )
        if code in (
            "ExpiredToken",
            "ExpiredTokenException",
            "RequestExpired",
            "InvalidClientTokenId",
            "UnrecognizedClientException",
            "InvalidSignatureException",
        ):
            return ToolError(
                f"Your AWS credentials are expired or invalid ({code}). Refresh them "
                f"(for SSO: `aws sso login --profile {profile}`) and try again.",
                kind="expired_credentials",
            )
        if code in (
            "Throttling",
            "ThrottlingException",
            "TooManyRequestsException",
            "RequestLimitExceeded",
            "SlowDown",
        ):
            return ToolError(
                f"AWS is throttling {operation or what}; it was retried with backoff and still failed. "
                "Wait a minute and try again.",
                kind="throttled",
            )
        if code in (
            "ResourceLimitExceeded",
            "LimitExceededException",
            "ServiceQuotaExceededException",
        ):
            return ToolError(
                f"An AWS limit stopped {operation or what}: {message} "
                "Request a quota increase in Service Quotas or use a smaller or different instance type.",
                kind="limit",
            )
        if code in ("NoSuchBucket",):
            return ToolError(f"The bucket does not exist: {message}", kind="not_found")
        if code in ("NoSuchKey", "404", "NotFound") and operation in ("GetObject", "HeadObject"):
            return ToolError(
                "That S3 object does not exist; check the key with s3_list_objects.",
                kind="not_found",
            )
        missing = code in (
            "ResourceNotFound",
            "ResourceNotFoundException",
            "EntityNotFoundException",
            "NoSuchEntity",
        )
        if missing or (code == "ValidationException" and "not found" in message.lower()):
            return ToolError(f"Not found: {message or code}", kind="not_found")
        if code in (
            "ResourceInUse",
            "ResourceInUseException",
            "AlreadyExistsException",
            "BucketAlreadyExists",
            "BucketAlreadyOwnedByYou",
            "ConflictException",
            "ResourceAlreadyExistsException",
        ):
            return ToolError(
                f"Already exists or in use: {message or code}. Pick another name or delete the old one first.",
                kind="conflict",
            )
        if code in (
            "ValidationException",
            "InvalidParameterValue",
            "InvalidParameterException",
            "InvalidRequestException",
            "InvalidInputException",
            "InvalidBucketName",
            "IllegalLocationConstraintException",
        ):
            return ToolError(f"AWS rejected the request: {message or code}", kind="invalid_request")
        text = f"{code}: {message}" if message else code
        return ToolError(f"AWS error from {operation or what}: {text}", kind="aws_error")
    if isinstance(exc, bx.NoCredentialsError):
        return ToolError(
            "No AWS credentials were found. Configure a profile (`aws configure sso`), "
            "set AWS_PROFILE, or run with --sandbox to rehearse without an account.",
            kind="no_credentials",
        )
    if isinstance(
        exc, bx.TokenRetrievalError | bx.SSOTokenLoadError | bx.UnauthorizedSSOTokenError
    ):
        return ToolError(
            f"Your SSO session has expired. Run `aws sso login --profile {profile}` and try again.",
            kind="expired_credentials",
        )
    if isinstance(exc, bx.EndpointConnectionError | bx.ConnectTimeoutError | bx.ReadTimeoutError):
        where = "the sandbox server" if sandbox else "AWS"
        return ToolError(
            f"Could not reach {where}: {exc}. Check the network or endpoint settings.",
            kind="network",
        )
    if isinstance(exc, bx.ParamValidationError):
        return ToolError(
            f"The request was malformed before sending: {exc}", kind="invalid_arguments"
        )
    if isinstance(exc, FileNotFoundError):
        return ToolError(f"File not found: {exc.filename or exc}", kind="invalid_arguments")
    if isinstance(exc, PermissionError):
        return ToolError(f"Permission denied on a local file: {exc}", kind="local")
    return ToolError(f"{what} failed: {type(exc).__name__}: {exc}", kind="internal")
