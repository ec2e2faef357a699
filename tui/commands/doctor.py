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
    from agent.environment import new_session_id, open_environment
    from agent.model_choice import OFFLINE, resolve_model_spec
    from tools.aws.context import endpoint_overrides, find_credentials_source

    checks: list[Check] = []
    env = open_environment(settings, session_id=new_session_id())
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
        checks.append(Check("why", env.reason))
        checks.append(Check("profile", aws.profile or "(default chain)"))
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
        spec = resolve_model_spec(settings.model, is_sandbox=env.is_sandbox, region=aws.region)
        if spec == OFFLINE:
            checks.append(Check("model", "offline planner — no LLM (works without Bedrock)"))
        elif spec.startswith("bedrock_converse:"):
            if env.is_sandbox:
                checks.append(
                    Check(
                        "model",
                        f"{spec} (the sandbox has no Bedrock: use --model offline)",
                        ok=False,
                        fix="In the sandbox use --model offline, or leave --model unset.",
                    )
                )
            else:
                checks.append(bedrock_check(aws, spec.split(":", 1)[1]))
        else:
            checks.append(Check("model", spec))
        role = getattr(env, "default_role_arn", None) or settings.role_arn
        checks.append(
            Check(
                "execution role",
                role or "none set (tools that need one stop and say how to create it)",
                fix=""
                if role
                else "Set role_arn in config.toml or SAGECOACH_ROLE_ARN to a role "
                "SageMaker can assume.",
            )
        )
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
    finally:
        env.close()
    return checks, all(c.ok for c in checks)


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
