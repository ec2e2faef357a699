"""`sagecoach log`: recent audit records as a table; `sagecoach log verify`: check the hash chain."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

log_app = typer.Typer(
    help="Show the audit log (every session, model call, approval, tool call and AWS call).",
    no_args_is_help=False,
    rich_markup_mode=None,
)


def _short(value: Any, limit: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _ms(value: Any) -> str:
    if isinstance(value, (int, float)):
        return f"{value / 1000:.1f}s" if value >= 1000 else f"{value:.0f}ms"
    return ""


def _seconds(value: Any) -> str:
    return f"{value:.1f}s" if isinstance(value, (int, float)) else ""


def summarize(record: dict[str, Any]) -> str:
    """One line saying what a record is about, whatever its kind."""
    kind = record.get("kind")
    get = record.get
    parts: list[str]
    if kind == "aws_call":
        parts = [f"{get('service', '?')}.{get('operation', '?')}"]
        if get("status") is not None:
            parts.append(str(get("status")))
        parts.append(_ms(get("latency_ms")))
        if get("blocked"):
            parts.append("BLOCKED")
        if get("error"):
            parts.append(_short(get("error"), 50))
        if get("sandbox"):
            parts.append("(sandbox)")
    elif kind == "tool_call":
        parts = [str(get("name") or get("tool") or "?"), str(get("status", ""))]
        duration = get("duration_s", get("duration"))
        parts.append(_seconds(duration) if duration is not None else _ms(get("duration_ms")))
        if get("error"):
            parts.append(_short(get("error"), 50))
        resources = get("resources")
        if isinstance(resources, list) and resources:
            parts.append(f"{len(resources)} resource(s)")
    elif kind == "approval":
        decision = get("decision")
        if isinstance(decision, dict):
            decision = decision.get("type") or decision.get("action")
        request = get("request") if isinstance(get("request"), dict) else {}
        parts = [
            str(get("tool") or request.get("tool") or "?"),
            str(decision or get("action") or ""),
        ]
        if get("who"):
            parts.append(f"by {get('who')}")
        if get("reason"):
            parts.append(_short(get("reason"), 40))
    elif kind == "user_message":
        parts = [_short(get("text", get("message", "")), 80)]
    elif kind == "model_call":
        parts = [str(get("model", ""))]
        tin, tout = get("input_tokens", get("tokens_in")), get("output_tokens", get("tokens_out"))
        if tin is not None or tout is not None:
            parts.append(f"{tin or 0} in / {tout or 0} out")
        parts.append(_ms(get("latency_ms")))
        if get("stop_reason"):
            parts.append(str(get("stop_reason")))
    else:
        skip = {"ts", "session", "seq", "kind", "prev"}
        parts = [
            f"{k}={_short(v, 30)}"
            for k, v in record.items()
            if k not in skip and isinstance(v, (str, int, float, bool))
        ][:5]
    return " ".join(p for p in parts if p)


def _time(record: dict[str, Any]) -> str:
    ts = str(record.get("ts", ""))
    try:
        moment = datetime.fromisoformat(ts.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return ts[:19]
    return moment.strftime("%m-%d %H:%M:%S")


def _row(record: dict[str, Any]) -> tuple[str, str, str, str, str]:
    return (
        _time(record),
        str(record.get("session", ""))[:12],
        str(record.get("seq", "")),
        str(record.get("kind", "")),
        summarize(record),
    )


HEADERS = ("TIME (UTC)", "SESSION", "SEQ", "KIND", "WHAT")


def _audit_dir() -> Any:
    from tui.cli_options import settings_or_exit

    return settings_or_exit().audit_dir


@log_app.callback(invoke_without_command=True)
def show(
    ctx: typer.Context,
    session: Annotated[
        str | None, typer.Option("--session", help="A session id, or 'last'.")
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option("--kind", help="Record kind(s), comma-separated (e.g. tool_call,aws_call)."),
    ] = None,
    tool: Annotated[
        str | None, typer.Option("--tool", help="Only records about this tool.")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="e.g. 30m, 2h, 1d, or an ISO date/time.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Newest N records.")] = 50,
    as_json: Annotated[
        bool, typer.Option("--json", help="Raw records, one JSON object per line.")
    ] = False,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new records (Ctrl-C stops).")
    ] = False,
) -> None:
    """Print recent audit records as a table (newest last)."""
    if ctx.invoked_subcommand is not None:
        return
    from agent import audit

    directory = _audit_dir()
    try:
        since_dt = audit.parse_since(since) if since else None
    except ValueError as exc:
        typer.echo(f"sagecoach: --since: {exc}", err=True)
        raise typer.Exit(2) from None
    resolved = audit.last_session(directory) if session == "last" else session
    if session == "last" and resolved is None:
        typer.echo(f"No audit records yet in {directory}.")
        return
    records = audit.read_records(
        directory, session=resolved, kind=kind, tool=tool, since=since_dt, limit=limit
    )
    _print(records, as_json=as_json, header=True)
    if not records and not follow:
        where = "" if (session or kind or tool or since) else f" in {directory}"
        typer.echo(f"No matching audit records{where}.", err=as_json)
        return
    if follow:
        if not records:
            typer.echo("Waiting for new records (Ctrl-C stops)...", err=True)
        kinds = {k.strip() for k in kind.split(",")} if kind else None
        try:
            for record in audit.follow_records(directory, stop=lambda: False):
                if audit.record_matches(
                    record, session=resolved, kinds=kinds, tool=tool, since=since_dt
                ):
                    _print([record], as_json=as_json, header=False)
        except KeyboardInterrupt:
            return


def _print(records: list[dict[str, Any]], *, as_json: bool, header: bool) -> None:
    if as_json:
        for record in records:
            typer.echo(json.dumps(record, ensure_ascii=False))
        return
    if not records:
        return
    from tui.commands.tools import format_table

    table = format_table([_row(r) for r in records], HEADERS)
    lines = table.splitlines()
    typer.echo("\n".join(lines if header else lines[2:]))


def _audit_key(settings: Any) -> bytes | None:
    from agent.audit_head import AuditKeyError, load_key

    try:
        return load_key(settings.audit_key_path, settings.audit_dir)
    except AuditKeyError as exc:
        typer.echo(f"sagecoach: {exc}", err=True)
        raise typer.Exit(2) from None


@log_app.command("verify")
def verify_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Check the audit log: hash chain, head record (cut tail, deleted files, foreign appends)
    and, with the key file, every record's MAC; exit 1 at the first problem."""
    from agent import audit
    from tui.cli_options import settings_or_exit

    settings = settings_or_exit()
    directory = settings.audit_dir
    report = audit.verify(directory, key=_audit_key(settings))
    if as_json:
        typer.echo(json.dumps(report.to_dict() | {"directory": str(directory)}, indent=2))
    elif report.files == 0 and report.ok:
        typer.echo(f"No audit log yet in {directory}.")
    else:
        status = "OK" if report.ok else "FAILED"
        checked = "hash chain intact, head matches" + (", MACs valid" if report.keyed else "")
        typer.echo(
            f"{status}: {report.count} records in {report.files} file(s) under {directory}"
            + (f", {checked}." if report.ok else ".")
        )
        for warning in report.warnings:
            typer.echo(f"warning: {warning}")
        if report.problems:
            typer.echo(f"first bad record: {report.problems[0]}")
            for problem in report.problems[1:6]:
                typer.echo(f"also: {problem}")
            if len(report.problems) > 6:
                typer.echo(f"... and {len(report.problems) - 6} more")
    raise typer.Exit(0 if report.ok else 1)


@log_app.command("init-key")
def init_key_command() -> None:
    """Create the key for the keyed (HMAC) chain, outside the log directory; new records and
    the head carry MACs from then on, so tampering needs the key."""
    from agent.audit_head import create_key
    from tui.cli_options import settings_or_exit

    settings = settings_or_exit()
    path = settings.audit_key_path
    try:
        create_key(path)
    except FileExistsError:
        typer.echo(
            f"An audit key already exists at {path}; keep it (a new one cannot check old MACs)."
        )
        raise typer.Exit(1) from None
    except OSError as exc:
        typer.echo(f"sagecoach: could not create {path}: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(
        f"Created the audit key {path} (mode 0600). Back it up: `sagecoach log verify` needs it."
    )


def register(app: typer.Typer) -> None:
    app.add_typer(log_app, name="log")
