"""A built-in algorithm's data contract, checked against the head of a channel's first object.

Pure: bytes in, CheckResults out. The rules follow the containers: XGBoost's CSV reader takes
the label from column 0 and reads every line as data (sagemaker-xgboost-container
data_utils: `label_column=0`, a sniffed delimiter, `label_size` must be 1), text cells come out
as missing or 0, and `csv_weights=1` reads weights from column 1; Linear Learner needs the label
first and every cell filled; K-Means and Random Cut Forest read CSV without a label when the
content type says `label_size=0` (the RCF test channel carries one: `label_size=1`).
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import re
from typing import Any

from tools.preflight.report import CheckResult, failed, passed, warned

TITLES = {
    "xgboost": "XGBoost",
    "linear-learner": "Linear Learner",
    "kmeans": "K-Means",
    "randomcutforest": "Random Cut Forest",
}
CSV_TYPES = ("text/csv", "csv")
ACCEPTED: dict[str, tuple[str, ...]] = {
    "xgboost": (
        *CSV_TYPES,
        "text/libsvm",
        "text/x-libsvm",
        "libsvm",
        "application/x-parquet",
        "parquet",
        "application/x-recordio-protobuf",
        "recordio-protobuf",
    ),
    "linear-learner": (*CSV_TYPES, "application/x-recordio-protobuf"),
    "kmeans": (*CSV_TYPES, "application/x-recordio-protobuf"),
    "randomcutforest": (*CSV_TYPES, "application/x-recordio-protobuf"),
}
UNSUPERVISED = ("kmeans", "randomcutforest")
_TARGET_NAME = re.compile(
    r"(^|_)(label|target|class|y|churn\w*|outcome|fraud|default|survived)$|^(is|has_churn)_",
    re.IGNORECASE,
)
_ID_NAME = re.compile(r"(^|[_\s-])(id|uuid|guid|key)$|[a-z]I[dD]$", re.IGNORECASE)
RECORDIO_MAGIC = b"\x0a\x23\xd7\xce"


def parse_content_type(value: str) -> tuple[str, dict[str, str]]:
    """('text/csv', {'label_size': '0'}) from 'text/csv;label_size=0'."""
    media, *params = [p.strip() for p in value.split(";")]
    parsed = {}
    for param in params:
        key, _, val = param.partition("=")
        if key:
            parsed[key.strip().lower()] = val.strip()
    return media.lower(), parsed


def label_columns(algorithm: str, channel: str, params: dict[str, str]) -> int:
    """How many leading columns the container takes as the label."""
    if "label_size" in params:
        try:
            return int(params["label_size"])
        except ValueError:
            return 1
    return 1  # the built-ins' CSV default: the first column is the label


def _number(cell: str) -> float | None:
    text = cell.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return None if math.isnan(value) or math.isinf(value) else value


def _is_text(cell: str) -> bool:
    return bool(cell.strip()) and _number(cell) is None and cell.strip().lower() not in ("nan",)


def guess_target(header: list[str]) -> str:
    named = [h for h in header if _TARGET_NAME.search(h.strip())]
    return (named[-1] if named else header[-1]).strip()


def prepare_fix(uri: str, header: list[str] | None, algorithm: str) -> str:
    target = f" target_column={guess_target(header)}" if header else " target_column=<label>"
    algo = "" if algorithm == "xgboost" else f" algorithm={algorithm}"
    return (
        f"run prepare_training_data with source_s3_uri={uri}{target}{algo} "
        "(label first, no header, numbers only), then train on its train/ and validation/ channels"
    )


def _rows(head: bytes, complete: bool) -> list[list[str]]:
    text = head.decode("utf-8-sig", errors="replace")
    lines = text.splitlines()
    if not complete and lines and not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # cut by the byte range
    lines = [line for line in lines if line.strip()]
    if not lines:
        return []
    delimiter = "\t" if lines[0].count("\t") > lines[0].count(",") else ","
    return list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter))


def _has_header(rows: list[list[str]]) -> bool:
    if len(rows) < 2:
        return bool(rows) and all(_is_text(c) for c in rows[0] if c.strip())
    first, rest = rows[0], rows[1:6]
    for index, cell in enumerate(first):
        if not _is_text(cell):
            continue
        below = [r[index] for r in rest if index < len(r) and r[index].strip()]
        if below and all(_number(b) is not None for b in below):
            return True
    return all(_is_text(c) for c in first if c.strip()) and any(
        _number(c) is not None for r in rest for c in r
    )


def _looks_like_id(values: list[str]) -> bool:
    numbers = [_number(v) for v in values]
    if len(values) < 10 or len(set(values)) != len(values):
        return False
    if all(n is not None for n in numbers):
        ints = [int(n) for n in numbers if n is not None and float(n).is_integer()]
        return len(ints) == len(values) and all(b - a == 1 for a, b in itertools.pairwise(ints))
    return True  # unique text in every row: an identifier, not a label


def _label_rule(algorithm: str, hp: dict[str, str]) -> tuple[str, Any] | None:
    """(description, predicate) for the label values the objective accepts."""
    if algorithm == "xgboost":
        objective = hp.get("objective", "reg:squarederror")
        if objective.startswith(("binary:",)) or objective == "reg:logistic":
            return f"in [0, 1] for {objective}", lambda v: 0 <= v <= 1
        if objective.startswith("multi:"):
            n = int(float(hp.get("num_class", "0") or 0))
            return (
                f"a class index 0..{n - 1} for {objective} (num_class={n})",
                lambda v: v.is_integer() and 0 <= v < n,
            )
        if objective in ("count:poisson", "reg:gamma", "reg:tweedie"):
            return f"not negative for {objective}", lambda v: v >= 0
        return None
    if algorithm == "linear-learner":
        predictor = hp.get("predictor_type", "")
        if predictor == "binary_classifier":
            return "0 or 1 for binary_classifier", lambda v: v in (0.0, 1.0)
        if predictor == "multiclass_classifier":
            n = int(float(hp.get("num_classes", "0") or 0))
            return (
                f"a class index 0..{n - 1} for multiclass_classifier",
                lambda v: v.is_integer() and 0 <= v < n,
            )
    return None


def check_csv(
    head: bytes,
    *,
    algorithm: str,
    hyperparameters: dict[str, str],
    channel: str,
    uri: str,
    content_type: str,
    complete: bool,
) -> list[CheckResult]:
    """The CSV contract for one channel's first object."""
    title = TITLES.get(algorithm, algorithm)
    subject = f"{channel} {uri}"
    _, params = parse_content_type(content_type)
    rows = _rows(head, complete)
    if not rows:
        return [failed("data.empty", "the first object has no rows", "upload data", subject)]
    header = rows[0] if _has_header(rows) else None
    data = rows[1:] if header else rows
    out: list[CheckResult] = []
    fix = prepare_fix(uri, header, algorithm)
    n_label = label_columns(algorithm, channel, params)
    if header:
        names = ", ".join(h.strip() for h in header[:6]) + (", …" if len(header) > 6 else "")
        out.append(
            failed(
                "data.header",
                f"the first line is a header row ({names}): {title} reads it as a data row "
                "and every name in it as a missing value",
                fix,
                subject,
                header=header,
            )
        )
    if not data:
        out.append(failed("data.empty", "no data rows after the first line", fix, subject))
        return out
    widths = {len(r) for r in data}
    if len(widths) > 1:
        out.append(
            failed(
                "data.shape",
                f"rows have different numbers of cells ({', '.join(map(str, sorted(widths)))})",
                "write every row with the same columns (check quoting of commas)",
                subject,
            )
        )
    width = max(widths)
    if n_label >= 1:
        labels = [r[0] if r else "" for r in data]
        name = header[0].strip() if header else "the first column"
        text = [v for v in labels if _is_text(v)]
        if text or _looks_like_id(labels) or (header and _ID_NAME.search(header[0].strip())):
            sample = ", ".join(dict.fromkeys(v.strip() for v in labels[:3]))
            kind = (
                "an id" if _looks_like_id(labels) or (header and _ID_NAME.search(name)) else "text"
            )
            out.append(
                failed(
                    "data.label",
                    f"the label must come first, but the first column ({name}: {sample}, …) is "
                    f"{kind}: {title} would learn to predict it",
                    fix,
                    subject,
                    column=name,
                )
            )
        else:
            rule = _label_rule(algorithm, hyperparameters)
            values = [_number(v) for v in labels]
            if any(v is None for v in values):
                out.append(
                    failed(
                        "data.label",
                        "some rows have no label value in the first column",
                        "drop rows without a label (prepare_training_data does)",
                        subject,
                    )
                )
            elif rule is not None:
                description, ok = rule
                bad = sorted({v for v in values if v is not None and not ok(v)})
                if bad:
                    shown = ", ".join(f"{b:g}" for b in bad[:4])
                    out.append(
                        failed(
                            "data.label",
                            f"label values must be {description}; found {shown}",
                            "encode the label (prepare_training_data does) or change the objective",
                            subject,
                        )
                    )
    first_feature = n_label + (1 if hyperparameters.get("csv_weights") == "1" else 0)
    text_columns = []
    empty_columns = []
    for index in range(first_feature, width):
        cells = [r[index] for r in data if index < len(r)]
        name = header[index].strip() if header and index < len(header) else f"column {index + 1}"
        texts = [c.strip() for c in cells if _is_text(c)]
        if texts:
            text_columns.append(f"{name} ('{texts[0]}')")
        if any(not c.strip() for c in cells):
            empty_columns.append(name)
    if text_columns:
        shown = ", ".join(text_columns[:4]) + (", …" if len(text_columns) > 4 else "")
        out.append(
            failed(
                "data.numeric",
                f"{len(text_columns)} feature column(s) hold text: {shown}; {title} reads numbers "
                "only (text becomes missing or 0)",
                fix,
                subject,
            )
        )
    if empty_columns and algorithm != "xgboost":
        out.append(
            failed(
                "data.missing",
                f"{title} needs a value in every cell; empty cells in {', '.join(empty_columns[:4])}",
                "fill or drop missing values (prepare_training_data does)",
                subject,
            )
        )
    features = width - first_feature
    declared = hyperparameters.get("feature_dim")
    if declared and declared.isdigit() and int(declared) != features:
        out.append(
            failed(
                "data.feature_dim",
                f"rows have {features} feature columns but feature_dim is {declared}",
                f"set feature_dim to {features}",
                subject,
            )
        )
    if not any(c.status == "fail" for c in out):
        label_text = "no label" if n_label == 0 else "label first"
        out.append(
            passed(
                "data.contract",
                f"{len(data)} rows sampled: {label_text}, {features} numeric features, no header",
                subject,
            )
        )
    return out


