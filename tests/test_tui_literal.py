"""The app shows data literally: Rich markup in a cell is text, terminal escapes are removed;
exports are private."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

from rich.console import Console

from tests.fake_session import FakeSession
from tests.tui_helpers import make_app, ready, send, wait_until
from tui.widgets.chat import RowsTable, literal

SIZE = (120, 40)

HOSTILE = [
    {"name": "[bold red]evil[/]", "comment": "[/]", "note": "\x1b[31mred\x1b[0m\x1b]0;pwned\x07ok"},
    {"name": "[link=http://x]click[/link]", "comment": "tab\tbell\x07", "note": "plain"},
]


def render(table: RowsTable) -> str:
    out = io.StringIO()
    Console(file=out, width=140, color_system="truecolor", force_terminal=True).print(table)
    return out.getvalue()


def test_cells_and_headers_are_text_not_markup() -> None:
    shown = render(RowsTable(HOSTILE))  # "[/]" as markup would raise MarkupError
    for literal_text in ("[bold red]evil[/]", "[/]", "[link=http://x]click[/link]"):
        assert literal_text in shown
    assert "pwned" not in shown and "\x07" not in shown
    assert "redok" in shown  # the escape sequences are gone, the text stays
    weird_header = RowsTable([{"[b]col[/b]": 1}])
    assert "[b]col[/b]" in render(weird_header)


def test_literal_strips_escape_sequences_and_controls() -> None:
    assert literal("\x1b[2J\x1b[Hcleared") == "cleared"
    assert literal("a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\b") == "alinkb"
    assert literal("keep\nlines\tand tabs\x00\x7f") == "keep\nlines\tand tabs"


async def test_export_is_private(tmp_path: Path) -> None:
    app = make_app(FakeSession(), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "/export")
        exports = tmp_path / "exports"
        await wait_until(pilot, lambda: exports.is_dir() and any(exports.iterdir()))
    (path,) = exports.iterdir()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(exports).st_mode) == 0o700
