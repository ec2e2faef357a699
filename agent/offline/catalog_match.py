"""Which pipeline stage and which catalog service a request talks about ("store features" ->
features, "serverless endpoints" -> serverless-inference). Ranking uses it to weigh tools and
argument filling to answer a `stage` or `service` field."""

from __future__ import annotations

import re

from agent.offline.text import content_words, fold_phrases, raw_words, stem

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
