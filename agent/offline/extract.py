"""Fills a tool's arguments from the request, guided by the argument JSON schema.

Values come from the text (S3 URIs, files, names, numbers with units, enum words), then from
the conversation (the last bucket, job, endpoint ... when the request refers to it or the
argument is required), then the tool's own defaults (left out, so pydantic applies them).
Nothing is invented: a name, bucket, path or ARN the person did not give comes from the
conversation or becomes a question; only defaults the tool declares apply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.offline.entities import Entities, Number
from agent.offline.memory import Memory, field_kind, kinds_match, tool_object
from agent.offline.structured import find_hyperparameters, find_ranges
from agent.offline.text import content_words, expand, fold_phrases, raw_words, stem
from agent.offline.toolinfo import FieldInfo, ToolInfo

REFERENCE = re.compile(
    r"(?i)\b(it|its|that|this|them|those|same|the|my|our|last|latest|previous|previously|above|"
    r"just|new|recent|current)\b"
)
_PRONOUN = re.compile(r"(?i)\b(it|that|this|them|there|those|same|one)\b")
TIME_UNITS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400, "ms": 0.001}
STAGE_WORDS = {
    "collection": "collection collect ingest ingestion gather raw store storage source sources",
    "preparation": "preparation prepare prep explore exploration eda clean cleaning wrangle "
    "wrangling profile profiling analyse analyze analysis understand",
    "features": "feature features engineering engineer transform transformation",
    "training": "training train fit build learn",
    "tuning": "tuning tune hyperparameter hyperparameters hpo optimise optimize search",
    "evaluation": "evaluation evaluate eval assess validate validation test testing bias explain",
    "deployment": "deployment deploy serve serving host hosting inference predict endpoint",
    "monitoring": "monitoring monitor drift watch observe alarms production",
    "orchestration": "orchestration orchestrate automate automation pipeline pipelines cicd workflow mlops",
}
METRIC_NAMES = re.compile(
    r"(?i)\b((?:validation|train|test):[a-z0-9_@-]+|auc|rmse|mse|mae|accuracy|f1|logloss|"
    r"error|precision|recall|mape|r2|binary_f1|macro_f1|balanced_accuracy|ndcg|map|merror|mlogloss)\b"
)


@dataclass
class Extraction:
    args: dict[str, Any] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    used: set[str] = field(default_factory=set)  # entity kinds used ("s3", "file", "name" ...)
    from_context: list[str] = field(default_factory=list)
    invalid: list[tuple[str, str]] = field(default_factory=list)  # (field, message)
    notes: list[str] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)  # why a field is needed (tool's words)


def _norm(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", fold_phrases(value).lower())


def _name_like(value: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9][\w.\-]{0,254}", value))


class Extractor:
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

    # ---- helpers -------------------------------------------------------------------------
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

    def _is_output(self, f: FieldInfo) -> bool:
        n = f.name.lower()
        return any(
            w in n for w in ("output", "dest", "target_uri", "result", "to_uri", "prefix_out")
        )

    def _field_unit(self, f: FieldInfo) -> str:
        n, d = f.name.lower(), f.description.lower()
        if n in ("seconds", "minutes", "hours", "days"):
            return n
        for suffix, unit in (
            ("_seconds", "seconds"), ("_secs", "seconds"), ("_sec", "seconds"), ("_s", "seconds"),
            ("_minutes", "minutes"), ("_mins", "minutes"), ("_min", "minutes"),
            ("_hours", "hours"), ("_hrs", "hours"), ("_h", "hours"), ("_days", "days"), ("_ms", "ms"),
        ):  # fmt: skip
            if n.endswith(suffix):
                return unit
        if re.search(r"\b(?:ms|milliseconds?)\b", d):
            return "ms"
        for word, unit in (("second", "seconds"), ("minute", "minutes"), ("hour", "hours")):
            if word in d:
                return unit
        return "seconds"

    def set(self, f: FieldInfo, value: Any, used: str = "") -> None:
        self.result.args[f.name] = value
        if used:
            self.result.used.add(used)

    # ---- main ----------------------------------------------------------------------------
    def run(self) -> Extraction:
        fields = list(self.info.fields.values())
        # Order: specific shapes first, then names, then free numbers.
        for f in fields:
            self._fill_specific(f)
        self._fill_s3(fields)
        self._fill_files(fields)
        algo = self.info.fields.get("algorithm")
        if algo is not None and algo.enum and "algorithm" not in self.result.args:
            self._fill_enum(algo)
        self._fill_structured()
        for f in fields:
            if f.name not in self.result.args and f.enum:
                self._fill_enum(f)
        self._fill_names(fields)
        for f in fields:
            if f.name not in self.result.args and f.is_number:
                self._fill_number(f)
        for f in fields:
            if f.name not in self.result.args and f.is_bool:
                self._fill_bool(f)
        for f in fields:
            if f.name not in self.result.args and f.is_array:
                self._fill_array(f)
        self._fill_from_context(fields)
        self._enum_from_context(fields)
        self.result.missing = [
            f.name for f in fields if f.required and f.name not in self.result.args
        ]
        return self.result

    def _fill_specific(self, f: FieldInfo) -> None:
        n = f.name.lower()
        kind = self._kind(f)
        if kind == "role":
            if self.ent.arns:
                role = next((a for a in self.ent.arns if ":role/" in a), None)
                if role:
                    self.set(f, role, "arn")
            return
        if "instance_type" in n and "string" in f.types and not f.enum:
            if self.ent.instance_types:
                idx = (
                    1
                    if ("inference" in n or "endpoint" in n) and len(self.ent.instance_types) > 1
                    else 0
                )
                self.set(f, self.ent.instance_types[idx], "instance")
            return
        if n in ("region", "region_name") and self.ent.regions:
            self.set(f, self.ent.regions[0], "region")
            return
        if n in ("query", "sql", "statement", "query_string", "sql_query"):
            if self.ent.sql:
                self.set(f, self.ent.sql, "sql")
            return
        if (
            n in ("payload", "body", "input", "data", "content", "csv", "records")
            and "string" in f.types
        ):
            if self.ent.csv_payload:
                self.set(f, self.ent.csv_payload, "payload")
            elif self.ent.json_payload:
                self.set(f, self.ent.json_payload, "payload")
            elif self.ent.rows_from_file:
                self._rows_from_file(f, self.ent.rows_from_file)
            return
        if n in ("target", "target_column", "target_attribute", "target_attribute_name", "label",
                 "label_column", "label_header", "target_name"):  # fmt: skip
            m = re.search(
                r"(?i)\b(?:predict(?:s|ing)?|target(?:\s+column|\s+attribute)?|label(?:\s+column)?|"
                r"column to predict)\s*(?:is|=|:|of|column|called|named)?\s*[\"'`]?([A-Za-z_][\w\-]*)",
                self.text,
            )
            if m and m.group(1).lower() not in {"the", "a", "an", "column", "which", "what", "is"}:
                self.set(f, m.group(1), "target")
            return
        if n in ("record_id", "record_identifier_value", "customer_id", "id_value"):
            m = re.search(
                r"(?i)\b(?:customer|record|id|user|row|item|key)\s*(?:id\s*)?#?\s*[\"'`]?([A-Za-z0-9][\w\-]*)",
                self.text,
            )
            if (
                m
                and m.group(1).lower() not in _NOT_NAMES
                and any(ch.isdigit() for ch in m.group(1))
            ):
                self.set(f, m.group(1), "name")
                self.used_idents.add(m.group(1))
            return
        if n in ("facet", "facet_name", "sensitive_column", "sensitive_attribute"):
            for word in (r"facet", r"sensitive(?: column| attribute)?", r"bias|fair(?:ness)?"):
                for m in re.finditer(
                    rf"(?i)\b(?:{word})\s+(?:on|for|in|against|by|across|column|is|=|:)?\s*"
                    r"[\"'`]?([A-Za-z_][\w\-]*)",
                    self.text,
                ):
                    value = m.group(1)
                    if value.lower() not in _NOT_NAMES | _REPORT_WORDS:
                        self.set(f, value, "target")
                        return
            return
        if n in ("goal", "question", "text", "task", "need", "request", "topic", "use_case", "search",
                 "keywords", "query_text", "description") and "string" in f.types and not f.enum:  # fmt: skip
            if self.info.name.startswith(("recommend", "describe_service", "list_stages")) or n in (
                "goal",
                "question",
                "need",
                "use_case",
                "request",
                "topic",
            ):
                self.set(f, self.text.strip(), "")
            return
        if n in ("service", "service_name", "service_id") and "string" in f.types and not f.enum:
            svc = match_service(self.text)
            if svc:
                self.set(f, svc, "service")
            return
        if n in ("stage", "stage_id") and not f.enum:
            st = match_stage(self.text)
            if st:
                self.set(f, st, "stage")
            return
        if ("metric" in n or n in ("sort_by", "objective")) and "string" in f.types and not f.enum:
            m = METRIC_NAMES.search(self.text)
            if m:
                self.set(f, m.group(1), "metric")
            return
        if n in ("name_contains", "contains", "filter", "prefix", "search_text", "name_filter"):
            m = re.search(
                r"(?i)\b(?:containing|contains|matching|match|with|named like|starting with|prefix|"
                r"filter(?:ed)? (?:by|on)?|called)\s+[\"'`]?([A-Za-z0-9][\w.\-/]*)",
                self.text,
            )
            if m and m.group(1).lower() not in {"the", "a", "an", "status", "name"}:
                if n == "prefix" and self.ent.s3_uris:
                    return
                self.set(f, m.group(1), "name")
                self.used_idents.add(m.group(1))
            return

    def _fill_structured(self) -> None:
        """Hyperparameters and tuning ranges, in the nested shapes the tools take."""
        hp_field = self.info.fields.get("hyperparameters")
        range_field = self.info.fields.get("ranges")
        if hp_field is None and range_field is None:
            return
        algo_field = self.info.fields.get("algorithm")
        algorithm = str(
            self.result.args.get("algorithm")
            or self.known.get("algorithm")
            or (algo_field.default if algo_field is not None else None)
            or "xgboost"
        )
        spans: list[tuple[int, int]] = []
        ranged: set[str] = set()
        if range_field is not None and range_field.is_array:
            found = find_ranges(self.text, algorithm)
            if found.values["ranges"]:
                self.result.args["ranges"] = found.values["ranges"]
                self.result.used.add("ranges")
                ranged = {r["name"] for r in found.values["ranges"]}
                spans.extend(found.spans)
        if hp_field is not None:
            hps = find_hyperparameters(self.text, algorithm, skip=ranged)
            if hps.values:
                self.result.args["hyperparameters"] = hps.values
                self.result.used.add("hyperparameters")
                spans.extend(hps.spans)
        for num in self.ent.numbers:
            if any(s <= num.start < e for s, e in spans):
                self.used_numbers.add(num.start)
        for s_, e_ in spans:  # enum words inside "max_depth from 3 to 10" are not "max"imize
            self.masked = self.masked[:s_] + " " * (e_ - s_) + self.masked[e_:]
        for value, _ in self.ent.identifiers:
            pos = self.text.find(value)
            if pos >= 0 and any(s <= pos < e for s, e in spans):
                self.used_idents.add(value)

    def _local_data_file(self) -> Path | None:
        """The file "the csv" means: one named in the request, else the last one used."""
        names = [*self.ent.files]
        names += [
            v
            for _, v in reversed(self.memory.items)
            if isinstance(v, str) and v.lower().endswith((".csv", ".tsv", ".txt", ".jsonl"))
        ]
        for name in names:
            path = Path(name).expanduser()
            if path.is_file():
                return path
        return None

    def _rows_from_file(self, f: FieldInfo, count: int) -> None:
        path = self._local_data_file()
        if path is None:
            return
        try:
            with path.open(encoding="utf-8", errors="replace") as handle:
                lines = [
                    line.rstrip("\r\n") for _, line in zip(range(count + 1), handle, strict=False)
                ]
        except OSError:
            return
        lines = [line for line in lines if line.strip()]
        header = ""
        if lines and not any(_is_number(c) for c in lines[0].split(",")):
            header = lines.pop(0)
        rows = lines[:count]
        if not rows:
            return
        self.set(f, "\n".join(rows), "payload")
        self.result.notes.append(
            f"{len(rows)} row(s) of {path.name}" + (", header left out" if header else "")
        )

    def _fill_s3(self, fields: list[FieldInfo]) -> None:
        s3_fields = [f for f in fields if self._is_s3(f) and f.name not in self.result.args]
        if s3_fields and not self.ent.s3_uris:
            # "what's in my sagecoach-demo bucket": the bucket named is the location
            bucket = self._named_bucket()
            first = next((f for f in s3_fields if f.required), None)
            if bucket and first is not None and not self._creates("bucket"):
                self.set(first, [f"s3://{bucket}/"] if first.is_array else f"s3://{bucket}/", "s3")
                self.result.used.add("name")  # the name given is used, as a location
                self.used_idents.add(bucket)
            return
        if not s3_fields or not self.ent.s3_uris:
            return
        uris = list(self.ent.s3_uris)
        # A URI right after a field's own words ("validation s3://...") goes to that field.
        for u in list(uris):
            pos = self.text.find(u)
            start = max(0, pos - 40)
            for other in self.ent.s3_uris:  # the words after another URI, not inside it
                end = self.text.find(other) + len(other)
                if other != u and start < end <= pos:
                    start = end
            before = {stem(w) for w in raw_words(self.text[start:pos])[-3:]}
            for f in s3_fields:
                if f.name in self.result.args:
                    continue
                words = {stem(w) for w in f.name.split("_")} - {"s3", "uri", "url", "data", "path"}
                if words and words & before:
                    self.set(f, [u] if f.is_array else u, "s3")
                    self.used_s3.add(u)
                    uris.remove(u)
                    break
        s3_fields = [f for f in s3_fields if f.name not in self.result.args]
        s3_fields.sort(key=lambda f: (not f.required, 0))
        if not uris or not s3_fields:
            return
        # Destination-ish URIs: preceded by "to/into/output/results".
        dest = [
            u
            for u in uris
            if re.search(
                rf"(?i)\b(to|into|output|outputs|results?|write|save)\b\W+{re.escape(u)}", self.text
            )
        ]
        src = [u for u in uris if u not in dest]
        outs = [f for f in s3_fields if self._is_output(f)]
        ins = [f for f in s3_fields if f not in outs]
        # A tool with only one S3 field takes the first URI whatever the preposition.
        if not ins and outs:
            ins, outs = outs, []
        if not outs:
            src = src + dest
            dest = []
        for f in ins:
            if not src:
                break
            if not f.required and any(g.required and g.name not in self.result.args for g in ins):
                continue
            if f.is_array:
                self.set(f, list(src), "s3")
                self.used_s3.update(src)
                src = []
            else:
                u = src.pop(0)
                self.set(f, u, "s3")
                self.used_s3.add(u)
        for f in outs:
            pool = dest or src
            if not pool:
                break
            u = pool.pop(0)
            self.set(f, [u] if f.is_array else u, "s3")
            self.used_s3.add(u)

    def _fill_files(self, fields: list[FieldInfo]) -> None:
        file_fields = [f for f in fields if self._is_file(f) and f.name not in self.result.args]
        candidates = list(self.ent.files) + list(self.ent.dirs)
        if self.ent.rows_from_file and self.result.used & {"payload"}:
            candidates = []  # "the first 5 rows of churn.csv": the rows are the payload
        if not file_fields or not candidates:
            return
        scripts = [c for c in candidates if c.endswith(".py")]
        data = [c for c in candidates if not c.endswith(".py")]
        for f in file_fields:
            n = f.name.lower()
            want_script = any(w in n for w in ("script", "handler", "entry", "code", "source_file"))
            pool = scripts if want_script else (data or scripts)
            if not pool:
                continue
            value = pool.pop(0)
            path = Path(value).expanduser()
            if not path.exists():
                self.result.invalid.append((f.name, f"I can't find '{value}' in {Path.cwd()}"))
                self.result.used.add("file")
                continue
            self.set(f, value, "file")
            self.used_files.add(value)

    def _fill_enum(self, f: FieldInfo) -> None:
        if f.name.lower() in ("stage", "stage_id") or set(map(str, f.enum)) & {
            "training",
            "collection",
        }:
            st = match_stage(self.text)
            if st and st in f.enum:
                self.set(f, st, "stage")
                return
        best, best_score = None, 0.0
        text_norm = " " + " ".join(raw_words(fold_phrases(self.masked))) + " "
        for value in f.enum:
            if not isinstance(value, str):
                if isinstance(value, int) and re.search(rf"\b{value}\b", self.text):
                    best, best_score = value, 1.0
                continue
            spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", value)  # "InProgress" -> "In Progress"
            words = raw_words(fold_phrases(spaced.replace("_", " ").replace(":", " ")))
            joined = _norm(value)
            score = 0.0
            if joined and re.search(
                rf"(?<![a-z0-9]){re.escape(joined)}(?![a-z0-9])", text_norm.replace(" ", "  ")
            ):
                score = 2.0 + len(joined) / 100
            elif words and all(f" {w} " in text_norm for w in words):
                score = 1.5 + len(words) / 10
            elif words and len(words) > 1:
                stems = {stem(w) for w in words if len(w) > 2}
                hit = stems & self.stems
                if stems and len(hit) / len(stems) >= 0.67:
                    score = 1.0 * len(hit) / len(stems)
            else:
                low = value.lower()
                syn = _ENUM_SYNONYMS.get(low, ())
                if any(f" {s} " in text_norm for s in syn):
                    score = 1.2
            if score > best_score:
                best, best_score = value, score
        if best is not None:
            self.set(f, best, "enum")

    def _kind_words(self, kind: str) -> list[str]:
        words = kind.replace("_", " ").split()
        alts = {" ".join(words), words[-1]}
        alts |= _KIND_ALIASES.get(kind, set())
        return sorted(alts, key=len, reverse=True)

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
        if not mine & _KIND_NOUNS:
            return set()  # a generic "name" (a log source, a feature group): any kind word fits
        out = set()
        for value, before in self.ent.identifiers:
            last = before.split()[-1] if before.split() else ""
            if last in _KIND_NOUNS and last not in mine:
                out.add(value)
        return out

    def _plain_new_name(self, kind: str, value: str, after: str) -> bool:
        """ "create a table churn in database x": a plain word names the new thing when the
        tool creates that kind and a preposition (or the end) follows."""
        if not self._creates(kind) or not re.fullmatch(r"[a-z][a-z0-9]{1,40}", value):
            return False
        if value.lower() in _NOT_NAMES | _NOUNS or stem(value.lower()) in _NOUNS:
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
            and f.name not in _FREE_TEXT
            and not f.name.endswith(("_contains", "_prefix", "_after", "_before", "_type"))
        ]
        if not name_fields:
            return
        primary = self._primary_name_field(fields)
        idents = [v for v, _ in self.ent.identifiers if v not in self.used_idents]
        # 1. "<kind word> <identifier>" anywhere in the text.
        for f in name_fields:
            if f.is_array:
                continue
            kind = self._kind(f)
            for kw in self._kind_words(kind):
                pattern = rf"(?i)\b{re.escape(kw)}s?\b\s+(?:named\s+|called\s+|name\s+|id\s+)?[\"'`]?([A-Za-z0-9][\w.\-]*)"
                for m in re.finditer(pattern, self.text):
                    value = m.group(1).rstrip(".,;:")
                    if value.lower() in _NOT_NAMES or value in self.used_idents:
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

    def _numbers_for(self, f: FieldInfo) -> Number | None:
        n = f.name.lower()
        tokens = [
            t
            for t in re.split(r"[_\W]+", n)
            if t
            and t
            not in (
                "max",
                "min",
                "num",
                "number",
                "of",
                "n",
                "count",
                "size",
                "in",
                "mb",
                "gb",
                "s",
                "seconds",
                "hours",
                "minutes",
            )
        ]
        unit_for = None
        if (
            any(
                w in n
                for w in (
                    "runtime",
                    "timeout",
                    "duration",
                    "max_wait",
                    "wait_time",
                    "time_limit",
                    "hours",
                    "minutes",
                    "seconds",
                )
            )
            and "period" not in n
        ):
            unit_for = "time"
        elif ("instance" in n and ("count" in n or n.endswith("instances"))) or n in (
            "nodes",
            "max_nodes",
            "node_count",
        ):
            unit_for = "instances"
        elif "worker" in n or "dpu" in n:
            unit_for = "workers"
        elif any(w in n for w in ("round", "epoch", "iteration", "num_trees", "trees")):
            unit_for = "rounds"
        elif "parallel" in n or "concurren" in n:
            unit_for = "parallel"
        elif any(
            w in n for w in ("max_jobs", "training_jobs", "max_trials", "number_of_jobs", "jobs")
        ):
            unit_for = "jobs"
        elif "candidate" in n:
            unit_for = "candidates"
        elif "shard" in n:
            unit_for = "shards"
        elif any(
            w in n
            for w in (
                "rows",
                "limit",
                "max_items",
                "max_results",
                "records",
                "lines",
                "sample",
                "top",
                "n_rows",
            )
        ):
            unit_for = "rows"
        elif "memory" in n or n.endswith("_mb"):
            unit_for = "mb"
        elif "volume" in n or n.endswith("_gb"):
            unit_for = "gb"
        elif "period" in n:
            unit_for = "periods"
        for num in self.ent.numbers:
            if unit_for == "time" and num.unit in TIME_UNITS:
                if num.unit == "ms" and self._field_unit(f) != "ms":
                    continue  # "500 ms" is a latency, not how long to run or look back
                return num
            if unit_for and unit_for == num.unit:
                return num
            if unit_for == "workers" and num.unit in ("instances", "dpus"):
                return num
            if unit_for == "jobs" and num.unit in ("models", "candidates") and "candidate" not in n:
                return num
            if unit_for == "candidates" and num.unit in ("jobs", "models"):
                return num
            if unit_for == "mb" and num.unit == "gb" and "memory" in n:
                return Number(num.value * 1024, "mb", num.start, num.end, num.before)
        if "threshold" in n or n in ("limit", "value"):
            for num in self.ent.numbers:
                if re.search(
                    r"(above|over|exceed\w*|greater|more|below|under|less|than|reaches?|hits?)$",
                    num.before,
                ):
                    return num
        # "20% for validation": a percentage goes to a share-like field named around it.
        share = any(w in n for w in ("percent", "fraction", "ratio", "pct", "share", "split")) or (
            f.maximum is not None and f.maximum <= 100
        )
        if share:
            for num in self.ent.numbers:
                if num.unit != "percent":
                    continue
                after = {stem(w) for w in raw_words(self.text[num.end : num.end + 40])[:4]}
                near = after | {stem(b) for b in num.before.split()[-3:]}
                if any(stem(t) in near for t in tokens if len(t) > 2):
                    return num
        # A number right after the field's own words: "max depth 6", "eta 0.2", "threshold of 500".
        for num in self.ent.numbers:
            if num.unit and num.unit not in ("ms", "percent", "mb", "gb"):
                continue
            before = num.before.split()
            if (
                tokens
                and before
                and any(stem(t) in {stem(b) for b in before[-2:]} for t in tokens if len(t) > 2)
            ):
                return num
        return None

    def _fill_number(self, f: FieldInfo) -> None:
        num = self._numbers_for(f)
        if num is None or num.start in self.used_numbers:
            return
        self.used_numbers.add(num.start)
        value = num.value
        if num.unit in TIME_UNITS:
            seconds = value * TIME_UNITS[num.unit]
            value = round(seconds / TIME_UNITS[self._field_unit(f)], 6)
        if num.unit == "percent" and f.maximum is not None and f.maximum <= 1:
            value = value / 100
        if "integer" in f.types and float(value).is_integer():
            value = int(value)
        elif "integer" in f.types and "number" not in f.types:
            value = round(value)
        self.set(f, value, "number")

    def _fill_bool(self, f: FieldInfo) -> None:
        n = f.name.lower()
        core = re.sub(
            r"^(use|enable|enabled|include|with|is|do|should|delete|wait_for|wait)_", "", n
        )
        words = [w for w in core.split("_") if len(w) > 2]
        if not words:
            words = [n]
        # every meaningful word of the flag present, in some form
        if not all(stem(w) in self.stems or w in self.words for w in words):
            return
        neg = re.search(
            rf"(?i)\b(no|not|without|don'?t|do not|never|skip|disable|keep|except|excluding|"
            rf"leave|spare|preserve)\b(?:\W+\w+){{0,3}}\W+{re.escape(words[0][:4])}",
            self.text,
        )
        self.set(f, not bool(neg), "flag")

    def _fill_array(self, f: FieldInfo) -> None:
        if f.item_enum:
            hits = []
            text_norm = " " + " ".join(raw_words(fold_phrases(self.text))) + " "
            for value in f.item_enum:
                joined = _norm(str(value))
                if (
                    joined and f" {joined} " in text_norm.replace(" ", "  ").replace("  ", " ")
                ) or (joined and joined in text_norm.replace(" ", "")):
                    hits.append(value)
            if hits:
                self.set(f, hits, "enum")

    def _fill_from_context(self, fields: list[FieldInfo]) -> None:
        refers = bool(REFERENCE.search(self.text))
        for f in fields:
            if f.name in self.result.args or f.name in _ONLY_WHEN_SAID:
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
                    k == v or k.startswith(v + "_") or k.endswith("_" + v) or (v, k) in _KIND_ENUM
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

    def _named_bucket(self) -> str | None:
        """ "bucket churn-data", "my churn-data bucket", "the sagecoach-demo bucket"."""
        m = re.search(
            r"(?i)\bbucket\s+(?:named\s+|called\s+)?[\"'`]?([a-z0-9][a-z0-9.\-]{2,62})", self.text
        ) or re.search(
            r"(?i)\b([a-z0-9][a-z0-9.\-]{2,62}[0-9.\-][a-z0-9.\-]*)\s+(?:s3\s+)?bucket\b", self.text
        )
        return m.group(1) if m and m.group(1).lower() not in _NOT_NAMES else None

    def _mentioned_words(self, kind: str) -> bool:
        return any(
            re.search(rf"(?i)\b{re.escape(kw)}s?\b", self.text) for kw in self._kind_words(kind)
        )

    def _mentioned(self, kind: str) -> bool:
        return any(
            re.search(rf"(?i)\b{re.escape(kw)}s?\b", self.text) for kw in self._kind_words(kind)
        ) or bool(_PRONOUN.search(self.text))

    def _creates(self, kind: str) -> bool:
        verbs = ("create", "start", "submit", "put", "build")
        verb = next((v for v in verbs if f"_{v}_" in f"_{self.info.name}_"), None)
        return (
            verb is not None
            and bool(self.obj)
            and (kinds_match(kind, self.obj) or self.obj.startswith(kind))
        )


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


_COUNTS = {"two": 2, "both": 2, "pair": 2, "three": 3, "four": 4, "2": 2, "3": 3, "4": 4}


def _how_many(text: str) -> int:
    """ "the two runs" -> 2, "all three" -> 3; 0 when no number is said."""
    m = re.search(r"(?i)\b(two|both|pair|three|four|[234])\b(?!\s*(?:rounds?|hours?|min))", text)
    return _COUNTS[m.group(1).lower()] if m else 0


def refers_to_context(text: str) -> bool:
    return bool(REFERENCE.search(text))


def _qualifier(tool_name: str) -> str:
    for word in ("training", "tuning", "processing", "transform", "automl", "glue", "crawler"):
        if word in tool_name:
            return word
    if "autopilot" in tool_name:
        return "automl"
    return ""


def _looks_named(value: str) -> bool:
    return bool(re.search(r"[-_.\d]", value)) and _name_like(value)


# Optional arguments that change what a call means: only ever from the request's own words (a
# TargetModel sent to a single-model endpoint is refused).
_ONLY_WHEN_SAID = {"target_model", "target_variant"}
_FREE_TEXT = {
    "description", "command", "script", "environment", "content_type", "accept", "text", "goal",
    "payload", "payload_file", "query", "sql", "contains", "version", "schedule", "headers",
    "baseline", "label", "facet", "target_column", "predicted_label", "task", "framework",
    "inference_attribute", "statistic", "comparison", "service", "origin", "status", "state",
    "mode", "frequency", "strategy", "metric", "sort_by", "objective_metric", "image_uri",
    "entry_point", "path", "stage_name", "partition_key_column", "agg_method", "treat_missing_data",
    "variant_name", "target_variant", "target_model", "split_type", "assemble_with", "join_input",
    "code_s3_uri", "worker_type", "problem_type", "objective_type", "source", "created_after",
}  # fmt: skip
_NOT_NAMES = {
    "the", "a", "an", "it", "that", "this", "to", "for", "on", "in", "with", "and", "or", "from",
    "named", "called", "is", "of", "at", "as", "by", "please", "status", "name", "now", "again",
    "then", "list", "all", "my", "our", "job", "jobs", "s3", "using", "into", "data", "file", "new",
}  # fmt: skip
# Words that are things, not names ("create an endpoint config for ...").
_NOUNS = {
    "config", "configuration", "job", "run", "group", "definition", "schedule", "policy",
    "proxy", "api", "function", "alarm", "record", "records", "file", "files", "name", "over",
    "table", "database", "bucket", "endpoint", "model", "pipeline", "crawler", "stream",
    "dataset", "experiment", "feature", "features", "monitor", "queue", "workgroup", "role",
    "first", "last", "latest", "new", "one", "here", "there", "please", "now", "also",
    "gateway", "https", "http", "lambda", "service", "instance", "object", "objects", "data",
}  # fmt: skip
_KIND_NOUNS = {
    "model", "endpoint", "bucket", "job", "pipeline", "table", "database", "crawler", "function",
    "stream", "schedule", "alarm", "experiment", "group", "dataset", "queue", "definition",
}  # fmt: skip
_KIND_ENUM = {("autopilot", "automl_job"), ("pipeline_execution", "execution")}
_REPORT_WORDS = {"report", "job", "check", "analysis", "run", "monitoring", "metrics", "detection"}
_KIND_ALIASES: dict[str, set[str]] = {
    "training_job": {"training job", "job", "training", "train job"},
    "tuning_job": {"tuning job", "job", "tuning", "hpo job"},
    "processing_job": {"processing job", "job"},
    "transform_job": {"transform job", "batch transform", "job"},
    "automl_job": {"autopilot job", "automl job", "autopilot", "job"},
    "endpoint": {"endpoint", "ep"},
    "resource": {"resource", "endpoint", "bucket", "model", "job", "table", "pipeline"},
    "bucket": {"bucket", "bkt"},
    "feature_group": {"feature group", "group"},
    "database": {"database", "db"},
    "table": {"table"},
    "model": {"model"},
    "crawler": {"crawler"},
    "function": {"function", "lambda"},
    "pipeline": {"pipeline"},
    "experiment": {"experiment"},
    "stream": {"stream"},
    "schedule": {"schedule"},
    "alarm": {"alarm"},
}
_ENUM_SYNONYMS: dict[str, tuple[str, ...]] = {
    "realtime": ("realtime", "instance", "provisioned"),
    "real_time": ("realtime", "instance", "provisioned"),
    "serverless": ("serverless",),
    "multi_model": ("multimodel", "multi"),
    "xgboost": ("xgb", "xgboost", "gbm", "boosted"),
    "linear-learner": ("linearlearner", "linear", "logistic"),
    "linear_learner": ("linearlearner", "linear", "logistic"),
    "kmeans": ("kmeans", "clustering", "cluster"),
    "random-cut-forest": ("rcf", "anomaly"),
    "randomcutforest": ("rcf", "anomaly"),
    "sklearn": ("sklearn", "scikit"),
    "bayesian": ("bayes", "bayesian"),
    "hyperband": ("hyperband",),
    "maximize": ("maximise", "maximize", "higher", "highest"),
    "minimize": ("minimise", "minimize", "lower", "lowest"),
    "binaryclassification": ("binary",),
    "multiclassclassification": ("multiclass",),
    "regression": ("regression", "numeric"),
    "hourly": ("hourly", "hour"),
    "daily": ("daily", "day"),
    "data_quality": ("data", "drift"),
    "model_quality": ("quality", "accuracy"),
    # job statuses in people's words ("blew up" folds to "fail")
    "failed": (
        "fail",
        "fails",
        "failed",
        "failing",
        "crash",
        "crashed",
        "errored",
        "broke",
        "broken",
    ),
    "completed": ("finished", "succeeded", "successful", "completed"),
}


# Phrases that settle the stage on their own ("store features" is feature engineering even though
# "store" alone is a collection word).
STAGE_PHRASES: tuple[tuple[re.Pattern[str], str, float], ...] = tuple(
    (re.compile(rf"(?i)\b(?:{pattern})\b"), stage, weight)
    for pattern, stage, weight in (
        (
            r"feature ?stores?|featurestore|feature groups?|online features|offline features|"
            r"(?:store|stor(?:e|ing)|save|sav(?:e|ing)|shar(?:e|ing)|reus(?:e|ing)|serv(?:e|ing)|"
            r"look(?:ing)? ?up|version(?:ing)?|manag(?:e|ing)|keep(?:ing)?|engineer(?:ing)?|"
            r"creat(?:e|ing)|build(?:ing)?|comput(?:e|ing)|deriv(?:e|ing))"
            r"(?: \w+){0,2} features|features? (?:across|between|for|with)(?: \w+){0,2} teams|"
            r"feature engineering|engineer(?:ing)? features",
            "features",
            3.0,
        ),
        (r"hyper ?-?parameters?|hpo|best learning rate", "tuning", 2.0),
        (
            r"raw data|land(?:ing)? (?:the |my )?data|ingest\w*|get (?:the |my )?data in",
            "collection",
            2.0,
        ),
        (r"drift|in production|data quality monitor\w*", "monitoring", 2.0),
        (
            r"real[- ]?time (?:inference|predictions?|endpoints?)|serverless (?:inference|endpoints?)|"
            r"batch (?:predictions?|inference|transform)|endpoints?|deploy\w*",
            "deployment",
            2.0,
        ),
        (r"bias|fairness|explain\w* (?:the )?predictions|shap", "evaluation", 2.0),
        (
            r"clean(?:ing)? (?:my |the )?data|explor\w* (?:my |the )?data|eda|data prep\w*",
            "preparation",
            2.0,
        ),
        (
            r"retrain\w* (?:automatically|every|on a schedule)|ci ?/? ?cd|mlops",
            "orchestration",
            2.0,
        ),
    )
)
_SPECIFIC_STAGE_WORDS = {"featur": 2.0, "hyperparamet": 2.0, "drift": 2.0, "deploy": 1.5}


def stage_scores(text: str) -> dict[str, float]:
    """How strongly the request talks about each pipeline stage."""
    words = set(content_words(text))
    scores: dict[str, float] = {}
    for sid, vocab in STAGE_WORDS.items():
        stems = {stem(w) for w in vocab.split()}
        score = sum(_SPECIFIC_STAGE_WORDS.get(w, 1.0) for w in words & stems)
        if score:
            scores[sid] = score
    for pattern, sid, weight in STAGE_PHRASES:
        if pattern.search(text):
            scores[sid] = scores.get(sid, 0.0) + weight
    return scores


def match_stage(text: str) -> str | None:
    """The pipeline stage a request talks about ("store features" -> features); None on a tie."""
    scores = stage_scores(text)
    if not scores:
        return None
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        return None
    return ranked[0][0]


def services_named(text: str) -> set[str]:
    """Every catalog service the text names ("feature store or s3" -> two); the umbrella
    "sagemaker" only counts alone."""
    from agent.offline.catalog_words import services

    words = [stem(w) for w in raw_words(fold_phrases(text))]
    joined = " " + " ".join(words) + " "
    hits: dict[str, str] = {}  # service -> its longest alias in the text
    for sid, aliases in services().items():
        for alias in aliases:
            a = " ".join(stem(w) for w in raw_words(fold_phrases(alias)))
            if a and f" {a} " in joined and len(a) > len(hits.get(sid, "")):
                hits[sid] = a
    # "batch transform" names Batch Transform, not also AWS Batch
    found = {
        sid
        for sid, a in hits.items()
        if not any(o != a and f" {a} " in f" {o} " for o in hits.values())
    }
    if len(found) > 1:
        found.discard("sagemaker")
    return found


def match_service(text: str) -> str | None:
    """A service the catalog names in the text ("serverless endpoints" -> serverless-inference)."""
    from agent.offline.catalog_words import services

    words = [stem(w) for w in raw_words(fold_phrases(text))]
    joined = " " + " ".join(words) + " "
    best, best_len = None, 0
    for sid, aliases in services().items():
        for alias in aliases:
            a = " ".join(stem(w) for w in raw_words(fold_phrases(alias)))
            if a and f" {a} " in joined and len(a) > best_len:
                best, best_len = sid, len(a)
    return best


def extract(
    info: ToolInfo,
    text: str,
    ent: Entities,
    memory: Memory,
    known: dict[str, Any] | None = None,
) -> Extraction:
    """`known`: arguments settled earlier (an answer to a question continues that call)."""
    extractor = Extractor(info, text, ent, memory)
    extractor.known = dict(known or {})
    return extractor.run()


def validate_and_trim(info: ToolInfo, ex: Extraction) -> Extraction:
    """Drop extracted values the tool rejects (reporting why), so the question names the field."""
    for _ in range(4):
        problems = info.validate(ex.args)
        bad = [(fld, typ, msg) for fld, typ, msg in problems if fld in ex.args and typ != "missing"]
        if not bad:
            break
        for fld, _typ, msg in bad:
            ex.invalid.append((fld, msg))
            ex.args.pop(fld, None)
    problems = info.validate(ex.args)
    missing = [fld for fld, typ, _ in problems if typ == "missing" and fld]
    # A rule across fields ("a role ARN is needed outside the sandbox"): ask for the field it names.
    for fld, typ, msg in problems:
        if fld or typ == "missing":
            continue
        low = msg.lower()
        positions = []
        for name in info.fields:
            if name in ex.args:
                continue
            for form in (name, name.removesuffix("_arn").replace("_", " ")):
                m = re.search(
                    rf"\b{re.escape(form)}\b (is required|is needed|must be (given|set))|"
                    rf"\b(needs?|give|name|set) (a |an |the )?{re.escape(form)}\b",
                    low,
                )
                if m:
                    positions.append((m.start(), name))
                    break
        if positions:
            missing.append(min(positions)[1])
            ex.reasons[min(positions)[1]] = msg
        else:
            ex.invalid.append(("arguments", msg))
    ex.missing = sorted(
        set(ex.missing) | set(missing),
        key=lambda n: list(info.fields).index(n) if n in info.fields else 99,
    )
    ex.missing = [m for m in ex.missing if m not in ex.args]
    return ex
