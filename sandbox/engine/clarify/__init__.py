"""SageMaker Clarify in the sandbox: a processing job whose image is Clarify's
(`sagemaker-clarify-processing`) runs `sandbox.engine.clarify.container` against the job's
inputs (analysis_config.json and the dataset) and writes analysis.json in Clarify's layout, a
readable report and local SHAP values to its output.

Modules: `bias` (the metrics), `dataset` (config, data, facet groups), `shap`, `predictor`
(the model Clarify calls), `report`, `container` (the process the job runs).
"""

from __future__ import annotations

import json
from typing import Any

from sandbox.engine.processing import BUILTIN_CONTAINERS, WARM

CLARIFY_REPOSITORY = "sagemaker-clarify-processing"


def build_command(
    engine: Any, job: Any, request: dict[str, Any]
) -> tuple[list[str], dict[str, str]]:
    """Stage the model the analysis calls (if any), then the container command."""
    from sandbox.engine import script_mode
    from sandbox.engine.clarify.predictor import stage

    config_dir = job.workdir / "processing" / "input" / "config"
    config_files = sorted(config_dir.rglob("*.json")) if config_dir.exists() else []
    if config_files:
        try:
            config = json.loads(config_files[0].read_text())
        except ValueError:
            config = {}
        predictor = config.get("predictor") if isinstance(config, dict) else None
        if isinstance(predictor, dict) and (
            predictor.get("model_name") or predictor.get("endpoint_name")
        ):
            stage(engine, job.region, job.account, predictor, job.workdir)
    env = script_mode.sandbox_aws_env(engine._require_endpoint(), job.region)
    env.update({str(k): str(v) for k, v in (request.get("Environment") or {}).items()})
    return [WARM, "sandbox.engine.clarify.container"], env


BUILTIN_CONTAINERS[CLARIFY_REPOSITORY] = build_command
