"""Pilot tests of what a person hit using the app (issue 9 acceptance walk-through): the
conversation follows a new message, PageUp/PageDown from the prompt, compact data tables, line
breaks in replies, unset arguments hidden, a stale slash completion, `/tool`, start-up notices,
settings loaded after the first frame, and the smaller screens."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

from rich.console import Console
from textual.widgets import DataTable, Static, TextArea

from agent.events import ApprovalRequest, Notice, ToolCallFinished
from tests.fake_session import FakeSession
from tests.tui_helpers import idle, make_app, plain, ready, send, wait_until
from tui.app import SagecoachApp, tool_meta
from tui.cli import app_flags
from tui.screens.approval import ApprovalScreen
from tui.screens.audit import AuditScreen, record_detail
from tui.screens.help import HelpScreen
from tui.widgets.chat import (
    AssistantMessage,
    NoticeItem,
    ToolCard,
    UserMessage,
    _markdown,
    format_args,
    rows_table,
)
from tui.widgets.prompt import PromptInput

SIZE = (120, 40)


def render(renderable: Any, width: int = 100) -> str:
    console = Console(width=width, file=io.StringIO(), record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


def notice_items(app: SagecoachApp) -> list[NoticeItem]:
    return [w for w in app.chat.items if isinstance(w, NoticeItem)]


# --- the conversation -------------------------------------------------------------------
async def test_sending_scrolls_the_conversation_back_to_the_end(tmp_path: Path) -> None:
    app = make_app(FakeSession(), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        for _ in range(4):
            await send(pilot, "what should I use to store features?")
            await idle(pilot)
        chat = app.chat
        assert chat.max_scroll_y > 10
        chat.scroll_home(animate=False)  # the reader scrolls up to read an earlier reply
        await pilot.pause(0.05)
        assert chat.scroll_y == 0
        await send(pilot, "and for labelling?")
        await idle(pilot)
        assert chat.scroll_y == chat.max_scroll_y
        assert isinstance(chat.items[-1], AssistantMessage)


async def test_page_keys_in_the_prompt_scroll_the_conversation(tmp_path: Path) -> None:
    app = make_app(FakeSession(), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        for _ in range(4):
            await send(pilot, "what should I use to store features?")
            await idle(pilot)
        chat = app.chat
        bottom = chat.max_scroll_y
        assert app.prompt.has_focus and chat.scroll_y == bottom
        await pilot.press("pageup")
        await pilot.pause(0.3)
        assert chat.scroll_y < bottom and app.prompt.has_focus
        await pilot.press("pagedown", "pagedown", "pagedown")
        await pilot.pause(0.3)
        assert chat.scroll_y == bottom


def test_data_tables_fit_the_card_and_name_the_columns_left_out() -> None:
    rows = [
        {
            "service": "Amazon SageMaker Feature Store",
            "id": "feature-store",
            "score": 44.5,
            "reasons": ["stage Features", "matches: store"],
            "console_only": False,
            "billing": "Per GB-month stored plus per million read and write units " * 3,
        }
    ] * 3
    table, left = rows_table(rows)
    assert left == 0 and table.row_count == 3
    wide = render(table, 120)
    assert "stage Features, matches: store" in wide  # lists read as lists
    assert '["' not in wide
    assert max(len(line.rstrip()) for line in wide.splitlines()) <= 120
    narrow = render(table, 50)
    assert "more columns:" in narrow and "billing" in narrow
    assert max(len(line.rstrip()) for line in narrow.splitlines()) <= 50
    # Numbers keep their decimals; a long cell is cut, not wrapped over many lines.
    figures, _ = rows_table([{"total_charges": 2447.34, "note": "x" * 300}])
    text = render(figures, 100)
    assert "2447.34" in text and "…" in text and text.count("\n") < 6


def test_names_lead_and_columns_that_say_nothing_go_last() -> None:
    rows = [
        {"id": f"a{i}f3", "session_id": "11f19953e25d", "kind": "s3_bucket", "name": f"b-{i}",
         "extra": {"tags": 2}, "ended_at": None, "status": ["active", "deleted"][i % 2]}
        for i in range(3)
    ]  # fmt: skip
    table, _ = rows_table(rows)
    assert table.columns == ["name", "id", "status", "session_id", "kind", "extra", "ended_at"]
    first_line = render(table, 40).splitlines()[0]
    assert first_line.split()[0] == "name"


def test_a_single_newline_in_a_reply_is_a_line_break() -> None:
    text = render(_markdown("Created the bucket.\nNext: upload data.\n\n- a\n- b"), 80)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert lines[:2] == ["Created the bucket.", "Next: upload data."]
    assert "• a" in lines and "• b" in lines
    hint = render(_markdown('Done.\nNext: "invoke the endpoint with <a CSV row>"'), 80)
    assert hint.splitlines()[0].strip() == "Done."  # no blank line first
    assert '"invoke the endpoint with <a CSV row>"' in hint  # not dropped as HTML


def test_unset_arguments_are_not_shown_on_cards() -> None:
    args = {"algorithm": "xgboost", "version": None, "hyperparameters": {}, "metrics": [], "n": 0}
    assert format_args(args) == "algorithm=xgboost  n=0"
    assert format_args({"payload": "1,2\n3,4\n"}) == "payload=1,2 ↵ 3,4"  # one line per card


async def test_approval_hides_unset_arguments_and_editing_shows_one_copy(tmp_path: Path) -> None:
    app = make_app(FakeSession(), tmp_path)
    request = ApprovalRequest(
        call_id="c1",
        tool="sagemaker_create_model",
        stage="deployment",
        risk="write",
        args={"model_name": "churn", "image_uri": None, "environment": None, "role_arn": "r"},
        description="Create a SageMaker model.",
        operations=["sagemaker:CreateModel"],
        estimate=None,
        account="SANDBOX",
        region="us-east-1",
        profile=None,
        sandbox=True,
        mode="ask",
    )
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        modal = ApprovalScreen(request, validate=lambda tool, args: args)
        app.push_screen(modal)
        await pilot.pause(0.05)
        shown = json.loads(plain(modal.query_one("#approval-args", Static)))
        assert shown == {"model_name": "churn", "role_arn": "r"}
        assert "2 unset not shown" in plain(modal.query_one("#approval-args-title"))
        await pilot.press("e")
        editor = modal.query_one("#edit-args", TextArea)
        assert json.loads(editor.text) == request.args  # the edit box has every field
        assert not modal.query_one("#approval-args").display
        await pilot.press("escape")
        assert modal.query_one("#approval-args").display


async def test_a_later_approval_does_not_undo_a_done_stage(tmp_path: Path) -> None:
    app = make_app(FakeSession(), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "create a bucket")
        await wait_until(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        await pilot.press("y")
        await idle(pilot)
        assert app.sidebar.states["collection"] == "done"
        await send(pilot, "create another bucket")
        await wait_until(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        assert app.sidebar.states["collection"] == "done"  # still done while it asks
        await pilot.press("n", "enter")
        await idle(pilot)
        assert app.sidebar.states["collection"] == "done"


# --- the prompt ---------------------------------------------------------------------------
async def test_enter_never_acts_on_a_completion_list_left_from_fewer_characters(
    tmp_path: Path,
) -> None:
    fake = FakeSession()
    app = make_app(fake, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        prompt = app.prompt
        await pilot.press("/")
        await pilot.pause(0.05)
        box = app.query_one("#completions")
        assert box.display and box.option_count > 5  # every command, "help" highlighted
        # Keys faster than the list refreshes: the text changes, the list does not.
        with prompt.prevent(TextArea.Changed):
            prompt.load_text("/mode dry-run")
        await pilot.press("enter")
        await pilot.pause(0.05)
        assert fake.mode == "dry-run"
        assert not isinstance(app.screen, HelpScreen)
        assert prompt.text == ""


async def test_slash_tool_goes_to_the_agent_as_typed(tmp_path: Path) -> None:
    fake = FakeSession()
    app = make_app(fake, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "/tool")
        await pilot.pause(0.05)
        assert app.prompt.text == ""  # "/tool" is complete: Enter sends it, not "/tools "
        await idle(pilot)
        await send(pilot, "/tool recommend_services goal=features")
        await idle(pilot)
        assert fake.sent == ["/tool", "/tool recommend_services goal=features"]
        users = [w.text for w in app.chat.items if isinstance(w, UserMessage)]
        assert users[-1] == "/tool recommend_services goal=features"


async def test_a_card_without_a_start_event_gets_its_stage_and_risk(tmp_path: Path) -> None:
    from tools.core.registry import load_all

    load_all()
    assert tool_meta("s3_create_bucket") == ("collection", "write")
    assert tool_meta("no_such_tool") == ("", "")
    app = make_app(FakeSession(), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        reason = "dry-run mode: would call s3_create_bucket (s3:CreateBucket). Nothing was run."
        await app.handle_event(
            ToolCallFinished("c9", "s3_create_bucket", "dry_run", reason, args={"bucket": "b"})
        )
        await pilot.pause(0.05)
        [card] = [w for w in app.chat.items if isinstance(w, ToolCard)]
        assert (card.stage, card.risk) == ("collection", "write")
        assert "collection · write" in plain(card.query_one(".head"))


# --- start-up -----------------------------------------------------------------------------
async def test_session_notices_show_at_start_with_warnings_styled(tmp_path: Path) -> None:
    fake = FakeSession(
        notices=[
            Notice("sandbox at http://127.0.0.1:5000", "warning"),
            Notice("2 endpoints created by earlier sessions are still running: old-ep", "warning"),
        ]
    )
    app = make_app(fake, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await wait_until(pilot, lambda: len(notice_items(app)) == 3)
        first, where, endpoints = notice_items(app)
        assert first.text.startswith("Session sess-0001 in the SANDBOX")
        assert where.text == "sandbox at http://127.0.0.1:5000"
        assert endpoints.has_class("-warning") and "old-ep" in endpoints.text
        assert plain(endpoints).startswith("⚠ ")
        assert not first.has_class("-warning")


async def test_the_reason_and_the_announcement_are_not_repeated(tmp_path: Path) -> None:
    fake = FakeSession(
        sandbox=False,
        notices=[Notice("real AWS (credentials from env)", "info")],
    )
    app = make_app(fake, tmp_path)
    app.session_factory.reason = "real AWS (credentials from env)"  # type: ignore[attr-defined]
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await wait_until(pilot, lambda: len(notice_items(app)) >= 2)
        await pilot.pause(0.05)
        texts = [n.text for n in notice_items(app)]
        assert texts[1:] == ["real AWS (credentials from env)."]
        assert "REAL AWS" in plain(app.status.query_one("#env"))


async def test_settings_load_after_the_first_frame(tmp_path: Path) -> None:
    from agent.settings import load_settings

    fake = FakeSession(mode="auto")
    history = tmp_path / "state" / "prompt_history.jsonl"
    history.parent.mkdir(parents=True)
    history.write_text(json.dumps({"text": "an earlier question"}) + "\n", encoding="utf-8")

    async def factory(settings: Any, conversation: str | None) -> FakeSession:
        return fake

    app = SagecoachApp(
        settings_loader=lambda: load_settings(state_dir=tmp_path / "state", mode="auto"),
        session_factory=factory,
    )
    assert app.settings is None
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert app.settings is not None and app.settings.mode == "auto"
        assert "AUTO" in plain(app.status.query_one("#mode"))
        assert app.history.entries == ["an earlier question"]  # attached once known
        await pilot.press("up")
        assert app.prompt.text == "an earlier question"


async def test_a_bad_setting_ends_the_app_with_exit_2_and_the_message(tmp_path: Path) -> None:
    from agent.settings import load_settings

    opened = []

    async def factory(settings: Any, conversation: str | None) -> FakeSession:
        opened.append(settings)
        return FakeSession()

    app = SagecoachApp(
        settings_loader=lambda: load_settings(state_dir=tmp_path, mode="never"),
        session_factory=factory,
    )
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: not app.is_running)
    assert app.return_code == 2 and opened == []
    assert app.settings_error.startswith("invalid value for 'mode'")


def test_the_app_flags_skip_typer_and_anything_else_goes_to_it() -> None:
    assert app_flags([]) == {}
    assert app_flags(["--sandbox", "--mode", "auto", "--region=eu-west-1"]) == {
        "sandbox": "on",
        "mode": "auto",
        "region": "eu-west-1",
    }
    assert app_flags(["--conversation", "c-1", "--model", "offline"]) == {
        "conversation": "c-1",
        "model": "offline",
    }
    for argv in (["--help"], ["--version"], ["doctor"], ["--mode"], ["--mode", "--sandbox"]):
        assert app_flags(argv) is None, argv


def test_shell_completion_goes_to_typer_not_the_app(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "_SAGECOACH_COMPLETE": "complete_bash",
        "COMP_WORDS": "sagecoach do",
        "COMP_CWORD": "1",
    }
    out = subprocess.run(
        [sys.executable, "-m", "tui.cli"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert out.returncode == 0 and "doctor" in out.stdout


def test_the_command_line_modes_are_the_settings_modes() -> None:
    from agent.settings import MODES
    from tui.slash import MODES as UI_MODES

    assert tuple(UI_MODES) == tuple(MODES)


# --- the other screens --------------------------------------------------------------------
def test_audit_details_read_as_sentences() -> None:
    model_call = {
        "kind": "model_call",
        "model": "offline",
        "input_tokens": 120,
        "output_tokens": 30,
        "latency_ms": 812.4,
        "tool_calls": ["s3_create_bucket"],
    }
    assert record_detail(model_call) == (
        "offline · 120 in / 30 out tokens · 812 ms · calls s3_create_bucket"
    )
    start = {"kind": "session_start", "model": "offline", "mode": "ask", "sandbox": True}
    assert record_detail({**start, "region": "us-east-1"}) == (
        "offline · mode ask · sandbox · us-east-1"
    )


async def test_the_audit_screen_opens_on_the_newest_record(tmp_path: Path) -> None:
    records = [
        {"ts": f"2025-06-01T12:00:{i:02d}Z", "session": "s", "seq": i, "kind": "user_message",
         "text": f"message {i}"}
        for i in range(60)
    ]  # fmt: skip
    app = make_app(FakeSession(), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        screen = AuditScreen(tmp_path, loader=lambda: (records, "verify: OK", True))
        app.push_screen(screen)
        await wait_until(pilot, lambda: screen.is_mounted and screen.records)
        await pilot.pause(0.05)
        table = screen.query_one(DataTable)
        assert table.cursor_row == 59
        assert '"message 59"' in plain(screen.query_one("#audit-record"))


async def test_help_is_one_line_per_key_and_says_how_to_close(tmp_path: Path) -> None:
    app = make_app(FakeSession(), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = render(app.screen.query_one("#help-body", Static).content, 100)
        assert "PageUp / PageDown" in text and "/tool NAME key=value" in text
        lines = text.splitlines()
        assert lines.index(next(x for x in lines if x.startswith("Shift+Enter"))) == (
            lines.index(next(x for x in lines if x.startswith("Enter "))) + 1
        )
        assert app.screen.query_one("#help").border_subtitle == "Esc closes"
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_many_resources_scroll_inside_the_sidebar(tmp_path: Path) -> None:
    fake = FakeSession()
    fake.created = [
        {"kind": "sagemaker_endpoint", "name": f"ep-{i}", "hourly_usd": 0.1,
         "created_at": "2025-06-01T12:00:00Z"}
        for i in range(30)
    ]  # fmt: skip
    app = make_app(fake, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        app._refresh_resources()
        await pilot.pause(0.05)
        scroll = app.sidebar.query_one("#resources-scroll")
        assert scroll.size.height <= 12 and scroll.max_scroll_y > 0
        assert "ep-29" in plain(app.sidebar.query_one("#resources"))


async def test_the_sidebar_narrows_on_a_100_column_terminal(tmp_path: Path) -> None:
    app = make_app(FakeSession(), tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot)
        assert app.sidebar.size.width + 1 <= 31  # 30% plus its border
        assert app.chat.size.width >= 60
    app = make_app(FakeSession(), tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(pilot)
        assert app.sidebar.outer_size.width == 42


async def test_the_palette_mode_switch_says_so(tmp_path: Path) -> None:
    app = make_app(FakeSession(), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        [dry] = [c for c in app.get_system_commands(app.screen) if c.title == "Mode: dry-run"]
        dry.callback()
        await wait_until(
            pilot, lambda: "Mode is now dry-run." in [n.text for n in notice_items(app)]
        )
        assert isinstance(app.prompt, PromptInput)


# --- the command as a person runs it (in a pseudo-terminal) -------------------------------
def run_in_pty(args: list[str], env_extra: dict[str, str], tmp_path: Path) -> tuple[int, str]:
    import os
    import pty
    import select
    import subprocess
    import sys
    import time

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SAGECOACH_"))}
    env.update(
        HOME=str(tmp_path),
        XDG_STATE_HOME=str(tmp_path / "state"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        AWS_CONFIG_FILE=str(tmp_path / "absent"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "absent"),
        AWS_EC2_METADATA_DISABLED="true",
        TERM="xterm-256color",
        **env_extra,
    )
    master, slave = pty.openpty()
    os.set_blocking(master, False)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", *args],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        stdin=slave,
        stdout=slave,
        stderr=subprocess.PIPE,
    )
    os.close(slave)
    deadline = time.monotonic() + 60
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            ready_fds, _, _ = select.select([master], [], [], 0.05)
            if ready_fds:
                try:
                    os.read(master, 65536)
                except OSError:
                    break
        proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        os.close(master)
    err = proc.stderr.read().decode() if proc.stderr else ""
    # Textual draws on stderr; what follows its last control sequence is what we printed.
    ends = [m.end() for m in re.finditer(r"\x1b(\[[0-9;?<>=$]*[A-Za-z~]|[^\[])", err)]
    return proc.returncode, err[ends[-1] if ends else 0 :]


def test_the_command_draws_its_first_frame_and_exits_cleanly(tmp_path: Path) -> None:
    code, err = run_in_pty(["--sandbox"], {"SAGECOACH_EXIT_AFTER_FIRST_FRAME": "1"}, tmp_path)
    assert code == 0, err
    assert err.startswith("first frame: ") and "Traceback" not in err


def test_the_command_with_a_bad_setting_exits_2_with_one_line(tmp_path: Path) -> None:
    code, err = run_in_pty(["--mode", "never"], {}, tmp_path)
    assert code == 2
    assert err.strip().startswith("sagecoach: invalid value for 'mode'")
    assert "Traceback" not in err and err.strip().count("\n") == 0


def test_closing_the_opener_does_not_wait_for_the_sandbox_to_stop() -> None:
    import threading
    import time

    from tui.runtime_opener import RuntimeOpener

    stopped = threading.Event()

    class SlowSandbox:
        def stop(self) -> None:
            time.sleep(0.5)
            stopped.set()

    opener = RuntimeOpener(sandbox_in_process=True)
    opener.owned_sandbox = SlowSandbox()
    start = time.perf_counter()
    opener.close()
    assert time.perf_counter() - start < 0.2 and opener.owned_sandbox is None
    assert stopped.wait(5)
