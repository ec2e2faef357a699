"""Pre-flight checks: named pass/warn/fail checks run before every costly call and before its
approval is asked (data vs the algorithm's contract, S3, the role, instances, quotas,
prerequisites). Framework code: imports tools' core pieces and `tools.dataprep`, no stage module
at import time."""

from tools.preflight.report import CheckResult, PreflightReport
from tools.preflight.runner import has_preflight, plan_needs, run_checks, run_preflight

__all__ = [
    "CheckResult",
    "PreflightReport",
    "has_preflight",
    "plan_needs",
    "run_checks",
    "run_preflight",
]
