"""Conversation metadata (id, title, timestamps, paused-on-approval flag) next to the
LangGraph checkpoints, in the same SQLite file (state_dir/conversations.sqlite)."""

from __future__ import annotations

import uuid
from typing import Any

from agent.session_api import ConversationInfo
from tools.core.results import utc_now

DB_NAME = "conversations.sqlite"
TITLE_LEN = 60

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sagecoach_conversations (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    pending INTEGER NOT NULL DEFAULT 0
)
"""


def new_conversation_id() -> str:
    return "c-" + uuid.uuid4().hex[:10]


def shorten_title(text: str, limit: int = TITLE_LEN) -> str:
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    cut = line[: limit - 1].rsplit(" ", 1)[0] or line[: limit - 1]
    return cut + "…"


class ConversationStore:
    """Uses the AsyncSqliteSaver's own aiosqlite connection and lock."""

    def __init__(self, saver: Any) -> None:
        self.saver = saver

    async def setup(self) -> None:
        async with self.saver.lock:
            # WAL with synchronous=NORMAL: no fsync per checkpoint, still corruption-safe.
            await self.saver.conn.execute("PRAGMA journal_mode=WAL")
            await self.saver.conn.execute("PRAGMA synchronous=NORMAL")
            await self.saver.conn.execute(_SCHEMA)
            await self.saver.conn.commit()

    async def _exec(self, sql: str, params: tuple = ()) -> None:
        async with self.saver.lock:
            await self.saver.conn.execute(sql, params)
            await self.saver.conn.commit()

    async def _rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        async with self.saver.lock, self.saver.conn.execute(sql, params) as cur:
            return list(await cur.fetchall())

    async def ensure(self, conversation_id: str) -> None:
        now = utc_now()
        await self._exec(
            "INSERT OR IGNORE INTO sagecoach_conversations (id, title, created_at, updated_at) "
            "VALUES (?, '', ?, ?)",
            (conversation_id, now, now),
        )

    async def touch(
        self, conversation_id: str, *, first_text: str = "", pending: bool = False
    ) -> None:
        """Create or update in one statement (one commit per call)."""
        now = utc_now()
        await self._exec(
            "INSERT INTO sagecoach_conversations (id, title, created_at, updated_at, pending) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET updated_at = excluded.updated_at, "
            "pending = excluded.pending, title = CASE WHEN title = '' THEN excluded.title ELSE title END",
            (
                conversation_id,
                shorten_title(first_text) if first_text else "",
                now,
                now,
                1 if pending else 0,
            ),
        )

    async def exists(self, conversation_id: str) -> bool:
        rows = await self._rows(
            "SELECT 1 FROM sagecoach_conversations WHERE id = ?", (conversation_id,)
        )
        return bool(rows)

    async def list(self) -> list[ConversationInfo]:
        rows = await self._rows(
            "SELECT id, title, created_at, updated_at, pending FROM sagecoach_conversations "
            "ORDER BY updated_at DESC, created_at DESC"
        )
        return [
            ConversationInfo(
                id=r[0], title=r[1], created_at=r[2], updated_at=r[3], pending_approval=bool(r[4])
            )
            for r in rows
        ]

    async def delete(self, conversation_id: str) -> None:
        await self._exec("DELETE FROM sagecoach_conversations WHERE id = ?", (conversation_id,))
