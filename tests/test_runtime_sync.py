"""The middleware's sync hooks: the same gate under `invoke` (InMemorySaver, no event loop)."""

from __future__ import annotations

from typing import Any

from langchain.agents import create_agent
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from agent.environment import AwsEnvironment
from agent.middleware import (
    ApprovalMiddleware,
    AuditMiddleware,
    ModelRetryMiddleware,
    ToolErrorsMiddleware,
)
from agent.session_core import AuditTee, SessionCore
from agent.settings import Settings
from tests.scripted_model import Fail, ScriptedChatModel, tool_call, tool_turns
from tests.test_runtime import TOOLS, buckets
from tools.aws.context import AwsContext
from tools.core.context import ToolContext
from tools.core.langchain_adapter import simple_context_factory, to_langchain_tools


def _agent(
    sandbox: Any, script: list[Any], tmp_path: Any
) -> tuple[Any, SessionCore, ScriptedChatModel]:
    aws = AwsContext(sandbox_endpoint=sandbox.endpoint, session_id="sync")
    core = SessionCore(
        Settings(state_dir=tmp_path),
        AwsEnvironment(aws),
        {t.name: t for t in TOOLS},
        AuditTee(None),
        "scripted",
    )
    model = ScriptedChatModel(script=script)
    tools = to_langchain_tools(TOOLS, simple_context_factory(ToolContext(aws, session_id="sync")))
    middleware = [
        ApprovalMiddleware(core),
        AuditMiddleware(core),
        ModelRetryMiddleware(initial_delay=0),
        ToolErrorsMiddleware(core),
    ]
    agent = create_agent(model, tools, middleware=middleware, checkpointer=InMemorySaver())
    return agent, core, model


def test_sync_interrupt_resume_and_retry(sandbox: Any, tmp_path: Any) -> None:
    from botocore.exceptions import EventStreamError

    throttled = EventStreamError(
        {"Error": {"Code": "throttlingException", "Message": "x"}}, "ConverseStream"
    )
    turn = tool_turns(
        tool_call("tst_create_bucket", {"bucket": "sync-yes"}, id="a"),
        tool_call("tst_create_bucket", {"bucket": "sync-no"}, id="b"),
    )
    agent, core, model = _agent(sandbox, [Fail(throttled, partial="x"), turn, "done"], tmp_path)
    config = {"configurable": {"thread_id": "t1"}}
    out = agent.invoke(
        {"messages": [{"role": "user", "content": "two buckets"}]}, config, version="v2"
    )
    assert len(model.calls) == 2  # the throttled call was retried
    interrupts = {i.value["call_id"]: i for i in out.interrupts}
    assert set(interrupts) == {"a", "b"} and buckets(sandbox) == set()
    core.pending = {}
    resume = {
        interrupts["a"].id: {"type": "approve"},
        interrupts["b"].id: {"type": "reject", "reason": "one is enough"},
    }
    out = agent.invoke(Command(resume=resume), config, version="v2")
    assert not out.interrupts and buckets(sandbox) == {"sync-yes"}
    messages = out.value["messages"]
    results = {m.tool_call_id: m for m in messages if m.type == "tool"}
    assert results["a"].status == "success" and "one is enough" in results["b"].content
    assert [r["decision"] for r in core.audit_log.of_kind("approval")] in (
        ["approve", "reject"],
        ["reject", "approve"],
    )
    assert {r["status"] for r in core.audit_log.of_kind("tool_call")} == {"success", "rejected"}
