"""One writer per conversation: concurrent continuations keep every turn, a busy conversation
says who holds it."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import HumanMessage

from agent.conversation_lock import ConversationBusy
from agent.runtime import AgentSession
from agent.settings import Settings
from agent.startup import open_session
from tests.scripted_model import ScriptedChatModel
from tests.test_runtime import TOOLS, collect


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(state_dir=tmp_path / "state", sandbox="on")


async def opened(settings: Settings, sandbox: Any, conversation: str | None, **kw: Any):
    model = ScriptedChatModel(script=[], exhausted_reply="ok")
    return await open_session(
        settings,
        conversation=conversation,
        model=model,
        sandbox_endpoint=sandbox.endpoint,
        tools=TOOLS,
        retry_delay=0.0,
        **kw,
    )


async def human_texts(session: AgentSession) -> list[str]:
    state = await session.agent.aget_state(session._config)
    return [m.text for m in state.values["messages"] if isinstance(m, HumanMessage)]


async def test_four_writers_keep_every_turn(settings: Settings, sandbox: Any) -> None:
    first = await opened(settings, sandbox, None)
    await collect(first.send("start"))
    conversation = first.conversation_id
    await first.aclose()

    async def writer(index: int) -> None:
        session = await opened(settings, sandbox, conversation)
        try:
            for turn in range(2):
                await collect(session.send(f"writer {index} turn {turn}"))
                await asyncio.sleep(0)  # let the others try to get in between
        finally:
            await session.aclose()

    await asyncio.gather(*(writer(i) for i in range(4)))
    check = await opened(settings, sandbox, conversation)
    try:
        texts = await human_texts(check)
    finally:
        await check.aclose()
    assert len(texts) == 9
    assert sorted(texts[1:]) == sorted(f"writer {i} turn {t}" for i in range(4) for t in range(2))


async def test_a_busy_conversation_names_its_holder(settings: Settings, sandbox: Any) -> None:
    holder = await opened(settings, sandbox, None)
    try:
        await collect(holder.send("hello"))
        with pytest.raises(ConversationBusy) as caught:
            await opened(settings, sandbox, holder.conversation_id, lock_wait_s=0.2)
        message = str(caught.value)
        assert holder.conversation_id in message and f"pid {os.getpid()}" in message
        assert "start a new conversation" in message

        other = await opened(settings, sandbox, None)
        try:
            with pytest.raises(ConversationBusy):
                await other.resume(holder.conversation_id, wait_s=0.1)
            with pytest.raises(ConversationBusy):
                await other.delete_conversation(holder.conversation_id)
            assert await other.store.exists(holder.conversation_id)
        finally:
            await other.aclose()
    finally:
        await holder.aclose()
    # Released on close: the next writer gets in at once.
    again = await opened(settings, sandbox, holder.conversation_id, lock_wait_s=0.0)
    await again.aclose()


async def test_switching_conversations_moves_the_lock(settings: Settings, sandbox: Any) -> None:
    session = await opened(settings, sandbox, None)
    first = session.conversation_id
    try:
        await collect(session.send("one"))
        await session.new_conversation()
        # The first conversation is free for another writer now.
        other = await opened(settings, sandbox, first, lock_wait_s=0.0)
        await other.aclose()
    finally:
        await session.aclose()
