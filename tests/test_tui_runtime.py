"""The app on the real agent runtime with a scripted model, in the moto sandbox.

One request goes through: card, approval modal, `y`, the bucket exists in moto, and the
sidebar lists it; a rejection leaves nothing behind; read-only mode refuses without a modal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3

from agent.settings import load_settings
from agent.startup import open_session
from tests.scripted_model import ScriptedChatModel, tool_turn
from tests.tui_helpers import idle, plain, ready, send, wait_until
from tui.app import SagecoachApp
from tui.screens.approval import ApprovalScreen
from tui.widgets.chat import ToolCard

SIZE = (120, 40)


def make_real_app(tmp_path: Path, sandbox: Any, script: list[Any], mode: str = "ask"):
    settings = load_settings(state_dir=tmp_path / "state", mode=mode, region="us-east-1")
    model = ScriptedChatModel(script=script)

    async def factory(settings: Any, conversation: str | None) -> Any:
        return await open_session(
            settings,
            conversation=conversation,
            model=model,
            sandbox_endpoint=sandbox.endpoint,
            retry_delay=0.0,
        )

    return SagecoachApp(settings, session_factory=factory), model


def buckets(sandbox: Any) -> list[str]:
    s3 = boto3.client(
        "s3",
        endpoint_url=sandbox.endpoint,
        region_name="us-east-1",
        aws_access_key_id="sandbox",
        aws_secret_access_key="sandbox",
    )
    return [b["Name"] for b in s3.list_buckets().get("Buckets", [])]


async def test_approve_in_the_modal_creates_the_bucket_in_the_sandbox(
    tmp_path: Path, sandbox: Any
) -> None:
    app, _model = make_real_app(
        tmp_path,
        sandbox,
        [
            tool_turn("s3_create_bucket", {"bucket": "tui-real-bucket"}, text="Creating it."),
            "Done.",
        ],
    )
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert app.session.is_sandbox
        await send(pilot, "create a bucket called tui-real-bucket")
        await wait_until(pilot, lambda: isinstance(app.screen, ApprovalScreen), timeout=30)
        assert app.screen.request.tool == "s3_create_bucket"
        assert "s3:CreateBucket" in plain(app.screen.query_one("#approval-details"))
        assert buckets(sandbox) == []
        await pilot.press("y")
        await idle(pilot)
        [card] = [w for w in app.chat.items if isinstance(w, ToolCard)]
        assert card.status == "success"
        assert "tui-real-bucket" in buckets(sandbox)
        assert "tui-real-bucket" in plain(app.sidebar.query_one("#resources"))
        assert app.sidebar.states["collection"] == "done"


async def test_reject_in_the_modal_leaves_the_sandbox_empty(tmp_path: Path, sandbox: Any) -> None:
    app, model = make_real_app(
        tmp_path,
        sandbox,
        [tool_turn("s3_create_bucket", {"bucket": "never-made"}), "OK, not creating it."],
    )
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "create a bucket called never-made")
        await wait_until(pilot, lambda: isinstance(app.screen, ApprovalScreen), timeout=30)
        await pilot.press("n", *"wrong", "space", *"name", "enter")
        await idle(pilot)
        [card] = [w for w in app.chat.items if isinstance(w, ToolCard)]
        assert card.status == "rejected"
        assert buckets(sandbox) == []
        # the reason reached the model as the tool's result
        last_call = model.calls[-1]
        assert any("wrong name" in str(getattr(m, "content", "")) for m in last_call)


async def test_read_only_mode_refuses_without_a_modal(tmp_path: Path, sandbox: Any) -> None:
    app, _ = make_real_app(
        tmp_path,
        sandbox,
        [tool_turn("s3_create_bucket", {"bucket": "ro-bucket"}), "I could not."],
        mode="read-only",
    )
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "create a bucket called ro-bucket")
        modal_seen = False
        while app.turn_running:
            modal_seen = modal_seen or isinstance(app.screen, ApprovalScreen)
            await pilot.pause(0.01)
        await idle(pilot)
        assert not modal_seen
        [card] = [w for w in app.chat.items if isinstance(w, ToolCard)]
        assert card.status == "denied"
        assert buckets(sandbox) == []
