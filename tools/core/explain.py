"""AWS and local errors turned into sentences that say what happened and what to do."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import ClientError

from tools.aws.guard import ReadOnlyViolation
from tools.core.errors import NotEmulated, ToolError

if TYPE_CHECKING:
    from tools.core.context import ToolContext


class DeclaredCall(Protocol):
    """What an explanation reads of a tool's declaration (a ToolSpec is one), so this module
    needs nothing from the declaration module, which calls it."""

    @property
    def name(self) -> str: ...

    @property
    def operations(self) -> tuple[str, ...]: ...


_ACTION = re.compile(r"perform:\s*([a-z0-9-]+:[A-Za-z0-9]+)")


def _client_error_parts(exc: Any) -> tuple[str, str, int | None]:
    response = getattr(exc, "response", {}) or {}
    error = response.get("Error", {}) or {}
    status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
    return str(error.get("Code", "")), str(error.get("Message", "")), status


def _looks_unimplemented(code: str, message: str, status: int | None) -> bool:
    """moto's answer to an operation it lacks: an HTML error page (500, sometimes 404) or a
    'not implemented' text. A plain 404 with an AWS error code (HeadObject's 'Not Found' on a
    missing key) is a real answer, not a gap in the sandbox."""
    low = message.lower()
    html = "<html" in low or "<!doctype" in low
    says = (
        "not implemented" in low
        or "not yet implemented" in low
        or "has not been implemented" in low
        or code == "NotImplemented"
    )
    return html or says


def _single_s3_uri(args: Any) -> str | None:
    """The one s3:// URI among a tool's arguments, if there is exactly one (to name it)."""
    if args is None or not hasattr(args, "model_dump"):
        return None
    try:
        values = args.model_dump().values()
    except Exception:
        return None
    uris = [v for v in values if isinstance(v, str) and v.startswith("s3://")]
    return uris[0] if len(uris) == 1 else None


def explain_exception(
    exc: BaseException,
    ctx: ToolContext | None = None,
    spec: DeclaredCall | None = None,
    args: Any = None,
) -> ToolError:
    """Map any exception from a tool body to a ToolError; never lets a traceback reach the user.

    `args` (the tool's validated arguments) only helps name the object a 404 was about."""
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
        if code == "NoSuchBucket":
            return ToolError(f"The bucket does not exist: {message}", kind="not_found")
        if code in ("404", "NotFound") and operation == "HeadBucket":
            return ToolError("The bucket does not exist (HeadBucket: 404).", kind="not_found")
        if code in ("NoSuchKey", "404", "NotFound") and operation in ("GetObject", "HeadObject"):
            key = (exc.response.get("Error") or {}).get("Key")
            uri = _single_s3_uri(args)
            what = (
                f"The S3 object {uri}"
                if uri
                else (f"The S3 object {key}" if key else "That S3 object (or its bucket)")
            )
            return ToolError(
                f"{what} does not exist; check the key with s3_list_objects.",
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
    if isinstance(exc, bx.ReadTimeoutError | bx.ConnectionClosedError):
        where = "the sandbox server" if sandbox else "AWS"
        endpoint = getattr(exc, "kwargs", {}).get("endpoint_url") or ""
        return ToolError(
            f"{what}: {where} did not answer ({'no answer in time' if isinstance(exc, bx.ReadTimeoutError) else 'connection closed'}"
            f"{' at ' + endpoint if endpoint else ''}). The call may or may not have taken "
            "effect: check with a list or describe call before trying again.",
            kind="network",
        )
    if isinstance(exc, bx.EndpointConnectionError | bx.ConnectTimeoutError):
        where = "the sandbox server" if sandbox else "AWS"
        return ToolError(
            f"Could not reach {where}: {exc}. Nothing was sent; check the network or endpoint "
            "settings (AWS_ENDPOINT_URL, proxy, VPN).",
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


def is_not_found(exc: Exception) -> bool:
    """An AWS error that means the resource is not (or no longer) there."""
    if not isinstance(exc, ClientError):
        return False
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    message = str(error.get("Message", "")).lower()
    return (
        code in ("ResourceNotFound", "ResourceNotFoundException", "NotFoundException")
        or "could not find" in message
        or "not found" in message
        or "does not exist" in message
    )
