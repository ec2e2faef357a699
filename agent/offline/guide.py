"""The first minute: "what can you do", "where do I start", "help", "is there sample data".

A newcomer gets a short guided start instead of a tool call: the nine stages in one line each,
the demo data set the sandbox seeds, and three requests that work as typed.
"""

from __future__ import annotations

import re

# What each stage is for, in a person's words.
STAGE_LINES = (
    ("Data collection", "buckets, uploads, Glue tables, streams"),
    ("Data preparation & exploration", "preview, SQL with Athena, DataBrew"),
    ("Feature engineering", "preparing a table for an algorithm, Feature Store"),
    ("Model training", "XGBoost, linear learner, k-means, Autopilot"),
    ("Hyperparameter tuning", "tuning jobs over ranges you give"),
    ("Model evaluation", "metrics, comparing runs, Clarify bias"),
    ("Model deployment", "endpoints (serverless or real-time), batch transform"),
    ("Model monitoring", "endpoint metrics, alarms, Model Monitor"),
    ("Automation & orchestration", "SageMaker Pipelines"),
)

_START = re.compile(
    r"(?ix)^\s*(?:hi|hello|hey|ok|okay|so|um+|uh+)?[\s,!.]*(?:"
    r"help(?:\s+me)?(?:\s+(?:out|please|pls))?[\s!?.]*$|/help\s*$|\?+\s*$|"
    r"what\s+(?:can|could|do|does)\s+(?:you|this|it|sagecoach)\s+(?:actually\s+|even\s+|really\s+)?"
    r"(?:do|help(?:\s+(?:me\s+)?with)?)\b|"
    r"what\s+are\s+you\b|who\s+are\s+you\b|how\s+does\s+(?:this|it|sagecoach)\s+work\b|"
    r"(?:where|how)\s+(?:do|should|can|would)\s+(?:i|we)\s+(?:even\s+)?(?:start|begin|get\s+started)\b|"
    r"where\s+to\s+(?:start|begin)\b|(?:get|getting)\s+started\b|"
    r"what\s+(?:should|can|do)\s+i\s+(?:try|do)\s+(?:first|now|next|here)\b|"
    r"(?:i'?m|i\s+am)\s+(?:new|lost|confused|a\s+beginner)\b|walk\s+me\s+through\b|"
    r"show\s+me\s+around\b|(?:give\s+me\s+)?a\s+tour\b|tutorial\b|"
    r"(?:is|are)\s+there\s+(?:any\s+|some\s+)?(?:sample|demo|example|test|toy)\s+data|"
    r"(?:any|some)\s+(?:sample|demo|example|toy)\s+data|"
    r"(?:sample|demo|example)\s+data(?:set)?s?\s*(?:\?|$)|"
    r"(?:do\s+you\s+have|got)\s+(?:any\s+|some\s+)?(?:sample|demo|example|test|toy)\s+data"
    r")"
)


def is_first_minute(text: str) -> bool:
    """A request for orientation rather than a task ("i'm new, what should I use to prepare
    data" asks a question of its own after the greeting)."""
    m = _START.search(text)
    if m is None or len(text.split()) > 14:
        return False
    rest = re.sub(
        r"(?i)\b(so|and|but|please|pls|here|this|that|it|all|me|to|with|though)\b",
        " ",
        text[m.end() :],
    )
    return len(re.findall(r"[A-Za-z]{3,}", rest)) < 3


def demo_uri() -> str:
    """The demo data set the sandbox seeds on first start."""
    try:
        from sandbox.server import DEMO_BUCKET, DEMO_KEY
    except Exception:  # the planner still guides without the sandbox package
        return "s3://sagecoach-demo/churn/churn.csv"
    return f"s3://{DEMO_BUCKET}/{DEMO_KEY}"


def guided_start(label: str) -> str:
    demo = demo_uri()
    lines = [
        "sagecoach walks a machine-learning project through nine stages on AWS; in the "
        "sandbox nothing reaches real AWS and nothing bills.",
    ]
    for n, (title, what) in enumerate(STAGE_LINES, 1):
        lines.append(f"  {n}. {title}: {what}")
    lines.append(f"Demo data (a customer-churn table, 3000 rows): {demo}")
    lines.append("Three requests to try, in order:")
    for example in (
        f"preview {demo}",
        "prepare it for xgboost with label churned",
        "train xgboost on it",
    ):
        lines.append(f'  • "{example}"')
    lines.append(
        f"Anything that costs money or deletes asks you first. ({label}: type what you want in "
        'plain words, or "/tool NAME key=value".)'
    )
    return "\n".join(lines)
