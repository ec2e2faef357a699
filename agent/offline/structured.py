"""Nested arguments from plain words: training hyperparameters and tuning ranges.

    "train xgboost for 50 rounds with eta 0.1, max depth 6, objective binary:logistic"
        -> hyperparameters {"num_round": 50, "eta": 0.1, "max_depth": 6, "objective": "binary:logistic"}
    "tune eta between 0.01 and 0.3 on a log scale and max_depth from 3 to 10"
        -> ranges [{"name": "eta", "type": "continuous", "min": 0.01, "max": 0.3,
                    "scaling": "Logarithmic"}, {"name": "max_depth", "type": "integer", ...}]

The hyperparameter names, types and allowed values come from the algorithm's typed model
(tools/stages/training/algorithms.py) when it has one, else from a short table of the usual names; the words
people use for them ("learning rate", "rounds", "depth") are added here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from agent.offline.toolinfo import fields_from_schema

_NUM = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?"
# Other words for a hyperparameter (beyond its own name and a short description).
_WORDS: dict[str, tuple[str, ...]] = {
    "num_round": ("rounds", "num rounds", "number of rounds", "boosting rounds", "round"),
    "eta": ("learning rate", "lr", "learning-rate"),
    "max_depth": ("max depth", "maximum depth", "tree depth", "depth"),
    "min_child_weight": ("min child weight",),
    "colsample_bytree": ("colsample", "column sample", "colsample by tree"),
    "subsample": ("subsample", "row sample", "sub sample"),
    "alpha": ("l1",),
    "lambda": ("l2", "reg lambda"),
    "scale_pos_weight": ("scale pos weight", "positive weight"),
    "early_stopping_rounds": ("early stopping rounds", "early stopping"),
    "num_class": ("classes", "number of classes", "num classes"),
    "num_classes": ("classes", "number of classes"),
    "epochs": ("epochs", "epoch", "passes"),
    "learning_rate": ("learning rate", "lr", "learning-rate"),
    "mini_batch_size": ("batch size", "mini batch size", "minibatch size"),
    "wd": ("weight decay", "l2"),
    "l1": ("l1",),
    "predictor_type": ("predictor type", "problem type"),
    "k": ("clusters", "k"),
    "feature_dim": ("feature dim", "feature dimension", "features", "feature_dim"),
    "num_trees": ("trees", "num trees", "number of trees"),
    "num_samples_per_tree": ("samples per tree",),
}
# Count-like hyperparameters may come before their number: "50 rounds", "3 classes".
_COUNT_WORDS = {
    "num_round": ("rounds", "boosting rounds", "round", "iterations", "trees"),
    "epochs": ("epochs", "epoch", "passes", "rounds"),
    "num_class": ("classes",),
    "num_classes": ("classes",),
    "k": ("clusters",),
    "feature_dim": ("features", "feature columns", "columns"),
    "num_trees": ("trees",),
}
# Algorithms without a typed model: the hyperparameters SageMaker requires or people tune.
_UNTYPED: dict[str, dict[str, str]] = {
    "kmeans": {"k": "integer", "feature_dim": "integer", "mini_batch_size": "integer"},
    "randomcutforest": {
        "feature_dim": "integer",
        "num_trees": "integer",
        "num_samples_per_tree": "integer",
    },
}
_LOG = re.compile(r"(?i)\blog(?:arithmic)?(?:[- ]?(?:scale|scaled|uniform|space))?\b|\blog-?scale")


@dataclass(frozen=True)
class HParam:
    name: str
    kind: str  # integer | number | string | boolean
    values: tuple[str, ...] = ()
    words: tuple[str, ...] = ()


@lru_cache(maxsize=16)
def hyperparameters_of(algorithm: str) -> tuple[HParam, ...]:
    """The hyperparameters an algorithm takes, with the words people use for them."""
    typed = None
    try:
        from tools.stages.training.algorithms import ALGORITHMS

        algo = ALGORITHMS.get(algorithm)
        typed = algo.typed if algo is not None else None
    except Exception:  # the planner still works without the algorithm table
        typed = None
    out: list[HParam] = []
    if typed is not None:
        for name, f in fields_from_schema(typed.model_json_schema()).items():
            kind = next((t for t in ("integer", "number", "boolean") if t in f.types), "string")
            desc = f.description.lower()
            words = [name, name.replace("_", " "), name.replace("_", "")]
            if desc and len(desc) > 3 and len(desc.split()) <= 3:
                words.append(desc)
            words.extend(_WORDS.get(name, ()))
            out.append(HParam(name, kind, tuple(map(str, f.enum)), _unique(words)))
    else:
        for name, kind in _UNTYPED.get(algorithm, {}).items():
            words = [name, name.replace("_", " "), *_WORDS.get(name, ())]
            out.append(HParam(name, kind, (), _unique(words)))
    return tuple(out)


def _unique(words: list[str]) -> tuple[str, ...]:
    return tuple(sorted(dict.fromkeys(w.lower() for w in words if w), key=len, reverse=True))


def _words_re(words: tuple[str, ...]) -> str:
    parts = [re.escape(w).replace(r"\ ", r"[\s_-]?") for w in words]
    return r"(?<![\w:])(?:" + "|".join(parts) + r")(?![\w])"


def _number(raw: str, kind: str) -> int | float:
    value = float(raw)
    if kind == "integer" and value.is_integer():
        return int(value)
    return int(value) if value.is_integer() and "." not in raw and "e" not in raw.lower() else value


def _wide(rng: dict[str, Any]) -> bool:
    """A range over orders of magnitude (0.001-0.1), where log scaling makes sense."""
    lo, hi = rng.get("min"), rng.get("max")
    return isinstance(lo, int | float) and isinstance(hi, int | float) and lo > 0 and hi >= 10 * lo


@dataclass
class Found:
    values: dict[str, Any]
    spans: list[tuple[int, int]]


def find_hyperparameters(text: str, algorithm: str, *, skip: set[str] | None = None) -> Found:
    """Fixed hyperparameter values named in the text ("eta 0.1", "50 rounds")."""
    skip = skip or set()
    found = Found({}, [])
    taken: list[tuple[int, int]] = []

    def free(a: int, b: int) -> bool:
        return not any(a < e and b > s for s, e in taken)

    params = hyperparameters_of(algorithm)
    # Enum values written out anywhere ("binary:logistic") belong to their hyperparameter.
    for hp in params:
        if hp.name in skip or not hp.values:
            continue
        for value in sorted(hp.values, key=len, reverse=True):
            pattern = re.escape(value).replace("_", "[_ ]")
            m = re.search(rf"(?i)(?<![\w:]){pattern}(?![\w:])", text)
            if m and (":" in value or "_" in value) and free(m.start(), m.end()):
                found.values[hp.name] = value
                taken.append((m.start(), m.end()))
                break
    # The most specific names first: "early stopping rounds 10" is not "rounds 10".
    for hp in sorted(params, key=lambda p: -len(p.words[0]) if p.words else 0):
        if hp.name in skip or hp.name in found.values:
            continue
        words = _words_re(hp.words)
        if hp.kind in ("integer", "number"):
            after = re.compile(
                rf"(?i){words}\s*(?:of|=|:|to|is|at|as|set to|value)?\s*({_NUM})(?![\w.:-])"
            )
            m = next((m for m in after.finditer(text) if free(m.start(), m.end())), None)
            if m is None and hp.name in _COUNT_WORDS:
                before = re.compile(rf"(?i)(?<![\w.])({_NUM})\s+{_words_re(_COUNT_WORDS[hp.name])}")
                m = next((m for m in before.finditer(text) if free(m.start(), m.end())), None)
            if m is not None:
                found.values[hp.name] = _number(m.group(1), hp.kind)
                taken.append((m.start(), m.end()))
        elif hp.values:
            pattern = "|".join(re.escape(v) for v in sorted(hp.values, key=len, reverse=True))
            m = re.search(
                rf"(?i){words}\s*(?:of|=|:|to|is|as|set to)?\s*({pattern})(?![\w:])", text
            )
            if m and free(m.start(), m.end()):
                value = next(v for v in hp.values if v.lower() == m.group(1).lower())
                found.values[hp.name] = value
                taken.append((m.start(), m.end()))
        elif hp.kind == "boolean":
            m = re.search(rf"(?i){words}\s*(?:=|:|to|is)?\s*(true|false|on|off|yes|no)\b", text)
            if m and free(m.start(), m.end()):
                found.values[hp.name] = m.group(1).lower() in ("true", "on", "yes")
                taken.append((m.start(), m.end()))
    found.spans = taken
    return found


def find_ranges(text: str, algorithm: str) -> Found:
    """Tuning ranges: "eta between 0.01 and 0.3", "max_depth from 3 to 10", "objective in a, b"."""
    params = hyperparameters_of(algorithm)
    hits: list[tuple[int, int, dict[str, Any]]] = []
    for hp in params:
        words = _words_re(hp.words)
        if hp.kind in ("integer", "number"):
            m = re.search(
                rf"(?i){words}\s*(?:between|from|in|in the range(?: of)?|range|within|over|of|:|=)?"
                rf"\s*\[?\s*({_NUM})\s*(?:and|to|-|–|\.\.|,)\s*({_NUM})\s*\]?",
                text,
            )
            if m is None:
                continue
            lo, hi = float(m.group(1)), float(m.group(2))
            kind = "integer" if hp.kind == "integer" else "continuous"
            rng: dict[str, Any] = {
                "name": hp.name,
                "type": kind,
                "min": int(lo) if kind == "integer" and lo.is_integer() else lo,
                "max": int(hi) if kind == "integer" and hi.is_integer() else hi,
            }
            hits.append((m.start(), m.end(), rng))
        elif hp.values:
            pattern = "|".join(re.escape(v) for v in sorted(hp.values, key=len, reverse=True))
            m = re.search(
                rf"(?i){words}\s*(?:in|among|one of|between|either|as|:|=|values?|over)?\s*"
                rf"\[?\s*((?:{pattern})(?:\s*(?:,|or|and|/)\s*(?:{pattern}))+)",
                text,
            )
            if m is None:
                continue
            values = [
                next(v for v in hp.values if v.lower() == raw.lower())
                for raw in re.findall(rf"(?i){pattern}", m.group(1))
            ]
            hits.append(
                (m.start(), m.end(), {"name": hp.name, "type": "categorical", "values": values})
            )
    hits.sort(key=lambda h: h[0])
    # "on a log scale" right after a range is that range's; a trailing one is the learning
    # rate's kind of range (continuous, above zero) when there is one.
    ranges = [h[2] for h in hits]
    for i, (_, end, rng) in enumerate(hits):
        nxt = hits[i + 1][0] if i + 1 < len(hits) else len(text)
        tail = text[end:nxt]
        if not _LOG.search(tail):
            continue
        if i + 1 < len(hits) or (rng["type"] == "continuous" and _wide(rng)):
            targets = [rng]
        else:  # a trailing "log scale": the ranges that span orders of magnitude
            targets = [r for r in ranges if r["type"] == "continuous" and _wide(r)] or [rng]
        for r in targets:
            if r["type"] != "categorical" and r["min"] > 0:
                r["scaling"] = "Logarithmic"
    before = text[: hits[0][0]] if hits else ""
    if hits and _LOG.search(before):
        for r in ranges:
            if r["type"] == "continuous" and _wide(r):
                r["scaling"] = "Logarithmic"
    return Found({"ranges": ranges}, [(s, e) for s, e, _ in hits])
