"""A scripted chat model for agent tests: `bind_tools`, streamed text and streamed tool calls.

    model = ScriptedChatModel(script=[
        tool_turn("s3_list_buckets", {}, text="Let me look."),   # an AIMessage with a tool call
        "Here are your buckets.",                                # plain text answer
    ])

Each model call takes the next script item:
- a `str` — a text reply;
- an `AIMessage` — replied as is (its `tool_calls` are streamed as tool-call chunks);
- a callable `f(messages) -> str | AIMessage` — decides from what the model was sent;
- `Fail(exc, partial="...")` — streams `partial` text, then raises `exc` (a mid-stream error).

`model.calls` records the messages each call received; `model.bound_tools` the tool names bound.
`GenericFakeChatModel` does not work with `create_agent` (no bind_tools, drops tool calls when
streaming), hence this class. Other helpers' tests may import it.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, Field

_ids = itertools.count(1)


@dataclass
class Fail:
    """Stream `partial`, then raise `exc` (like a throttling error inside ConverseStream)."""

    exc: BaseException
    partial: str = ""


ScriptItem = str | AIMessage | Fail | Callable[[list[BaseMessage]], "str | AIMessage"]


def tool_call(name: str, args: dict[str, Any] | None = None, id: str | None = None) -> dict:
    """One tool call dict as a model would produce it."""
    return {"name": name, "args": args or {}, "id": id or f"call_{next(_ids)}", "type": "tool_call"}


def tool_turn(
    name: str, args: dict[str, Any] | None = None, *, text: str = "", id: str | None = None
) -> AIMessage:
    """An assistant turn that calls one tool."""
    return AIMessage(content=text, tool_calls=[tool_call(name, args, id)])


def tool_turns(*calls: dict, text: str = "") -> AIMessage:
    """An assistant turn with several (parallel) tool calls, built with `tool_call(...)`."""
    return AIMessage(content=text, tool_calls=list(calls))


class ScriptedChatModel(BaseChatModel):
    """Replays a script; thread-safe; shared state survives `bind_tools` and copies."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    script: list[Any] = Field(default_factory=list)
    chunk_size: int = 6
    calls: list[list[BaseMessage]] = Field(default_factory=list)
    bound_tools: list[str] = Field(default_factory=list)
    position: list[int] = Field(default_factory=lambda: [0])
    usage: dict[str, int] = Field(
        default_factory=lambda: {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}
    )
    exhausted_reply: str | None = None  # reply once the script ran out (None: raise)
    lock: Any = Field(default_factory=threading.Lock, exclude=True)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    @property
    def remaining(self) -> int:
        return len(self.script) - self.position[0]

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedChatModel:  # type: ignore[override]
        names = []
        for t in tools:
            if isinstance(t, dict):
                names.append(t.get("name") or t.get("toolSpec", {}).get("name", "?"))
            else:
                names.append(getattr(t, "name", str(t)))
        self.bound_tools[:] = names
        return self

    # --- the script ---------------------------------------------------------------------
    def _next(self, messages: list[BaseMessage]) -> AIMessage | Fail:
        with self.lock:
            self.calls.append(list(messages))
            index = self.position[0]
            if index >= len(self.script):
                if self.exhausted_reply is not None:
                    return AIMessage(content=self.exhausted_reply)
                raise AssertionError(
                    f"ScriptedChatModel: script exhausted after {index} calls; last input: "
                    f"{messages[-1].type if messages else 'none'}"
                )
            self.position[0] += 1
            item = self.script[index]
        if isinstance(item, Fail):
            return item
        if callable(item) and not isinstance(item, AIMessage):
            item = item(list(messages))
        if isinstance(item, str):
            return AIMessage(content=item)
        if isinstance(item, AIMessage):
            return item.model_copy(deep=True)
        raise TypeError(f"ScriptedChatModel: bad script item {item!r}")

    def _finish(self, message: AIMessage) -> AIMessage:
        stop = "tool_use" if message.tool_calls else "end_turn"
        message.usage_metadata = dict(self.usage)  # type: ignore[assignment]
        message.response_metadata = {**message.response_metadata, "stopReason": stop}
        return message

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        item = self._next(messages)
        if isinstance(item, Fail):
            raise item.exc
        return ChatResult(generations=[ChatGeneration(message=self._finish(item))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        item = self._next(messages)
        if isinstance(item, Fail):
            for piece in _pieces(item.partial, self.chunk_size):
                yield ChatGenerationChunk(message=AIMessageChunk(content=piece))
            raise item.exc
        text = item.content if isinstance(item.content, str) else item.text
        for piece in _pieces(text, self.chunk_size):
            yield ChatGenerationChunk(message=AIMessageChunk(content=piece))
        for index, call in enumerate(item.tool_calls):
            raw = json.dumps(call["args"])
            half = len(raw) // 2
            yield ChatGenerationChunk(
                message=AIMessageChunk(
                    content="",
                    tool_call_chunks=[
                        {"name": call["name"], "args": raw[:half], "id": call["id"], "index": index}
                    ],
                )
            )
            yield ChatGenerationChunk(
                message=AIMessageChunk(
                    content="",
                    tool_call_chunks=[
                        {"name": None, "args": raw[half:], "id": None, "index": index}
                    ],
                )
            )
        stop_reason = "tool_use" if item.tool_calls else "end_turn"
        yield ChatGenerationChunk(
            message=AIMessageChunk(
                content="",
                usage_metadata=dict(self.usage),  # type: ignore[arg-type]
                response_metadata={"stopReason": stop_reason},
                chunk_position="last",
            )
        )


def _pieces(text: str, size: int) -> Iterator[str]:
    for start in range(0, len(text), max(1, size)):
        yield text[start : start + size]
