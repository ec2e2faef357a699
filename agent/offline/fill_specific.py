"""Fields with a shape of their own, recognised by name: a role ARN, an instance type, a
region, SQL, a payload (pasted rows, JSON, or the first rows of a local file), a target or
facet column, a record id, free text, a service or stage, a metric, a name filter; and the
nested hyperparameters and tuning ranges. They go first so their values are not taken as
plain names or numbers."""

from __future__ import annotations

import re
from pathlib import Path

from agent.offline.argument_fill import ArgumentFill
from agent.offline.argument_words import METRIC_NAMES, NOT_NAMES, REPORT_WORDS
from agent.offline.catalog_match import match_service, match_stage
from agent.offline.structured import find_hyperparameters, find_ranges
from agent.offline.toolinfo import FieldInfo


class SpecificFieldFill(ArgumentFill):
    """Fills the fields whose names say what shape of value they take."""

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
            if m and m.group(1).lower() not in NOT_NAMES and any(ch.isdigit() for ch in m.group(1)):
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
                    if value.lower() not in NOT_NAMES | REPORT_WORDS:
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


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True
