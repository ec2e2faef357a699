"""Pilot tests of the app on the scripted FakeSession: approval, rejection, edits, modes,
cancel, resume, streaming, slash commands, history, export, copy, audit screen."""

from __future__ import annotations

import json
from pathlib import Path

from textual.widgets import DataTable, Input, OptionList, Static, TextArea

from agent.events import Decision
from tests.fake_session import FakeSession
from tests.tui_helpers import idle, make_app, plain, ready, send, wait_until
from tui.screens.approval import ApprovalScreen
from tui.screens.audit import AuditScreen
from tui.screens.conversations import ConversationsScreen
from tui.widgets.chat import MAX_MOUNTED, AssistantMessage, LoadEarlier, NoticeItem, ToolCard

SIZE = (120, 40)


def cards(app) -> list[ToolCard]:
    return [w for w in app.chat.items if isinstance(w, ToolCard)]


def replies(app) -> list[str]:
    return [w.text for w in app.chat.items if isinstance(w, AssistantMessage)]


def notices(app) -> list[str]:
    return [w.text for w in app.chat.items if isinstance(w, NoticeItem)]


async def test_status_bar_shows_sandbox_model_and_mode(tmp_path: Path) -> None:
    app = make_app(FakeSession(), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        status = app.status
        env = status.query_one("#env")
        assert "SANDBOX" in plain(env)
        assert env.has_class("-sandbox")
        assert "offline planner — no LLM" in plain(status.query_one("#model"))
        assert "ASK" in plain(status.query_one("#mode"))
        assert any("SANDBOX" in n for n in notices(app))


async def test_approve_creates_the_bucket_and_lists_it_in_the_sidebar(tmp_path: Path) -> None:
    fake = FakeSession()
    app = make_app(fake, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "create a bucket for the data")
        await wait_until(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        modal = app.screen
        details = plain(modal.query_one("#approval-details", Static))
        for expected in ("s3_create_bucket", "collection", "write", "s3:CreateBucket", "SANDBOX"):
            assert expected in details
        assert "sagecoach-demo-data" in plain(modal.query_one("#approval-args", Static))
        card = cards(app)[0]
        assert card.status == "waiting"
        await pilot.press("enter")  # Enter approves nothing
        await pilot.pause(0.05)
        assert isinstance(app.screen, ApprovalScreen) and fake.decisions == []
        await pilot.press("y")
        await idle(pilot)
        assert fake.decisions == [{card.call_id: Decision.approve()}]
        assert card.status == "success" and "Created s3://sagecoach-demo-data" in card.summary
        assert [r["name"] for r in fake.created] == ["sagecoach-demo-data"]
        assert "sagecoach-demo-data" in plain(app.sidebar.query_one("#resources"))
        assert app.sidebar.states["collection"] == "done"
        assert replies(app)[-1] == "Created the bucket **sagecoach-demo-data**."


async def test_reject_with_reason_creates_nothing(tmp_path: Path) -> None:
    fake = FakeSession()
    app = make_app(fake, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "make a bucket")
        await wait_until(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        await pilot.press("n")
        reason = app.screen.query_one("#reason", Input)
        assert reason.display and reason.has_focus
        await pilot.press(*"not yet")
        assert isinstance(app.screen, ApprovalScreen)  # typing "y" in the reason approves nothing
        await pilot.press("enter")
        await idle(pilot)
        [decisions] = fake.decisions
        [decision] = decisions.values()
        assert decision.type == "reject" and decision.reason == "not yet"
        assert fake.created == []
        assert cards(app)[0].status == "rejected"
        assert "not yet" in cards(app)[0].summary
        assert "none yet" in plain(app.sidebar.query_one("#resources"))


async def test_edit_with_a_bad_value_shows_the_error_inline_then_approves_the_fix(
    tmp_path: Path,
) -> None:
    fake = FakeSession()
    app = make_app(fake, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "create a bucket")
        await wait_until(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        modal = app.screen
        await pilot.press("e")
        editor = modal.query_one("#edit-args", TextArea)
        assert editor.display and editor.has_focus
        editor.load_text('{"bucket": "Bad_Bucket"}')
        await pilot.press("ctrl+s")
        await pilot.pause(0.05)
        error = modal.query_one("#edit-error", Static)
        assert app.screen is modal and error.display
        assert "bucket" in modal.error.lower() and fake.decisions == []
        editor.load_text("{not json")
        await pilot.press("ctrl+s")
        assert modal.error.startswith("not valid JSON")
        editor.load_text('{"bucket": "fixed-bucket-name"}')
        await pilot.press("ctrl+s")
        await idle(pilot)
        [decisions] = fake.decisions
        [decision] = decisions.values()
        assert decision.type == "edit" and decision.args["bucket"] == "fixed-bucket-name"
        assert [r["name"] for r in fake.created] == ["fixed-bucket-name"]
        assert cards(app)[0].args == {"bucket": "fixed-bucket-name"}


async def test_allow_for_session_is_offered_for_write_calls_only(tmp_path: Path) -> None:
    fake = FakeSession()
    app = make_app(fake, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "train a model")
        await wait_until(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        keys = plain(app.screen.query_one("#approval-keys", Static))
        assert "allow" not in keys
        details = plain(app.screen.query_one("#approval-details", Static))
        assert "$0.02 – $0.23" in details and "2025-06-01" in details and "ml.m5.large" in details
        await pilot.press("a")  # not offered: does nothing
        await pilot.pause(0.05)
        assert isinstance(app.screen, ApprovalScreen)
        await pilot.press("y")
        await idle(pilot)
        await send(pilot, "another bucket please")
        await wait_until(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        assert "allow s3_create_bucket" in plain(app.screen.query_one("#approval-keys"))
        await pilot.press("a")
        await idle(pilot)
        assert next(iter(fake.decisions[-1].values())).type == "allow_session"


async def test_read_only_mode_shows_a_refusal_card_and_no_modal(tmp_path: Path) -> None:
    fake = FakeSession(mode="read-only")
    app = make_app(fake, tmp_path)
    seen_modal = []
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert "READ-ONLY" in plain(app.status.query_one("#mode"))
        await send(pilot, "create a bucket")
        while app.turn_running:
            seen_modal.append(isinstance(app.screen, ApprovalScreen))
            await pilot.pause(0.01)
        await idle(pilot)
        assert not any(seen_modal) and fake.decisions == [] and fake.created == []
        [card] = cards(app)
        assert card.status == "denied" and "read-only mode" in card.summary
        assert card.has_class("-denied")


async def test_ctrl_c_cancels_the_turn_and_twice_quits(tmp_path: Path) -> None:
    fake = FakeSession()
    app = make_app(fake, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "hang for a while")
        await wait_until(pilot, lambda: replies(app) == ["Working on it"])
        assert app.turn_running
        await pilot.press("ctrl+c")
        await idle(pilot)
        assert fake.cancelled == 1
        assert "Turn cancelled." in notices(app)
        app._last_interrupt = -1e9  # later, a first Ctrl+C only warns
        await pilot.press("ctrl+c")
        await pilot.pause(0.05)
        assert app.is_running
        await pilot.press("ctrl+c")
        await wait_until(pilot, lambda: not app.is_running)
    assert app.return_code == 0


async def test_ctrl_c_during_approval_closes_the_modal(tmp_path: Path) -> None:
    fake = FakeSession()
    app = make_app(fake, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "create a bucket")
        await wait_until(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        await pilot.press("ctrl+c")
        await idle(pilot)
        assert not isinstance(app.screen, ApprovalScreen)
        assert fake.cancelled == 1 and fake.decisions == [] and fake.created == []
        assert cards(app)[0].status == "cancelled"


async def test_retried_model_call_replaces_the_partial_reply(tmp_path: Path) -> None:
    app = make_app(FakeSession(), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "retry please")
        await idle(pilot)
        assert replies(app) == ["Here is the complete answer after a retry."]


async def test_failed_tool_shows_an_error_card_and_marks_the_stage(tmp_path: Path) -> None:
    app = make_app(FakeSession(), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "this will fail")
        await idle(pilot)
        [card] = cards(app)
        assert card.status == "error" and "does not exist" in card.summary
        assert app.sidebar.states["collection"] == "failed"
        assert any("throttled" in n for n in notices(app))


async def test_training_card_shows_table_plot_and_hourly_resource(tmp_path: Path) -> None:
    fake = FakeSession()
    app = make_app(fake, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "train xgboost")
        await wait_until(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        await pilot.press("y")
        await idle(pilot)
        [card] = cards(app)
        assert card.status == "success" and card.duration_ms == 181_000.0
        assert "3 min 01 s" in plain(card.query_one(".head"))
        assert "validation:auc" in plain(card.query_one(".data", Static))
        plot = card.query_one(".plot")
        assert set(plot.series) == {"train:auc", "validation:auc"}
        resources = plain(app.sidebar.query_one("#resources"))
        assert "churn-xgb-endpoint" in resources and "running $0.115/h" in resources
        assert "est. spend so far $0.23" in resources
        assert app.sidebar.states["training"] == "done"
        await pilot.click(card)
        await pilot.press("enter")
        assert (card.collapsed and not plot.display) or card.has_class("-collapsed")


async def test_slash_completion_and_mode_change(tmp_path: Path) -> None:
    fake = FakeSession()
    app = make_app(fake, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        app.prompt.focus()
        await pilot.press("/", "m", "o")
        box = app.query_one("#completions", OptionList)
        assert box.display and [
            str(box.get_option_at_index(i).id) for i in range(box.option_count)
        ] == [
            "mode",
            "model",
        ]
        await pilot.press("tab")
        assert app.prompt.text == "/mode "
        await pilot.press(*"yes")
        await pilot.press("enter")
        await pilot.pause(0.05)
        assert fake.mode == "yes" and app.status.query_one("#mode").has_class("-mode-yes")
        await send(pilot, "/mode nonsense")
        await pilot.pause(0.05)
        assert fake.mode == "yes" and "'nonsense' is not a mode" in notices(app)[-1]
        await send(pilot, "/frobnicate")
        await pilot.pause(0.05)
        assert notices(app)[-1].startswith("Unknown command /frobnicate")


async def test_history_walks_with_up_and_persists(tmp_path: Path) -> None:
    state = tmp_path / "state"
    app = make_app(FakeSession(), state)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "what is sagemaker?")
        await idle(pilot)
        await send(pilot, "and glue?")
        await idle(pilot)
        app.prompt.focus()
        app.prompt.load_text("draft")
        await pilot.press("up")
        assert app.prompt.text == "and glue?"
        await pilot.press("up")
        assert app.prompt.text == "what is sagemaker?"
        await pilot.press("down", "down")
        assert app.prompt.text == "draft"
    lines = (state / "prompt_history.jsonl").read_text().splitlines()
    assert [json.loads(line)["text"] for line in lines] == ["what is sagemaker?", "and glue?"]
    again = make_app(FakeSession(), state)
    async with again.run_test(size=SIZE) as pilot:
        await ready(pilot)
        again.prompt.focus()
        await pilot.press("up")
        assert again.prompt.text == "and glue?"


async def test_multiline_input_with_ctrl_j(tmp_path: Path) -> None:
    fake = FakeSession()
    app = make_app(fake, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        app.prompt.focus()
        await pilot.press("a", "ctrl+j", "b")
        assert app.prompt.text == "a\nb" and fake.sent == []
        await pilot.press("enter")
        await idle(pilot)
        assert fake.sent == ["a\nb"]


async def test_resume_from_the_conversations_screen_and_by_id(tmp_path: Path) -> None:
    old = [
        {"role": "user", "text": "upload churn.csv"},
        {
            "role": "tool",
            "name": "s3_upload_file",
            "stage": "collection",
            "status": "success",
            "summary": "Uploaded 3,000 rows.",
            "args": {"path": "churn.csv"},
        },
        {"role": "assistant", "text": "Uploaded it to **s3://demo/churn.csv**."},
    ]
    fake = FakeSession(conversations={"conv-old": old})
    app = make_app(fake, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: isinstance(app.screen, ConversationsScreen))
        table = app.screen.query_one(DataTable)
        await wait_until(pilot, lambda: table.row_count == 2)
        await pilot.press("down")  # conv-0001 is first, conv-old second
        await pilot.press("enter")
        await wait_until(pilot, lambda: fake.conversation_id == "conv-old" and replies(app))
        assert replies(app) == ["Uploaded it to **s3://demo/churn.csv**."]
        assert cards(app)[0].summary == "Uploaded 3,000 rows."
        await send(pilot, "/resume conv-0001")
        await wait_until(pilot, lambda: fake.conversation_id == "conv-0001")
        await send(pilot, "/resume nope")
        await pilot.pause(0.05)
        assert "Could not resume nope" in notices(app)[-1]


async def test_start_with_conversation_flag_shows_its_history(tmp_path: Path) -> None:
    fake = FakeSession(conversations={"conv-old": [{"role": "user", "text": "hello again"}]})
    app = make_app(fake, tmp_path, conversation="conv-old")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await wait_until(
            pilot, lambda: any(getattr(w, "text", "") == "hello again" for w in app.chat.items)
        )


async def test_delete_a_conversation_needs_two_presses(tmp_path: Path) -> None:
    fake = FakeSession(conversations={"conv-old": [{"role": "user", "text": "x"}]})
    app = make_app(fake, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: isinstance(app.screen, ConversationsScreen))
        table = app.screen.query_one(DataTable)
        await wait_until(pilot, lambda: table.row_count == 2)
        await pilot.press("down", "d")
        assert "conv-old" in fake._conversations
        await pilot.press("d")
        await wait_until(pilot, lambda: table.row_count == 1)
        assert "conv-old" not in fake._conversations


async def test_long_history_mounts_a_window_and_loads_earlier(tmp_path: Path) -> None:
    records = [
        {"role": "user" if i % 2 == 0 else "assistant", "text": f"message {i}"} for i in range(500)
    ]
    fake = FakeSession(conversations={"conv-long": records})
    app = make_app(fake, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "/resume conv-long")
        await wait_until(pilot, lambda: len(app.chat.items) >= MAX_MOUNTED)
        loader = app.chat.query_one(LoadEarlier)
        assert loader.display and len(app.chat._earlier) == 500 - MAX_MOUNTED
        assert app.chat.items[-2].text == "message 499"  # then the "Resumed" notice
        loader.action_load()
        await pilot.pause(0.1)
        assert len(app.chat._earlier) == 500 - MAX_MOUNTED - 100
        export = app.export_markdown()
        assert "message 0" in export and "message 499" in export


async def test_export_writes_markdown(tmp_path: Path) -> None:
    app = make_app(FakeSession(), tmp_path)
    target = tmp_path / "out" / "chat.md"
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "create a bucket")
        await wait_until(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        await pilot.press("y")
        await idle(pilot)
        await send(pilot, f"/export {target}")
        await wait_until(pilot, target.exists)
    text = target.read_text()
    assert "**You:** create a bucket" in text
    assert "> tool `s3_create_bucket` (collection, write): success in 312 ms" in text
    assert "Created the bucket **sagecoach-demo-data**." in text


async def test_copy_a_card_and_the_last_reply(tmp_path: Path) -> None:
    app = make_app(FakeSession(), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "this will fail")
        await idle(pilot)
        [card] = cards(app)
        card.focus()
        await pilot.press("c")
        assert app.clipboard.startswith("s3_describe_object (collection, read): failed")
        await send(pilot, "what should I use to store features?")
        await idle(pilot)
        await pilot.press("ctrl+y")
        assert app.clipboard.startswith("For **features**, use *Amazon SageMaker Feature Store*")


async def test_audit_screen_filters_and_verifies(tmp_path: Path) -> None:
    from agent.audit import AuditLog

    state = tmp_path / "state"
    app = make_app(FakeSession(), state)
    with AuditLog(app.settings.audit_dir, "sess-audit") as log:
        log.append("session_start", {"mode": "ask"})
        log.append("user_message", {"text": "hello"})
        log.append("tool_call", {"name": "s3_create_bucket", "status": "success"})
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "/log")
        await wait_until(
            pilot, lambda: isinstance(app.screen, AuditScreen) and app.screen.query(DataTable)
        )
        screen = app.screen
        table = screen.query_one(DataTable)
        await wait_until(pilot, lambda: table.row_count == 3)
        assert "verify: OK — 3 records" in plain(screen.query_one("#audit-verify"))
        screen.query_one("#audit-filter", Input).value = "tool:s3_create_bucket"
        await wait_until(pilot, lambda: table.row_count == 1)
        assert screen.shown[0]["kind"] == "tool_call"
        await pilot.press("escape")  # from the filter box
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, AuditScreen))


async def test_tampered_audit_log_fails_verify_on_screen(tmp_path: Path) -> None:
    from agent.audit import AuditLog, log_files

    app = make_app(FakeSession(), tmp_path / "state")
    with AuditLog(app.settings.audit_dir, "s") as log:
        for i in range(3):
            log.append("user_message", {"text": f"m{i}"})
    [path] = log_files(app.settings.audit_dir)
    path.write_text(path.read_text().replace('"m1"', '"edited"'))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        app.action_audit_log()
        await wait_until(
            pilot, lambda: isinstance(app.screen, AuditScreen) and app.screen.query("#audit-verify")
        )
        verify = app.screen.query_one("#audit-verify")
        await wait_until(pilot, lambda: "FAILED" in plain(verify))
        assert verify.has_class("-bad")


async def test_command_palette_lists_the_slash_actions(tmp_path: Path) -> None:
    app = make_app(FakeSession(), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        for title in (
            "Help",
            "Audit log",
            "Resume a conversation",
            "Export conversation",
            "Mode: yes",
        ):
            assert title in titles
        [mode_yes] = [c for c in app.get_system_commands(app.screen) if c.title == "Mode: yes"]
        mode_yes.callback()
        await wait_until(pilot, lambda: app.session.mode == "yes")
        await wait_until(pilot, lambda: "Mode is now yes." in notices(app))
        assert "YES" in plain(app.status.query_one("#mode"))


async def test_message_sent_before_the_session_opens_is_queued(tmp_path: Path) -> None:
    import asyncio

    fake = FakeSession()
    gate = asyncio.Event()
    app = make_app(fake, tmp_path)
    inner = app.session_factory

    async def slow(settings, conversation):
        await gate.wait()
        return await inner(settings, conversation)

    app.session_factory = slow
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "what should I use to store features?")
        await pilot.pause(0.05)
        assert fake.sent == [] and "queued" in plain(app.status.query_one("#busy"))
        gate.set()
        await wait_until(pilot, lambda: fake.sent == ["what should I use to store features?"])
        await idle(pilot)


async def test_session_that_fails_to_open_is_explained(tmp_path: Path) -> None:
    app = make_app(FakeSession(), tmp_path)

    async def broken(settings, conversation):
        raise RuntimeError("no route to the sandbox")

    app.session_factory = broken
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: notices(app))
        assert notices(app) == ["Could not start the session: no route to the sandbox"]