def check_bytes_kind(head: bytes, media: str, subject: str) -> CheckResult | None:
    """A content type that does not match the bytes (CSV declared, Parquet or JSON found)."""
    stripped = head.lstrip()[:1]
    looks = (
        "parquet"
        if head[:4] == b"PAR1"
        else "recordio"
        if head[:4] == RECORDIO_MAGIC
        else "json"
        if stripped in (b"{", b"[")
        else "text"
    )
    wanted = (
        "parquet"
        if "parquet" in media
        else "recordio"
        if "recordio" in media
        else "text"  # csv and libsvm are text
    )
    if looks == wanted:
        return None
    return failed(
        "data.content_type",
        f"the channel says {media} but the first object looks like {looks}",
        f"set content_type to match the data, or convert it (prepare_training_data writes {CSV_TYPES[0]})",
        subject,
    )


def check_content_type(
    algorithm: str, channel: str, content_type: str, subject: str
) -> list[CheckResult]:
    media, params = parse_content_type(content_type)
    title = TITLES.get(algorithm, algorithm)
    accepted = ACCEPTED.get(algorithm, ())
    if media not in accepted:
        readable = ", ".join(a for a in accepted if "/" in a)
        return [
            failed(
                "data.content_type",
                f"{title} does not read {media}",
                f"use one of {readable}",
                subject,
            )
        ]
    label_size = params.get("label_size")
    if media in CSV_TYPES and label_size is not None:
        if algorithm in ("xgboost", "linear-learner") and label_size != "1":
            return [
                failed(
                    "data.content_type",
                    f"{title} takes label_size=1 only (got {label_size})",
                    "use text/csv (the label is the first column)",
                    subject,
                )
            ]
        if algorithm in UNSUPERVISED and label_size not in ("0", "1"):
            return [
                failed(
                    "data.content_type",
                    f"label_size must be 0 or 1 (got {label_size})",
                    "use text/csv;label_size=0 for unlabelled rows",
                    subject,
                )
            ]
    if media in CSV_TYPES and algorithm in UNSUPERVISED and label_size is None:
        return [
            warned(
                "data.content_type",
                f"plain text/csv: {title} takes the first column as a label and drops it",
                "use text/csv;label_size=0 (sagecoach sets it for train and validation)",
                subject,
            )
        ]
    return []
