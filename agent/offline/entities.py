"""Pulls concrete values out of a request: S3 URIs, files, instance types, names, numbers, SQL.

The ranking text (with those values replaced by their kind word) is what intent ranking sees,
so "churn-ep-2" does not count as the word "ep" and an S3 URI counts as "s3".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

ARN = re.compile(r"\barn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{0,12}:[\w+=,.@:/-]+")
S3_URI = re.compile(r"s3://[A-Za-z0-9][A-Za-z0-9.\-_/=+%:@!*'()~,]*")
INSTANCE = re.compile(r"\bml\.[a-z0-9]+\.[a-z0-9]+\b", re.I)
REGION = re.compile(
    r"\b(?:us|eu|ap|sa|ca|me|af|il|mx)(?:-gov)?-"
    r"(?:east|west|north|south|central|northeast|northwest|southeast|southwest)-\d\b"
)
QUOTED = re.compile(
    r"\"([^\"\n]{1,200})\"|“([^”\n]{1,200})”|`([^`\n]{1,200})`|(?<![A-Za-z])'([^'\n]{1,120})'(?![A-Za-z])"
)
NAMED = re.compile(
    r"\b(?:named|called|name(?:d)?\s+(?:it|them)?|titled|with (?:the )?name|name it|call it)\s+[\"'`]?([A-Za-z0-9][\w.\-]*)",
    re.I,
)
FILE_EXT = [
    "csv",
    "tsv",
    "json",
    "jsonl",
    "parquet",
    "txt",
    "py",
    "zip",
    "gz",
    "tar",
    "pkl",
    "joblib",
    "yaml",
    "yml",
    "ipynb",
    "xlsx",
    "xls",
    "orc",
    "avro",
    "npy",
    "npz",
    "sh",
    "sql",
    "md",
    "pdf",
    "png",
    "jpg",
]
LOCAL_PATH = re.compile(
    r"(?<![\w/:.])((?:~|\.{1,2})?/?(?:[\w.\-]+/)*[\w\-][\w.\-]*\.(?:"
    + "|".join(FILE_EXT)
    + r"))\b",
    re.I,
)
DIR_PATH = re.compile(r"(?<![\w:])((?:~|\.{1,2})?/(?:[\w.\-]+/?)+|\./[\w.\-/]+|~/[\w.\-/]*)")
SQL = re.compile(
    r"(?is)\b((?:select|with|show|describe|explain)\b\s+.+?)(?:[;\n]|$)",
)
# Identifier-looking tokens: contain a hyphen, underscore, dot or digit between word chars.
IDENT = re.compile(
    r"(?<![\w./:-])([A-Za-z0-9]+(?:[-_.][A-Za-z0-9]+)+|[A-Za-z]+\d+[A-Za-z0-9]*)(?![\w/-])"
)
NUMBER = re.compile(
    r"(?<![\w.])(\d+(?:\.\d+)?|an?|one|two|three|four|five|six|seven|eight|nine|ten|twenty|fifty|hundred|half an?)"
    r"\s*(?:x\s*)?"
    r"(hours?|hrs?|h|minutes?|mins?|m|seconds?|secs?|s|days?|d|gb|mb|tb|rounds?|epochs?|iterations?|"
    r"trees?|instances?|nodes?|machines?|workers?|jobs?|trials?|candidates?|shards?|rows?|records?|"
    r"lines?|samples?|items?|parallel|concurren\w*|at a time|%|percent|ms|milliseconds?|dpus?|"
    r"periods?|datapoints?|invocations?|requests?|results?|models?|layers?)?(?:(?<=%)|\b)",
    re.I,
)
ROWS_FROM_FILE = re.compile(
    r"(?i)\b(?:(?:the )?(?:first|top) )?(?P<n>\d+|an?|one|two|three|four|five|six|seven|eight|nine|"
    r"ten|a few|few|some)?\s*(?:(?:first|top) (?P<n2>\d+) )?(?:sample |example |test )?"
    r"(?:rows?|lines?|records?)\s+(?:from|of|in|out of)\s+(?:the |my |that |this |our )?"
    r"(?:csv|file|data(?:set)?|[\w./~-]+\.(?:csv|tsv|txt))\b"
)
WORD_NUMBERS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "twenty": 20,
    "fifty": 50,
    "hundred": 100,
    "half a": 0.5,
    "half an": 0.5,
}
UNIT_CANON = {
    "hour": "hours",
    "hr": "hours",
    "h": "hours",
    "minute": "minutes",
    "min": "minutes",
    "m": "minutes",
    "second": "seconds",
    "sec": "seconds",
    "s": "seconds",
    "day": "days",
    "d": "days",
    "ms": "ms",
    "millisecond": "ms",
    "round": "rounds",
    "epoch": "epochs",
    "iteration": "rounds",
    "tree": "rounds",
    "instance": "instances",
    "node": "instances",
    "machine": "instances",
    "worker": "workers",
    "job": "jobs",
    "trial": "jobs",
    "candidate": "candidates",
    "shard": "shards",
    "row": "rows",
    "record": "rows",
    "line": "rows",
    "sample": "rows",
    "item": "rows",
    "result": "rows",
    "parallel": "parallel",
    "at a time": "parallel",
    "%": "percent",
    "percent": "percent",
    "gb": "gb",
    "mb": "mb",
    "tb": "tb",
    "dpu": "dpus",
    "period": "periods",
    "datapoint": "periods",
    "invocation": "requests",
    "request": "requests",
    "model": "models",
    "layer": "layers",
}


def _canon_unit(unit: str) -> str:
    u = unit.lower().strip()
    if u.startswith("concurren"):
        return "parallel"
    if u in UNIT_CANON:
        return UNIT_CANON[u]
    if u.endswith("s") and u[:-1] in UNIT_CANON:
        return UNIT_CANON[u[:-1]]
    return u


@dataclass
class Number:
    value: float
    unit: str  # canonical unit or ""
    start: int
    end: int
    before: str  # up to 3 words before, lower case


@dataclass
class Entities:
    text: str
    s3_uris: list[str] = field(default_factory=list)
    arns: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # local file-like tokens as written
    dirs: list[str] = field(default_factory=list)
    instance_types: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    quoted: list[str] = field(default_factory=list)
    named: list[str] = field(default_factory=list)
    identifiers: list[tuple[str, str]] = field(default_factory=list)  # (value, words before)
    numbers: list[Number] = field(default_factory=list)
    sql: str | None = None
    json_payload: str | None = None
    csv_payload: str | None = None
    rows_from_file: int | None = None  # "send it 3 rows from the csv": how many rows to read
    ranking_text: str = ""

    @property
    def kinds(self) -> set[str]:
        out = set()
        if self.s3_uris:
            out.add("s3")
        if self.files or self.dirs:
            out.add("file")
        if self.instance_types:
            out.add("instance")
        if self.sql:
            out.add("sql")
        return out

    def existing_files(self) -> list[str]:
        return [f for f in self.files if Path(f).expanduser().is_file()]


def _words_before(text: str, pos: int, n: int = 3) -> str:
    return " ".join(re.findall(r"[A-Za-z0-9]+", text[:pos].lower())[-n:])


def extract_entities(text: str) -> Entities:
    ent = Entities(text=text)
    spans: list[tuple[int, int, str]] = []

    def taken(a: int, b: int) -> bool:
        return any(a < e and b > s for s, e, _ in spans)

    for m in ARN.finditer(text):
        arn = m.group(0).rstrip(".,;:)!?'\"")
        ent.arns.append(arn)
        spans.append((m.start(), m.start() + len(arn), " arn "))
    for m in S3_URI.finditer(text):
        uri = m.group(0).rstrip(".,;:)!?'\"")
        ent.s3_uris.append(uri)
        spans.append((m.start(), m.start() + len(uri), " s3uri "))
    for kw in re.finditer(r"(?i)\b(select|with|show|describe|explain)\b", text):
        sql = SQL.match(text, kw.start())
        if sql is None:
            continue
        stmt = sql.group(1).strip().strip("\"'`")
        if (
            re.match(r"(?i)select\b.+\bfrom\b", stmt)
            or re.match(r"(?i)(select\s+\d|select\s+count)", stmt)
            or re.match(r"(?i)show\s+(tables|databases|schemas|partitions|columns|create)\b", stmt)
            or re.match(r"(?i)(describe|explain)\s+(select\b|[a-z0-9]+[_.][\w.]+)", stmt)
            or re.match(r"(?i)with\s+\w+\s+as\s*\(", stmt)
        ):
            ent.sql = stmt
            spans.append((sql.start(1), sql.end(1), " sql query "))
            break
    m = re.search(r"(\{[^{}]*\}|\[[^\[\]]*\])", text)
    if m and not taken(m.start(), m.end()):
        import json

        try:
            if isinstance(json.loads(m.group(1)), dict | list):
                ent.json_payload = m.group(1)
                spans.append((m.start(), m.end(), " payload "))
        except ValueError:
            pass
    m = ROWS_FROM_FILE.search(text)
    if m:
        raw = (m.group("n") or m.group("n2") or "3").lower()
        count = WORD_NUMBERS.get(raw, 3 if raw in ("a few", "some", "few") else None)
        ent.rows_from_file = int(count if count is not None else float(raw))
    m = re.search(r"(?<![\w.])(-?\d+(?:\.\d+)?(?:\s*,\s*-?\d+(?:\.\d+)?){2,})", text)
    # a CSV row with text cells too: "C1004,2023-08-10,NY,39,36.34,no,0"
    wide = re.search(r"(?<![\w/:.])([^\s,'\"`]+(?:,[^\s,'\"`]*){2,})(?![\w/])", text)
    numeric = wide is not None and any(
        re.fullmatch(r"-?\d+(?:\.\d+)?", c) for c in wide.group(1).split(",")
    )
    if wide and numeric and (m is None or (wide.start() <= m.start() and wide.end() >= m.end())):
        m = wide
    if m and not taken(m.start(), m.end()):
        ent.csv_payload = re.sub(r"\s+", "", m.group(1))
        spans.append((m.start(), m.end(), " payload "))
    for m in QUOTED.finditer(text):
        value = next(g for g in m.groups() if g is not None).strip()
        if not value or taken(m.start(), m.end()):
            continue
        ent.quoted.append(value)
        spans.append((m.start(), m.end(), " name "))
    for m in INSTANCE.finditer(text):
        if not taken(m.start(), m.end()):
            ent.instance_types.append(m.group(0).lower())
            spans.append((m.start(), m.end(), " instance "))
            # "2 ml.m5.xlarge" / "2x ml.g5.xlarge": a count of instances
            count = re.search(
                r"(?i)(?<![\w.])(\d+|one|two|three|four|five|six|eight|ten)\s*(?:x|×)?\s*$",
                text[: m.start()],
            )
            if count:
                raw = count.group(1).lower()
                value = float(WORD_NUMBERS.get(raw, raw))
                ent.numbers.append(Number(value, "instances", count.start(1), m.end(), ""))
                spans.append((count.start(1), count.end(1), " "))
    for m in REGION.finditer(text):
        if not taken(m.start(), m.end()):
            ent.regions.append(m.group(0))
            spans.append((m.start(), m.end(), " region "))
    for m in LOCAL_PATH.finditer(text):
        if not taken(m.start(1), m.end(1)):
            ent.files.append(m.group(1))
            spans.append((m.start(1), m.end(1), " file "))
    for m in DIR_PATH.finditer(text):
        if not taken(m.start(1), m.end(1)) and Path(m.group(1)).expanduser().exists():
            ent.dirs.append(m.group(1).rstrip("/") or "/")
            spans.append((m.start(1), m.end(1), " folder "))
    for m in NAMED.finditer(text):
        if not taken(m.start(1), m.end(1)):
            ent.named.append(m.group(1).rstrip(".,;:"))
            spans.append((m.start(1), m.end(1), " "))
        else:
            # "called 'x'": the quoted value is the name
            for s, e, _ in spans:
                if s <= m.start(1) < e:
                    inner = text[s:e].strip("\"'`“”")
                    if inner in ent.quoted:
                        ent.named.append(inner)
                    break
    for m in IDENT.finditer(text):
        if taken(m.start(1), m.end(1)):
            continue
        value = m.group(1).rstrip(".")
        low = value.lower()
        if low in {
            "s3",
            "ec2",
            "p4d",
            "g5",
            "k-means",
            "real-time",
            "ci/cd",
            "e.g",
            "i.e",
            "x-ray",
        } or re.fullmatch(r"\d+(\.\d+)?", low):
            continue
        if re.fullmatch(r"[a-z]+\d", low) and low in {"p3", "g4dn", "m5", "c5", "r5", "t3"}:
            continue
        ent.identifiers.append((value, _words_before(text, m.start(1))))
        spans.append((m.start(1), m.end(1), _kind_hint(value, text)))
    for m in NUMBER.finditer(text):
        if taken(m.start(), m.end()):
            continue
        raw, unit = m.group(1).lower(), m.group(2) or ""
        if raw in WORD_NUMBERS or raw.startswith("half"):
            if not unit or m.start(2) == m.end(1) or len(unit) == 1:
                continue  # "a" on its own is not a number, nor "an"+"d" in "and"
            value = WORD_NUMBERS.get(raw, 0.5)
        else:
            value = float(raw)
        ent.numbers.append(
            Number(
                value,
                _canon_unit(unit) if unit else "",
                m.start(),
                m.end(),
                _words_before(text, m.start()),
            )
        )
    spans.sort()
    out, last = [], 0
    for s, e, repl in spans:
        if s < last:
            continue
        out.append(text[last:s])
        out.append(repl)
        last = e
    out.append(text[last:])
    ent.ranking_text = "".join(out)
    return ent


_KIND_WORDS = ("endpoint", "model", "bucket", "pipeline", "crawler", "function", "stream")
# Parts of a name that say what it is ("xgb-churn-7" is a training job, "churn-ep" an endpoint).
_NAME_PARTS = {
    "endpoint": "endpoint", "ep": "endpoint", "model": "model", "bucket": "bucket",
    "pipeline": "pipeline", "crawler": "crawler", "function": "function", "fn": "function",
    "stream": "stream", "xgb": "training job", "xgboost": "training job", "train": "training job",
    "training": "training job", "hpo": "tuning job", "tuning": "tuning job", "tune": "tuning job",
}  # fmt: skip


def _kind_hint(identifier: str, text: str) -> str:
    """'invoke sc-endpoint-ff606c with ...': a name that says what it is counts for ranking,
    unless the sentence already names a kind of thing."""
    parts = re.split(r"[-_.]|(?<=[a-z])(?=\d)", identifier.lower())
    kinds = list(dict.fromkeys(_NAME_PARTS[p] for p in parts if p in _NAME_PARTS))
    outside = text.lower().replace(identifier.lower(), " ")
    said = {"endpoint", "model", "bucket", "pipeline", "crawler", "function", "stream", "job"}
    if len(kinds) == 1 and not any(re.search(rf"\b{k}s?\b", outside) for k in said):
        return f" {kinds[0]} "
    return " "
