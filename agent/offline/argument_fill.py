"""The state one argument extraction shares across its fillers (the request, its entities, the
conversation, the result so far, the values already used) and the field tests every filler
needs: what kind of thing a field names, whether it is an S3 location or a local file, and
whether the tool creates that kind. The fillers (fill_*.py) extend this class."""

from __future__ import annotations

import re
from typing import Any

from agent.offline.argument_words import KIND_ALIASES, NOT_NAMES
from agent.offline.entities import Entities
from agent.offline.extraction import Extraction
from agent.offline.memory import Memory, field_kind, kinds_match, tool_object
from agent.offline.text import content_words, expand, fold_phrases, raw_words
from agent.offline.toolinfo import FieldInfo, ToolInfo


class ArgumentFill:
    """One request read against one tool's fields; each filler mixin adds one kind of value."""

    def __init__(self, info: ToolInfo, text: str, ent: Entities, memory: Memory) -> None:
        self.info = info
        self.text = text
        self.low = text.lower()
        self.ent = ent
        self.memory = memory
        self.words = set(raw_words(fold_phrases(text)))
        # the words, not the values: "s3://b/tmp/" says nothing about buckets to delete
        self.stems = set(expand(content_words(ent.ranking_text or text)))
        self.result = Extraction()
        self.obj = tool_object(info.name)
        self.used_idents: set[str] = set()
        self.used_s3: set[str] = set()
        self.used_files: set[str] = set()
        self.used_numbers: set[int] = set()
        self.masked = text  # the text with structured values (hyperparameters) blanked out
        self.known: dict[str, Any] = {}

    def _kind(self, f: FieldInfo) -> str:
        return field_kind(self.info.name, f.name)

    def _is_s3(self, f: FieldInfo) -> bool:
        if "string" not in f.types and not (f.is_array and "string" in f.item_types):
            return False
        n, d = f.name.lower(), f.description.lower()
        if "image" in n or "ecr" in d or "arn" in n:
            return False
        if "s3" in n or n.endswith(("uri", "uris", "url")):
            return True
        return "s3://" in d or "s3 uri" in d or "s3 prefix" in d or "s3 location" in d

    def _is_file(self, f: FieldInfo) -> bool:
        if "string" not in f.types or self._is_s3(f):
            return False
        n, d = f.name.lower(), f.description.lower()
        return any(
            w in n for w in ("local", "file", "path", "script", "handler", "entry_point")
        ) or ("local" in d and ("file" in d or "path" in d))

    def set(self, f: FieldInfo, value: Any, used: str = "") -> None:
        self.result.args[f.name] = value
        if used:
            self.result.used.add(used)

    def _kind_words(self, kind: str) -> list[str]:
        words = kind.replace("_", " ").split()
        alts = {" ".join(words), words[-1]}
        alts |= KIND_ALIASES.get(kind, set())
        return sorted(alts, key=len, reverse=True)

    def _named_bucket(self) -> str | None:
        """ "bucket churn-data", "my churn-data bucket", "the sagecoach-demo bucket"."""
        m = re.search(
            r"(?i)\bbucket\s+(?:named\s+|called\s+)?[\"'`]?([a-z0-9][a-z0-9.\-]{2,62})", self.text
        ) or re.search(
            r"(?i)\b([a-z0-9][a-z0-9.\-]{2,62}[0-9.\-][a-z0-9.\-]*)\s+(?:s3\s+)?bucket\b", self.text
        )
        return m.group(1) if m and m.group(1).lower() not in NOT_NAMES else None

    def _creates(self, kind: str) -> bool:
        verbs = ("create", "start", "submit", "put", "build")
        verb = next((v for v in verbs if f"_{v}_" in f"_{self.info.name}_"), None)
        return (
            verb is not None
            and bool(self.obj)
            and (kinds_match(kind, self.obj) or self.obj.startswith(kind))
        )
