"""Values from the conversation: a field the request refers to ("it", "that job", "the two
runs") or that is required takes the latest thing of its kind from memory; a required choice
follows from the kind of the thing referred to. Some arguments are only ever taken from the
request's own words."""

from __future__ import annotations

import re

from agent.offline.argument_fill import ArgumentFill
from agent.offline.argument_words import KIND_ENUM, ONLY_WHEN_SAID, PRONOUN, REFERENCE
from agent.offline.toolinfo import FieldInfo

_COUNTS = {"two": 2, "both": 2, "pair": 2, "three": 3, "four": 4, "2": 2, "3": 3, "4": 4}


def _how_many(text: str) -> int:
    """ "the two runs" -> 2, "all three" -> 3; 0 when no number is said."""
    m = re.search(r"(?i)\b(two|both|pair|three|four|[234])\b(?!\s*(?:rounds?|hours?|min))", text)
    return _COUNTS[m.group(1).lower()] if m else 0


def refers_to_context(text: str) -> bool:
    """The request points back at something ("it", "that", "the last") instead of naming it."""
    return bool(REFERENCE.search(text))


def _qualifier(tool_name: str) -> str:
    """The kind of job a tool works on, so "the job" prefers a job of that kind from memory."""
    for word in ("training", "tuning", "processing", "transform", "automl", "glue", "crawler"):
        if word in tool_name:
            return word
    if "autopilot" in tool_name:
        return "automl"
    return ""


class ContextFill(ArgumentFill):
    """Fills what the request left out from the conversation's memory."""

    def _fill_from_context(self, fields: list[FieldInfo]) -> None:
        refers = bool(REFERENCE.search(self.text))
        for f in fields:
            if f.name in self.result.args or f.name in ONLY_WHEN_SAID:
                continue
            kind = self._kind(f)
            value = None
            if self._is_s3(f):
                if f.required:
                    value = self.memory.latest("s3_uri")
                    if value is None:
                        bucket = self._named_bucket() or self.memory.latest("bucket")
                        if bucket and (f.required or refers):
                            value = f"s3://{bucket}/"
                    if value is not None and f.is_array:
                        value = [value]
            elif kind == "role":
                value = self.memory.latest("role")
            elif (
                not f.enum
                and "string" in f.types
                and (f.required or self._mentioned(kind) or self._tool_mentions(kind))
            ):
                if kind == "bucket":
                    value = self.memory.latest("bucket")
                elif kind not in ("name", "") and not self._creates(kind):
                    value = self.memory.latest(kind, prefer=_qualifier(self.info.name))
            elif f.is_array and "string" in f.item_types and f.required and not self._is_s3(f):
                # "compare the two runs", "both jobs", "them": the latest ones of that kind
                count = _how_many(self.text)
                recent = self.memory.recent(
                    kind.rstrip("s"), count or 5, prefer=_qualifier(self.info.name)
                )
                if count and len(recent) < count:
                    recent = []  # fewer than asked for: a question lists what exists
                value = recent or None
            if value is not None:
                self.result.args[f.name] = value
                self.result.from_context.append(f.name)

    def _enum_from_context(self, fields: list[FieldInfo]) -> None:
        """A required choice the referred-to thing settles: "wait for it" after a training job
        -> kind "training"."""
        kinds = [self.memory.kind_of(self.result.args[n]) for n in self.result.from_context]
        kinds = [k for k in kinds if k]
        if not kinds:
            return
        for f in fields:
            if not f.required or not f.enum or f.name in self.result.args:
                continue
            for value in f.enum:
                v = str(value).lower()
                if any(
                    k == v or k.startswith(v + "_") or k.endswith("_" + v) or (v, k) in KIND_ENUM
                    for k in kinds
                ):
                    self.result.args[f.name] = value
                    self.result.from_context.append(f.name)
                    break

    def _tool_mentions(self, kind: str) -> bool:
        """An optional reference the tool itself describes ("create a model from the training job")."""
        if kind in ("name", "", "role") or not self.memory.latest(kind):
            return False
        words = kind.replace("_", " ")
        about = " ".join((self.info.description, *self.info.phrases)).lower()
        return words in about and bool(refers_to_context(self.text))

    def _mentioned(self, kind: str) -> bool:
        return any(
            re.search(rf"(?i)\b{re.escape(kw)}s?\b", self.text) for kw in self._kind_words(kind)
        ) or bool(PRONOUN.search(self.text))
