"""Recommending services: a request's constraints and stage, ranked against the catalog."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tools.catalog.lookup import SERVICES, STAGE_CATALOG, STAGE_ORDER, STAGES_BY_ID, get_stage
from tools.catalog.model import Service
from tools.catalog.words import name_key, split_words, stem

# --- recommending ---------------------------------------------------------------------------
# Words and phrases a person uses for a constraint -> the trait it means.
CONSTRAINTS: dict[str, tuple[str, ...]] = {
    "no-code": (
        "no code",
        "no-code",
        "nocode",
        "without code",
        "without coding",
        "without writing code",
        "low code",
        "low-code",
        "visual",
        "point and click",
        "gui",
        "not a programmer",
    ),
    "code": ("my own code", "custom code", "my script", "own script", "python script"),
    "streaming": ("streaming", "stream", "continuous", "real-time data", "live data", "events"),
    "realtime": (
        "realtime",
        "real-time",
        "real time",
        "low latency",
        "low-latency",
        "online",
        "instant",
        "per request",
        "milliseconds",
    ),
    "batch": ("batch", "offline", "bulk", "nightly", "daily", "weekly", "once a", "whole dataset"),
    "cheapest": (
        "cheapest",
        "cheap",
        "cheaply",
        "cheaper",
        "low cost",
        "low-cost",
        "lowest cost",
        "budget",
        "inexpensive",
        "cost-effective",
        "cost effective",
        "save money",
        "free",
        "minimal cost",
    ),
    "serverless": (
        "serverless",
        "no servers",
        "no infrastructure",
        "scale to zero",
        "pay per use",
        "pay-per-use",
        "idle",
        "intermittent",
        "occasional",
        "spiky",
    ),
    "sql": ("sql", "query", "queries"),
    "gpu": ("gpu", "deep learning", "cuda"),
    "automl": ("automl", "auto ml", "automatically", "which algorithm"),
    "pretrained": ("pretrained", "pre-trained", "foundation model", "llm"),
    "dashboards": ("dashboard", "dashboards", "business intelligence"),
    "bias": ("bias", "fairness", "fair"),
    "explainability": ("explain", "explainability", "shap", "interpret"),
    "drift": ("drift",),
    "audit": (
        "audit",
        "who changed",
        "who did",
        "who deleted",
        "who created",
        "who modified",
        "who accessed",
        "compliance",
    ),
    "ci-cd": ("ci/cd", "cicd", "ci-cd", "automate", "automation", "repeatable"),
    "third-party-data": ("third-party", "third party", "external data", "buy data"),
    "experiment-tracking": ("track experiments", "experiment tracking", "compare runs"),
    "multi-model": (
        "many models",
        "multi-model",
        "multiple models",
        "per customer",
        "per-customer",
        "models per",
    ),
    "large-scale": ("large scale", "large-scale", "big data", "terabytes", "at scale"),
    "notebook": ("notebook", "jupyter"),
}
# Trait pairs that rule each other out: a service with the second and not the first fits badly.
_CONFLICTS: dict[str, tuple[str, ...]] = {
    "no-code": ("code",),
    "serverless": ("always-on",),
    "cheapest": ("always-on",),
    "batch": ("always-on",),
    "realtime": ("offline",),
    "streaming": (),
}
_STOP_WORDS = (
    "a an and are as at be by can do does for from get have how i in into is it its me my "
    "of on or our should so some that the their them then this to use used using want we "
    "what when where which who why will with would you your best good service services aws "
    "amazon sagemaker need help like"
)
_STOP = set(_STOP_WORDS.split())


def _stems(text: str) -> set[str]:
    text = re.sub(r"fine[- ]?tun", "finetun", text.lower())  # fine-tuning is not tuning
    return {stem(w) for w in split_words(text) if w not in _STOP}


def normalize_constraints(items: list[str] | tuple[str, ...] | str) -> list[str]:
    """Free-text constraints ("no code", "cheap", "low latency") -> known traits, in order."""
    texts = [items] if isinstance(items, str) else list(items)
    found: list[str] = []
    for text in texts:
        low = f" {text.lower().strip()} "
        hit = False
        for trait, phrases in CONSTRAINTS.items():
            if (
                trait == low.strip()
                or any(re.search(rf"(?<![a-z-]){re.escape(p)}(?![a-z-])", low) for p in phrases)
            ) and trait not in found:
                found.append(trait)
                hit = True
        if not hit and isinstance(items, (list, tuple)) and text.strip():
            word = text.strip().lower().replace(" ", "-")
            if word not in found:
                found.append(word)  # an unknown constraint still matches a trait of that name
    return found


# Constraints that say which stage a request is about.
_TRAIT_STAGE = {
    "audit": "monitoring",
    "drift": "monitoring",
    "bias": "evaluation",
    "explainability": "evaluation",
    "automl": "training",
    "pretrained": "training",
    "ci-cd": "orchestration",
    "streaming": "collection",
    "third-party-data": "collection",
    "dashboards": "preparation",
    "experiment-tracking": "evaluation",
}
# Words too generic to count as naming a service ("endpoint" does not name one endpoint kind).
_GENERIC = {
    "model",
    "data",
    "job",
    "inference",
    "endpoint",
    "serverless",
    "batch",
    "train",
    "training",
    "process",
    "processing",
    "real",
    "time",
}


def infer_stages(goal: str, traits: list[str] | tuple[str, ...] = ()) -> list[str]:
    """Stages a goal talks about, most hits first ("train and deploy" -> training, deployment)."""
    words = _stems(goal)
    hits = []
    for st in STAGE_CATALOG:
        count = len(words & {stem(k) for k in st.keywords})
        count += 2 * sum(1 for t in traits if _TRAIT_STAGE.get(t) == st.id)
        if count:
            hits.append((count, st.number, st.id))
    hits.sort(key=lambda t: (-t[0], t[1]))
    return [sid for _, _, sid in hits]


def _named(svc: Service, goal_stems: set[str]) -> bool:
    for name in (svc.name, *svc.aliases):
        stems = {stem(w) for w in split_words(name_key(name))} - _GENERIC
        if stems and stems <= goal_stems:
            return True
    return False


@dataclass
class Recommendation:
    service: Service
    score: float
    reasons: list[str]
    stage: str | None = None  # the stage it is recommended for

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service.name,
            "id": self.service.id,
            "score": round(self.score, 1),
            "stage": self.stage,
            "reasons": self.reasons,
            "tools": list(self.service.tools),
            "console_only": self.service.console_only,
            "billing": self.service.billing,
        }


def first_sentence(text: str) -> str:
    return re.split(r"(?<=[.;])\s", text, maxsplit=1)[0].rstrip(".;")


def short(text: str, limit: int = 100) -> str:
    """The first clause of a description, cut at a word boundary."""
    text = re.split(r"(?<=[.;:])\s+(?=[A-Z(])", text, maxsplit=1)[0].rstrip(".;:")
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def recommend(
    goal: str = "",
    *,
    stage: str | None = None,
    constraints: list[str] | tuple[str, ...] = (),
    limit: int = 5,
) -> tuple[list[Recommendation], dict[str, Any]]:
    """Rank services for a goal and/or stage under constraints. Deterministic, no model.

    Returns the ranked recommendations and what was understood (stages, constraints).
    """
    explicit_stage = get_stage(stage) if stage else None
    if stage and explicit_stage is None:
        raise ValueError(
            f"unknown stage '{stage}' (stages: {', '.join(s.id for s in STAGE_CATALOG)})"
        )
    wanted = normalize_constraints(list(constraints))
    for trait in normalize_constraints(goal) if goal else []:
        if trait not in wanted:
            wanted.append(trait)
    inferred = [] if explicit_stage else infer_stages(goal, wanted) if goal else []
    stage_ids = [explicit_stage.id] if explicit_stage else inferred
    goal_stems = _stems(goal) if goal else set()

    results: list[Recommendation] = []
    for svc in SERVICES:
        score = 0.0
        reasons: list[str] = []
        fit_stage = next((s for s in stage_ids if s in svc.stages), None)
        if explicit_stage is not None and fit_stage is None:
            continue
        if fit_stage is not None:
            order = STAGE_ORDER[fit_stage]
            main = svc.stages[0] == fit_stage or order.index(svc.id) < 4
            score += (30 if explicit_stage else 20) + (len(order) - order.index(svc.id)) * 0.5
            score += 5 if main else 0
            title = STAGES_BY_ID[fit_stage].title
            reasons.append(f"stage {title}")
        if goal_stems:
            if _named(svc, goal_stems):
                score += 25
                reasons.append("named in the request")
            keys = {stem(k) for k in (*svc.keywords, *svc.traits)}
            matched = sorted(goal_stems & keys)
            if matched:
                score += 6 * len(matched)
                reasons.append("matches: " + ", ".join(matched))
            purpose_hits = goal_stems & _stems(svc.purpose + " " + svc.use_when)
            score += 1.0 * len(purpose_hits - set(matched))  # a tie-breaker, not a reason
        for trait in wanted:
            if trait == "cheapest":
                bonus = (5 - svc.cost_rank) * 4
                score += bonus
                if svc.cost_rank <= 2:
                    reasons.append(f"low cost: {first_sentence(svc.billing)}")
                elif svc.cost_rank >= 4:
                    reasons.append(f"costly: {first_sentence(svc.billing)}")
                continue
            if trait in svc.traits:
                score += 12
                reasons.append(f"fits '{trait}'")
            conflicts = [c for c in _CONFLICTS.get(trait, ()) if c in svc.traits]
            if conflicts and trait not in svc.traits:
                score -= 15
                reasons.append(f"does not fit '{trait}' ({', '.join(conflicts)})")
        if score <= 0 or not reasons:
            continue
        if svc.console_only:
            reasons.append("console only: " + first_sentence(svc.console))
        results.append(Recommendation(svc, score, reasons, fit_stage or svc.stages[0]))
    stage_rank = {s.id: s.number for s in STAGE_CATALOG}
    results.sort(
        key=lambda r: (
            -r.score,
            stage_rank.get(r.stage or "", 99),
            [s.id for s in SERVICES].index(r.service.id),
        )
    )
    understood = {"stages": stage_ids, "constraints": wanted}
    return results[: max(1, limit)], understood
