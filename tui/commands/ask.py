"""`sagecoach ask "TEXT"`: one request, headless, to the end.

Approvals are asked on the terminal (y / n + reason / e to edit the arguments as JSON). With
no terminal on stdin a call that needs approval is rejected (fail closed) and the output says
which --mode would allow it. `--json` prints one JSON object. Exit 0 on success, 1 when the
turn failed or a needed approval could not be given, 2 for bad usage.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Annotated, Any

import typer

from tools.core.results import format_usd
from tui.cli_options import ModelOpt, ModeOpt, ProfileOpt, RegionOpt, SandboxOpt, settings_or_exit

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _is_tty() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


async def _open(settings: Any, conversation: str | None) -> Any:
    """Open the session (tests replace this to inject a model or a running sandbox)."""
    from agent.startup import open_session

    return await open_session(settings, conversation=conversation)


def mode_that_allows(session: Any, request: Any) -> str:
    """The least permissive --mode under which the policy would run this call unasked."""
    from agent.policy import SessionBudget, decide
    from tools.preflight.report import PreflightReport

    spec = session.core.specs.get(request.tool)
    if spec is None:
        return "yes"
    verdict = decide(
        spec,
        request.args,
        mode="auto",
        budget_per_call=session.settings.budget_usd_per_call,
        budget_per_session=session.settings.budget_usd_per_session,
        session=SessionBudget(spent_usd=session.spent_usd),
        region=session.region,
        aws=session.env.aws,
        preflight=PreflightReport.from_dict(
            {"tool": request.tool, "checks": getattr(request, "preflight", None) or []}
        ),
    )
    return "auto" if verdict.action == "allow" else "yes"


class _Printer:
    """Human output: the reply streams to stdout, tool activity to stderr."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.open_line = False

    def text(self, value: str) -> None:
        if self.enabled:
            sys.stdout.write(value)
            sys.stdout.flush()
            self.open_line = not value.endswith("\n")

    def info(self, value: str) -> None:
        if self.open_line and self.enabled:
            sys.stdout.write("\n")
            sys.stdout.flush()
            self.open_line = False
        typer.echo(value, err=True)


def _describe(request: Any) -> str:
    where = "SANDBOX" if request.sandbox else f"account {request.account}"
    lines = [
        f"Approval needed: {request.tool} ({request.risk}, stage {request.stage}) in {where}, {request.region}",
        f"  why: {request.reason}",
        f"  AWS operations: {', '.join(request.operations) or 'none'}",
        f"  arguments: {json.dumps(request.args, default=str)}",
    ]
    if request.estimate:
        lines.append(f"  estimated cost: {request.estimate.get('summary', '')}")
    if getattr(request, "preflight", None):
        from tools.preflight.report import card_lines

        lines.append("  pre-flight:")
        lines += [f"    {line}" for _, line in card_lines(request.preflight)]
    return "\n".join(lines)


def _prompt(text: str) -> str:
    """Read one line; the prompt goes to stderr so stdout keeps only the reply (or JSON)."""
    sys.stderr.write(text)
    sys.stderr.flush()
    return input()


def _ask_terminal(request: Any, printer: _Printer) -> Any:
    from agent.events import Decision

    no_answer = Decision("reject", reason="no answer on the terminal", who="terminal")
    printer.info(_describe(request))
    while True:
        choices = "[y]es / [n]o / [e]dit" + (
            " / [a]llow for session" if request.allow_session_offered else ""
        )
        try:
            answer = _prompt(f"Run it? {choices}: ").strip().lower()
        except EOFError:
            return no_answer
        if answer in ("y", "yes"):
            return Decision("approve", who="terminal")
        if answer in ("a", "allow") and request.allow_session_offered:
            return Decision("allow_session", who="terminal")
        if answer in ("n", "no"):
            try:
                reason = _prompt("Reason (sent to the assistant): ").strip()
            except EOFError:
                reason = ""
            return Decision("reject", reason=reason or "rejected on the terminal", who="terminal")
        if answer in ("e", "edit"):
            while True:
                try:
                    raw = _prompt("New arguments as JSON (empty to go back): ").strip()
                except EOFError:
                    return no_answer
                if not raw:
                    break
                try:
                    args = json.loads(raw)
                except ValueError as exc:
                    printer.info(f"Not valid JSON ({exc}); try again.")
                    continue
                if not isinstance(args, dict):
                    printer.info("The arguments must be a JSON object; try again.")
                    continue
                return Decision("edit", args=args, who="terminal")
            continue
        printer.info("Please answer y, n or e.")


