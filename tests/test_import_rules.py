"""The layout's import rules hold (`tui` → `agent` → `tools` → `sandbox`, Textual only in `tui`,
no LangChain in `sandbox`, no import loops), and the checker catches each kind of wrong import."""

from __future__ import annotations

from pathlib import Path

from tests.import_rules import check, imports_of, module_name, source_files

ROOT = Path(__file__).resolve().parent.parent


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    """A small project in tmp_path: the four layers with a clean module each, plus `files`."""
    clean = {
        "tui/__init__.py": "",
        "tui/app.py": "import textual\nfrom agent.session import Session\nfrom prompts import text\n",
        "agent/__init__.py": "",
        "agent/session.py": "from tools.core import declare\nfrom prompts import text\n",
        "tools/__init__.py": "",
        "tools/core.py": "import boto3\nfrom sandbox.server import Server\n",
        "sandbox/__init__.py": "",
        "sandbox/server.py": "import moto\n",
        "prompts/__init__.py": "text = 'hi'\n",
    }
    for rel, text in {**clean, **files}.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_the_repository_follows_the_import_rules() -> None:
    assert check(ROOT) == []


def test_the_check_reads_the_real_tree() -> None:
    """Not vacuous: it sees every package and the imports that tie the layers together."""
    files = list(source_files(ROOT, ("tui", "agent", "tools", "sandbox", "prompts")))
    names = {module_name(ROOT, p) for p in files}
    assert {"tui.app", "agent.runtime", "tools.core.declaration", "sandbox.server"} <= names
    app_imports = {i.target for i in imports_of(ROOT, ROOT / "tui" / "app.py", names)}
    assert "agent.events" in app_imports and "textual.app" in app_imports


def test_a_clean_tree_passes(tmp_path: Path) -> None:
    assert check(_tree(tmp_path, {})) == []


def test_an_upward_import_is_caught(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"tools/leak.py": "from agent.session import Session\n"})
    [problem] = check(root)
    assert "tools/leak.py:1" in problem and "may not import the higher layer agent" in problem


def test_a_lazy_upward_import_inside_a_function_is_caught(tmp_path: Path) -> None:
    code = "def f():\n    import tui.app\n    return tui.app\n"
    root = _tree(tmp_path, {"sandbox/hook.py": code})
    [problem] = check(root)
    assert "sandbox/hook.py:2" in problem and "higher layer tui" in problem


def test_textual_below_tui_is_caught(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"agent/ui.py": "from textual.widgets import Static\n"})
    [problem] = check(root)
    assert "agent/ui.py:1" in problem and "only tui may import Textual" in problem


def test_langchain_in_the_sandbox_is_caught(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"sandbox/llm.py": "import langchain_core.messages\n"})
    [problem] = check(root)
    assert "sandbox may not import LangChain" in problem


def test_the_sandbox_importing_tools_is_caught(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"sandbox/client.py": "from tools import core\n"})
    [problem] = check(root)
    assert "sandbox/client.py:1" in problem and "higher layer tools" in problem


def test_a_relative_upward_import_is_resolved_and_caught(tmp_path: Path) -> None:
    root = _tree(
        tmp_path, {"tools/sub/__init__.py": "", "tools/sub/x.py": "from ...agent import session\n"}
    )
    [problem] = check(root)
    assert "tools.sub.x" in problem and "agent.session" in problem


def test_prompts_importing_the_agent_is_caught(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"prompts/load.py": "from agent import session\n"})
    [problem] = check(root)
    assert "prompts imports nothing of ours" in problem


def test_an_import_loop_is_caught_even_through_type_checking(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "agent/a.py": "from agent.b import B\n",
            "agent/b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from agent.c import C\n",
            "agent/c.py": "def f():\n    from agent.a import A\n",
        },
    )
    [problem] = check(root)
    assert problem == "import cycle: agent.a -> agent.b -> agent.c -> agent.a"
