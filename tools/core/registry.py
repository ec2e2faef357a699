"""Loads every stage module so the registry is complete, and answers questions about it."""

from __future__ import annotations

import importlib

from tools.core.declaration import REGISTRY, Registry, ToolSpec
from tools.core.stages import STAGES

# Every module that declares tools, in the order their tools are listed: the knowledge tools,
# then each stage's services in pipeline order, then the resource ledger's tools.
TOOL_MODULES: tuple[str, ...] = (
    "tools.stages.general.knowledge",
    "tools.stages.collection.s3",
    "tools.stages.collection.s3_upload",
    "tools.stages.collection.s3_objects",
    "tools.stages.collection.glue_catalog",
    "tools.stages.collection.glue_jobs",
    "tools.stages.collection.kinesis",
    "tools.stages.collection.data_exchange",
    "tools.stages.preparation.athena",
    "tools.stages.preparation.databrew",
    "tools.stages.preparation.lambda_functions",
    "tools.stages.preparation.quicksight",
    "tools.stages.features.feature_groups",
    "tools.stages.features.feature_records",
    "tools.stages.features.processing",
    "tools.stages.features.prepare",
    "tools.stages.features.wait",
    "tools.stages.training.jobs",
    "tools.stages.training.metrics",
    "tools.stages.training.autopilot",
    "tools.stages.training.autopilot_models",
    "tools.stages.training.batch",
    "tools.stages.training.experiments",
    "tools.stages.training.jumpstart",
    "tools.stages.training.studio",
    "tools.stages.tuning.tuning_jobs",
    "tools.stages.evaluation.compare",
    "tools.stages.evaluation.clarify",
    "tools.stages.evaluation.baseline",
    "tools.stages.evaluation.results",
    "tools.stages.deployment.models",
    "tools.stages.deployment.endpoints",
    "tools.stages.deployment.endpoint_status",
    "tools.stages.deployment.endpoint_delete",
    "tools.stages.deployment.invoke",
    "tools.stages.deployment.transform",
    "tools.stages.deployment.proxy",
    "tools.stages.monitoring.model_monitor",
    "tools.stages.monitoring.monitor_runs",
    "tools.stages.monitoring.cloudwatch_metrics",
    "tools.stages.monitoring.cloudwatch_alarms",
    "tools.stages.monitoring.cloudwatch_logs",
    "tools.stages.monitoring.cloudtrail",
    "tools.stages.orchestration.pipelines",
    "tools.stages.orchestration.executions",
    "tools.ledger.session_tools",
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
