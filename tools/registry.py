"""Loads every stage module so the registry is complete, and answers questions about it."""

from __future__ import annotations

import importlib

from tools.base import REGISTRY, STAGES, Registry, ToolSpec

# One module per pipeline stage, plus the knowledge tools and the resource ledger.
TOOL_MODULES: tuple[str, ...] = (
    "tools.knowledge",
    "tools.collection",
    "tools.preparation",
    "tools.features",
    "tools.stages.features.prepare",
    "tools.training",
    "tools.tuning",
    "tools.evaluation",
    "tools.deployment",
    "tools.monitoring",
    "tools.orchestration",
    "tools.ledger_tools",
)

_loaded = False


def load_all() -> Registry:
    """Import every tool module once; returns the filled registry."""
    global _loaded
    if not _loaded:
        for module in TOOL_MODULES:
            importlib.import_module(module)
        _loaded = True
    return REGISTRY


def all_tools() -> list[ToolSpec]:
    return load_all().all()


def get_tool(name: str) -> ToolSpec:
    return load_all().get(name)


def tools_for_stage(stage: str) -> list[ToolSpec]:
    return load_all().by_stage(stage)


def stage_ids() -> list[str]:
    return [sid for sid, _, _ in STAGES]
