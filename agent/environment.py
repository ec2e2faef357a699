"""Decides sandbox or real AWS for a session and builds its AwsContext.

The choice is always announced: a person must never wonder whether a call went to real AWS.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from agent.settings import Settings
from tools.aws.context import (
    SANDBOX_READ_TIMEOUT_S,
    AwsCallSink,
    AwsContext,
    find_credentials_source,
)


def new_session_id() -> str:
    return uuid.uuid4().hex[:12]


@dataclass
class AwsEnvironment:
    aws: AwsContext
    sandbox: Any = None  # sandbox.server.Sandbox when in the sandbox
    reason: str = ""  # why this environment was chosen, for the screen and the log
    notices: list[str] = field(default_factory=list)
    # The IAM role jobs run as when a request names none: settings.role_arn, or the sandbox's.
    default_role_arn: str | None = None

    @property
    def is_sandbox(self) -> bool:
        return self.aws.is_sandbox

    def close(self) -> None:
        if self.sandbox is not None:
            self.sandbox.stop()


def sandbox_from_endpoint_url() -> str | None:
    """AWS_ENDPOINT_URL on loopback naming sagecoach's sandbox (from `sagecoach sandbox serve`):
    then the session is the sandbox, whatever credentials the environment holds."""
    import os
    from urllib.parse import urlparse

    url = os.environ.get("AWS_ENDPOINT_URL", "")
    if urlparse(url).hostname not in ("127.0.0.1", "localhost", "::1"):
        return None
    from sandbox.server import probe

    return url.rstrip("/") if probe(url) is not None else None


def choose_sandbox(settings: Settings) -> tuple[bool, str]:
    """(use sandbox?, reason). `auto` uses it when boto3 finds no credentials."""
    if settings.sandbox == "on":
        return True, "sandbox requested (--sandbox)"
    if settings.sandbox == "auto" and sandbox_from_endpoint_url():
        return True, "AWS_ENDPOINT_URL names sagecoach's sandbox"
    source = find_credentials_source(settings.profile)
    if settings.sandbox == "off":
        return (
            False,
            f"real AWS (credentials from {source})"
            if source
            else "real AWS (no credentials found)",
        )
    if source is None:
        return (
            True,
            "no AWS credentials found, so sagecoach started in the SANDBOX (nothing goes to real AWS)",
        )
    return False, f"real AWS (credentials from {source})"


def open_environment(
    settings: Settings,
    *,
    session_id: str,
    on_aws_call: AwsCallSink | None = None,
    sandbox_endpoint: str | None = None,
) -> AwsEnvironment:
    """Start the sandbox if needed and build the guarded AwsContext."""
    use_sandbox, reason = choose_sandbox(settings)
    read_only = settings.mode == "read-only"
    timeouts = {
        "connect_timeout": settings.aws_connect_timeout_s,
        "read_timeout": settings.aws_read_timeout_s,
    }
    # The local sandbox runs real work behind some calls: give it time on a busy machine.
    local = {**timeouts, "read_timeout": max(settings.aws_read_timeout_s, SANDBOX_READ_TIMEOUT_S)}
    if use_sandbox and not sandbox_endpoint:
        sandbox_endpoint = sandbox_from_endpoint_url()
        if sandbox_endpoint:
            reason = f"{reason}; sandbox at {sandbox_endpoint} (AWS_ENDPOINT_URL)"
    if sandbox_endpoint:  # an already running sandbox (tests, `sagecoach sandbox serve`)
        aws = AwsContext(
            region=settings.region, sandbox_endpoint=sandbox_endpoint, read_only=read_only,
            session_id=session_id, on_aws_call=on_aws_call, **local,
        )  # fmt: skip
        env = AwsEnvironment(
            aws, None, reason if "AWS_ENDPOINT_URL" in reason else f"sandbox at {sandbox_endpoint}"
        )
    elif use_sandbox:
        from sandbox import daemon

        # The state directory's one sandbox: found running, or started in the background (it
        # outlives this session, so the next `ask` or the app finds the same state).
        endpoint = daemon.connect(settings.state_dir)
        aws = AwsContext(
            region=settings.region, sandbox_endpoint=endpoint, read_only=read_only,
            session_id=session_id, on_aws_call=on_aws_call, **local,
        )  # fmt: skip
        env = AwsEnvironment(aws, None, f"{reason}; shared sandbox at {endpoint}")
    else:
        aws = AwsContext(
            profile=settings.profile, region=settings.region, read_only=read_only,
            session_id=session_id, on_aws_call=on_aws_call, **timeouts,
        )  # fmt: skip
        env = AwsEnvironment(aws, None, reason)
    env.default_role_arn = session_default_role(settings, aws)
    return env


def session_default_role(settings: Settings, aws: AwsContext) -> str | None:
    """settings.role_arn; else in the sandbox the role sagecoach makes there (never raises)."""
    from tools.aws.roles import default_role_for

    return default_role_for(aws, settings.role_arn)
