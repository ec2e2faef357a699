"""`sagecoach doctor`: is this machine ready, and if not, what to fix."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import typer

from tui.cli_options import ModelOpt, ModeOpt, ProfileOpt, RegionOpt, SandboxOpt, settings_or_exit


@dataclass
class Check:
    name: str
    value: str
    ok: bool = True
    fix: str = ""


def bedrock_check(aws, model_id: str) -> Check:
    """Ask the Bedrock control plane whether the model or inference profile is available."""
    try:
        bedrock = aws.client("bedrock")
        if model_id.split(".", 1)[0] in ("us", "eu", "apac", "global", "us-gov", "jp", "au", "ca"):
            bedrock.get_inference_profile(inferenceProfileIdentifier=model_id)
        else:
            bedrock.get_foundation_model(modelIdentifier=model_id)
        return Check("bedrock", f"{model_id} reachable")
    except Exception as exc:  # any failure is a finding, not a crash
        from tools.core.explain import explain_exception

        return Check(
            "bedrock",
            f"{model_id} not reachable: {explain_exception(exc).message}",
            ok=False,
            fix="Enable model access in the Bedrock console for this region, choose another "
            "model with --model, or use --model offline.",
        )


def run_doctor(settings) -> tuple[list[Check], bool]:
    """The checks, and whether sagecoach is usable as configured.

    In the sandbox, doctor reports on the state directory's sandbox when one runs (or the one
    AWS_ENDPOINT_URL names) and says so when none does: it never starts one (the app and
    `sagecoach ask` do that when they need it)."""
    from agent.environment import choose_sandbox, new_session_id, open_environment
    from tools.aws.context import endpoint_overrides, find_credentials_source

    use_sandbox, reason = choose_sandbox(settings)
    endpoint: str | None = None
    sandbox_check: Check | None = None
    if use_sandbox:
        endpoint, sandbox_check = sandbox_report(settings)
        if endpoint is None:
            checks = sandbox_not_running_checks(settings, reason, sandbox_check)
            return checks, all(c.ok for c in checks)
    checks: list[Check] = []
    env = open_environment(settings, session_id=new_session_id(), sandbox_endpoint=endpoint)
    try:
        aws = env.aws
        checks.append(
            Check(
                "mode",
                "SANDBOX — local moto server, nothing goes to real AWS"
                if env.is_sandbox
                else "real AWS",
            )
        )
        checks.append(Check("why", f"{reason}; sandbox at {endpoint}" if endpoint else env.reason))
        if sandbox_check is not None:
            checks.append(sandbox_check)
        checks.append(Check("profile", aws.profile or _no_profile(env.is_sandbox)))
        checks.append(Check("region", aws.region))
        source = (
            aws.credential_source() if env.is_sandbox else find_credentials_source(settings.profile)
        )
        checks.append(
            Check(
                "credentials",
                source or "none found",
                ok=bool(source),
                fix=""
                if source
                else "Run `aws configure sso` or `aws configure`, set AWS_PROFILE, or use --sandbox.",
            )
        )
        try:
            ident = aws.identity
            account = (
                f"sandbox ({ident.account})" if env.is_sandbox else f"{ident.account} ({ident.arn})"
            )
            checks.append(Check("account", account))
        except Exception as exc:
            from tools.core.explain import explain_exception

            checks.append(
                Check(
                    "account",
                    explain_exception(exc).message,
                    ok=False,
                    fix="Fix the credentials above.",
                )
            )
        overrides = endpoint_overrides()
        if env.is_sandbox:
            checks.append(Check("endpoints", f"all services → {aws.sandbox_endpoint}"))
        else:
            checks.append(
                Check(
                    "endpoints",
                    ", ".join(f"{k}={v}" for k, v in overrides.items()) or "AWS defaults",
                )
            )
        checks.append(model_check(settings, aws, is_sandbox=env.is_sandbox))
        role = getattr(env, "default_role_arn", None) or settings.role_arn
        checks.append(role_check(role))
        checks += local_checks(settings)
    finally:
        env.close()
    return checks, all(c.ok for c in checks)


def _no_profile(is_sandbox: bool) -> str:
    return "none (the sandbox uses dummy credentials)" if is_sandbox else "(default chain)"


def sandbox_report(settings) -> tuple[str | None, Check]:
    """(endpoint, the `sandbox` check): the sandbox AWS_ENDPOINT_URL names, else the state
    directory's running one; (None, not running) otherwise. Starts nothing."""
    from agent.environment import sandbox_from_endpoint_url
    from sandbox import daemon
    from sandbox.server import probe

    url = sandbox_from_endpoint_url()
    identity = probe(url) if url else None
    if url and identity is not None:
        return url, Check("sandbox", f"running at {url} (AWS_ENDPOINT_URL){_jobs(identity)}")
    running = daemon.status(settings.state_dir)
    if running is not None:
        state = settings.state_dir / "sandbox"
        restored = str(running.identity.get("restore_message") or "").strip()
        return running.endpoint, Check(
            "sandbox",
            f"running at {running.endpoint} (pid {running.pid}), state in {state}"
            + (f"; {restored}" if restored else "")
            + _jobs(running.identity),
        )
    return None, Check(
        "sandbox",
        "not running for this state directory; the app and `sagecoach ask` start it in the "
        "background when they need it (`sagecoach sandbox serve` runs it in the foreground)",
    )


