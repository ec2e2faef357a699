"""Client-layer guard: classifies every AWS operation and blocks mutations in read-only mode.

This is the last line of defence: whatever a tool or a model asks for, a botocore
`before-call` hook refuses it here before a byte is sent. Unknown means mutating.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Literal

OpClass = Literal["read", "billable_read", "mutating"]

_READ_PREFIXES = (
    "Describe",
    "List",
    "Get",
    "Search",
    "BatchGet",
    "Head",
    "Lookup",
    "Query",
    "Scan",
)

# Exceptions to the prefix rule: "service:Operation" -> class.
OVERRIDES: dict[str, OpClass] = {
    # Reads that bill per use.
    "sagemaker-runtime:InvokeEndpoint": "billable_read",
    "sagemaker-runtime:InvokeEndpointAsync": "billable_read",
    "sagemaker-runtime:InvokeEndpointWithResponseStream": "billable_read",
    "athena:StartQueryExecution": "billable_read",
    "lambda:Invoke": "billable_read",
    "lambda:InvokeWithResponseStream": "billable_read",
    "bedrock-runtime:Converse": "billable_read",
    "bedrock-runtime:ConverseStream": "billable_read",
    "bedrock-runtime:InvokeModel": "billable_read",
    "bedrock-runtime:InvokeModelWithResponseStream": "billable_read",
    "pricing:GetProducts": "read",
    # Reads whose verbs do not start with a read prefix.
    "sts:GetCallerIdentity": "read",
    "s3:SelectObjectContent": "billable_read",
    "logs:FilterLogEvents": "read",
    "iam:SimulatePrincipalPolicy": "read",  # pre-flight: can the role do what the job needs?
    "iam:SimulateCustomPolicy": "read",
    "athena:StopQueryExecution": "mutating",
    # Names that look like reads but create or expose secrets.
    "sts:AssumeRole": "mutating",
    "sts:AssumeRoleWithSAML": "mutating",
    "sts:AssumeRoleWithWebIdentity": "mutating",
    "sts:GetSessionToken": "mutating",
    "sts:GetFederationToken": "mutating",
    "iam:CreateAccessKey": "mutating",
    "ecr:GetAuthorizationToken": "mutating",
    "codeartifact:GetAuthorizationToken": "mutating",
    "secretsmanager:GetSecretValue": "mutating",
    "ssm:GetParameter": "read",
    "sagemaker:CreatePresignedDomainUrl": "mutating",
    "sagemaker:CreatePresignedNotebookInstanceUrl": "mutating",
    "s3:GetObjectAcl": "read",
    "sagemaker-featurestore-runtime:GetRecord": "billable_read",
    "sagemaker-featurestore-runtime:BatchGetRecord": "billable_read",
    "dynamodb:Query": "read",
    "dynamodb:Scan": "read",
}

# Operations whose parameters decide whether they mutate: (service, op) -> predicate(params) -> True if read-only.
ParamCheck = Callable[[dict], bool]
PARAM_CHECKS: dict[str, ParamCheck] = {}


def register_param_check(service: str, operation: str, check: ParamCheck) -> None:
    """Let a tool module declare that an operation is read-only only for some parameters."""
    PARAM_CHECKS[f"{service}:{operation}"] = check


def _athena_is_read_only(params: dict) -> bool:
    from tools.aws.sql_readonly import is_read_only_sql

    return is_read_only_sql(str(params.get("QueryString", "")))


register_param_check("athena", "StartQueryExecution", _athena_is_read_only)


def classify(service: str, operation: str) -> OpClass:
    """read, billable_read, or mutating; anything not known to be a read is mutating."""
    key = f"{service}:{operation}"
    if key in OVERRIDES:
        return OVERRIDES[key]
    if operation.startswith(_READ_PREFIXES) and re.match(r"^[A-Z][A-Za-z0-9]*$", operation):
        return "read"
    return "mutating"


def allowed_in_read_only(service: str, operation: str, params: dict | None = None) -> bool:
    """Reads (billable ones included) pass; a parameter check can still refuse."""
    if classify(service, operation) == "mutating":
        return False
    check = PARAM_CHECKS.get(f"{service}:{operation}")
    if check is not None:
        try:
            return bool(check(params or {}))
        except Exception:
            return False  # fail closed
    return True


class ReadOnlyViolation(PermissionError):
    """Raised before sending a mutating call while the session is read-only."""

    def __init__(self, service: str, operation: str, why: str = "") -> None:
        self.service = service
        self.operation = operation
        detail = f" ({why})" if why else ""
        super().__init__(
            f"read-only mode blocked {service}:{operation}{detail}; nothing was sent to AWS. "
            "Switch mode (/mode ask) to allow changes."
        )
