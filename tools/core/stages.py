"""The nine pipeline stages and the five risk levels: the vocabulary every tool declares.

Plain data, imported by every layer above (the sidebar, the catalog, the policy).
"""

from __future__ import annotations

from typing import Literal

Stage = Literal[
    "collection",
    "preparation",
    "features",
    "training",
    "tuning",
    "evaluation",
    "deployment",
    "monitoring",
    "orchestration",
    "general",
]
Risk = Literal["read", "billable_read", "write", "costly", "destructive"]
RISKS: tuple[Risk, ...] = ("read", "billable_read", "write", "costly", "destructive")

# The nine pipeline stages, in order (id, number, title).
STAGES: tuple[tuple[str, int, str], ...] = (
    ("collection", 1, "Data collection"),
    ("preparation", 2, "Data preparation & exploration"),
    ("features", 3, "Feature engineering"),
    ("training", 4, "Model training"),
    ("tuning", 5, "Hyperparameter tuning"),
    ("evaluation", 6, "Model evaluation"),
    ("deployment", 7, "Model deployment"),
    ("monitoring", 8, "Model monitoring"),
    ("orchestration", 9, "Automation & orchestration"),
)
STAGE_TITLES: dict[str, str] = {sid: title for sid, _, title in STAGES} | {"general": "General"}
