"""ToolSpec → LangChain tool: schemas Bedrock accepts, results, errors, ledger; tool scoping."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from jsonschema import Draft202012Validator
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import BaseTool

from agent.tool_scope import LOAD_STAGE_TOOL, ToolScopeMiddleware
from tests.test_runtime import TOOLS, BucketArgs, NoArgs
from tools.core.context import ToolContext
from tools.core.declaration import ToolSpec
from tools.core.errors import ToolError
from tools.core.langchain_adapter import (
    simple_context_factory,
    to_langchain_tool,
    to_langchain_tools,
)
from tools.core.registry import load_all
from tools.core.results import ToolResult

NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9_-]{0,63}$")
UNSUPPORTED_TOP = ("anyOf", "oneOf", "allOf", "not", "if", "$ref")


def _refs_resolve(schema: dict[str, Any]) -> list[str]:
    missing = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                key = ref.removeprefix("#/$defs/")
                if not ref.startswith("#/$defs/") or key not in schema.get("$defs", {}):
                    missing.append(ref)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return missing


def _check_tool_spec(tool_spec: dict[str, Any]) -> None:
    spec = tool_spec["toolSpec"]
    assert NAME.match(spec["name"]), spec["name"]
    assert spec["description"].strip(), spec["name"]
    schema = spec["inputSchema"]["json"]
    assert schema.get("type") == "object", spec["name"]
    assert isinstance(schema.get("properties", {}), dict)
    assert not [k for k in UNSUPPORTED_TOP if k in schema], spec["name"]
    assert set(schema.get("required", [])) <= set(schema.get("properties", {})), spec["name"]
    assert not _refs_resolve(schema), spec["name"]
    Draft202012Validator.check_schema(schema)
    json.dumps(tool_spec)  # plain JSON


def test_every_registered_tool_has_a_valid_bedrock_schema() -> None:
    from langchain_aws.chat_models.bedrock_converse import _format_tools

    specs = load_all().all()
    assert specs, "the registry is empty"
    for spec in specs:
        _check_tool_spec(spec.to_bedrock_tool_spec())
        assert len(spec.description) <= 300, (
            f"{spec.name}: description too long for the schema budget"
        )
    # What ChatBedrockConverse actually sends for the adapted tools.
    sent = _format_tools(to_langchain_tools(specs, None))
    assert [t["toolSpec"]["name"] for t in sent] == [s.name for s in specs]
    for tool_spec in sent:
        _check_tool_spec(tool_spec)


def _call(tool: BaseTool, args: dict[str, Any], call_id: str = "call-1") -> ToolMessage:
    return tool.invoke({"type": "tool_call", "name": tool.name, "args": args, "id": call_id})


def test_result_becomes_content_and_artifact_and_ledger(
    tool_ctx: ToolContext, sandbox: Any, tmp_path: Path
) -> None:
    from tools.ledger.store import ResourceLedger

    tool_ctx.ledger = ResourceLedger(tmp_path / "ledger.json")
    create = next(t for t in TOOLS if t.name == "tst_create_bucket")
    tool = to_langchain_tool(create, simple_context_factory(tool_ctx))
    assert tool.args_schema is BucketArgs and tool.response_format == "content_and_artifact"
    message = _call(tool, {"bucket": "adapter-bucket"})
    assert message.status == "success" and message.content == "created adapter-bucket"
    assert message.artifact["resources"][0]["name"] == "adapter-bucket"
    assert message.artifact["resources"][0]["region"] == "us-east-1"
    assert message.artifact["duration_ms"] >= 0
    (entry,) = tool_ctx.ledger.entries(session_id="test-session")
    assert (entry.kind, entry.name) == ("s3_bucket", "adapter-bucket")


def test_invalid_arguments_become_a_readable_error(tool_ctx: ToolContext) -> None:
    create = next(t for t in TOOLS if t.name == "tst_create_bucket")
    tool = to_langchain_tool(create, simple_context_factory(tool_ctx))
    message = _call(tool, {"bucket": "X", "extra": 1})
    assert message.status == "error"
    assert message.content.startswith("Invalid arguments for tst_create_bucket:")
    assert "extra: is not an argument of this tool" in message.content


def test_tool_error_and_client_error_become_error_results(tool_ctx: ToolContext) -> None:
    def missing(ctx: ToolContext, args: NoArgs) -> ToolResult:
        raise ToolError("No such job 'x'.", kind="not_found")

    def denied(ctx: ToolContext, args: NoArgs) -> ToolResult:
        raise ClientError(
            {
                "Error": {
                    "Code": "AccessDeniedException",
                    "Message": "not authorized to perform: sagemaker:CreateModel",
                }
            },
            "CreateModel",
        )

    factory = simple_context_factory(tool_ctx)
    tool = to_langchain_tool(
        ToolSpec("tst_missing", "general", "Fail.", "read", (), NoArgs, missing), factory
    )
    message = _call(tool, {})
    assert (message.status, message.content) == ("error", "No such job 'x'.")
    assert message.artifact["error_kind"] == "not_found"

    tool = to_langchain_tool(
        ToolSpec("tst_denied", "general", "Fail.", "read", (), NoArgs, denied), factory
    )
    message = _call(tool, {}, "call-2")
    assert message.status == "error" and message.artifact["error_kind"] == "access_denied"
    assert "sagemaker:CreateModel" in message.content and "Access denied" in message.content


async def test_async_invoke_runs_in_a_thread(tool_ctx: ToolContext, sandbox: Any) -> None:
    import threading

    seen: list[str] = []

    def where(ctx: ToolContext, args: NoArgs) -> ToolResult:
        seen.append(threading.current_thread().name)
        return ToolResult("ok")

    tool = to_langchain_tool(
        ToolSpec("tst_where", "general", "Where.", "read", (), NoArgs, where),
        simple_context_factory(tool_ctx),
    )
    message = await tool.ainvoke({"type": "tool_call", "name": "tst_where", "args": {}, "id": "c"})
    assert message.content == "ok" and seen and seen[0] != threading.current_thread().name


def test_tool_scope_keeps_requests_under_budget() -> None:
    specs = load_all().all()
    scope = ToolScopeMiddleware(specs)
    tools = [*to_langchain_tools(specs, None), *scope.tools]
    names = lambda chosen: {t.name for t in chosen}  # noqa: E731
    full = sum(scope._size(t) for t in tools)
    chosen = scope.select(tools, [HumanMessage("train an xgboost model on my churn data")])
    assert sum(scope._size(t) for t in chosen) <= scope.budget
    general = {s.name for s in specs if s.stage == "general"}
    assert general | {LOAD_STAGE_TOOL} <= names(chosen)
    if full > scope.budget:  # with the whole registry the set must be scoped
        assert "sagemaker_start_training_job" in names(chosen)
        assert len(chosen) < len(tools)
        deploy = {s.name for s in specs if s.stage == "deployment"}
        assert not deploy & names(chosen)
        # The model asks for deployment tools: they come in next time.
        asked = AIMessage(
            content="",
            tool_calls=[{"name": LOAD_STAGE_TOOL, "args": {"stages": ["deployment"]}, "id": "l1"}],
        )
        later = scope.select(
            tools, [HumanMessage("train it"), asked, ToolMessage("ok", tool_call_id="l1")]
        )
        assert deploy <= names(later)
        assert sum(scope._size(t) for t in later) <= scope.budget


def test_small_tool_sets_are_sent_whole() -> None:
    scope = ToolScopeMiddleware(TOOLS)
    tools = [*to_langchain_tools(TOOLS, None), *scope.tools]
    assert [t.name for t in scope.select(tools, [HumanMessage("hi")])] == [t.name for t in TOOLS]


@pytest.mark.parametrize("stages", [["training"], ["nonsense"]])
def test_load_stage_tools_answers(stages: list[str]) -> None:
    scope = ToolScopeMiddleware(load_all().all())
    (tool,) = scope.tools
    text = tool.invoke({"stages": stages})
    if stages == ["training"]:
        assert "sagemaker_start_training_job" in text
    else:
        assert "unknown stages" in text
