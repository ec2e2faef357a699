"""Prompt history: Up/Down in the prompt walks it; kept across sessions in the state directory.

The file is private (0600) and holds redacted text: a secret typed once is not kept on disk
(this session's Up arrow still has it)."""

from __future__ import annotations

import json
from pathlib import Path

from tools.core.private_files import open_private, write_private
from tools.core.redact import redact_text

MAX_ENTRIES = 1000


class PromptHistory:
    """Entries oldest first; `previous`/`next` move a cursor; the draft is kept while browsing."""

    def __init__(self, path: Path | None, max_entries: int = MAX_ENTRIES) -> None:
        self.path = path
        self.max_entries = max_entries
        self.entries: list[str] = self._load()
        self._cursor = len(self.entries)
        self._draft = ""

    def _load(self) -> list[str]:
        if self.path is None or not self.path.is_file():
            return []
        out: list[str] = []
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        for line in lines:
            try:
                text = json.loads(line).get("text")
            except (ValueError, AttributeError):
                continue  # a torn or foreign line is skipped, never fatal
            if isinstance(text, str) and text:
                out.append(text)
        return out[-self.max_entries :]

    def add(self, text: str) -> None:
        text = text.strip()
        self._cursor = len(self.entries)
        if not text or (self.entries and self.entries[-1] == text):
            self._cursor = len(self.entries)
            return
        self.entries.append(text)
        self._cursor = len(self.entries)
        if self.path is None:
            return
        try:
            if len(self.entries) > self.max_entries * 2:
                self.entries = self.entries[-self.max_entries :]
                self._cursor = len(self.entries)
                body = "".join(json.dumps({"text": redact_text(e)}) + "\n" for e in self.entries)
                write_private(self.path, body)
            else:
                with open_private(self.path, "a") as fh:
                    fh.write(json.dumps({"text": redact_text(text)}) + "\n")
        except OSError:
            pass  # history is a convenience; never break the app over it

    def attach(self, path: Path) -> None:
        """Start keeping history at `path` (known once settings load): its entries come first,
        then anything typed before."""
        typed = self.entries
        self.path = path
        self.entries = self._load()
        for text in typed:
            self.add(text)
        self._cursor = len(self.entries)

    def previous(self, current: str) -> str | None:
        """The entry before the cursor, or None at the oldest."""
        if self._cursor == len(self.entries):
            self._draft = current
        if self._cursor == 0:
            return None
        self._cursor -= 1
        return self.entries[self._cursor]

    def next(self) -> str | None:
        """The entry after the cursor; past the newest, the draft; None when not browsing."""
        if self._cursor >= len(self.entries):
            return None
        self._cursor += 1
        if self._cursor == len(self.entries):
            return self._draft
        return self.entries[self._cursor]

    def reset(self) -> None:
        self._cursor = len(self.entries)
