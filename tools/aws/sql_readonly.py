"""Decides whether an Athena (Trino/Hive) SQL text only reads.

A prefix match is not enough: `SELECT 1; DROP TABLE t`, `WITH x AS (...) INSERT ...`,
`/* SELECT */ UNLOAD ...` and `EXPLAIN ANALYZE INSERT ...` all start like reads. So the text is
tokenised (comments and quoted strings removed), split into statements, and each statement is
checked for a mutating keyword at any nesting depth.

Text the tokeniser cannot read with certainty is refused, never guessed: an unterminated
string, quoted name or block comment, and a backslash before a quote inside a string literal (Trino reads
`'\''` as a one-character string followed by a new string; Hive, which runs Athena's DDL,
reads it as an escaped quote, so `SELECT '\'' ; DROP TABLE x; --'` hides a DROP).
"""

from __future__ import annotations

import re

READ_STARTS = {"SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "VALUES", "TABLE"}
MUTATING = {
    "INSERT", "UPDATE", "DELETE", "MERGE", "CREATE", "DROP", "ALTER", "UNLOAD", "MSCK",
    "TRUNCATE", "GRANT", "REVOKE", "OPTIMIZE", "VACUUM", "REPLACE", "RENAME", "CALL",
    "EXECUTE", "PREPARE", "DEALLOCATE", "SET", "RESET", "COMMENT", "LOAD", "REFRESH", "USE",
}  # fmt: skip

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<line_comment>--[^\n]*)
  | (?P<block_comment>/\*.*?(\*/|\Z))
  | (?P<sq>'(?:[^']|'')*('|\Z))
  | (?P<dq>"(?:[^"]|"")*("|\Z))
  | (?P<bq>`[^`]*(`|\Z))
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<semi>;)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


class UnreadableSql(ValueError):
    """SQL whose statements cannot be told apart with certainty."""


def _check_token(kind: str | None, text: str) -> None:
    if kind == "block_comment" and not text.endswith("*/"):
        raise UnreadableSql("a /* comment is never closed")
    if kind in ("sq", "dq", "bq"):
        quote = text[0]
        if len(text) < 2 or not text.endswith(quote):
            raise UnreadableSql(f"a {quote} quote is never closed")
        if kind == "sq" and "\\'" in text:
            raise UnreadableSql(
                "a string holds \\' (a backslash before a quote), which Athena's engines read "
                "differently: write a quote inside a string as ''"
            )


def statements(sql: str) -> list[list[str]]:
    """Upper-cased keyword tokens of each statement; literals and identifiers in quotes dropped.

    Raises UnreadableSql for text that could be split into statements in more than one way."""
    result: list[list[str]] = [[]]
    for match in _TOKEN.finditer(sql):
        kind = match.lastgroup
        _check_token(kind, match.group())
        if kind == "word":
            result[-1].append(match.group().upper())
        elif kind == "semi":
            result.append([])
        elif kind == "other":
            result[-1].append(match.group())
    return [s for s in result if s]


def first_keyword(sql: str) -> str:
    try:
        parts = statements(sql)
    except UnreadableSql:
        return ""
    return parts[0][0] if parts and parts[0] else ""


def is_read_only_sql(sql: str) -> bool:
    """True only when every statement certainly only reads; unreadable text is not."""
    try:
        parts = statements(sql)
    except UnreadableSql:
        return False
    if not parts:
        return False
    for tokens in parts:
        words = [t for t in tokens if t[0].isalpha() or t[0] == "_"]
        if not words or words[0] not in READ_STARTS:
            return False
        if any(w in MUTATING for w in words):
            return False
    return True


def why_not_read_only(sql: str) -> str:
    """A short reason for the person, e.g. "statement 2 is DROP"."""
    try:
        parts = statements(sql)
    except UnreadableSql as exc:
        return f"the query cannot be read with certainty ({exc})"
    if not parts:
        return "the query is empty"
    for index, tokens in enumerate(parts, start=1):
        words = [t for t in tokens if t[0].isalpha() or t[0] == "_"]
        label = f"statement {index}" if len(parts) > 1 else "the statement"
        if not words:
            return f"{label} has no keyword"
        if words[0] not in READ_STARTS:
            return f"{label} is {words[0]}, which changes data or metadata"
        bad = next((w for w in words if w in MUTATING), None)
        if bad:
            return f"{label} contains {bad}, which changes data or metadata"
    return ""
