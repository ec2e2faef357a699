"""Helpers for the app's pilot and snapshot tests: build the app on a FakeSession, wait for state."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from agent.settings import load_settings
from tests.fake_session import FakeSession
from tui.app import SagecoachApp

FIXED_NOW = 1748779200.0  # 2025-06-01T12:00:00Z, the fake resources' creation time


def make_app(
    fake: FakeSession, state_dir: Path, *, conversation: str | None = None, **kwargs: Any
) -> SagecoachApp:
    settings = load_settings(state_dir=state_dir, mode=fake.mode, region="us-east-1")

    async def factory(settings: Any, conversation: str | None) -> FakeSession:
        if conversation:
            fake.conversation_id = conversation
        return fake

    return SagecoachApp(
        settings,
        conversation=conversation,
        session_factory=factory,
        clock=lambda: FIXED_NOW,
        **kwargs,
    )


async def wait_until(
    pilot: Pilot[Any], predicate: Callable[[], Any], timeout: float = 30.0
) -> None:
    """Let the app run until `predicate()` is true (workers need more than one pause); the
    generous limit only matters on a loaded machine, a passing wait returns at once."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out waiting for {getattr(predicate, '__name__', predicate)}"
            )
        await asyncio.sleep(0)
        await pilot.pause(0.02)


async def ready(pilot: Pilot[Any]) -> SagecoachApp:
    """Wait for the session and the stage list."""
    app = pilot.app
    assert isinstance(app, SagecoachApp)
    await wait_until(pilot, lambda: app.session is not None and len(app.sidebar.infos) == 9)
    await wait_until(pilot, lambda: app.query_one("#stage-list").option_count == 9)
    return app


async def send(pilot: Pilot[Any], text: str) -> None:
    app = pilot.app
    assert isinstance(app, SagecoachApp)
    app.prompt.focus()
    app.prompt.load_text(text)
    await pilot.press("enter")


async def idle(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, SagecoachApp)
    await wait_until(pilot, lambda: not app.turn_running)
    await pilot.pause(0.1)  # let the last reply's throttled render land


def plain(widget: Any) -> str:
    """The text a Static or Label shows, whatever rich renderable it holds."""
    import io

    from rich.console import Console

    content = widget.content
    if isinstance(content, str):
        return content
    console = Console(width=200, file=io.StringIO(), record=True, color_system=None)
    console.print(content)
    return console.export_text()
