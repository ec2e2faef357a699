"""Rendering benchmarks of the app (headless, scripted session, no AWS, no model).

- stream 2,000 tokens into one reply: wall time until the reply is fully rendered, and how
  many times it was re-rendered (throttled to about 20 per second);
- a 500-message conversation: time to load it, and to scroll it from top to bottom a page
  at a time (frames per second of the scroll).

    python -m bench.tui_bench [--tokens N] [--messages N] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from agent.events import AnyEvent, TextDelta, TurnFinished  # noqa: E402
from agent.settings import load_settings  # noqa: E402
from tests.fake_session import FakeSession  # noqa: E402
from tui.app import SagecoachApp  # noqa: E402
from tui.widgets.chat import AssistantMessage  # noqa: E402

WORDS = [
    "the",
    "model",
    "trains",
    "on",
    "churn",
    "data",
    "with",
    "xgboost",
    "and",
    "the",
    "endpoint",
    "serves",
    "it",
]


class StreamingSession(FakeSession):
    """Streams `tokens` words (with markdown every few lines) as fast as the UI takes them."""

    def __init__(self, tokens: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tokens = tokens

    def send(self, text: str) -> AsyncIterator[AnyEvent]:
        return self._stream()

    async def _stream(self) -> AsyncIterator[AnyEvent]:
        parts: list[str] = []
        for i in range(self.tokens):
            word = WORDS[i % len(WORDS)]
            token = f"**{word}** " if i % 50 == 0 else f"{word} "
            if i % 40 == 39:
                token += "\n\n"
            parts.append(token)
            yield TextDelta("bench", token)
            if i % 10 == 0:
                await asyncio.sleep(0)  # a model streams in bursts; let the UI breathe
        yield TurnFinished(reply="".join(parts))


async def stream_tokens(tokens: int) -> dict[str, float]:
    session = StreamingSession(tokens)
    app = _app(session)
    renders = 0
    async with app.run_test(size=(120, 40)) as pilot:
        await _wait(pilot, lambda: app.session is not None)
        original = AssistantMessage.update

        def counting(self: AssistantMessage, *args: Any, **kwargs: Any) -> None:
            nonlocal renders
            renders += 1
            original(self, *args, **kwargs)

        AssistantMessage.update = counting  # type: ignore[method-assign]
        try:
            start = time.perf_counter()
            app.prompt.load_text("stream")
            await pilot.press("enter")
            await _wait(pilot, lambda: app.turn_worker is not None and not app.turn_running)
            await pilot.pause()
            elapsed = time.perf_counter() - start
        finally:
            AssistantMessage.update = original  # type: ignore[method-assign]
        reply = app.chat.last_reply()
        assert reply is not None and len(reply.text.split()) == tokens
    return {
        "tokens": tokens,
        "stream_s": round(elapsed, 3),
        "tokens_per_s": round(tokens / elapsed, 1),
        "renders": renders,
    }


async def scroll_conversation(messages: int) -> dict[str, float]:
    """Load a long conversation, then page through it: as the app mounts it (a window of the
    newest items), and with every item mounted (the worst case). Per-page cost is reported
    above the bare cost of one pilot frame, which the test harness adds to every step."""
    body = (
        "Here is what I found:\n\n| job | status | auc |\n|---|---|---|\n"
        "| churn-xgb-1 | Completed | 0.91 |\n\nNext: `deploy the model`."
    )
    records = [
        {"role": "user", "text": f"question {i}"}
        if i % 2 == 0
        else {"role": "assistant", "text": f"Answer {i}. {body}"}
        for i in range(messages)
    ]
    session = FakeSession(conversations={"long": records})
    app = _app(session, conversation="long")
    out: dict[str, float] = {"messages": messages}
    async with app.run_test(size=(120, 40)) as pilot:
        start = time.perf_counter()
        await _wait(pilot, lambda: len(app.chat.items) > 1)
        await pilot.pause()
        out["load_s"] = round(time.perf_counter() - start, 3)
        chat = app.chat
        for label in ("window", "all"):
            if label == "all":
                while chat._earlier:
                    chat.load_earlier(200)
                    await pilot.pause()
            out[f"{label}_mounted"] = len(chat.items)
            chat.scroll_home(animate=False)
            await pilot.pause()
            start = time.perf_counter()
            for _ in range(10):
                await pilot.pause()
            frame = (time.perf_counter() - start) / 10
            pages = 0
            start = time.perf_counter()
            while chat.scroll_y < chat.max_scroll_y:
                chat.scroll_page_down(animate=False)
                await pilot.pause()
                pages += 1
            per_page = (time.perf_counter() - start) / max(pages, 1)
            out[f"{label}_pages"] = pages
            out[f"{label}_ms_per_page"] = round(per_page * 1000, 1)
            out[f"{label}_ms_above_frame"] = round(max(0.0, per_page - frame) * 1000, 1)
    return out


def _app(session: FakeSession, conversation: str | None = None) -> SagecoachApp:
    state = Path(tempfile.mkdtemp(prefix="sagecoach-tui-bench-"))
    settings = load_settings(state_dir=state, region="us-east-1")

    async def factory(settings: Any, conversation: str | None) -> FakeSession:
        if conversation:
            session.conversation_id = conversation
        return session

    return SagecoachApp(settings, conversation=conversation, session_factory=factory)


async def _wait(pilot: Any, predicate: Any, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark step did not finish")
        await pilot.pause(0.01)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    stream = asyncio.run(stream_tokens(args.tokens))
    scroll = asyncio.run(scroll_conversation(args.messages))
    if args.json:
        print(json.dumps({"stream": stream, "scroll": scroll}))
    else:
        print(
            f"streamed {stream['tokens']} tokens in {stream['stream_s']:.2f} s "
            f"({stream['tokens_per_s']:.0f} tokens/s, {stream['renders']} re-renders)"
        )
        print(f"{scroll['messages']}-message conversation: loaded in {scroll['load_s']:.2f} s")
        for label, what in (("window", "as loaded"), ("all", "everything mounted")):
            print(
                f"  page down, {what} ({scroll[f'{label}_mounted']} items): "
                f"{scroll[f'{label}_ms_per_page']:.0f} ms/page "
                f"({scroll[f'{label}_ms_above_frame']:.0f} ms above a bare frame), "
                f"{scroll[f'{label}_pages']} pages"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
