"""Property: a vague request never reaches a costly or destructive tool.

Through the real agent runtime (offline planner, sandbox, mode "ask"): requests drawn from a
corpus of vague phrasings, with filler around them, in a fresh conversation and after a
conversation that trained a model. No costly or destructive call starts and no approval for
one is asked; the planner answers with a question, numbered choices or the guided start.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.events import ApprovalRequested, ToolCallStarted, TurnFinished
from agent.offline import OfflinePlanner

pytest.importorskip("agent.runtime")

VAGUE = (
    "run it",
    "start",
    "go",
    "do it",
    "delete",
    "remove it",
    "stop",
    "clean",
    "make it better",
    "do something with my data",
    "the model",
    "fix it",
    "kick it off",
    "launch",
    "deploy",
    "train",
    "tune",
    "shut it down",
    "terminate",
    "process the data",
    "something is wrong",
    "what now",
    "can you handle this",
    "again",
    "run",
    "try that",
    "nuke",
    "start the thing",
    "get rid of it",
    "spin something up",
)
PREFIX = ("", "ok ", "um ", "please ", "hey, ", "so ", "can you ")
SUFFIX = ("", "?", "!", " please", " now", " pls", "...")
RISKY = ("costly", "destructive")


async def _risky_events(session: Any, text: str) -> list[str]:
    found: list[str] = []
    async for event in session.send(text):
        if isinstance(event, ToolCallStarted) and event.risk in RISKY:
            found.append(f"call {event.name}")
        elif isinstance(event, ApprovalRequested) and event.request.risk in RISKY:
            found.append(f"approval {event.request.tool}")
        elif isinstance(event, TurnFinished):
            assert event.reply.strip(), text  # it always says something
    return found


@pytest.fixture(scope="module")
def runtime(moto_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    from agent.settings import load_settings
    from agent.startup import open_session

    state = tmp_path_factory.mktemp("vague")
    loop = asyncio.new_event_loop()
    settings_ = load_settings(sandbox="on", mode="ask", model="offline", state_dir=state)
    session = loop.run_until_complete(
        open_session(settings_, model=OfflinePlanner(), sandbox_endpoint=moto_server.endpoint)
    )
    yield loop, session
    loop.run_until_complete(session.aclose())
    loop.close()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.sampled_from(VAGUE), st.sampled_from(PREFIX), st.sampled_from(SUFFIX), st.booleans())
def test_vague_requests_reach_no_costly_or_destructive_tool(
    runtime: Any, core: str, prefix: str, suffix: str, fresh: bool
) -> None:
    loop, session = runtime
    if fresh:
        loop.run_until_complete(session.new_conversation())
    found = loop.run_until_complete(_risky_events(session, f"{prefix}{core}{suffix}"))
    assert found == [], (prefix + core + suffix, found)


def test_vague_requests_after_a_training_run_stay_safe(
    runtime: Any, moto_server: Any, tmp_path: Path
) -> None:
    """With a bucket and an upload in the conversation (approved), vague words still only
    ask: nothing there names a costly or destructive step."""
    from agent.events import Decision

    loop, session = runtime
    loop.run_until_complete(session.new_conversation())
    moto_server.reset()
    csv = tmp_path / "d.csv"
    csv.write_text("a,b\n1,2\n")

    async def approve_all(text: str) -> None:
        events = session.send(text)
        while True:
            pending = [e.request async for e in events if isinstance(e, ApprovalRequested)]
            if not pending:
                return
            events = session.decide({r.call_id: Decision.approve() for r in pending})

    loop.run_until_complete(approve_all("create a bucket named vague-bkt-1"))
    loop.run_until_complete(approve_all(f"upload {csv} to s3://vague-bkt-1/raw/d.csv"))
    for text in ("do something with it", "the model", "start", "go", "delete", "terminate"):
        assert loop.run_until_complete(_risky_events(session, text)) == [], text
