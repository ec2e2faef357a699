"""Unit tests of the app's parts that need no running app: history, slash commands, resources
panel, approval texts, audit filter, stage info, and import hygiene of the command line."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

from rich.console import Console

from tui import slash
from tui.history import PromptHistory
from tui.screens.approval import estimate_lines
from tui.screens.audit import matches, record_detail
from tui.stage_info import stage_infos
from tui.widgets.chat import format_args, format_duration, rows_table
from tui.widgets.sidebar import resources_view


def text_of(renderable: object) -> str:
    console = Console(width=120, record=True, color_system=None, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def test_history_skips_torn_lines_and_repeats(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    path.write_text('{"text": "one"}\n{"text": "tw\n')  # a torn last line
    history = PromptHistory(path)
    assert history.entries == ["one"]
    history.add("two")
    history.add("two")  # a repeat is not stored twice
    history.add("   ")
    assert [json.loads(line)["text"] for line in path.read_text().splitlines()[-1:]] == ["two"]
    assert PromptHistory(path).entries == ["one", "two"]
    assert history.previous("draft") == "two"
    assert history.previous("") == "one"
    assert history.previous("") is None
    assert history.next() == "two"
    assert history.next() == "draft"
    assert history.next() is None


def test_history_is_capped(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    history = PromptHistory(path, max_entries=5)
    for i in range(12):
        history.add(f"m{i}")
    assert PromptHistory(path, max_entries=5).entries == [f"m{i}" for i in range(7, 12)]


def test_slash_parse_and_complete() -> None:
    assert slash.parse("/mode auto") == ("mode", "auto")
    assert slash.parse("  /HELP ") == ("help", "")
    assert slash.parse("what is /mode?") is None
    assert slash.parse("//not a command") is None
    assert [c.name for c in slash.complete("/re")] == ["region", "resources", "resume"]
    assert slash.complete("/mode a") == []
    assert {c.name for c in slash.complete("/")} == set(slash.NAMES)
    assert set(slash.NAMES) == {
        "tool",
        "help", "stages", "tools", "mode", "model", "region",
        "resources", "cleanup", "log", "new", "resume", "export",
    }  # fmt: skip


def test_resources_view_counts_running_cost_and_ended_resources() -> None:
    now = 1748782800.0  # 2025-06-01T13:00:00Z, one hour after creation
    resources = [
        {"kind": "sagemaker_endpoint", "name": "ep", "hourly_usd": 0.2,
         "created_at": "2025-06-01T12:00:00Z"},
        {"kind": "s3_bucket", "name": "b", "hourly_usd": None, "created_at": "2025-06-01T12:00:00Z"},
        {"kind": "sagemaker_endpoint", "name": "old", "hourly_usd": 1.0, "status": "deleted",
         "cost_so_far_usd": 0.5},
    ]  # fmt: skip
    text = text_of(resources_view(resources, 1.0, now))
    assert "running $0.200/h" in text
    assert "est. spend so far $1.70" in text  # 1.00 approved + 0.20 accrued + 0.50 ended
    assert "(deleted)" in text
    assert text_of(resources_view([], 0.0, now)).strip() == "none yet"


def test_estimate_lines_show_range_basis_and_date() -> None:
    text = text_of(
        estimate_lines(
            {"low_usd": 0.5, "high_usd": 2.0, "basis": "ml.m5.xlarge × 2 h", "known": True,
             "source": "bundled price table", "price_date": "2025-06-01", "hourly_usd": 0.23}
        )
    )  # fmt: skip
    assert "$0.50 – $2.00" in text and "$0.230/h until deleted" in text
    assert "basis: ml.m5.xlarge × 2 h" in text and "as of 2025-06-01" in text
    unknown = text_of(
        estimate_lines({"low_usd": None, "high_usd": None, "known": False, "basis": "?"})
    )
    assert "no price known" in unknown
    assert "free" in text_of(estimate_lines(None))


def test_audit_filter_and_details() -> None:
    aws = {"kind": "aws_call", "session": "abc", "service": "s3", "operation": "CreateBucket",
           "http_status": 200, "tool": "s3_create_bucket"}  # fmt: skip
    tool = {"kind": "tool_call", "session": "def", "name": "glue_start_crawler", "status": "error",
            "error": "AccessDenied"}  # fmt: skip
    assert matches(aws, "kind:aws_call tool:s3_create") and not matches(tool, "kind:aws_call")
    assert matches(tool, "accessdenied session:de") and not matches(tool, "session:abc")
    assert record_detail(aws) == "s3:CreateBucket 200"
    assert record_detail(tool) == "error AccessDenied"


def test_card_formatting() -> None:
    assert format_duration(0) == "" and format_duration(312) == "312 ms"
    assert format_duration(4200) == "4.2 s" and format_duration(181_000) == "3 min 01 s"
    assert format_args({"bucket": "b", "n": 2}) == "bucket=b  n=2"
    assert format_args({"x": "y" * 500}).endswith("…")
    table, left = rows_table([{"a": i} for i in range(40)])
    assert left == 25 and table.row_count == 15


def test_every_stage_has_services_and_next_steps() -> None:
    infos = stage_infos()
    assert [i.number for i in infos] == list(range(1, 10))
    for info in infos:
        assert info.services and info.next_steps, info.id


def test_command_line_help_imports_no_heavy_modules() -> None:
    code = (
        "import sys, tui.cli; "
        "print(sorted(m for m in ('textual', 'boto3', 'langchain', 'moto', 'sagemaker')"
        " if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_agent_and_tools_never_import_textual() -> None:
    code = (
        "import sys, agent.runtime, tools.core.registry; tools.core.registry.load_all(); "
        "print('textual' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