def _jobs(identity: dict) -> str:
    jobs = identity.get("running_jobs") or []
    return "; running jobs: " + (
        ", ".join(f"{j.get('kind')} {j.get('name')}" for j in jobs) if jobs else "none"
    )


def sandbox_not_running_checks(settings, reason: str, sandbox_check: Check) -> list[Check]:
    """What doctor can say about the sandbox without one running (no AWS call is made)."""
    import os

    from sandbox.server import SANDBOX_ACCOUNT, SANDBOX_ROLE_ARN
    from tools.aws.context import DEFAULT_REGION

    region = (
        settings.region
        or os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION")
        or DEFAULT_REGION
    )
    checks = [
        Check("mode", "SANDBOX — local moto server, nothing goes to real AWS"),
        Check("why", reason),
        sandbox_check,
        Check("profile", _no_profile(True)),
        Check("region", region),
        Check("credentials", "sandbox (dummy credentials)"),
        Check("account", f"sandbox ({SANDBOX_ACCOUNT})"),
        Check("endpoints", "all services → the sandbox on 127.0.0.1, once it runs"),
        model_check(settings, None, is_sandbox=True, region=region),
        role_check(settings.role_arn or SANDBOX_ROLE_ARN),
    ]
    return checks + local_checks(settings)


def model_check(settings, aws, *, is_sandbox: bool, region: str | None = None) -> Check:
    from agent.model_choice import OFFLINE, resolve_model_spec

    spec = resolve_model_spec(settings.model, is_sandbox=is_sandbox, region=region or aws.region)
    if spec == OFFLINE:
        return Check("model", "offline planner — no LLM (works without Bedrock)")
    if spec.startswith("bedrock_converse:"):
        if is_sandbox:
            return Check(
                "model",
                f"{spec} (the sandbox has no Bedrock: use --model offline)",
                ok=False,
                fix="In the sandbox use --model offline, or leave --model unset.",
            )
        return bedrock_check(aws, spec.split(":", 1)[1])
    return Check("model", spec)


def role_check(role: str | None) -> Check:
    return Check(
        "execution role",
        role or "none set (tools that need one stop and say how to create it)",
        fix=""
        if role
        else "Set role_arn in config.toml or SAGECOACH_ROLE_ARN to a role SageMaker can assume.",
    )


def local_checks(settings) -> list[Check]:
    """The state and log directories are writable; the approval mode."""
    checks = []
    for label, path in (("state dir", settings.state_dir), ("log dir", settings.log_dir)):
        try:
            path.mkdir(parents=True, exist_ok=True)
            probe = path / ".doctor-write-test"
            probe.write_text("ok")
            probe.unlink()
            checks.append(Check(label, str(path)))
        except OSError as exc:
            checks.append(
                Check(
                    label,
                    f"{path}: {exc}",
                    ok=False,
                    fix=f"Make {path} writable or set SAGECOACH_{label.split()[0].upper()}_DIR.",
                )
            )
    checks.append(Check("approval mode", settings.mode))
    return checks


def register(app: typer.Typer) -> None:
    @app.command()
    def doctor(
        model: ModelOpt = None,
        region: RegionOpt = None,
        profile: ProfileOpt = None,
        sandbox: SandboxOpt = False,
        mode: ModeOpt = None,
        json_out: Annotated[bool, typer.Option("--json", help="Print the checks as JSON.")] = False,
    ) -> None:
        """Check credentials, region, account, endpoints, the model, and the state directories."""
        settings = settings_or_exit(
            model=model, region=region, profile=profile, sandbox=sandbox, mode=mode
        )
        checks, usable = run_doctor(settings)
        if json_out:
            import json

            typer.echo(
                json.dumps({"usable": usable, "checks": [c.__dict__ for c in checks]}, indent=2)
            )
        else:
            width = max(len(c.name) for c in checks)
            for c in checks:
                mark = "ok " if c.ok else "!! "
                typer.echo(f"{mark}{c.name.ljust(width)}  {c.value}")
                if c.fix:
                    typer.echo(f"   {' ' * width}  fix: {c.fix}")
            typer.echo("ready" if usable else "not ready: fix the lines marked !!")
        raise typer.Exit(0 if usable else 1)
