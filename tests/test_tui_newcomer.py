"""Issue 17's small things a newcomer hits: Esc rejects in the approval dialog, quitting with an
approval pending asks first, costs under half a cent read <$0.01, the preview card lists every
column's type and nulls, and `/tools` / `sagecoach tools --stage` take a number or title."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from agent.events import Decision
from tests.fake_session import FakeSession
from tests.tui_helpers import idle, make_app, plain, ready, send, wait_until
from tools.core.results import CostEstimate, format_rate, format_usd
from tools.cost.estimates import usd
from tui.screens.approval import ApprovalScreen, estimate_lines
from tui.screens.confirm import ConfirmScreen
from tui.widgets.chat import AssistantMessage, schema_table
from tui.widgets.sidebar import resources_view

SIZE = (120, 40)


def _render(renderable: object, width: int = 100) -> str:
    console = Console(width=width, record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


async def test_escape_rejects_the_call(tmp_path: Path) -> None:
    fake = FakeSession()
    app = make_app(fake, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "make a bucket")
        await wait_until(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        assert "Esc" in plain(app.screen.query_one("#approval-keys"))
        await pilot.press("escape")
        await idle(pilot)
        [decisions] = fake.decisions
        [decision] = decisions.values()
        assert decision.type == "reject" and fake.created == []


async def test_escape_in_the_reason_box_only_backs_out(tmp_path: Path) -> None:
    fake = FakeSession()
    app = make_app(fake, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "make a bucket")
        await wait_until(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        await pilot.press("n")
        await pilot.press("escape")
        assert isinstance(app.screen, ApprovalScreen) and fake.decisions == []
        await pilot.press("y")
        await idle(pilot)
        assert list(fake.decisions[0].values()) == [Decision.approve()]


async def test_quitting_with_an_approval_pending_asks_first(tmp_path: Path) -> None:
    fake = FakeSession()
    app = make_app(fake, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "make a bucket")
        await wait_until(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "waiting for your approval" in plain(app.screen.query_one("#confirm-question"))
        await pilot.press("n")  # stay: the approval is still there, nothing decided
        await wait_until(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        assert app.is_running and fake.decisions == []
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await pilot.pause(0.1)
        assert not app.is_running and fake.created == []


async def test_quitting_with_nothing_pending_just_quits(tmp_path: Path) -> None:
    app = make_app(FakeSession(), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+q")
        await pilot.pause(0.1)
        assert not app.is_running


def test_a_cost_under_half_a_cent_reads_less_than_a_cent_everywhere() -> None:
    assert format_usd(0.0004) == "<$0.01" and format_usd(0) == "$0.00"
    assert format_usd(0.005) == "$0.01" and format_usd(12.345) == "$12.35"
    assert format_rate(0.0002) == "<$0.01/h" and format_rate(0.115) == "$0.115/h"
    assert usd(0.00004) == "<$0.01" and usd(0.25) == "$0.2500"
    tiny = CostEstimate(0.0001, 0.0003, "3 serverless requests")
    dialog = _render(estimate_lines(tiny.to_dict()))
    assert "<$0.01" in dialog and "$0.00" not in dialog and "$0.0000" not in dialog
    assert "<$0.01" in tiny.summary()
    sidebar = _render(
        resources_view(
            [{"kind": "sagemaker_endpoint", "name": "ep", "hourly_usd": 0.0001, "created_at": ""}],
            0.0004,
            now=0.0,
        )
    )
    assert "$0.00" not in sidebar and "<$0.01" in sidebar


def test_the_preview_card_lists_every_column() -> None:
    columns = [
        {"name": f"col_{i}", "type": "integer" if i % 2 else "string", "nulls": i, "distinct": 9}
        for i in range(11)
    ]
    text = _render(schema_table(columns), width=120)
    for i in range(11):
        assert f"col_{i}" in text
    line = next(x for x in text.splitlines() if "col_7" in x)
    assert "integer" in line and " 7 " in f" {line} "
    assert schema_table(["a", "b"]) is None  # a list of names is not a schema


async def test_slash_tools_takes_a_stage_number_or_title(tmp_path: Path) -> None:
    app = make_app(FakeSession(), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        for arg in ("4", "model training"):
            await send(pilot, f"/tools {arg}")
            await wait_until(
                pilot,
                lambda: any(
                    isinstance(w, AssistantMessage) and "sagemaker_start_training_job" in w.text
                    for w in app.chat.items
                ),
            )
            text = [w.text for w in app.chat.items if isinstance(w, AssistantMessage)][-1]
            assert "| collection |" not in text and "| training |" in text
        await send(pilot, "/tools 12")
        await wait_until(
            pilot,
            lambda: (
                "No stage '12'"
                in [w.text for w in app.chat.items if isinstance(w, AssistantMessage)][-1]
            ),
        )


def test_cli_tools_stage_takes_a_number_or_title() -> None:
    from tui.cli import app

    runner = CliRunner()
    for stage in ("7", "model deployment", "deployment"):
        result = runner.invoke(app, ["tools", "--stage", stage])
        assert result.exit_code == 0, result.output
        assert "sagemaker_create_endpoint" in result.output
        assert "s3_create_bucket" not in result.output
    bad = runner.invoke(app, ["tools", "--stage", "12"])
    assert bad.exit_code == 2 and "unknown stage" in bad.output
