"""Run a call's pre-flight checks: plan the needs, run the checks on a few threads, report.

A check that raises is reported as skipped (with the reason), never as a pass and never as a
crash: pre-flight must not stop a call because pre-flight itself broke.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tools.preflight.checks_capacity import check_offered, check_quotas
from tools.preflight.checks_iam import check_role
from tools.preflight.checks_jobs import check_glue_run, check_pipeline
from tools.preflight.checks_models import check_artifacts, check_capture
from tools.preflight.checks_payload import check_payload
from tools.preflight.checks_prepare import check_prepare
from tools.preflight.checks_s3 import check_contract, check_inputs_exist, check_regions
from tools.preflight.needs import Needs
from tools.preflight.plans import PLANS
from tools.preflight.probe import Probe
from tools.preflight.report import CheckResult, PreflightReport, skipped

Check = Callable[[Probe, Needs], list[CheckResult]]
CHECKS: tuple[tuple[str, Check], ...] = (
    ("s3.exists", check_inputs_exist),
    ("s3.region", check_regions),
    ("data", check_contract),
    ("prepare", check_prepare),
    ("iam", check_role),
    ("instance.offered", check_offered),
    ("quota", check_quotas),
    ("model.artifact", check_artifacts),
    ("endpoint.data_capture", check_capture),
    ("payload", check_payload),
    ("pipeline.inputs", check_pipeline),
    ("glue", check_glue_run),
)
WORKERS = 4
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(
                max_workers=WORKERS, thread_name_prefix="sagecoach-preflight"
            )
        return _pool


def has_preflight(tool_name: str) -> bool:
    return tool_name in PLANS


def plan_needs(tool_name: str, args: Any, default_role_arn: str | None = None) -> Needs | None:
    plan = PLANS.get(tool_name)
    return None if plan is None else plan(args, default_role_arn)


def run_checks(aws: Any, needs: Needs, tool: str = "") -> PreflightReport:
    """The report for these needs (tests build Needs directly and call this)."""
    started = time.perf_counter()
    report = PreflightReport(tool)
    if needs.empty:
        return report
    probe = Probe(aws)

    def guarded(label: str, check: Check) -> list[CheckResult]:
        try:
            return check(probe, needs)
        except Exception as exc:  # pre-flight broke, not the call: say so, do not stop it
            return [skipped(label, f"check could not run: {type(exc).__name__}: {exc}")]

    futures = [_executor().submit(guarded, label, check) for label, check in CHECKS]
    for future in futures:
        report.checks += future.result()
    report.elapsed_ms = (time.perf_counter() - started) * 1000
    return report


def run_preflight(
    tool_name: str, args: Any, aws: Any, *, default_role_arn: str | None = None
) -> PreflightReport | None:
    """None when the tool has no pre-flight; else the report (failures stop the call)."""
    try:
        needs = plan_needs(tool_name, args, default_role_arn)
    except Exception as exc:
        report = PreflightReport(tool_name)
        report.checks.append(skipped("plan", f"could not plan the checks: {exc}"))
        return report
    if needs is None:
        return None
    return run_checks(aws, needs, tool_name)
