"""Reading LangChain messages: the messages in a graph update, a message as a plain dict for
front ends, a short summary, the model's id.
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, ToolMessage

from agent.data_frame import unwrap_data

SUMMARY_CHARS = 300


def messages_of(update: Any) -> list[Any]:
    """Messages inside a node update (a dict, a Command, or a list of those)."""
    if update is None:
        return []
    if isinstance(update, list):
        out: list[Any] = []
        for item in update:
            out.extend(messages_of(item))
        return out
    if isinstance(update, dict):
        messages = update.get("messages") or []
        return list(messages) if isinstance(messages, list | tuple) else [messages]
    inner = getattr(update, "update", None)  # langgraph Command
    return messages_of(inner) if inner is not None else []


def short_summary(text: str) -> str:
    text = text.strip()
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1] + "…"


def message_dict(message: Any) -> dict[str, Any]:
    role = {"human": "user", "ai": "assistant", "tool": "tool", "system": "system"}.get(
        message.type, message.type
    )
    text = unwrap_data(message.text) if isinstance(message, ToolMessage) else message.text
    out: dict[str, Any] = {"role": role, "id": message.id, "text": text}
    if isinstance(message, AIMessage) and message.tool_calls:
        out["tool_calls"] = [
            {"id": c["id"], "name": c["name"], "args": c["args"]} for c in message.tool_calls
        ]
    if isinstance(message, ToolMessage):
        out["tool_call_id"] = message.tool_call_id
        out["name"] = message.name
        out["status"] = message.status
    return out


def model_id_of(model: Any, spec: str) -> str:
    return str(
        getattr(model, "model_id", None)
        or getattr(model, "model", None)
        or spec
        or type(model).__name__
    )
