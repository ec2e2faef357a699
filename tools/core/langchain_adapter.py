"""A ToolSpec as a LangChain tool: the pydantic model is the schema, ToolResult becomes
(content for the model, artifact for the UI), errors become readable error results.

The tool body runs in a worker thread (boto3 is blocking). Progress reported with
`ctx.report(...)` reaches LangGraph's custom stream as `{"sagecoach": "progress", ...}` and
the start of a run as `{"sagecoach": "tool_started", ...}`, keyed by the model's tool-call id.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Callable
from typing import Any

from langchain_core.messages import ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, ToolException
from pydantic import BaseModel, ValidationError

from tools.core.context import ToolContext
from tools.core.declaration import ToolSpec, format_validation_error
from tools.core.errors import ToolError
from tools.core.results import ProgressEvent

# The tool-call id of the call being run (set by invoke/ainvoke from the ToolCall input).
CURRENT_CALL_ID: contextvars.ContextVar[str] = contextvars.ContextVar(
    "sagecoach_tool_call_id", default=""
)

# Error kinds of failed calls, by call id, until invoke() attaches them to the ToolMessage.
_ERROR_KINDS: dict[str, str] = {}

ContextFactory = Callable[[ToolSpec, str, Callable[[ProgressEvent], None]], ToolContext]
StreamWriter = Callable[[dict[str, Any]], None]


def _stream_writer() -> StreamWriter | None:
    """LangGraph's custom-stream writer when running inside a graph, else None."""
    try:
        from langgraph.config import get_stream_writer

        return get_stream_writer()
    except Exception:
        return None


class SpecTool(BaseTool):
    """One sagecoach tool for LangChain / LangGraph."""

    spec: ToolSpec
    context_factory: Any  # ContextFactory
    response_format: str = "content_and_artifact"
    handle_tool_error: bool = True

    def model_post_init(self, __context: Any) -> None:
        super().model_post_init(__context)
        spec = self.spec
        self.handle_validation_error = lambda exc: _validation_message(spec.name, exc)

    # The ToolCall input carries the id; keep it for progress and the ledger.
    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        call_id = _call_id(input)
        token = CURRENT_CALL_ID.set(call_id)
        try:
            return _with_error_kind(super().invoke(input, config, **kwargs), call_id)
        finally:
            CURRENT_CALL_ID.reset(token)

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        call_id = _call_id(input)
        token = CURRENT_CALL_ID.set(call_id)
        try:
            return _with_error_kind(await super().ainvoke(input, config, **kwargs), call_id)
        finally:
            CURRENT_CALL_ID.reset(token)

    def _run(self, **kwargs: Any) -> tuple[str, dict[str, Any]]:
        return self._execute(kwargs, _stream_writer())

    async def _arun(self, **kwargs: Any) -> tuple[str, dict[str, Any]]:
        writer = _stream_writer()  # captured here: the graph's config lives in this context
        ctx = contextvars.copy_context()
        return await asyncio.to_thread(ctx.run, self._execute, kwargs, writer)

    def _execute(
        self, kwargs: dict[str, Any], writer: StreamWriter | None
    ) -> tuple[str, dict[str, Any]]:
        spec = self.spec
        call_id = CURRENT_CALL_ID.get()

        def progress(event: ProgressEvent) -> None:
            if writer is not None:
                writer(
                    {
                        "sagecoach": "progress",
                        "call_id": call_id,
                        "name": spec.name,
                        "message": event.message,
                        "done": event.done,
                        "total": event.total,
                        "unit": event.unit,
                    }
                )

        ctx = self.context_factory(spec, call_id, progress)
        if writer is not None:
            writer({"sagecoach": "tool_started", "call_id": call_id, "name": spec.name})
        started = time.perf_counter()
        try:
            result = spec.run(ctx, kwargs)
        except ToolError as exc:
            if call_id:
                _ERROR_KINDS[call_id] = exc.kind
            raise ToolException(exc.message) from exc
        artifact = result.artifact()
        artifact["duration_ms"] = round((time.perf_counter() - started) * 1000, 2)
        return result.text, artifact


def _with_error_kind(result: Any, call_id: str) -> Any:
    kind = _ERROR_KINDS.pop(call_id, "") if call_id else ""
    if isinstance(result, ToolMessage) and result.status == "error":
        artifact = result.artifact if isinstance(result.artifact, dict) else {}
        artifact.setdefault("error_kind", kind or "error")
        result.artifact = artifact
    return result


def _call_id(value: Any) -> str:
    if isinstance(value, dict) and value.get("type") == "tool_call":
        return str(value.get("id") or "")
    return ""


def _validation_message(name: str, exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return format_validation_error(name, exc) + ". Fix the arguments and try again."
    return f"Invalid arguments for {name}: {exc}"


def to_langchain_tool(spec: ToolSpec, context_factory: ContextFactory) -> SpecTool:
    """Wrap one ToolSpec. `context_factory(spec, call_id, progress)` builds the ToolContext
    for each call (so progress can be routed by call id and cancellation shared)."""
    return SpecTool(
        name=spec.name,
        description=spec.description,
        args_schema=spec.args_model,
        spec=spec,
        context_factory=context_factory,
    )


def simple_context_factory(base: ToolContext) -> ContextFactory:
    """A factory that reuses one ToolContext's AWS, ledger, sandbox and cancel flag."""

    def make(
        spec: ToolSpec, call_id: str, progress: Callable[[ProgressEvent], None]
    ) -> ToolContext:
        ctx = ToolContext(
            base.aws,
            session_id=base.session_id,
            state_dir=base.state_dir,
            progress=progress,
            ledger=base.ledger,
            sandbox=base.sandbox,
        )
        ctx.poll_interval = base.poll_interval
        ctx.cancel_event = base.cancel_event
        return ctx

    return make


def to_langchain_tools(specs: list[ToolSpec], context_factory: ContextFactory) -> list[SpecTool]:
    return [to_langchain_tool(spec, context_factory) for spec in specs]


def args_of(model: BaseModel) -> dict[str, Any]:
    """JSON-ready arguments (for events and the audit log)."""
    return model.model_dump(mode="json")
