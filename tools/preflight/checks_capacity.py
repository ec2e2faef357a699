"""Capacity: the instance type is offered for that use in the region (bundled price table), and
the account's Service Quotas allow that many (when the quotas can be read)."""

from __future__ import annotations

from typing import Any

from tools.preflight.needs import PRICE_COMPONENT, QUOTA_WORDS, InstanceNeed, Needs
from tools.preflight.probe import Probe, error_code
from tools.preflight.report import CheckResult, failed, passed, skipped


def check_offered(probe: Probe, needs: Needs) -> list[CheckResult]:
    from tools.cost.prices import known_instance_types

    out = []
    for need in needs.instances:
        component: Any = PRICE_COMPONENT[need.usage]
        offered = known_instance_types(component, probe.region)
        subject = f"{need.instance_type} for {need.usage}"
        if not offered:
            out.append(skipped("instance.offered", f"no instance list for {probe.region}", subject))
        elif need.instance_type in offered:
            out.append(passed("instance.offered", f"offered in {probe.region}", subject))
        else:
            family = ".".join(need.instance_type.split(".")[:2])
            similar = [t for t in offered if t.startswith(family + ".")][:3] or offered[:3]
            out.append(
                failed(
                    "instance.offered",
                    f"{need.instance_type} is not offered for {need.usage} in {probe.region}",
                    f"choose one that is, e.g. {', '.join(similar)}",
                    subject,
                )
            )
    return out


def quota_table(probe: Probe) -> dict[str, float]:
    """SageMaker quota values by name for this account and region (cached per session)."""
    from tools.cost.lookups import cached_lookup

    def fetch() -> dict[str, float]:
        client = probe.client("service-quotas")
        values: dict[str, float] = {}
        for method in ("list_aws_default_service_quotas", "list_service_quotas"):
            token = None
            while True:
                params: dict[str, Any] = {"ServiceCode": "sagemaker", "MaxResults": 100}
                if token:
                    params["NextToken"] = token
                page = getattr(client, method)(**params)
                for quota in page.get("Quotas", []):
                    values[str(quota.get("QuotaName", ""))] = float(quota.get("Value", 0.0))
                token = page.get("NextToken")
                if not token:
                    break
        return values  # the account's applied values override the defaults

    return dict(cached_lookup(probe.aws, ("preflight-quotas", probe.region), fetch))


def quota_name(need: InstanceNeed) -> str:
    return f"{need.instance_type} for {QUOTA_WORDS[need.usage]}"


def check_quotas(probe: Probe, needs: Needs) -> list[CheckResult]:
    if not needs.instances:
        return []
    try:
        quotas = quota_table(probe)
    except Exception as exc:
        reason = "the sandbox has no quotas" if probe.sandbox else error_code(exc)
        return [skipped("quota", f"Service Quotas not readable ({reason})")]
    out = []
    for need in needs.instances:
        name = quota_name(need)
        if name not in quotas:
            out.append(skipped("quota", "no quota listed under that name", name))
            continue
        value = quotas[name]
        if value < need.count:
            alternative = "ml.m5.xlarge" if need.instance_type != "ml.m5.xlarge" else "ml.m5.large"
            out.append(
                failed(
                    "quota",
                    f"your account may run {value:g} × {need.instance_type} for "
                    f"{QUOTA_WORDS[need.usage]}; this call needs {need.count}",
                    f"request an increase (Service Quotas > Amazon SageMaker > {name}) or use "
                    f"{alternative}",
                    name,
                )
            )
        else:
            out.append(passed("quota", f"quota {value:g}, needs {need.count}", name))
    return out
