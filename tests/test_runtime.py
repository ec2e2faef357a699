"""The agent runtime end to end with a scripted model and test-only tools against moto."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from pydantic import BaseModel, ConfigDict, Field

from agent.events import (
    ApprovalRequested,
    Decision,
    ErrorEvent,
    ResourceCreated,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    ToolProgress,
    TurnFinished,
)
from agent.runtime import AgentSession
from agent.session_api import ChatSession
from agent.settings import Settings
from agent.startup import open_session
from tests.scripted_model import ScriptedChatModel, tool_call, tool_turn, tool_turns
from tools.core.context import ToolContext
from tools.core.declaration import ToolSpec
from tools.core.results import CostEstimate, Resource, ToolResult


class BucketArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    bucket: Annotated[str, Field(min_length=3, max_length=63, pattern=r"^[a-z0-9][a-z0-9.-]+$")]


class NoArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SlowArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seconds: float = 5.0


def _list(ctx: ToolContext, args: NoArgs) -> ToolResult:
    names = [b["Name"] for b in ctx.client("s3").list_buckets().get("Buckets", [])]
    ctx.report("listed", len(names), len(names), "buckets")
    return ToolResult(
        f"{len(names)} buckets: {', '.join(names)}", data={"rows": [{"name": n} for n in names]}
    )


def _create(ctx: ToolContext, args: BucketArgs) -> ToolResult:
    ctx.client("s3").create_bucket(Bucket=args.bucket)
    ctx.client("s3").put_bucket_tagging(Bucket=args.bucket, Tagging={"TagSet": ctx.aws.tags()})
    return ToolResult(f"created {args.bucket}", resources=[Resource("s3_bucket", args.bucket)])


def _train(ctx: ToolContext, args: BucketArgs) -> ToolResult:
    ctx.client("s3").create_bucket(Bucket=args.bucket)  # stands in for starting compute
    return ToolResult(f"training into {args.bucket}")


def _slow(ctx: ToolContext, args: SlowArgs) -> ToolResult:
    ctx.report("waiting")
    ctx.sleep(args.seconds)
    return ToolResult("slept")


def _estimate(args: BucketArgs, region: str) -> CostEstimate:
    return CostEstimate(0.5, 3.0, "1 x ml.m5.xlarge x 1 h (test)")


TOOLS = [
    ToolSpec("tst_list_buckets", "collection", "List buckets.", "read", ("s3:ListBuckets",), NoArgs, _list),
    ToolSpec("tst_create_bucket", "collection", "Create a bucket.", "write", ("s3:CreateBucket",), BucketArgs, _create),
    ToolSpec(
        "tst_train", "training", "Start training.", "costly", ("sagemaker:CreateTrainingJob",),
        BucketArgs, _train, estimator=_estimate,
    ),
    ToolSpec("tst_slow", "general", "Wait.", "read", (), SlowArgs, _slow),
]  # fmt: skip


def buckets(sandbox: Any) -> set[str]:
    import boto3

    s3 = boto3.client(
        "s3", endpoint_url=sandbox.endpoint, region_name="us-east-1",
        aws_access_key_id="x", aws_secret_access_key="y",
    )  # fmt: skip
    return {b["Name"] for b in s3.list_buckets().get("Buckets", [])}


async def collect(events: Any) -> list[Any]:
    return [event async for event in events]


def of(events: list[Any], cls: type) -> list[Any]:
    return [e for e in events if isinstance(e, cls)]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(state_dir=tmp_path / "state", sandbox="on")


async def start(
    settings: Settings, sandbox: Any, script: list[Any], **kw: Any
) -> tuple[AgentSession, ScriptedChatModel]:
    model = ScriptedChatModel(script=script)
    session = await open_session(
        settings, model=model, sandbox_endpoint=sandbox.endpoint, tools=TOOLS, retry_delay=0.0, **kw
    )
    return session, model


async def test_read_tool_runs_without_a_pause(settings: Settings, sandbox: Any) -> None:
    session, model = await start(
        settings, sandbox, [tool_turn("tst_list_buckets", text="Checking."), "You have none."]
    )
    try:
        assert isinstance(session, ChatSession)
        events = await collect(session.send("what buckets do I have?"))
        assert not of(events, ApprovalRequested)
        started = of(events, ToolCallStarted)
        assert [(s.name, s.stage, s.risk) for s in started] == [
            ("tst_list_buckets", "collection", "read")
        ]
        progress = of(events, ToolProgress)
        assert (
            progress and progress[0].call_id == started[0].call_id and progress[0].unit == "buckets"
        )
        (finished,) = of(events, ToolCallFinished)
        assert finished.status == "success" and finished.summary == "0 buckets:"
        assert finished.data == {"rows": []}
        text = "".join(e.text for e in of(events, TextDelta))
        assert text == "Checking.You have none."
        done = events[-1]
        assert isinstance(done, TurnFinished) and done.reply == "Checking.\nYou have none."
        assert done.usage["input_tokens"] == 20 and done.estimated_cost_usd == 0.0
        # The tool result went back to the model, paired with its call.
        last = model.calls[-1]
        assert isinstance(last[-1], ToolMessage) and last[-1].tool_call_id == started[0].call_id
        kinds = [r["kind"] for r in session.audit.records]
        # Only the start-up check for endpoints left running (aws_call) may come between.
        assert [k for k in kinds if k != "aws_call"][:2] == ["session_start", "user_message"]
        assert kinds.count("model_call") == 2 and "tool_call" in kinds and "aws_call" in kinds
        aws = session.audit.of_kind("aws_call")
        assert aws[0]["operation"] == "ListEndpoints"  # the start-up check
        listed = [r for r in aws if r["operation"] == "ListBuckets"]
        assert listed and listed[0]["sandbox"] is True
        model_call = session.audit.of_kind("model_call")[0]
        assert model_call["input_tokens"] == 10 and model_call["stop_reason"] == "tool_use"
    finally:
        await session.aclose()


async def test_costly_call_pauses_and_approve_runs_it(settings: Settings, sandbox: Any) -> None:
    session, _model = await start(
        settings, sandbox, [tool_turn("tst_train", {"bucket": "train-out"}), "Training started."]
    )
    try:
        events = await collect(session.send("train a model"))
        (asked,) = of(events, ApprovalRequested)
        request = asked.request
        assert (request.tool, request.risk, request.sandbox, request.account) == (
            "tst_train",
            "costly",
            True,
            "SANDBOX",
        )
        assert request.estimate["high_usd"] == 3.0 and request.operations == [
            "sagemaker:CreateTrainingJob"
        ]
        assert request.interrupt_id and not of(events, TurnFinished)
        assert "train-out" not in buckets(sandbox)  # nothing ran before approval
        assert session.pending_approvals == [request]
        convs = await session.list_conversations()
        assert convs[0].pending_approval and convs[0].title == "train a model"

        events = await collect(session.decide({request.call_id: Decision.approve()}))
        (finished,) = of(events, ToolCallFinished)
        assert finished.status == "success" and finished.estimate["high_usd"] == 3.0
        assert "train-out" in buckets(sandbox)
        done = events[-1]
        assert isinstance(done, TurnFinished) and done.estimated_cost_usd == 3.0
        assert done.reply == "Training started."
        assert session.spent_usd == 3.0 and not session.pending_approvals
        approval = session.audit.of_kind("approval")[0]
        assert approval["decision"] == "approve" and approval["who"] == "user"
        assert approval["request"]["tool"] == "tst_train"
    finally:
        await session.aclose()


async def test_reject_returns_the_reason_and_sends_nothing_to_aws(
    settings: Settings, sandbox: Any, aws_calls: list
) -> None:
    session, model = await start(
        settings,
        sandbox,
        [tool_turn("tst_create_bucket", {"bucket": "not-wanted"}), "OK, I won't."],
    )
    try:
        events = await collect(session.send("make a bucket"))
        (asked,) = of(events, ApprovalRequested)
        before = len(session.audit.of_kind("aws_call"))
        events = await collect(
            session.decide({asked.request.call_id: Decision.reject("use the existing one")})
        )
        (finished,) = of(events, ToolCallFinished)
        assert finished.status == "rejected" and not of(events, ToolCallStarted)
        assert "not-wanted" not in buckets(sandbox)
        assert len(session.audit.of_kind("aws_call")) == before
        assert all(r["op_class"] != "mutating" for r in session.audit.of_kind("aws_call"))
        result = model.calls[-1][-1]
        assert isinstance(result, ToolMessage) and result.status == "error"
        assert "use the existing one" in result.content and "did not run" in result.content
        assert session.audit.of_kind("tool_call")[-1]["status"] == "rejected"
    finally:
        await session.aclose()


async def test_edit_runs_with_new_args_and_invalid_edit_stays_pending(
    settings: Settings, sandbox: Any
) -> None:
    session, model = await start(
        settings, sandbox, [tool_turn("tst_create_bucket", {"bucket": "first-name"}), "Done."]
    )
    try:
        events = await collect(session.send("make a bucket"))
        (asked,) = of(events, ApprovalRequested)
        call_id = asked.request.call_id
        bad = await collect(session.decide({call_id: Decision.edit({"bucket": "Bad Name!"})}))
        assert [type(e) for e in bad] == [ErrorEvent, ApprovalRequested]
        assert bad[0].error_kind == "invalid_arguments" and "bucket" in bad[0].message
        assert session.pending_approvals and buckets(sandbox) == set()

        events = await collect(session.decide({call_id: Decision.edit({"bucket": "second-name"})}))
        (started,) = of(events, ToolCallStarted)
        assert started.args == {"bucket": "second-name"}
        assert buckets(sandbox) == {"second-name"}
        result = model.calls[-1][-1]
        assert "edited" in result.content and "second-name" in result.content
        (created,) = of(events, ResourceCreated)
        assert created.resource["name"] == "second-name"
        assert [r["name"] for r in session.resources()] == ["second-name"]
    finally:
        await session.aclose()


async def test_parallel_calls_get_their_own_decisions(settings: Settings, sandbox: Any) -> None:
    turn = tool_turns(
        tool_call("tst_create_bucket", {"bucket": "keep-me"}, id="c-keep"),
        tool_call("tst_create_bucket", {"bucket": "drop-me"}, id="c-drop"),
        tool_call("tst_list_buckets", {}, id="c-read"),
    )
    session, model = await start(settings, sandbox, [turn, "Made one."])
    try:
        events = await collect(session.send("make two buckets"))
        # Decisions are keyed by sagecoach's ids, never the model's.
        asked = {e.request.args["bucket"]: e.request.call_id for e in of(events, ApprovalRequested)}
        assert set(asked) == {"keep-me", "drop-me"}
        assert not set(asked.values()) & {"c-keep", "c-drop", "c-read"}
        (read,) = of(events, ToolCallFinished)  # the read ran already
        assert read.name == "tst_list_buckets"
        ids = {r.interrupt_id for r in session.pending_approvals}
        assert len(ids) == 2
        events = await collect(
            session.decide(
                {
                    asked["keep-me"]: Decision.approve(),
                    asked["drop-me"]: Decision.reject("only one"),
                }
            )
        )
        statuses = {f.call_id: f.status for f in of(events, ToolCallFinished)}
        assert statuses == {asked["keep-me"]: "success", asked["drop-me"]: "rejected"}
        assert buckets(sandbox) == {"keep-me"}
        results = {m.tool_call_id: m for m in model.calls[-1] if isinstance(m, ToolMessage)}
        assert set(results) == {*asked.values(), read.call_id}
        assert "only one" in results[asked["drop-me"]].content
    finally:
        await session.aclose()


async def test_allow_session_skips_later_asks_for_that_write_tool(
    settings: Settings, sandbox: Any
) -> None:
    script = [
        tool_turn("tst_create_bucket", {"bucket": "one-b"}),
        tool_turn("tst_create_bucket", {"bucket": "two-b"}),
        "Both.",
    ]
    session, _ = await start(settings, sandbox, script)
    try:
        events = await collect(session.send("make buckets"))
        (asked,) = of(events, ApprovalRequested)
        assert asked.request.allow_session_offered
        events = await collect(session.decide({asked.request.call_id: Decision.allow_session()}))
        assert not of(events, ApprovalRequested)
        assert buckets(sandbox) == {"one-b", "two-b"}
    finally:
        await session.aclose()


async def test_dry_run_reports_and_runs_nothing(settings: Settings, sandbox: Any) -> None:
    settings = settings.model_copy(update={"mode": "dry-run"})
    session, _model = await start(
        settings, sandbox, [tool_turn("tst_train", {"bucket": "dry-out"}), "Would train."]
    )
    try:
        events = await collect(session.send("train"))
        (finished,) = of(events, ToolCallFinished)
        assert finished.status == "dry_run" and "would call tst_train" in finished.summary
        assert finished.estimate["high_usd"] == 3.0
        assert buckets(sandbox) == set() and isinstance(events[-1], TurnFinished)
    finally:
        await session.aclose()


async def test_resume_after_restart_with_a_pending_approval(
    settings: Settings, sandbox: Any
) -> None:
    session, _ = await start(
        settings, sandbox, [tool_turn("tst_train", {"bucket": "after-restart"})]
    )
    events = await collect(session.send("train please"))
    (asked,) = of(events, ApprovalRequested)
    conversation = session.conversation_id
    await session.aclose()

    session2, _model2 = await start(
        settings, sandbox, ["Started after the restart."], conversation=conversation
    )
    try:
        assert [r.call_id for r in session2.pending_approvals] == [asked.request.call_id]
        history = await session2.resume(conversation)
        assert [m["role"] for m in history] == ["user", "assistant"]
        assert history[1]["tool_calls"][0]["name"] == "tst_train"
        events = await collect(session2.decide({asked.request.call_id: Decision.approve()}))
        assert "after-restart" in buckets(sandbox)
        assert events[-1].reply == "Started after the restart."
        infos = await session2.list_conversations()
        assert [(i.id, i.pending_approval) for i in infos] == [(conversation, False)]
        await session2.delete_conversation(conversation)
        assert conversation not in [i.id for i in await session2.list_conversations()]
    finally:
        await session2.aclose()


async def test_cancel_leaves_the_thread_valid(settings: Settings, sandbox: Any) -> None:
    session, model = await start(
        settings,
        sandbox,
        [tool_turn("tst_slow", {"seconds": 30}, text="Waiting."), "Fine, next question."],
    )
    try:
        events = []
        async for event in session.send("wait a while"):
            events.append(event)
            if isinstance(event, ToolProgress):
                session.cancel()
        assert isinstance(events[-1], TurnFinished) and events[-1].cancelled
        state = await session.agent.aget_state(session._config)
        messages = state.values["messages"]
        assert isinstance(messages[-1], ToolMessage) and "cancelled" in messages[-1].content

        events = await collect(session.send("something else"))
        assert events[-1].reply == "Fine, next question."
        sent = [m for m in model.calls[-1] if m.type != "system"]
        assert [type(m) for m in sent] == [HumanMessage, AIMessage, ToolMessage, HumanMessage]
        assert sent[2].tool_call_id == sent[1].tool_calls[0]["id"]
    finally:
        await session.aclose()


async def test_new_message_while_an_approval_is_pending_answers_the_call(
    settings: Settings, sandbox: Any
) -> None:
    session, model = await start(
        settings, sandbox, [tool_turn("tst_train", {"bucket": "never-run"}), "Sure."]
    )
    try:
        await collect(session.send("train"))
        assert session.pending_approvals
        events = await collect(session.send("actually, just explain training"))
        assert events[-1].reply == "Sure." and not session.pending_approvals
        sent = [m for m in model.calls[-1] if m.type != "system"]
        assert [type(m) for m in sent] == [HumanMessage, AIMessage, ToolMessage, HumanMessage]
        assert "without approving" in sent[2].content
        assert buckets(sandbox) == set()
    finally:
        await session.aclose()


async def test_model_error_ends_the_turn_with_a_readable_error(
    settings: Settings, sandbox: Any
) -> None:
    from botocore.exceptions import ClientError

    from tests.scripted_model import Fail

    denied = ClientError(
        {"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "ConverseStream"
    )
    session, _ = await start(settings, sandbox, [Fail(denied, partial="Hel")])
    try:
        events = await collect(session.send("hi"))
        (error,) = of(events, ErrorEvent)
        assert error.error_kind == "access_denied" and "Access denied" in error.message
        assert isinstance(events[-1], TurnFinished)
    finally:
        await session.aclose()


async def test_throttling_mid_stream_is_retried_and_partial_discarded(
    settings: Settings, sandbox: Any
) -> None:
    from botocore.exceptions import EventStreamError

    from agent.events import DiscardMessage
    from tests.scripted_model import Fail

    throttled = EventStreamError(
        {"Error": {"Code": "throttlingException", "Message": "slow down"}}, "ConverseStream"
    )
    session, model = await start(
        settings, sandbox, [Fail(throttled, partial="Partial ans"), "Full answer."]
    )
    try:
        events = await collect(session.send("hi"))
        deltas = of(events, TextDelta)
        (discard,) = of(events, DiscardMessage)
        assert (
            deltas[0].message_id == discard.message_id
            and deltas[-1].message_id != discard.message_id
        )
        assert events[-1].reply == "Full answer."
        assert len(model.calls) == 2
    finally:
        await session.aclose()


async def test_set_mode_and_read_only_guard(settings: Settings, sandbox: Any) -> None:
    session, _ = await start(
        settings, sandbox, [tool_turn("tst_create_bucket", {"bucket": "ro-bucket"}), "No."]
    )
    try:
        session.set_mode("read-only")
        assert session.mode == "read-only" and session.env.aws.read_only
        events = await collect(session.send("make a bucket"))
        (finished,) = of(events, ToolCallFinished)
        assert finished.status == "denied" and "read-only" in finished.summary
        with pytest.raises(ValueError):
            session.set_mode("reckless")
    finally:
        await session.aclose()


def test_turn_is_fast_enough() -> None:
    """Guard against a slow-down in the per-turn machinery (the bench measures it properly)."""
    from bench.turn_bench import measure

    result = asyncio.run(measure(turns=5))
    assert result["send_to_tool_start_ms"]["p50"] < 250


async def test_audit_log_on_disk_has_the_whole_turn(settings: Settings, sandbox: Any) -> None:
    from agent.audit import read_records, verify

    session, _ = await start(
        settings, sandbox, [tool_turn("tst_create_bucket", {"bucket": "audited-b"}), "Done."]
    )
    events = await collect(session.send("make a bucket, secret password=hunter2"))
    (asked,) = of(events, ApprovalRequested)
    await collect(session.decide({asked.request.call_id: Decision.approve()}))
    session_id = session.session_id
    await session.aclose()
    records = list(read_records(settings.audit_dir, session=session_id))
    kinds = [r["kind"] for r in records]
    for kind in (
        "session_start",
        "user_message",
        "model_call",
        "approval",
        "tool_call",
        "aws_call",
        "session_end",
    ):
        assert kind in kinds, kind
    assert kinds[0] == "session_start" and kinds[-1] == "session_end"
    assert [r["seq"] for r in records] == list(range(1, len(records) + 1))
    assert "hunter2" not in json.dumps(records)
    assert {r["operation"] for r in records if r["kind"] == "aws_call"} >= {
        "CreateBucket",
        "PutBucketTagging",
    }
    assert verify(settings.audit_dir).ok
