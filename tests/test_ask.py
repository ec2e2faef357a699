"""`sagecoach ask`: headless turns, terminal approvals, fail-closed without a terminal, --json."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.scripted_model import Fail, ScriptedChatModel, tool_turn
from tests.test_runtime import TOOLS, buckets
from tui.cli import app
from tui.cli_options import ROOT_FLAGS

runner = CliRunner()


@pytest.fixture(autouse=True)
def _no_root_flags() -> Iterator[None]:
    saved = dict(ROOT_FLAGS)
    ROOT_FLAGS.clear()
    yield
    ROOT_FLAGS.clear()
    ROOT_FLAGS.update(saved)


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch, sandbox: Any) -> ScriptedChatModel:
    """`ask` with a scripted model, the test tools and the shared moto server."""
    model = ScriptedChatModel(script=[])

    async def fake_open(settings: Any, conversation: str | None) -> Any:
        from agent.startup import open_session

        return await open_session(
            settings, conversation=conversation, model=model, sandbox_endpoint=sandbox.endpoint,
            tools=TOOLS, retry_delay=0.0,
        )  # fmt: skip

    monkeypatch.setattr("tui.commands.ask._open", fake_open)
    return model


def _json(output: str) -> dict[str, Any]:
    return json.loads(output.strip().splitlines()[-1])


def test_ask_json_in_the_sandbox_with_the_offline_model() -> None:
    result = runner.invoke(app, ["ask", "--sandbox", "--json", "list my s3 buckets"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) >= {
        "conversation",
        "reply",
        "tool_calls",
        "resources",
        "usage",
        "estimated_cost_usd",
    }
    assert data["conversation"].startswith("c-")
    calls = {c["name"]: c for c in data["tool_calls"]}
    assert (
        calls["s3_list_buckets"]["status"] == "success"
        and calls["s3_list_buckets"]["decision"] == "auto"
    )
    assert "SANDBOX" in result.stderr


def test_no_terminal_rejects_and_names_the_mode(scripted: ScriptedChatModel, sandbox: Any) -> None:
    scripted.script += [tool_turn("tst_train", {"bucket": "cli-train"}), "I could not start it."]
    result = runner.invoke(app, ["ask", "--sandbox", "--json", "train a model"])
    assert result.exit_code == 1
    data = _json(result.stdout)
    (call,) = data["tool_calls"]
    assert (call["name"], call["decision"], call["status"]) == ("tst_train", "reject", "rejected")
    assert "--mode auto" in data["blocked"][0] and "--mode auto" in result.stderr
    assert "cli-train" not in buckets(sandbox)
    assert "no terminal" in scripted.calls[-1][-1].content


def test_yes_approves_and_reports_cost_and_resources(
    scripted: ScriptedChatModel, sandbox: Any
) -> None:
    scripted.script += [
        tool_turn("tst_create_bucket", {"bucket": "cli-made"}),
        tool_turn("tst_train", {"bucket": "cli-train-yes"}),
        "Both done.",
    ]
    result = runner.invoke(app, ["ask", "--sandbox", "--json", "--yes", "make and train"])
    assert result.exit_code == 0, result.output
    data = _json(result.stdout)
    assert [(c["name"], c["decision"], c["status"]) for c in data["tool_calls"]] == [
        ("tst_create_bucket", "approve", "success"),
        ("tst_train", "approve", "success"),
    ]
    assert data["reply"] == "Both done." and data["estimated_cost_usd"] == 3.0
    assert [r["name"] for r in data["resources"]] == ["cli-made"]
    assert data["usage"]["input_tokens"] == 30
    assert {"cli-made", "cli-train-yes"} <= buckets(sandbox)


def test_terminal_reject_with_reason(
    scripted: ScriptedChatModel, sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tui.commands.ask._is_tty", lambda: True)
    scripted.script += [tool_turn("tst_create_bucket", {"bucket": "cli-no"}), "OK."]
    result = runner.invoke(app, ["ask", "--sandbox", "make a bucket"], input="n\nwrong account\n")
    assert result.exit_code == 0, result.output
    assert "Approval needed: tst_create_bucket" in result.stderr
    assert "wrong account" in scripted.calls[-1][-1].content
    assert "cli-no" not in buckets(sandbox)
    assert result.stdout.strip() == "OK."


def test_terminal_edit_then_approve(
    scripted: ScriptedChatModel, sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tui.commands.ask._is_tty", lambda: True)
    scripted.script += [tool_turn("tst_create_bucket", {"bucket": "cli-first"}), "Made it."]
    answers = 'e\nnot json\n{"bucket": "cli-edited"}\n'
    result = runner.invoke(app, ["ask", "--sandbox", "--json", "make a bucket"], input=answers)
    assert result.exit_code == 0, result.output
    data = _json(result.stdout)
    (call,) = data["tool_calls"]
    assert call["decision"] == "edit" and call["args"] == {"bucket": "cli-edited"}
    assert buckets(sandbox) == {"cli-edited"}


def test_failed_turn_exits_1_with_the_error(scripted: ScriptedChatModel) -> None:
    from botocore.exceptions import ClientError

    scripted.script += [
        Fail(ClientError({"Error": {"Code": "ValidationException", "Message": "bad"}}, "Converse"))
    ]
    result = runner.invoke(app, ["ask", "--sandbox", "--json", "hello"])
    assert result.exit_code == 1
    assert _json(result.stdout)["error"]["kind"] == "invalid_request"


def test_bad_usage_exits_2(scripted: ScriptedChatModel) -> None:
    assert runner.invoke(app, ["ask", "--sandbox", "   "]).exit_code == 2
    result = runner.invoke(app, ["ask", "--sandbox", "--conversation", "c-nope", "hi"])
    assert result.exit_code == 2 and "no conversation 'c-nope'" in result.stderr
    assert runner.invoke(app, ["ask", "--sandbox", "--mode", "reckless", "hi"]).exit_code == 2


def test_conversation_continues(scripted: ScriptedChatModel) -> None:
    scripted.script += ["First answer.", "Second answer."]
    first = _json(runner.invoke(app, ["ask", "--sandbox", "--json", "first"]).stdout)
    second = runner.invoke(
        app, ["ask", "--sandbox", "--json", "--conversation", first["conversation"], "second"]
    )
    assert _json(second.stdout)["reply"] == "Second answer."
    assert [m.text for m in scripted.calls[-1] if m.type == "human"] == ["first", "second"]


def test_ask_json_in_the_sandbox_with_bedrock_converse(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.bedrock_stub import BedrockStub, tool_use

    with BedrockStub() as stub:
        monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", stub.url)
        stub.push(text="Let me look.", tool_uses=[tool_use("s3_list_buckets", {}, "tooluse_b")])
        stub.push(text="You have no buckets yet.")
        model = "bedrock_converse:us.anthropic.claude-sonnet-4-5-20250929-v1:0"
        result = runner.invoke(
            app, ["ask", "--sandbox", "--json", "--model", model, "list my s3 buckets"]
        )
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        assert data["reply"] == "Let me look.\nYou have no buckets yet."
        assert data["tool_calls"] == [
            {"name": "s3_list_buckets", "args": {}, "decision": "auto", "status": "success",
             "summary": data["tool_calls"][0]["summary"]}
        ]  # fmt: skip
        assert data["usage"]["input_tokens"] == 240
        first, second = stub.bodies()
        sent = [t["toolSpec"]["name"] for t in first["toolConfig"]["tools"] if "toolSpec" in t]
        assert "s3_list_buckets" in sent and "load_stage_tools" in sent
        assert len(json.dumps(first["toolConfig"])) <= 24_000  # scoped to the schema budget
        result_block = second["messages"][-1]["content"][0]["toolResult"]
        uses = [b["toolUse"] for b in second["messages"][-2]["content"] if "toolUse" in b]
        assert [u["toolUseId"] for u in uses] == [result_block["toolUseId"]]  # sagecoach's id
        assert result_block["toolUseId"] != "tooluse_b" and result_block["status"] == "success"
