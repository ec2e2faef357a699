"""Opening a session: environment, audit log, model, checkpointer, agent, and the notices a
person must see before the first request.

    session = await open_session(settings)
    async for event in session.send("list my buckets"):
        ...
    await session.aclose()
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from agent.conversations import DB_NAME, ConversationStore, new_conversation_id
from agent.environment import AwsEnvironment, new_session_id, open_environment
from agent.events import Notice
from agent.model_choice import resolve_model_spec
from agent.runtime import AgentSession
from agent.session_core import AuditTee, open_audit
from agent.settings import Settings
from tools.core.declaration import ToolSpec


def _open_ledger(state_dir: Path) -> Any:
    try:
        from tools.ledger.store import ResourceLedger
    except ImportError:  # pragma: no cover
        return None
    try:
        return ResourceLedger.in_state_dir(state_dir)
    except Exception:
        return None


async def open_session(
    settings: Settings,
    *,
    conversation: str | None = None,
    model: Any = None,
    sandbox_endpoint: str | None = None,
    tools: list[ToolSpec] | None = None,
    retry_delay: float = 1.0,
) -> AgentSession:
    """Start a session: environment, audit log, model, checkpointer, agent.

    `model` injects a chat model instance (tests); `sandbox_endpoint` reuses a running moto
    server; `tools` replaces the registry's tool set (tests, scoped sessions)."""
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    from agent.models import make_chat_model
    from tools.cost.refresh import use_cache

    use_cache(settings.state_dir)  # a refreshed price cache, when there is one, wins
    session_id = new_session_id()
    audit = AuditTee(open_audit(settings.audit_dir, session_id))
    env = open_environment(
        settings,
        session_id=session_id,
        on_aws_call=audit.aws_call_sink,
        sandbox_endpoint=sandbox_endpoint,
    )
    try:
        spec = resolve_model_spec(settings.model, is_sandbox=env.is_sandbox, region=env.aws.region)
        if model is None:
            model = make_chat_model(spec, env.aws)
        else:
            spec = settings.model or getattr(model, "_llm_type", "injected")
        _give_account_lookup(model, env.aws)
        if tools is None:
            from tools.core.registry import load_all

            tools = load_all().all()
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        saver_cm = AsyncSqliteSaver.from_conn_string(str(settings.state_dir / DB_NAME))
        saver = await saver_cm.__aenter__()
        await saver.setup()
        store = ConversationStore(saver)
        await store.setup()
        if conversation and not await store.exists(conversation):
            await saver_cm.__aexit__(None, None, None)
            raise KeyError(f"no conversation '{conversation}' (see `sagecoach ask --list`)")
        conversation_id = conversation or new_conversation_id()
        await store.ensure(conversation_id)
    except BaseException:
        env.close()
        audit.close()
        raise
    session = AgentSession(
        settings=settings,
        env=env,
        model=model,
        model_spec=spec,
        specs=tools,
        audit=audit,
        saver_cm=saver_cm,
        saver=saver,
        store=store,
        session_id=session_id,
        conversation_id=conversation_id,
        ledger=_open_ledger(settings.state_dir),
        retry_delay=retry_delay,
    )
    aws = env.aws
    audit.append(
        "session_start",
        {
            "model": spec,
            "mode": settings.mode,
            "sandbox": aws.is_sandbox,
            "region": aws.region,
            "account": aws.account_label,
            "profile": aws.profile,
            "conversation": conversation_id,
            "environment": env.reason,
        },
    )
    if settings.mode == "read-only":
        aws.set_read_only(True)
    session.notices = await asyncio.to_thread(_startup_notices, env, session_id)
    if conversation:
        await session._load_pending()
    return session


def _startup_notices(env: AwsEnvironment, session_id: str) -> list[Notice]:
    """What a person must know before the first request: where calls go, what is still billing."""
    from tools.ledger.store import startup_endpoint_warning

    notices = [Notice(env.reason, "warning" if env.is_sandbox else "info")]
    warning = startup_endpoint_warning(env.aws, session_id)
    if warning:
        notices.append(Notice(warning, "warning"))
    return notices


def _give_account_lookup(model: Any, aws: Any) -> None:
    """The offline planner's questions offer what exists in the account (free list calls
    through the session's guarded, audited AWS context)."""
    if "account" in getattr(type(model), "model_fields", {}) and model.account is None:
        from agent.offline.account import AccountLookup

        model.account = AccountLookup(aws)
