"""Values of a closed or typed field: enum choices (exact words, all words, most stems, or a
synonym), numbers matched to a field by their unit or the words before them and converted to
the field's unit, yes/no flags (negated by "don't", "without" ...), and arrays of enum items."""

from __future__ import annotations

import re

from agent.offline.argument_fill import ArgumentFill
from agent.offline.argument_words import ENUM_SYNONYMS, TIME_UNITS
from agent.offline.catalog_match import match_stage
from agent.offline.entities import Number
from agent.offline.text import fold_phrases, raw_words, stem
from agent.offline.toolinfo import FieldInfo


def _norm(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", fold_phrases(value).lower())


class ValueFill(ArgumentFill):
    """Fills enum, number, flag and enum-array fields."""

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
            if not score:  # the value in people's words ("still running" for InProgress)
                syn = ENUM_SYNONYMS.get(value.lower(), ())
                if any(f" {s} " in text_norm for s in syn):
                    score = 1.2
            if score > best_score:
                best, best_score = value, score
        if best is not None:
            self.set(f, best, "enum")

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
