"""Where data is: S3 URIs to the S3 fields (by the words before each URI, then source before
destination) and local files and folders to the file fields, checking that they exist."""

from __future__ import annotations

import re
from pathlib import Path

from agent.offline.argument_fill import ArgumentFill
from agent.offline.text import raw_words, stem
from agent.offline.toolinfo import FieldInfo


class LocationFill(ArgumentFill):
    """Fills S3 locations and local paths from the request."""

    def _is_output(self, f: FieldInfo) -> bool:
        n = f.name.lower()
        return any(
            w in n for w in ("output", "dest", "target_uri", "result", "to_uri", "prefix_out")
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
