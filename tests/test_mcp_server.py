"""`sagecoach mcp` with the SDK's own client in memory, on both protocol eras: handshake-era
("legacy", elicitation pushed to the client) and 2026-07-28 ("auto", the approval travels in an
InputRequiredResult and the client retries). AWS is the test's moto sandbox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import anyio
import pytest
from mcp import types
from mcp.shared.exceptions import MCPError
from pydantic import BaseModel, ConfigDict, Field
from typer.testing import CliRunner

from agent.audit import verify
from tests.mcp_helpers import (
    Answers,
    audit,
    buckets,
    client,
    front_of,
    make_server,
    mutating_aws_calls,
    s3,
    streams,
)
from tools.aws.guard import ReadOnlyViolation
from tools.core.context import ToolContext
from tools.core.declaration import ToolSpec, tool_input_schema
from tools.core.registry import all_tools, get_tool
from tools.core.results import ToolResult

ERAS = ["legacy", "auto"]
STREAM = {"name": "mcp-stream"}


async def test_tools_list_carries_annotations_titles_and_schemas(
    tmp_path: Path, sandbox: Any
) -> None:
    server = make_server(tmp_path, sandbox)
    async with client(server, mode="auto") as c:
        listed = {t.name: t for t in (await c.list_tools()).tools}
    assert set(listed) == {t.name for t in all_tools()}
    read = listed["s3_list_buckets"]
    assert read.title == "S3: list buckets"
    hints = read.annotations
    assert hints is not None
    assert (hints.read_only_hint, hints.destructive_hint, hints.idempotent_hint) == (
        True,
        False,
        True,
    )
    assert hints.open_world_hint is True
    delete = listed["sagemaker_delete_endpoint"].annotations
    assert delete is not None and delete.destructive_hint and not delete.read_only_hint
    catalog_tool = listed["list_stages"].annotations
    assert catalog_tool is not None and catalog_tool.open_world_hint is False
    train = listed["sagemaker_start_training_job"]
    spec = get_tool("sagemaker_start_training_job")
    assert train.input_schema == tool_input_schema(spec.args_model)
    assert train.output_schema is not None and "status" in train.output_schema["properties"]
    assert train.meta is not None and train.meta["sagecoach/risk"] == "costly"
    assert "Risk: costly" in (train.description or "")


async def test_stages_limit_the_tools_but_keep_the_catalog(tmp_path: Path, sandbox: Any) -> None:
    server = make_server(tmp_path, sandbox, stages=["training"])
    async with client(server, mode="auto") as c:
        names = {t.name for t in (await c.list_tools()).tools}
        with pytest.raises(MCPError) as err:
            await c.call_tool("s3_create_bucket", {"bucket": "not-served"})
    assert {"list_stages", "recommend_services", "describe_service", "session_cleanup"} <= names
    assert "sagemaker_start_training_job" in names and "s3_create_bucket" not in names
    assert {get_tool(n).stage for n in names} == {"training", "general"}
    assert "not served here" in err.value.message and "--stages training" in err.value.message
    assert "not-served" not in buckets(sandbox)


@pytest.mark.parametrize("era", ERAS)
async def test_a_read_tool_runs_with_structured_content(
    tmp_path: Path, sandbox: Any, era: str
) -> None:
    s3(sandbox).create_bucket(Bucket="existing-data")
    server = make_server(tmp_path, sandbox)
    answers = Answers()
    async with client(server, answers, mode=era) as c:
        result = await c.call_tool("s3_list_buckets", {})
    assert not result.is_error and answers.asked == []  # a free read never asks
    assert "existing-data" in result.content[0].text
    content = result.structured_content
    assert content["status"] == "success" and content["decision"] == "auto"
    assert {"name": "existing-data"}.items() <= content["data"]["rows"][0].items()
    (start,) = audit(tmp_path, "session_start")
    assert start["client"] == {"name": "test-client", "version": "9.9"}
    assert start["front_end"] == "mcp" and start["sandbox"] is True
    calls = audit(tmp_path, "tool_call")
    assert [(r["name"], r["status"]) for r in calls] == [("s3_list_buckets", "success")]
    assert any(r["operation"] == "ListBuckets" for r in audit(tmp_path, "aws_call"))
    assert audit(tmp_path, "session_end")


@pytest.mark.parametrize("era", ERAS)
async def test_a_costly_tool_asks_with_its_estimate_and_runs_on_accept(
    tmp_path: Path, sandbox: Any, era: str
) -> None:
    server = make_server(tmp_path, sandbox)
    answers = Answers("accept")
    async with client(server, answers, mode=era) as c:
        result = await c.call_tool("kinesis_create_stream", STREAM)
    assert not result.is_error, result.content[0].text
    (question,) = answers.asked
    message = question.message
    for shown in ("kinesis_create_stream", "costly", "kinesis:CreateStream", "SANDBOX"):
        assert shown in message
    assert "us-east-1" in message and "basis:" in message and "prices:" in message
    assert "$" in message and '"name": "mcp-stream"' in message
    assert question.requested_schema["properties"]["confirm"]["type"] == "boolean"
    if era == "legacy":  # the full request rides in _meta for clients that render it
        assert question.meta["sagecoach/approval"]["tool"] == "kinesis_create_stream"
    assert "mcp-stream" in streams(sandbox)
    assert result.structured_content["decision"] == "approve"
    assert result.structured_content["estimate"]["known"] is True
    (approval,) = audit(tmp_path, "approval")
    assert (approval["decision"], approval["who"]) == ("approve", "mcp client")
    assert approval["request"]["estimate"]["summary"]
    assert verify(tmp_path / "state" / "audit").ok


@pytest.mark.parametrize("era", ERAS)
@pytest.mark.parametrize(
    ("action", "content", "reason"),
    [
        ("decline", None, "declined in the MCP client"),
        ("cancel", None, "dismissed in the MCP client"),
        ("accept", {"confirm": False}, "not ticked"),
    ],
)
async def test_decline_cancel_or_an_unticked_box_create_nothing(
    tmp_path: Path, sandbox: Any, era: str, action: str, content: Any, reason: str
) -> None:
    server = make_server(tmp_path, sandbox)
    answers = Answers(action, content)
    async with client(server, answers, mode=era) as c:
        result = await c.call_tool("kinesis_create_stream", STREAM)
        still_serving = await c.call_tool("list_stages", {})
    assert result.is_error and len(answers.asked) == 1
    assert "did not run" in result.content[0].text and reason in result.content[0].text
    assert result.structured_content["status"] == "rejected"
    assert "mcp-stream" not in streams(sandbox)
    assert not still_serving.is_error
    (approval,) = audit(tmp_path, "approval")
    assert approval["decision"] == "reject" and approval["who"] == "mcp client"
    assert reason in approval["reason"]
    assert mutating_aws_calls(audit(tmp_path)) == []
    assert verify(tmp_path / "state" / "audit").ok


@pytest.mark.parametrize("era", ERAS)
async def test_a_client_without_elicitation_is_refused_with_the_mode_that_allows(
    tmp_path: Path, sandbox: Any, era: str
) -> None:
    server = make_server(tmp_path, sandbox)
    async with client(server, None, mode=era) as c:
        result = await c.call_tool("kinesis_create_stream", STREAM)
        bucket = await c.call_tool("s3_create_bucket", {"bucket": "no-elicitation"})
    assert result.is_error and bucket.is_error
    text = result.content[0].text
    assert "does not support MCP elicitation" in text and "sent nothing to AWS" in text
    mode = result.structured_content["mode_that_allows"]
    assert mode in ("auto", "yes") and f"--mode {mode}" in text
    assert bucket.structured_content["mode_that_allows"] == "auto"  # writes run in auto
    assert "mcp-stream" not in streams(sandbox) and "no-elicitation" not in buckets(sandbox)
    approvals = audit(tmp_path, "approval")
    assert [(a["decision"], a["who"]) for a in approvals] == [("reject", "sagecoach")] * 2
    assert "no elicitation" in approvals[0]["reason"]
    assert mutating_aws_calls(audit(tmp_path)) == []


async def test_read_only_mode_blocks_at_the_client_layer(tmp_path: Path, sandbox: Any) -> None:
    server = make_server(tmp_path, sandbox, mode="read-only")
    answers = Answers("accept")
    async with client(server, answers) as c:
        result = await c.call_tool("s3_create_bucket", {"bucket": "read-only-try"})
        reads = await c.call_tool("s3_list_buckets", {})
        aws = front_of(server)._session.env.aws  # type: ignore[union-attr]
        with pytest.raises(ReadOnlyViolation):  # even a call no policy looked at
            aws.client("s3").create_bucket(Bucket="behind-the-gate")
    assert result.is_error and answers.asked == []
    assert "read-only mode" in result.content[0].text
    assert result.structured_content["status"] == "denied"
    assert not reads.is_error
    assert not {"read-only-try", "behind-the-gate"} & buckets(sandbox)
    blocked = [r for r in audit(tmp_path, "aws_call") if r.get("blocked")]
    assert [(r["operation"], r["error"]) for r in blocked] == [
        ("CreateBucket", "blocked by read-only mode")
    ]


async def test_always_allow_in_an_answer_never_widens_the_policy(
    tmp_path: Path, sandbox: Any
) -> None:
    server = make_server(tmp_path, sandbox)
    answers = Answers("accept", {"confirm": True, "always_allow": True, "allow_session": True})
    async with client(server, answers) as c:
        first = await c.call_tool("s3_create_bucket", {"bucket": "first-one"})
        second = await c.call_tool("s3_create_bucket", {"bucket": "second-one"})
    assert not first.is_error and not second.is_error
    assert len(answers.asked) == 2  # the second call asked again
    assert '"bucket": "second-one"' in answers.asked[1].message


async def test_a_2026_client_cannot_approve_without_being_asked(
    tmp_path: Path, sandbox: Any
) -> None:
    server = make_server(tmp_path, sandbox)
    yes = {"sagecoach_approval": types.ElicitResult(action="accept", content={"confirm": True})}
    async with client(server, Answers(), mode="auto") as c:
        unsolicited = await c.session.call_tool(
            "s3_create_bucket",
            {"bucket": "unsolicited"},
            input_responses=yes,
            allow_input_required=True,
        )
        assert isinstance(unsolicited, types.InputRequiredResult)  # asked, not run
        with pytest.raises(MCPError) as forged:
            await c.session.call_tool(
                "s3_create_bucket",
                {"bucket": "forged"},
                input_responses=yes,
                request_state=json.dumps({"approval": "call-guessed"}),
                allow_input_required=True,
            )
        with pytest.raises(MCPError) as swapped:  # the sealed state is bound to the arguments
            await c.session.call_tool(
                "s3_create_bucket",
                {"bucket": "swapped"},
                input_responses=yes,
                request_state=unsolicited.request_state,
                allow_input_required=True,
            )
    assert "requestState" in forged.value.message and "requestState" in swapped.value.message
    assert not {"unsolicited", "forged", "swapped"} & buckets(sandbox)
    (approval,) = audit(tmp_path, "approval")  # the open one, withdrawn when the client left
    assert approval["decision"] == "reject" and "session ended" in approval["reason"]


async def test_bad_input_gets_a_clear_error_and_the_server_keeps_serving(
    tmp_path: Path, sandbox: Any
) -> None:
    server = make_server(tmp_path, sandbox)
    answers = Answers()
    async with client(server, answers) as c:
        with pytest.raises(MCPError) as unknown:
            await c.call_tool("s3_create_buckett", {"bucket": "typo"})
        invalid = await c.call_tool("s3_create_bucket", {"bucket": "Not_A_Bucket"})
        extra = await c.call_tool("s3_list_buckets", {"surprise": 1})
        fine = await c.call_tool("s3_list_buckets", {})
    assert "Unknown tool: s3_create_buckett" in unknown.value.message
    assert "Did you mean s3_create_bucket" in unknown.value.message
    assert invalid.is_error and "Invalid arguments for s3_create_bucket" in invalid.content[0].text
    assert extra.is_error and "surprise: is not an argument" in extra.content[0].text
    assert not fine.is_error and answers.asked == []  # bad input is refused before asking
    statuses = [(r["name"], r["status"]) for r in audit(tmp_path, "tool_call")]
    assert statuses == [
        ("s3_create_buckett", "error"),
        ("s3_create_bucket", "error"),
        ("s3_list_buckets", "error"),
        ("s3_list_buckets", "success"),
    ]


async def test_a_second_approval_while_one_is_pending_is_refused(
    tmp_path: Path, sandbox: Any
) -> None:
    server = make_server(tmp_path, sandbox)
    asked, release = anyio.Event(), anyio.Event()
    questions: list[Any] = []

    async def slow_person(context: Any, params: Any) -> types.ElicitResult:
        questions.append(params)
        asked.set()
        await release.wait()
        return types.ElicitResult(action="accept", content={"confirm": True})

    results: dict[str, Any] = {}
    async with client(server, slow_person) as c:  # type: ignore[arg-type]

        async def first() -> None:
            results["first"] = await c.call_tool("s3_create_bucket", {"bucket": "first-asked"})

        async with anyio.create_task_group() as tg:
            tg.start_soon(first)
            await asked.wait()
            results["second"] = await c.call_tool("s3_create_bucket", {"bucket": "second-one"})
            release.set()
    assert not results["first"].is_error
    second = results["second"]
    assert second.is_error and "another call is already waiting" in second.content[0].text
    assert "s3_create_bucket" in second.content[0].text and len(questions) == 1
    assert "first-asked" in buckets(sandbox) and "second-one" not in buckets(sandbox)
    decisions = [(a["decision"], a["who"], a["reason"]) for a in audit(tmp_path, "approval")]
    assert ("reject", "sagecoach", "another approval is pending") in decisions
    assert ("approve", "mcp client", "") in decisions


async def test_a_client_that_disconnects_mid_approval_leaves_nothing_dangling(
    tmp_path: Path, sandbox: Any
) -> None:
    server = make_server(tmp_path, sandbox)
    asked = anyio.Event()

    async def gone(context: Any, params: Any) -> types.ElicitResult:
        asked.set()
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def connect_and_call() -> None:
        async with client(server, gone) as c:  # type: ignore[arg-type]
            await c.call_tool("s3_create_bucket", {"bucket": "never-made"})

    async with anyio.create_task_group() as tg:
        tg.start_soon(connect_and_call)
        await asked.wait()
        tg.cancel_scope.cancel()  # the client goes away while the person is being asked
    async with client(server, Answers()) as c:  # the same server serves the next client
        again = await c.call_tool("s3_list_buckets", {})
    assert not again.is_error
    assert "never-made" not in buckets(sandbox)
    (approval,) = audit(tmp_path, "approval")
    assert approval["decision"] == "reject" and "cancelled" in approval["reason"]
    assert len(audit(tmp_path, "session_end")) == 2
    assert mutating_aws_calls(audit(tmp_path)) == []
    assert verify(tmp_path / "state" / "audit").ok


class WaitArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seconds: Annotated[float, Field(gt=0, le=60, description="How long to wait")] = 30.0


def _wait(ctx: ToolContext, args: WaitArgs) -> ToolResult:
    """Stands in for a job wait: reports progress and sleeps in small steps (cancellable)."""
    step, waited = 0.05, 0.0
    while waited < args.seconds:
        ctx.report(f"waiting ({waited:.2f} s)", waited, args.seconds, "s")
        ctx.sleep(step)
        waited += step
    return ToolResult("waited")


WAIT = ToolSpec(
    name="tst_wait_for_job",
    stage="training",
    description="Wait for a job (test).",
    risk="read",
    operations=("sagemaker:DescribeTrainingJob",),
    args_model=WaitArgs,
    func=_wait,
)


@pytest.mark.parametrize("era", ERAS)
async def test_progress_notifications_and_cancellation_stop_the_wait(
    tmp_path: Path, sandbox: Any, era: str
) -> None:
    server = make_server(tmp_path, sandbox, tools=[*all_tools(), WAIT])
    progress: list[tuple[float, float | None, str | None]] = []
    three = anyio.Event()

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, total, message))
        if len(progress) >= 3:
            three.set()

    async with client(server, Answers(), mode=era) as c:
        await c.call_tool("list_stages", {})  # the session is open before the timed part
        waiting = anyio.CancelScope()

        async def wait_for_job() -> None:
            with waiting:
                await c.call_tool(
                    "tst_wait_for_job", {"seconds": 30}, progress_callback=on_progress
                )

        async with anyio.create_task_group() as tg:
            tg.start_soon(wait_for_job)
            with anyio.fail_after(20):
                await three.wait()
            waiting.cancel()  # the person gives up: the client cancels the request
        with anyio.fail_after(10):
            while front_of(server).running:  # the tool stopped at its next wait
                await anyio.sleep(0.05)
        after = await c.call_tool("tst_wait_for_job", {"seconds": 0.1})
    assert not after.is_error
    values = [p[0] for p in progress]
    assert values == sorted(values) and len(set(values)) == len(values)
    assert progress[-1][1] == 30.0 and "waiting" in (progress[-1][2] or "")
    statuses = [(r["name"], r["status"]) for r in audit(tmp_path, "tool_call")]
    assert statuses == [
        ("list_stages", "success"),
        ("tst_wait_for_job", "cancelled"),
        ("tst_wait_for_job", "success"),
    ]


async def test_an_upload_reports_its_bytes_as_progress(tmp_path: Path, sandbox: Any) -> None:
    s3(sandbox).create_bucket(Bucket="uploads")
    data = tmp_path / "rows.csv"
    data.write_text("a,b\n" + "1,2\n" * 20_000)
    # auto mode: a write runs unasked, but a local file going to AWS is asked about (nobody
    # named it in a message to sagecoach), so the client accepts that question.
    server = make_server(tmp_path, sandbox, mode="auto")
    progress: list[tuple[float, float | None]] = []
    answers = Answers("accept")

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, total))

    async with client(server, answers) as c:
        result = await c.call_tool(
            "s3_upload_file",
            {"local_path": str(data), "s3_uri": "s3://uploads/in/"},
            progress_callback=on_progress,
        )
    assert not result.is_error, result.content[0].text
    assert len(answers.asked) == 1 and "local file" in answers.asked[0].message
    size = data.stat().st_size
    assert progress and progress[-1] == (size, size)
    head = s3(sandbox).head_object(Bucket="uploads", Key="in/rows.csv")
    assert head["ContentLength"] == size


async def test_stage_catalog_resources_and_prompts(tmp_path: Path, sandbox: Any) -> None:
    server = make_server(tmp_path, sandbox, stages=["training"])
    async with client(server, mode="auto") as c:
        uris = {str(r.uri) for r in (await c.list_resources()).resources}
        templates = (await c.list_resource_templates()).resource_templates
        training = (await c.read_resource("sagecoach://stages/training")).contents[0].text
        deployment = (await c.read_resource("sagecoach://stages/deployment")).contents[0].text
        athena = (await c.read_resource("sagecoach://services/athena")).contents[0].text
        state = json.loads((await c.read_resource("sagecoach://session")).contents[0].text)
        prompts = {p.name for p in (await c.list_prompts()).prompts}
        plan = await c.get_prompt("plan_pipeline_for_csv", {"path": "./churn.csv", "target": "y"})
        with pytest.raises(MCPError) as missing:
            await c.get_prompt("plan_pipeline_for_csv", {})
        with pytest.raises(MCPError):
            await c.read_resource("sagecoach://stages/nope")
    assert {"sagecoach://stages", "sagecoach://session"} <= uris
    assert {f"sagecoach://stages/{s}" for s in ("training", "deployment", "monitoring")} <= uris
    assert templates[0].uri_template == "sagecoach://services/{service}"
    assert "sagemaker_start_training_job" in training and "Model training" in training
    assert "not served by this server" in deployment  # --stages training
    assert "Athena" in athena and "billing:" in athena
    assert state["environment"] == "SANDBOX" and state["mode"] == "ask"
    assert state["client"]["name"] == "test-client" and state["stages"] == ["training"]
    assert prompts == {"plan_pipeline_for_csv", "clean_up_session", "choose_services_for_stage"}
    text = plan.messages[0].content.text  # type: ignore[union-attr]
    assert "./churn.csv" in text and "`y`" in text and "recommend_services" in text
    assert "path" in missing.value.message


async def test_log_verify_passes_after_an_mcp_session(
    tmp_path: Path, sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = make_server(tmp_path, sandbox)
    async with client(server, Answers("accept")) as c:
        await c.call_tool("s3_create_bucket", {"bucket": "verified-bucket"})
        await c.call_tool("s3_list_buckets", {})
    kinds = [r["kind"] for r in audit(tmp_path)]
    assert kinds[0] == "session_start" and kinds[-1] == "session_end"
    assert {"approval", "tool_call", "aws_call"} <= set(kinds)
    monkeypatch.setenv("SAGECOACH_STATE_DIR", str(tmp_path / "state"))
    from tui.cli import app

    result = CliRunner().invoke(app, ["log", "verify"])
    assert result.exit_code == 0 and result.output.startswith("OK:"), result.output
    # the ledger has the bucket, under the session the audit log names
    ledger = json.loads((tmp_path / "state" / "ledger.json").read_text())
    (entry,) = [e for e in ledger["entries"] if e["name"] == "verified-bucket"]
    assert entry["session_id"] == audit(tmp_path, "session_start")[0]["session"]


async def test_an_aws_session_that_cannot_open_is_a_clear_error(tmp_path: Path) -> None:
    from mcp import Client

    from agent.settings import load_settings
    from tui.mcp_server.front import McpOptions
    from tui.mcp_server.server import build_server

    settings = load_settings(sandbox="off", profile="no-such-profile", state_dir=str(tmp_path))
    server = build_server(McpOptions(settings=settings))
    async with Client(server, mode="legacy") as c:
        tools = await c.list_tools()  # listing needs no AWS
        first = await c.call_tool("list_stages", {})
        again = await c.call_tool("list_stages", {})  # tried again, not stuck on the first error
    assert tools.tools
    for result in (first, again):
        assert result.is_error and result.structured_content["error_kind"] == "environment"
        assert (
            "no-such-profile" in result.content[0].text
            and "sagecoach doctor" in result.content[0].text
        )


@pytest.mark.parametrize("era", ERAS)
async def test_cancelling_a_call_while_the_person_is_asked_leaves_no_open_approval(
    tmp_path: Path, sandbox: Any, era: str
) -> None:
    server = make_server(tmp_path, sandbox)
    questions: list[Any] = []
    asked = anyio.Event()

    async def undecided_then_yes(context: Any, params: Any) -> types.ElicitResult:
        questions.append(params)
        if len(questions) == 1:
            asked.set()
            await anyio.sleep_forever()  # the person never answers the first question
        return types.ElicitResult(action="accept", content={"confirm": True})

    async with client(server, undecided_then_yes, mode=era) as c:  # type: ignore[arg-type]
        first = anyio.CancelScope()

        async def call_then_give_up() -> None:
            with first:
                await c.call_tool("s3_create_bucket", {"bucket": "cancelled-ask"})

        async with anyio.create_task_group() as tg:
            tg.start_soon(call_then_give_up)
            await asked.wait()
            first.cancel()  # the client cancels the call while the question is open
        await anyio.sleep(0.2)
        session = front_of(server)._session
        assert session is not None
        if era == "legacy":  # the pushed question was withdrawn with its request
            assert session.pending() == []
        later = await c.call_tool("s3_create_bucket", {"bucket": "asked-later"})
        assert session.pending() == []
    assert not later.is_error, later.content[0].text  # not refused as "another is waiting"
    assert "cancelled-ask" not in buckets(sandbox) and "asked-later" in buckets(sandbox)
    approvals = {a["request"]["args"]["bucket"]: a for a in audit(tmp_path, "approval")}
    assert approvals["cancelled-ask"]["decision"] == "reject"
    assert approvals["asked-later"]["decision"] == "approve"
    reason = approvals["cancelled-ask"]["reason"]
    assert ("cancelled" in reason) if era == "legacy" else ("another call" in reason)


async def test_endpoints_left_running_are_announced(tmp_path: Path, sandbox: Any) -> None:
    from tests.test_startup_notices import _leave_endpoint_running

    _leave_endpoint_running(sandbox.endpoint, "yesterday")
    server = make_server(tmp_path, sandbox)
    async with client(server, mode="auto") as c:
        await c.call_tool("list_stages", {})
        with anyio.fail_after(10):
            while len(front_of(server).notices) < 2:  # looked up after session_start
                await anyio.sleep(0.05)
        state = json.loads((await c.read_resource("sagecoach://session")).contents[0].text)
    warning = " ".join(state["notices"][1:])
    assert "forgotten-ep" in warning and "not-ours" not in warning
    kinds = [r["kind"] for r in audit(tmp_path)]
    assert kinds[0] == "session_start"  # the look-up's aws_call records come after it


@pytest.mark.slow  # starts a sandbox of its own
async def test_without_credentials_the_server_uses_the_sandbox(tmp_path: Path) -> None:
    from mcp import Client

    from agent.settings import load_settings
    from tui.mcp_server.front import McpOptions
    from tui.mcp_server.server import build_server

    server = build_server(McpOptions(settings=load_settings(state_dir=str(tmp_path / "state"))))
    async with Client(
        server, mode="auto", client_info=types.Implementation(name="x", version="1")
    ) as c:
        state = json.loads((await c.read_resource("sagecoach://session")).contents[0].text)
        buckets_now = await c.call_tool("s3_list_buckets", {})
    assert state["environment"] == "SANDBOX" and "no AWS credentials" in state["why"]
    assert not buckets_now.is_error
    (start,) = audit(tmp_path, "session_start")
    assert start["sandbox"] is True and "no AWS credentials" in start["environment"]


@pytest.mark.parametrize("mode", ["ask", "yes"])
async def test_preflight_stops_a_costly_call_before_anyone_is_asked(
    tmp_path: Path, sandbox: Any, mode: str
) -> None:
    from tests.test_preflight_gate import _seed

    uri = _seed(sandbox.endpoint)  # a raw CSV with a header: not XGBoost's input contract
    server = make_server(tmp_path, sandbox, mode=mode)
    answers = Answers("accept")
    args = {"train_s3_uri": uri, "hyperparameters": {"num_round": 10}}
    async with client(server, answers) as c:
        result = await c.call_tool("sagemaker_start_training_job", args)
    assert result.is_error and answers.asked == []  # stopped before approval, in every mode
    assert "data.header" in result.content[0].text
    assert result.structured_content["status"] == "denied"
    assert mutating_aws_calls(audit(tmp_path)) == []
    (approval,) = audit(tmp_path, "approval")
    assert approval["who"] == "preflight"
