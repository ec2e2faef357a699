"""`OfflinePlanner`: a LangChain chat model that plans tool calls without any LLM.

    model = OfflinePlanner().bind_tools(tools)
    model.invoke([HumanMessage("create a bucket named my-ml-data")]).tool_calls

It streams its reply text in small pieces and its tool call as one tool-call chunk, so
LangGraph's "messages" stream and `create_agent` treat it like any other chat model.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from pydantic import Field

from agent.offline.planner import LABEL, META_KEY, Plan, Planner
from agent.offline.toolinfo import ToolInfo, remember_spec, tool_info_from_any

MODEL_NAME = "sagecoach-offline-planner"
_CACHE: dict[str, Planner] = {}
_LOCK = threading.Lock()


def _to_openai(tool: Any) -> dict[str, Any]:
    from tools.core.declaration import ToolSpec, tool_input_schema

    if isinstance(tool, ToolSpec):
        return {
            "type": "function",
            "function": {
                "name": tool.name,
                "description": tool.description,
                "parameters": tool_input_schema(tool.args_model),
            },
        }
    if isinstance(tool, dict) and "toolSpec" in tool:
        ts = tool["toolSpec"]
        return {
            "type": "function",
            "function": {
                "name": ts["name"],
                "description": ts.get("description", ""),
                "parameters": ts["inputSchema"]["json"],
            },
        }
    from langchain_core.utils.function_calling import convert_to_openai_tool

    return convert_to_openai_tool(tool)


_BY_ID: dict[int, tuple[Sequence[dict[str, Any]], Planner]] = {}


def planner_for(tools: Sequence[dict[str, Any]]) -> Planner:
    """One Planner per distinct tool set (building the ranking index is the costly part).
    The same bound list object comes back on every call of a binding: found by identity."""
    hit = _BY_ID.get(id(tools))
    if hit is not None and hit[0] is tools:
        return hit[1]
    planner = _planner_for(tools)
    with _LOCK:
        if len(_BY_ID) > 16:
            _BY_ID.clear()
        _BY_ID[id(tools)] = (tools, planner)
    return planner


def _planner_for(tools: Sequence[dict[str, Any]]) -> Planner:
    key = json.dumps([t["function"]["name"] for t in tools]) + str(
        hash(json.dumps(tools, sort_keys=True, default=str))
    )
    with _LOCK:
        planner = _CACHE.get(key)
        if planner is None:
            infos: list[ToolInfo] = [tool_info_from_any(t) for t in tools]
            planner = Planner(infos)
            if len(_CACHE) > 16:
                _CACHE.clear()
            _CACHE[key] = planner
        return planner


_DEFAULT: list[list[dict[str, Any]]] = []


def _default_tools() -> list[dict[str, Any]]:
    """With no tools bound, the whole registry (knowledge questions still work)."""
    if _DEFAULT:
        return _DEFAULT[0]
    try:
        from tools.core.registry import all_tools

        tools = [_to_openai(spec) for spec in all_tools()]
    except Exception:
        return []
    _DEFAULT.append(tools)
    return tools


def warm_up() -> threading.Thread:
    """Load the embedding model and index the registry's tools in a background thread (the
    app calls this after its first frame), so the first request does not wait for it."""

    def run() -> None:
        try:
            planner_for(_default_tools()).ranker.semantic_scores("warm up")
        except Exception:  # an optimisation only: the first request loads instead
            from agent.offline import semantic

            semantic.model()

    thread = threading.Thread(target=run, name="sagecoach-embeddings", daemon=True)
    thread.start()
    return thread


class OfflinePlanner(BaseChatModel):
    """Deterministic planner: intent ranking over the bound tools plus argument extraction."""

    label: str = LABEL
    chunk_chars: int = 24
    # What exists in the account, for questions with real choices (AccountLookup); the
    # session sets it, tests and `sagecoach eval --direct` may leave it out.
    account: Any = Field(default=None, exclude=True)

    @property
    def _llm_type(self) -> str:
        return "sagecoach-offline"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": MODEL_NAME}

    def bind_tools(
        self,
        tools: Sequence[Any],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[Any, AIMessage]:
        for t in tools:
            remember_spec(t)
        formatted = [_to_openai(t) for t in tools]
        return self.bind(tools=formatted, **kwargs)

    # ---- planning ----------------------------------------------------------------------
    def plan(
        self, messages: list[BaseMessage], tools: Sequence[dict[str, Any]] | None = None
    ) -> Plan:
        bound = tools if tools else _default_tools()
        return planner_for(bound).plan(list(messages), lookup=self.account)

    def _message(self, plan: Plan) -> AIMessage:
        tool_calls = []
        if plan.tool_call is not None:
            tool_calls.append({**plan.tool_call, "type": "tool_call"})
        return AIMessage(
            content=plan.text,
            tool_calls=tool_calls,
            additional_kwargs={META_KEY: plan.meta},
            response_metadata={"model_name": MODEL_NAME, "model_provider": "sagecoach"},
            usage_metadata={"input_tokens": 0, "output_tokens": 0, "total_tokens": 0},
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        plan = self.plan(messages, kwargs.get("tools"))
        return ChatResult(generations=[ChatGeneration(message=self._message(plan))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        plan = self.plan(messages, kwargs.get("tools"))
        text = plan.text
        pieces = [
            text[i : i + self.chunk_chars] for i in range(0, len(text), self.chunk_chars)
        ] or [""]
        for i, piece in enumerate(pieces):
            chunk = AIMessageChunk(
                content=piece,
                additional_kwargs={META_KEY: plan.meta} if i == 0 else {},
                response_metadata={"model_name": MODEL_NAME, "model_provider": "sagecoach"}
                if i == 0
                else {},
            )
            if run_manager is not None:
                run_manager.on_llm_new_token(piece, chunk=ChatGenerationChunk(message=chunk))
            yield ChatGenerationChunk(message=chunk)
        if plan.tool_call is not None:
            call = plan.tool_call
            yield ChatGenerationChunk(
                message=AIMessageChunk(
                    content="",
                    tool_call_chunks=[
                        {
                            "name": call["name"],
                            "args": json.dumps(call["args"], default=str),
                            "id": call["id"],
                            "index": 0,
                            "type": "tool_call_chunk",
                        }
                    ],
                )
            )
        yield ChatGenerationChunk(
            message=AIMessageChunk(
                content="",
                usage_metadata={"input_tokens": 0, "output_tokens": 0, "total_tokens": 0},
                chunk_position="last",
            )
        )
