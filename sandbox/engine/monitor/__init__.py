"""SageMaker Model Monitor in the sandbox.

- A processing job with the analyzer image (`sagemaker-model-monitor-analyzer`) runs
  `sandbox.engine.monitor.analyzer`: a baseline job writes statistics.json and
  constraints.json; a run against a baseline writes constraint_violations.json too.
- `schedules`: monitoring schedules (the API moto lacks), their cron, the sandbox's run-now
  route, and executions over an endpoint's captured data.
"""

from __future__ import annotations

from typing import Any

from sandbox.engine.processing import BUILTIN_CONTAINERS, WARM

ANALYZER_REPOSITORY = "sagemaker-model-monitor-analyzer"


def build_command(
    engine: Any, job: Any, request: dict[str, Any]
) -> tuple[list[str], dict[str, str]]:
    from sandbox.engine import script_mode

    env = script_mode.sandbox_aws_env(engine._require_endpoint(), job.region)
    env.update({str(k): str(v) for k, v in (request.get("Environment") or {}).items()})
    return [WARM, "sandbox.engine.monitor.analyzer"], env


BUILTIN_CONTAINERS[ANALYZER_REPOSITORY] = build_command


def attach(engine: Any) -> None:
    from sandbox.engine.monitor import schedules

    schedules.attach(engine)


def recover(engine: Any) -> None:
    from sandbox.engine.monitor import schedules

    schedules.recover(engine)


from sandbox.engine.monitor import schedules as _schedules  # noqa: E402,F401  (registers the API hooks)
