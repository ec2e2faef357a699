"""ChatBedrockConverse through the whole agent loop against the local Bedrock stub.

The stub speaks the real Converse / ConverseStream wire formats; the endpoint comes from
AWS_ENDPOINT_URL_BEDROCK_RUNTIME exactly as boto3 resolves it for real sessions.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.eventstream import EventStreamBuffer

from agent.events import (
    ApprovalRequested,
    Decision,
    DiscardMessage,
    TextDelta,
    ToolCallFinished,
    TurnFinished,
)
from agent.models import ModelError, make_chat_model
from agent.settings import Settings
from agent.startup import open_session
from tests.bedrock_stub import BedrockStub, encode_frame, event_frame, exception_frame, tool_use
from tests.test_runtime import TOOLS, buckets, collect, of

MODEL_ID = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[BedrockStub]:
    with BedrockStub() as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", server.url)
        yield server


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        state_dir=tmp_path / "state", sandbox="on", model=f"bedrock_converse:{MODEL_ID}"
    )


def test_encoder_matches_botocore_decoder() -> None:
    frames = [
        event_frame("messageStart", {"role": "assistant"}),
        event_frame("contentBlockDelta", {"delta": {"text": "héllo"}, "contentBlockIndex": 0}),
        exception_frame("throttlingException", "slow down"),
        encode_frame({}, b""),
    ]
    buffer = EventStreamBuffer()
    buffer.add_data(b"".join(frames))
    decoded = list(buffer)
    assert [m.headers.get(":event-type") for m in decoded] == [
        "messageStart",
        "contentBlockDelta",
        None,
        None,
    ]
    assert (
        decoded[1].payload.decode() == '{"delta": {"text": "h\\u00e9llo"}, "contentBlockIndex": 0}'
    )
    assert decoded[2].headers[":exception-type"] == "throttlingException"
    assert decoded[2].headers[":message-type"] == "exception"
    # A flipped byte fails the CRC check, as it must.
    bad = bytearray(frames[1])
    bad[-6] ^= 0xFF
    broken = EventStreamBuffer()
    broken.add_data(bytes(bad))
    with pytest.raises(Exception, match="Checksum mismatch"):
        list(broken)


def test_converse_json_path(stub: BedrockStub, sandbox: Any) -> None:
    from tools.aws.context import AwsContext

    stub.push(text="Checking.", tool_uses=[tool_use("tst_list_buckets", {}, "tooluse_a")])
    aws = AwsContext(sandbox_endpoint=sandbox.endpoint, session_id="t")
    model = make_chat_model(f"bedrock_converse:{MODEL_ID}", aws)
    reply = model.invoke("what buckets?")
    assert reply.tool_calls == [
        {"name": "tst_list_buckets", "args": {}, "id": "tooluse_a", "type": "tool_call"}
    ]
    assert reply.usage_metadata["input_tokens"] == 120
    (request,) = stub.requests
    assert request["operation"] == "converse" and request["model_id"] == MODEL_ID
    assert request["body"]["messages"] == [{"role": "user", "content": [{"text": "what buckets?"}]}]
    assert request["body"]["inferenceConfig"]["temperature"] == 0
    assert request["headers"]["Authorization"].startswith("AWS4-HMAC-SHA256")


def test_sandbox_without_a_bedrock_endpoint_is_refused(sandbox: Any) -> None:
    from tools.aws.context import AwsContext

    aws = AwsContext(sandbox_endpoint=sandbox.endpoint, session_id="t")
    with pytest.raises(ModelError, match="sandbox has no Bedrock"):
        make_chat_model(f"bedrock_converse:{MODEL_ID}", aws)


def test_unknown_provider_names_the_package(sandbox: Any) -> None:
    from tools.aws.context import AwsContext

    aws = AwsContext(sandbox_endpoint=sandbox.endpoint, session_id="t")
    with pytest.raises(ModelError, match="langchain-ollama"):
        make_chat_model("ollama:llama3", aws)


async def test_tool_use_approval_tool_result_final_answer(
    stub: BedrockStub, settings: Settings, sandbox: Any
) -> None:
    stub.push(
        text="I'll create it.",
        tool_uses=[tool_use("tst_create_bucket", {"bucket": "stub-bucket"}, "tooluse_1")],
    )
    stub.push(text="Created stub-bucket.")
    session = await open_session(
        settings, sandbox_endpoint=sandbox.endpoint, tools=TOOLS, retry_delay=0.0
    )
    try:
        assert session.model_label == f"bedrock_converse:{MODEL_ID}"
        events = await collect(session.send("create a bucket called stub-bucket"))
        assert "".join(e.text for e in of(events, TextDelta)) == "I'll create it."
        (asked,) = of(events, ApprovalRequested)
        call_id = asked.request.call_id
        assert call_id.startswith("sc_") and asked.request.args == {"bucket": "stub-bucket"}
        assert "stub-bucket" not in buckets(sandbox) and len(stub.requests) == 1

        events = await collect(session.decide({call_id: Decision.approve()}))
        assert "stub-bucket" in buckets(sandbox)
        assert (
            isinstance(events[-1], TurnFinished)
            and events[-1].reply == "I'll create it.\nCreated stub-bucket."
        )
        assert events[-1].usage["input_tokens"] == 240

        first, second = stub.bodies()
        assert [r["operation"] for r in stub.requests] == ["converse-stream", "converse-stream"]
        # System prompt and tools, with cache points for an Anthropic model.
        assert (
            "sagecoach" in first["system"][0]["text"]
            and {"cachePoint": {"type": "default"}} in first["system"]
        )
        names = [t["toolSpec"]["name"] for t in first["toolConfig"]["tools"] if "toolSpec" in t]
        assert names == [t.name for t in TOOLS]
        schema = next(
            t
            for t in first["toolConfig"]["tools"]
            if t.get("toolSpec", {}).get("name") == "tst_create_bucket"
        )
        assert schema["toolSpec"]["inputSchema"]["json"]["required"] == ["bucket"]
        # The turn sent back: assistant text + toolUse, then ONE user message with the toolResult.
        messages = second["messages"]
        assert [m["role"] for m in messages] == ["user", "assistant", "user"]
        assistant = messages[1]["content"]
        assert {"text": "I'll create it."} in assistant
        assert {
            "toolUse": {
                "toolUseId": call_id,
                "name": "tst_create_bucket",
                "input": {"bucket": "stub-bucket"},
            }
        } in assistant
        results = [b["toolResult"] for b in messages[2]["content"] if "toolResult" in b]
        assert results == [
            {
                "toolUseId": call_id,
                "content": [{"text": "created stub-bucket"}],
                "status": "success",
            }
        ]
    finally:
        await session.aclose()


async def test_rejected_call_goes_back_as_error_tool_result(
    stub: BedrockStub, settings: Settings, sandbox: Any
) -> None:
    stub.push(tool_uses=[tool_use("tst_train", {"bucket": "no-train"}, "tooluse_t")])
    stub.push(text="Understood, not training.")
    session = await open_session(
        settings, sandbox_endpoint=sandbox.endpoint, tools=TOOLS, retry_delay=0.0
    )
    try:
        (asked,) = of(await collect(session.send("train")), ApprovalRequested)
        call_id = asked.request.call_id
        events = await collect(session.decide({call_id: Decision.reject("too expensive")}))
        assert of(events, ToolCallFinished)[0].status == "rejected"
        result = stub.bodies()[-1]["messages"][-1]["content"][0]["toolResult"]
        assert result["status"] == "error" and result["toolUseId"] == call_id
        assert "too expensive" in result["content"][0]["text"]
        assert buckets(sandbox) == set()
    finally:
        await session.aclose()


async def test_throttling_inside_the_stream_is_retried_and_partial_discarded(
    stub: BedrockStub, settings: Settings, sandbox: Any
) -> None:
    stub.push(
        text="This partial answer is lost",
        stream_exception=("throttlingException", "Too many tokens"),
        fail_after=2,
    )
    stub.push(text="The full answer.")
    session = await open_session(
        settings, sandbox_endpoint=sandbox.endpoint, tools=TOOLS, retry_delay=0.0
    )
    try:
        events = await collect(session.send("hello"))
        (discard,) = of(events, DiscardMessage)
        deltas = of(events, TextDelta)
        partial = "".join(d.text for d in deltas if d.message_id == discard.message_id)
        assert partial == "This parti"  # two 5-character deltas, then the exception
        final = "".join(d.text for d in deltas if d.message_id != discard.message_id)
        assert final == "The full answer."
        assert events[-1].reply == "The full answer." and len(stub.requests) == 2
        (retry,) = session.audit.of_kind("model_retry")
        assert "throttlingException" in retry["reason"] and retry["attempt"] == 1
        assert len(session.audit.of_kind("model_call")) == 1
        # The failed attempt left nothing in the thread: one user + one assistant message.
        state = await session.agent.aget_state(session._config)
        assert [m.type for m in state.values["messages"]] == ["human", "ai"]
    finally:
        await session.aclose()


async def test_http_throttling_is_retried_by_botocore(
    stub: BedrockStub, settings: Settings, sandbox: Any
) -> None:
    stub.push(http_error=(429, "ThrottlingException", "Rate exceeded"))
    stub.push(text="After a retry.")
    session = await open_session(
        settings, sandbox_endpoint=sandbox.endpoint, tools=TOOLS, retry_delay=0.0
    )
    try:
        events = await collect(session.send("hello"))
        assert events[-1].reply == "After a retry." and len(stub.requests) == 2
    finally:
        await session.aclose()


async def test_thread_valid_after_a_cancelled_turn(
    stub: BedrockStub, settings: Settings, sandbox: Any
) -> None:
    stub.push(
        text="Waiting.",
        tool_uses=[
            tool_use("tst_slow", {"seconds": 30}, "tooluse_s"),
            tool_use("tst_list_buckets", {}, "tooluse_l"),
        ],
    )
    stub.push(text="Next answer.")
    session = await open_session(
        settings, sandbox_endpoint=sandbox.endpoint, tools=TOOLS, retry_delay=0.0
    )
    try:
        events = []
        async for event in session.send("wait"):
            events.append(event)
            if getattr(event, "name", "") == "tst_slow" and event.kind == "tool_progress":
                session.cancel()
        assert events[-1].cancelled
        events = await collect(session.send("next"))
        assert events[-1].reply == "Next answer."
        messages = stub.bodies()[-1]["messages"]
        assert [m["role"] for m in messages] == ["user", "assistant", "user"]
        uses = {b["toolUse"]["toolUseId"] for b in messages[1]["content"] if "toolUse" in b}
        results = {
            b["toolResult"]["toolUseId"]: b["toolResult"]
            for b in messages[2]["content"]
            if "toolResult" in b
        }
        assert uses == set(results) and len(uses) == 2  # sagecoach's ids, paired
        slow = next(b["toolUse"]["toolUseId"] for b in messages[1]["content"] if "toolUse" in b)
        assert results[slow]["status"] == "error"
        texts = [b["text"] for b in messages[2]["content"] if "text" in b]
        assert texts == ["next"]  # the new request rides in the same user message
    finally:
        await session.aclose()


def test_real_aws_path_uses_the_session_client_and_endpoint_variable(
    stub: BedrockStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tools.aws.context import AwsContext

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    calls: list[dict] = []
    aws = AwsContext(region="eu-west-1", session_id="real", on_aws_call=calls.append)
    model = make_chat_model("bedrock_converse:eu.amazon.nova-pro-v1:0", aws)
    assert model.client is aws.client("bedrock-runtime")  # the guarded, audited client
    stub.push(text="Hello from the stub.")
    assert model.invoke("hi").text == "Hello from the stub."
    (request,) = stub.requests
    assert request["model_id"] == "eu.amazon.nova-pro-v1:0"
    assert "eu-west-1/bedrock/aws4_request" in request["headers"]["Authorization"]
    assert [(c["service"], c["operation"]) for c in calls] == [("bedrock-runtime", "Converse")]
