"""The execution role: it exists, trusts the service, and can read the inputs and write the
outputs (IAM policy simulation where the caller may run it, else a warning)."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from tools.core.validators import parse_s3_uri
from tools.preflight.needs import Needs
from tools.preflight.probe import Probe, error_code, http_status
from tools.preflight.report import CheckResult, failed, passed, skipped, warned


def role_name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def _document(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    text = urllib.parse.unquote(str(value or "{}"))
    try:
        return dict(json.loads(text))
    except ValueError:
        return {}


def trusts(document: dict[str, Any], service: str) -> bool:
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    for statement in statements:
        if statement.get("Effect") != "Allow":
            continue
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        if not any(a in ("sts:AssumeRole", "sts:*", "*") for a in actions):
            continue
        principal = statement.get("Principal", {})
        if principal == "*":
            return True
        services = principal.get("Service", []) if isinstance(principal, dict) else []
        services = [services] if isinstance(services, str) else services
        if service in services:
            return True
    return False


def scoped_s3_policy(buckets: list[str]) -> dict[str, Any]:
    """An inline policy letting a role read and write these buckets only."""
    arns = [f"arn:aws:s3:::{b}" for b in sorted(set(buckets))]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
                "Resource": arns,
            },
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                "Resource": [f"{a}/*" for a in arns],
            },
        ],
    }


def grant_command(role: str, buckets: list[str]) -> str:
    policy = json.dumps(scoped_s3_policy(buckets), separators=(",", ":"))
    return (
        f"aws iam put-role-policy --role-name {role} --policy-name sagecoach-s3-data "
        f"--policy-document '{policy}'"
    )


def _object_arn(uri: str) -> str:
    bucket, key = parse_s3_uri(uri)
    return f"arn:aws:s3:::{bucket}/{key}*"


def _simulate(probe: Probe, role_arn: str, actions: list[str], resources: list[str]) -> list[str]:
    """The denied (action, resource) pairs; raises when simulation is not possible."""
    iam = probe.client("iam")
    answer = iam.simulate_principal_policy(
        PolicySourceArn=role_arn, ActionNames=actions, ResourceArns=resources
    )
    denied = []
    for result in answer.get("EvaluationResults", []):
        if result.get("EvalDecision") != "allowed":
            denied.append(f"{result.get('EvalActionName')} on {result.get('EvalResourceName')}")
    return denied


def check_role(probe: Probe, needs: Needs) -> list[CheckResult]:
    if not needs.needs_role:
        return []
    if not needs.role_arn:
        return [
            failed(
                "iam.role",
                "no execution role: the job runs as an IAM role the service assumes",
                "pass role_arn, or set SAGECOACH_ROLE_ARN (sagecoach doctor shows how to make one)",
            )
        ]
    name = role_name(needs.role_arn)
    subject = f"role {name}"
    try:
        role = probe.once(("role", name), lambda: probe.client("iam").get_role(RoleName=name))[
            "Role"
        ]
    except Exception as exc:
        code = error_code(exc)
        if code == "NoSuchEntity":
            return [
                failed(
                    "iam.role",
                    f"role {name} does not exist in this account",
                    "fix role_arn, or create the role (sagecoach doctor shows how)",
                    subject,
                )
            ]
        return [
            warned(
                "iam.role",
                f"could not read the role ({code or http_status(exc)})",
                "allow iam:GetRole so pre-flight can check it, or check the role by hand",
                subject,
            )
        ]
    out = []
    if trusts(_document(role.get("AssumeRolePolicyDocument")), needs.service):
        out.append(passed("iam.trust", f"role {name} trusts {needs.service}", subject))
    else:
        out.append(
            failed(
                "iam.trust",
                f"role {name} does not let {needs.service} assume it",
                f"add {needs.service} to the role's trust policy (IAM > Roles > {name} > Trust "
                "relationships)",
                subject,
            )
        )
    out += check_access(probe, needs, name)
    return out


def check_access(probe: Probe, needs: Needs, name: str) -> list[CheckResult]:
    if not (needs.reads or needs.writes):
        return []
    subject = f"role {name}"
    if probe.sandbox:
        return [skipped("iam.access", "the sandbox does not enforce IAM permissions", subject)]
    buckets = sorted({parse_s3_uri(u)[0] for u in [*needs.reads, *needs.writes]})
    try:
        denied: list[str] = []
        if needs.reads:
            denied += _simulate(
                probe, str(needs.role_arn), ["s3:GetObject"], [_object_arn(u) for u in needs.reads]
            )
        if needs.writes:
            denied += _simulate(
                probe, str(needs.role_arn), ["s3:PutObject"], [_object_arn(u) for u in needs.writes]
            )
    except Exception as exc:
        return [
            warned(
                "iam.access",
                f"could not simulate the role's S3 access ({error_code(exc) or 'not available'})",
                "allow iam:SimulatePrincipalPolicy for pre-flight, or make sure the role can "
                f"read and write {', '.join(buckets)}",
                subject,
            )
        ]
    if denied:
        return [
            failed(
                "iam.access",
                f"role {name} is not allowed: {'; '.join(denied[:3])}",
                grant_command(name, buckets),
                subject,
                buckets=buckets,
            )
        ]
    return [passed("iam.access", f"role {name} can read the inputs and write the outputs", subject)]
