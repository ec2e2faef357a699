"""Names of things (jobs, endpoints, buckets, tables ...): "<kind> <name>" first, then
"named X" and quoted values for the tool's main name field, then bare identifiers. A plain word
becomes a name only when the words around it make it one; nothing is invented."""

from __future__ import annotations

import re
from functools import lru_cache

from agent.offline.argument_fill import ArgumentFill
from agent.offline.argument_words import FREE_TEXT, KIND_NOUNS, NOT_NAMES, NOUNS
from agent.offline.memory import kinds_match
from agent.offline.text import stem
from agent.offline.toolinfo import FieldInfo


def _name_like(value: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9][\w.\-]{0,254}", value))


def _looks_named(value: str) -> bool:
    return bool(re.search(r"[-_.\d]", value)) and _name_like(value)


class NameFill(ArgumentFill):
    """Fills the name, id and ARN fields from identifiers in the request."""

    def _primary_name_field(self, fields: list[FieldInfo]) -> FieldInfo | None:
        names = [
            f
            for f in fields
            if "string" in f.types
            and not f.enum
            and (
                f.name in ("name", "bucket", "database", "table", "stream")
                or f.name.endswith(("_name", "_id", "_arn"))
            )
            and self._kind(f) != "role"
            and not self._is_s3(f)
        ]
        if not names:
            return None
        for f in names:
            k = self._kind(f)
            if self.obj and (kinds_match(k, self.obj) or k == self.obj or self.obj.startswith(k)):
                return f
        req = [f for f in names if f.required]
        return (req or names)[0]

    def _named_as_other(self, kind: str) -> set[str]:
        """Identifiers right after a kind word that is not this kind ("model churn-model"
        when a transform job's name is wanted)."""
        mine = {w for alias in self._kind_words(kind) for w in alias.split()}
        if not mine & KIND_NOUNS:
            return set()  # a generic "name" (a log source, a feature group): any kind word fits
        out = set()
        for value, before in self.ent.identifiers:
            last = before.split()[-1] if before.split() else ""
            if last in KIND_NOUNS and last not in mine:
                out.add(value)
        return out

    def _plain_new_name(self, kind: str, value: str, after: str) -> bool:
        """ "create a table churn in database x": a plain word names the new thing when the
        tool creates that kind and a preposition (or the end) follows."""
        if not self._creates(kind) or not re.fullmatch(r"[a-z][a-z0-9]{1,40}", value):
            return False
        if value.lower() in NOT_NAMES | NOUNS or stem(value.lower()) in NOUNS:
            return False
        return bool(re.match(r"(?i)\s*(?:$|[,;.]|(?:in|on|over|for|from|with|at|using)\b)", after))

    def _fill_names(self, fields: list[FieldInfo]) -> None:
        self._fill_qualified_table()
        name_fields = [
            f
            for f in fields
            if f.name not in self.result.args
            and ("string" in f.types or (f.is_array and "string" in f.item_types))
            and not f.enum
            and not self._is_s3(f)
            and not self._is_file(f)
            and self._kind(f) != "role"
            and f.name not in FREE_TEXT
            and not f.name.endswith(("_contains", "_prefix", "_after", "_before", "_type"))
        ]
        if not name_fields:
            return
        primary = self._primary_name_field(fields)
        idents = [
            v
            for v, _ in self.ent.identifiers
            if v not in self.used_idents and v.lower() not in hyperparameter_names()
        ]
        # 1. "<kind word> <identifier>" anywhere in the text.
        for f in name_fields:
            if f.is_array:
                continue
            kind = self._kind(f)
            for kw in self._kind_words(kind):
                pattern = rf"(?i)\b{re.escape(kw)}s?\b\s+(?:named\s+|called\s+|name\s+|id\s+)?[\"'`]?([A-Za-z0-9][\w.\-]*)"
                for m in re.finditer(pattern, self.text):
                    value = m.group(1).rstrip(".,;:")
                    if value.lower() in NOT_NAMES or value in self.used_idents:
                        continue
                    if not (
                        value in idents
                        or value in self.ent.quoted
                        or value in self.ent.named
                        or _looks_named(value)
                        or self._plain_new_name(kind, value, self.text[m.end(1) :])
                    ):
                        continue
                    if f.is_array:
                        self.set(f, [value], "name")
                    else:
                        self.set(f, value, "name")
                    self.used_idents.add(value)
                    break
                if f.name in self.result.args:
                    break
        # 2. named/called and quoted values go to the primary name field.
        explicit = [v for v in self.ent.named + self.ent.quoted if v not in self.used_idents]
        if primary is not None and primary.name.endswith("_arn"):
            others = [f for f in name_fields if f is not primary and not f.name.endswith("_arn")]
            primary = others[0] if others else None
        if primary is not None and primary.name in self.result.args and explicit:
            # "a lambda in front of endpoint churn-ep called churn-proxy": the main name is
            # taken by "<kind> <name>", so "called X" names the other thing the tool needs.
            spare = [
                f
                for f in name_fields
                if f.name not in self.result.args
                and not f.is_array
                and not f.name.endswith("_arn")
                and (f.required or self._creates(self._kind(f)))
            ]
            if spare:
                primary = spare[0]
        if primary is not None and primary.name not in self.result.args and explicit:
            value = explicit[0]
            if _name_like(value):
                self.set(primary, [value] if primary.is_array else value, "name")
                self.used_idents.add(value)
        # 3. Remaining bare identifiers: arrays take them all; else the primary, then others.
        idents = [v for v in idents if v not in self.used_idents]
        if primary is not None and not primary.is_array:
            # "with model churn-model": a name the words call something else is not this one
            wrong = self._named_as_other(self._kind(primary))
            idents = [v for v in idents if v not in wrong] + [v for v in idents if v in wrong]
            if idents and idents[0] in wrong:
                idents = [v for v in idents if v not in wrong]
        if (
            idents
            and primary is not None
            and primary.required
            and not primary.is_array
            and primary.name not in self.result.args
            and not primary.name.endswith("_arn")
            and not self._creates(self._kind(primary))
        ):  # "metrics for xgb-1": the job the tool is about comes before a list of metrics
            value = idents.pop(0)
            self.set(primary, value, "name")
            self.used_idents.add(value)
        for f in name_fields:
            if f.name in self.result.args or not idents:
                continue
            if f.is_array and (f.required or self._mentioned_words(self._kind(f))):
                self.set(f, list(idents), "name")
                self.used_idents.update(idents)
                idents = []
        # Creating something: bare names usually point at what it is made from (the model to
        # deploy, the endpoint to watch); the new thing's own name comes with "named"/quotes.
        if idents and primary is not None and self._creates(self._kind(primary)):
            for f in name_fields:
                if not idents:
                    break
                if (
                    f is not primary
                    and f.required
                    and f.name not in self.result.args
                    and not f.is_array
                    and not f.name.endswith("_arn")
                ):
                    value = idents.pop(0)
                    self.set(f, value, "name")
                    self.used_idents.add(value)
        if idents and primary is not None and primary.name not in self.result.args:
            value = idents.pop(0)
            self.set(primary, value, "name")
            self.used_idents.add(value)
        for f in name_fields:
            if not idents:
                break
            if (
                f.required
                and f.name not in self.result.args
                and not f.is_array
                and not f.name.endswith("_arn")
            ):
                value = idents.pop(0)
                self.set(f, value, "name")
                self.used_idents.add(value)

    def _fill_qualified_table(self) -> None:
        """ "schema of raw_db.churn": a database-qualified table fills both."""
        db, table = self.info.fields.get("database"), self.info.fields.get("table")
        if db is None or table is None or "database" in self.result.args:
            return
        for value, _ in self.ent.identifiers:
            m = re.fullmatch(r"([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)", value)
            if m and value not in self.used_idents:
                self.set(db, m.group(1), "name")
                self.set(table, m.group(2), "name")
                self.used_idents.add(value)
                return

    def _mentioned_words(self, kind: str) -> bool:
        return any(
            re.search(rf"(?i)\b{re.escape(kw)}s?\b", self.text) for kw in self._kind_words(kind)
        )


@lru_cache(maxsize=1)
def hyperparameter_names() -> frozenset[str]:
    """The built-in algorithms' hyperparameter names: "tune eta and max_depth" names no job."""
    from tools.stages.training.algorithms import ALGORITHMS

    return frozenset(
        name for algo in ALGORITHMS.values() if algo.typed for name in algo.typed.model_fields
    )
