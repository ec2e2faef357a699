"""Start-up work that was made lazy or shared must not change what the tools, the planner and
the front ends do (bench/startup_bench.py measures the speed)."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tools.core.declaration import ToolSpec, tool_input_schema
from tools.core.langchain_adapter import to_langchain_tool
from tools.core.registry import all_tools, get_tool

ROOT = Path(__file__).resolve().parent.parent


def _wrapped(spec: ToolSpec) -> Any:
    return to_langchain_tool(spec, lambda *args: None)


def test_the_planner_reads_the_same_fields_as_from_langchains_conversion() -> None:
    """The offline planner takes a wrapped tool's schema from its spec instead of LangChain's
    conversion (which builds a model per tool): every field it sees is the same."""
    from langchain_core.utils.function_calling import convert_to_openai_tool

    from agent.offline.model import _to_openai
    from agent.offline.toolinfo import tool_info_from_any

    specs = all_tools()
    assert len(specs) > 80
    for spec in specs:
        tool = _wrapped(spec)
        fast, slow = (
            tool_info_from_any(_to_openai(tool)),
            tool_info_from_any(convert_to_openai_tool(tool)),
        )
        assert fast.name == slow.name == spec.name
        assert fast.description == slow.description
        assert fast.fields == slow.fields, spec.name
        assert fast.args_model is slow.args_model is spec.args_model


def test_a_tool_that_is_not_registered_still_goes_through_langchain() -> None:
    from langchain_core.tools import tool as lc_tool

    from agent.offline.model import _to_openai

    @lc_tool
    def shout(text: str) -> str:
        """Say it louder."""
        return text.upper()

    converted = _to_openai(shout)
    assert converted["function"]["name"] == "shout"
    assert converted["function"]["parameters"]["required"] == ["text"]


def _without_titles(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_titles(v) for k, v in node.items() if k != "title"}
    if isinstance(node, list):
        return [_without_titles(v) for v in node]
    return node


def test_the_input_schema_is_generated_once_and_handed_out_as_a_copy() -> None:
    spec = get_tool("s3_create_bucket")
    first = tool_input_schema(spec.args_model)
    assert first == _without_titles(spec.args_model.model_json_schema())
    assert first["additionalProperties"] is False and "bucket" in first["properties"]
    first["properties"].clear()  # a caller that edits its copy
    second = tool_input_schema(spec.args_model)
    assert second == _without_titles(spec.args_model.model_json_schema())


def test_arguments_validate_as_before_through_the_wrapped_tool() -> None:
    """The same model validates: good arguments pass, AWS's naming rules still reject."""
    from tools.core.errors import ToolError

    spec = get_tool("s3_create_bucket")
    assert spec.validate({"bucket": "my-ml-data-2024"}).bucket == "my-ml-data-2024"
    with pytest.raises(ToolError, match="bucket"):
        spec.validate({"bucket": "Bad_Bucket"})
    with pytest.raises(ToolError, match="is not an argument of this tool"):
        spec.validate({"bucket": "my-ml-data-2024", "colour": "red"})


# --- the garbage collector is paused while a front end starts ------------------------------
@pytest.fixture
def gc_restored() -> Any:
    enabled = gc.isenabled()
    yield
    gc.unfreeze()
    if enabled:
        gc.enable()
    else:  # pragma: no cover
        gc.disable()


def test_pause_and_resume_collection(gc_restored: Any) -> None:
    from tui.gc_pause import pause_collection, resume_collection

    gc.enable()
    pause_collection()
    assert not gc.isenabled()
    pause_collection()  # twice is harmless
    resume_collection()
    assert gc.isenabled() and gc.get_freeze_count() > 0
    gc.disable()  # someone else turned it off: resuming without a pause leaves it alone
    resume_collection()
    assert not gc.isenabled()


def test_ask_turns_collection_back_on_when_the_session_cannot_open(
    monkeypatch: pytest.MonkeyPatch, gc_restored: Any
) -> None:
    from tui.cli import app

    seen: list[bool] = []

    async def no_session(settings: Any, conversation: str | None) -> Any:
        seen.append(gc.isenabled())
        raise KeyError("no conversation 'c-nope' (see `sagecoach ask --list`)")

    monkeypatch.setattr("tui.commands.ask._open", no_session)
    gc.enable()
    result = CliRunner().invoke(app, ["ask", "--sandbox", "--conversation", "c-nope", "hi"])
    assert result.exit_code == 2 and "c-nope" in result.output
    assert seen == [False]  # paused while the session opened
    assert gc.isenabled()


# --- what a client process imports ----------------------------------------------------------
def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SAGECOACH_"))}
    env.update(
        HOME=str(home), XDG_STATE_HOME=str(home / "state"), XDG_CONFIG_HOME=str(home / "config"),
        AWS_CONFIG_FILE=str(home / "absent"), AWS_SHARED_CREDENTIALS_FILE=str(home / "absent"),
        AWS_EC2_METADATA_DISABLED="true",
    )  # fmt: skip
    return env


@pytest.mark.slow
def test_ask_on_a_running_sandbox_imports_no_server_no_bedrock_no_data_science(
    tmp_path: Path,
) -> None:
    """`sagecoach ask --sandbox` with the offline planner, while the shared sandbox runs: the
    client loads neither moto (the server is another process), nor langchain_aws (no Bedrock
    model), nor Textual, pandas, xgboost or scikit-learn. (numpy it does load: the offline
    planner's embedding ranking is numpy arithmetic, about 70 ms of import.)"""
    from sandbox import daemon

    daemon.connect(tmp_path / "state" / "sagecoach", idle_timeout_s=120)
    modules = tmp_path / "modules.txt"
    script = (
        "import atexit, runpy, sys\n"
        f"atexit.register(lambda: open({str(modules)!r}, 'w').write('\\n'.join(sys.modules)))\n"
        "sys.argv = ['sagecoach', 'ask', '--sandbox', '--json', 'list my buckets']\n"
        "runpy.run_module('tui.cli', run_name='__main__')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=_env(tmp_path), capture_output=True,
        text=True, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "sagecoach-demo" in done.stdout
    imported = set(modules.read_text().split())
    assert {"langchain.agents", "botocore", "tools.stages.collection.s3"} <= imported
    tops = {name.split(".")[0] for name in imported}
    assert not tops & {"moto", "langchain_aws", "textual", "pandas", "xgboost", "sklearn"}
    assert "agent.offline.semantic" in imported  # why numpy is there