async def run_ask(
    settings: Any, text: str, *, conversation: str | None, as_json: bool, yes: bool
) -> tuple[int, dict[str, Any]]:
    from agent.events import (
        ApprovalRequested,
        Decision,
        DiscardMessage,
        ErrorEvent,
        Notice,
        ResourceCreated,
        TextDelta,
        ToolCallFinished,
        ToolCallStarted,
        TurnFinished,
    )
    from agent.models import ModelError

    printer = _Printer(enabled=not as_json)
    try:
        session = await _open(settings, conversation)
    except KeyError as exc:
        printer.info(f"sagecoach: {exc.args[0] if exc.args else exc}")
        return EXIT_USAGE, {}
    except ModelError as exc:
        printer.info(f"sagecoach: {exc}")
        return EXIT_USAGE, {}
    result: dict[str, Any] = {
        "conversation": session.conversation_id,
        "reply": "",
        "tool_calls": [],
        "resources": [],
        "usage": {},
        "estimated_cost_usd": 0.0,
    }
    calls: dict[str, dict[str, Any]] = {}
    decided: dict[str, str] = {}
    errors: list[dict[str, str]] = []
    blocked: list[str] = []
    code = EXIT_OK
    try:
        env_note = (
            "SANDBOX (local emulation; nothing goes to real AWS)"
            if session.is_sandbox
            else (f"account {session.account_label}")
        )
        printer.info(
            f"sagecoach: {session.model_label} · {env_note} · {session.region} · mode {session.mode}"
        )
        for notice in getattr(session, "notices", [])[1:]:  # the first restates env_note
            printer.info(f"sagecoach: {notice.message}")
        events = session.send(text)
        while True:
            pending: list[Any] = []
            async for event in events:
                if isinstance(event, TextDelta):
                    printer.text(event.text)
                elif isinstance(event, DiscardMessage):
                    printer.info("(the model call failed part-way; retrying)")
                elif isinstance(event, ToolCallStarted):
                    printer.info(f"→ {event.name} {json.dumps(event.args, default=str)}")
                    calls.setdefault(event.call_id, {"name": event.name, "args": event.args})
                elif isinstance(event, ToolCallFinished):
                    entry = calls.setdefault(
                        event.call_id, {"name": event.name, "args": event.args}
                    )
                    entry.update(
                        args=event.args or entry.get("args", {}),
                        status=event.status,
                        summary=event.summary,
                    )
                    entry["decision"] = decided.get(event.call_id) or (
                        event.status if event.status in ("denied", "dry_run") else "auto"
                    )
                    mark = {"success": "✓", "dry_run": "◦"}.get(event.status, "✗")
                    printer.info(f"{mark} {event.name}: {event.status} — {event.summary}")
                elif isinstance(event, ResourceCreated):
                    result["resources"].append(event.resource)
                elif isinstance(event, ApprovalRequested):
                    pending.append(event.request)
                elif isinstance(event, Notice):
                    printer.info(event.message)
                elif isinstance(event, ErrorEvent):
                    errors.append({"kind": event.error_kind, "message": event.message})
                    printer.info(f"error: {event.message}")
                elif isinstance(event, TurnFinished):
                    result["reply"] = event.reply
                    result["usage"] = event.usage
                    result["estimated_cost_usd"] = event.estimated_cost_usd
                    if event.cancelled:
                        errors.append({"kind": "cancelled", "message": "the turn was cancelled"})
            if not pending:
                break
            decisions: dict[str, Any] = {}
            for request in pending:
                if yes:
                    decision = Decision("approve", who="--yes")
                elif not as_json and _is_tty():
                    decision = _ask_terminal(request, printer)
                elif as_json and _is_tty():
                    decision = _ask_terminal(request, _Printer(enabled=False))
                else:
                    mode = mode_that_allows(session, request)
                    message = (
                        f"{request.tool} needs approval and there is no terminal to ask on; "
                        f"it was not run. Run with --mode {mode} (or --yes) to allow it."
                    )
                    blocked.append(message)
                    printer.info(message)
                    decision = Decision(
                        "reject", reason="no terminal to approve on (fail closed)", who="sagecoach"
                    )
                decisions[request.call_id] = decision
                decided[request.call_id] = decision.type
                calls.setdefault(request.call_id, {"name": request.tool, "args": request.args})
            events = session.decide(decisions)
        printer.text("\n" if printer.open_line else "")
        for call_id, entry in calls.items():
            entry.setdefault("decision", decided.get(call_id, "auto"))
            entry.setdefault("status", "not_run")
            entry.setdefault("summary", "")
            result["tool_calls"].append(
                {k: entry.get(k) for k in ("name", "args", "decision", "status", "summary")}
            )
        if errors:
            result["error"] = errors[0]
            code = EXIT_FAILED
        if blocked:
            result["blocked"] = blocked
            code = EXIT_FAILED
        usage = result["usage"]
        if usage:
            printer.info(
                f"tokens in {usage.get('input_tokens', 0)} / out {usage.get('output_tokens', 0)}"
                f" · estimated tool cost {format_usd(result['estimated_cost_usd'])}"
                f" · conversation {session.conversation_id}"
            )
    except (KeyboardInterrupt, asyncio.CancelledError):
        session.cancel()
        code = 130
    finally:
        await session.aclose()
    return code, result


def register(app: typer.Typer) -> None:
    @app.command("ask")
    def ask(
        text: Annotated[str, typer.Argument(help="What you want, in your words.")],
        model: ModelOpt = None,
        mode: ModeOpt = None,
        sandbox: SandboxOpt = False,
        region: RegionOpt = None,
        profile: ProfileOpt = None,
        conversation: Annotated[
            str | None, typer.Option("--conversation", help="Continue a conversation by id.")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
        yes: Annotated[
            bool, typer.Option("--yes", "-y", help="Approve every call the policy asks about.")
        ] = False,
    ) -> None:
        """Run one request to the end, headless (approvals on the terminal)."""
        if not text.strip():
            typer.echo(
                'sagecoach: ask needs some text, e.g. sagecoach ask "list my buckets"', err=True
            )
            raise typer.Exit(EXIT_USAGE)
        settings = settings_or_exit(
            model=model, mode=mode, sandbox=sandbox, region=region, profile=profile
        )
        code, result = asyncio.run(
            run_ask(settings, text, conversation=conversation, as_json=as_json, yes=yes)
        )
        if as_json and result:
            typer.echo(json.dumps(result, default=str, ensure_ascii=False))
        raise typer.Exit(code)
