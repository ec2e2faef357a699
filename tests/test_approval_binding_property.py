"""Property over every tool that asks: what runs is exactly what was shown and approved.

Each mutating tool (sample arguments from the per-stage safety suites) runs through the real
runtime with its body replaced by a recorder. The model's calls come in batches whose ids
repeat (hypothesis picks the ids and the decisions); for every approval request, the recorder
must see the request's own arguments, byte for byte after validation, for an approval; the
edited arguments for an edit; nothing for a rejection.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.messages import AIMessage

from agent.events import ApprovalRequested, Decision
from agent.settings import Settings
from agent.startup import open_session
from tests.scripted_model import ScriptedChatModel
from tests.test_safety_all_tools import _samples
from tools.core.registry import all_tools, get_tool
from tools.core.results import ToolResult

# LangGraph's ToolNode replaces an argument named "runtime" with its own ToolRuntime object (and
# injects state/store by annotation): a tool argument of that name would run with another value.
RESERVED_ARGUMENT_NAMES = {"runtime"}


@pytest.fixture(autouse=True)
def no_preflight(monkeypatch: pytest.MonkeyPatch) -> None:
    """The samples name data that is not in the sandbox; pre-flight (tested on its own) would
    stop most calls before approval. This property is about what runs after an approval."""
    import agent.approval_gate

    monkeypatch.setattr(agent.approval_gate, "preflight_for", lambda core, spec, args: None)


def canonical(args: dict[str, Any]) -> str:
    return json.dumps(args, sort_keys=True, separators=(",", ":"))


def recording(names: list[str], ran: list[tuple[str, str]]) -> list[Any]:
    """The tools with their bodies replaced by a recorder of the arguments they got."""

    def recorder(name: str) -> Any:
        def run(ctx: Any, args: Any) -> ToolResult:
            ran.append((name, canonical(args.model_dump(mode="json"))))
            return ToolResult(f"{name} ran")

        return run

    return [dataclasses.replace(get_tool(n), func=recorder(n)) for n in names]


Batch = tuple[list[tuple[str, str]], list[str]]  # (tool name, model id) calls; decisions


async def scenario(tmp: Path, sandbox: Any, batches: list[Batch]) -> None:
    """One session; each batch is one turn: the model asks for the calls at once, the person
    decides each, and the recorder must see exactly the approved (or edited) arguments."""
    samples = _samples(tmp)
    names = sorted({name for calls, _ in batches for name, _ in calls})
    ran: list[tuple[str, str]] = []
    script: list[Any] = []
    for calls, _ in batches:
        script.append(
            AIMessage(
                content="",
                tool_calls=[
                    {"name": name, "args": samples[name], "id": model_id, "type": "tool_call"}
                    for name, model_id in calls
                ],
            )
        )
        script.append("Done.")
    state = tmp / f"state-{len(list(tmp.glob('state-*')))}"
    session = await open_session(
        Settings(state_dir=state, sandbox="on", mode="ask"),
        model=ScriptedChatModel(script=script),
        sandbox_endpoint=sandbox.endpoint,
        tools=recording(names, ran),
        retry_delay=0.0,
    )
    try:
        for calls, choices in batches:
            ran.clear()
            events = [e async for e in session.send("go")]
            requests = [e.request for e in events if isinstance(e, ApprovalRequested)]
            assert len({r.call_id for r in requests}) == len(requests) == len(calls)
            assert not {r.call_id for r in requests} & {model_id for _, model_id in calls}
            assert sorted(r.tool for r in requests) == sorted(name for name, _ in calls)
            expected: list[tuple[str, str]] = []
            decisions: dict[str, Decision] = {}
            for request, choice in zip(requests, choices, strict=True):
                spec = get_tool(request.tool)
                shown = spec.validate(samples[request.tool]).model_dump(mode="json")
                assert request.args == shown
                if choice == "approve":
                    decisions[request.call_id] = Decision.approve()
                    expected.append((request.tool, canonical(request.args)))
                elif choice == "edit":
                    edited = spec.validate(request.args).model_dump(mode="json")
                    decisions[request.call_id] = Decision.edit(edited)
                    expected.append((request.tool, canonical(edited)))
                else:
                    decisions[request.call_id] = Decision.reject("no")
            [e async for e in session.decide(decisions)]
            assert sorted(ran) == sorted(expected)
    finally:
        await session.aclose()


def test_no_tool_argument_is_overwritten_by_the_tool_node() -> None:
    clashes = {
        (spec.name, field)
        for spec in all_tools()
        for field in spec.args_model.model_fields
        if field in RESERVED_ARGUMENT_NAMES
    }
    assert clashes == set()


def test_every_tool_runs_exactly_its_approved_arguments(tmp_path: Path, sandbox: Any) -> None:
    """All mutating tools in one turn, every model id the same, all approved."""
    names = sorted(_samples(tmp_path))
    calls = [(name, "toolu_same") for name in names]
    asyncio.run(scenario(tmp_path, sandbox, [(calls, ["approve"] * len(calls))]))


def batches(names: list[str]) -> st.SearchStrategy[list[Batch]]:
    call = st.tuples(st.sampled_from(names), st.sampled_from(["t1", "t2", "tooluse_x"]))
    decision = st.sampled_from(["approve", "edit", "reject"])
    batch = st.lists(st.tuples(call, decision), min_size=1, max_size=4).map(
        lambda pairs: ([c for c, _ in pairs], [d for _, d in pairs])
    )
    return st.lists(batch, min_size=2, max_size=4)


@settings(
    max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_mixed_decisions_with_repeating_ids(tmp_path: Path, sandbox: Any, data: Any) -> None:
    drawn = data.draw(batches(sorted(_samples(tmp_path))))
    asyncio.run(scenario(tmp_path, sandbox, drawn))
