"""CloudWatch alarms on endpoint metrics: put one, list them with their state."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.errors import ToolError
from tools.core.results import Resource, ToolResult
from tools.core.validators import SageMakerName, derived_name
from tools.stages.monitoring.cloudwatch_metrics import (
    LATENCY_METRICS,
    EndpointMetric,
    metric_namespace,
    metric_unit,
)

# --- CloudWatch alarms ----------------------------------------------------------------------------
COMPARISONS = {
    ">": "GreaterThanThreshold",
    ">=": "GreaterThanOrEqualToThreshold",
    "<": "LessThanThreshold",
    "<=": "LessThanOrEqualToThreshold",
}


class PutAlarmArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alarm_name: Annotated[
        str | None,
        Field(min_length=1, max_length=255, description="default: <endpoint>-<metric>-alarm"),
    ] = None
    endpoint_name: SageMakerName
    variant_name: str = "AllTraffic"
    metric: EndpointMetric = "ModelLatency"
    statistic: Annotated[
        Literal["Average", "Sum", "Maximum", "Minimum", "SampleCount", "p50", "p90", "p95", "p99"],
        Field(description="Statistic or percentile"),
    ] = "p90"
    comparison: Annotated[
        Literal[">", ">=", "<", "<="], Field(description="Alarm when value is")
    ] = ">"
    threshold: Annotated[
        float, Field(description="Latency in ms, counts for invocations/errors, % for utilisation")
    ]
    periods: Annotated[
        int, Field(ge=1, le=100, description="Periods in breach before alarming")
    ] = 3
    period_seconds: Annotated[Literal[60, 300, 900, 3600], Field(description="Period length")] = 60
    sns_topic_arn: Annotated[str | None, Field(description="SNS topic to notify")] = None
    treat_missing_data: Literal["missing", "notBreaching", "breaching", "ignore"] = "notBreaching"

    @model_validator(mode="after")
    def _check(self) -> PutAlarmArgs:
        if self.alarm_name is None:
            self.alarm_name = derived_name(
                self.endpoint_name, self.metric, suffix="alarm", limit=255
            )
        if self.sns_topic_arn and not self.sns_topic_arn.startswith("arn:aws"):
            raise ValueError(
                "sns_topic_arn must be an SNS topic ARN (arn:aws:sns:region:account:name)"
            )
        if self.sns_topic_arn and ":sns:" not in self.sns_topic_arn:
            raise ValueError("sns_topic_arn must be an SNS topic ARN")
        return self


def build_alarm_request(args: PutAlarmArgs, *, tags: list[dict[str, str]]) -> dict[str, Any]:
    threshold = args.threshold * 1000 if args.metric in LATENCY_METRICS else args.threshold
    request: dict[str, Any] = {
        "AlarmName": args.alarm_name,
        "AlarmDescription": (
            f"sagecoach: {args.endpoint_name} {args.metric} {args.statistic} {args.comparison} "
            f"{args.threshold:g} {metric_unit(args.metric)} for {args.periods} × {args.period_seconds}s"
        ),
        "Namespace": metric_namespace(args.metric),
        "MetricName": args.metric,
        "Dimensions": [
            {"Name": "EndpointName", "Value": args.endpoint_name},
            {"Name": "VariantName", "Value": args.variant_name},
        ],
        "Period": args.period_seconds,
        "EvaluationPeriods": args.periods,
        "DatapointsToAlarm": args.periods,
        "Threshold": threshold,
        "ComparisonOperator": COMPARISONS[args.comparison],
        "TreatMissingData": args.treat_missing_data,
        "Tags": list(tags),
    }
    if args.statistic.startswith("p"):
        request["ExtendedStatistic"] = args.statistic
    else:
        request["Statistic"] = args.statistic
    if args.sns_topic_arn:
        request["AlarmActions"] = [args.sns_topic_arn]
        request["OKActions"] = [args.sns_topic_arn]
    return request


@tool(
    name="cloudwatch_put_alarm",
    stage="monitoring",
    risk="write",
    operations=("cloudwatch:PutMetricAlarm",),
    phrases=(
        "alert me when latency is high",
        "create an alarm on the endpoint",
        "alarm on 5xx errors",
        "notify me if the endpoint fails",
    ),
)
def cloudwatch_put_alarm(ctx: ToolContext, args: PutAlarmArgs) -> ToolResult:
    """Create or update a CloudWatch alarm on an endpoint metric (e.g. p90 latency > N ms), optionally to SNS."""
    request = build_alarm_request(args, tags=ctx.aws.tags())
    cw = ctx.client("cloudwatch")
    cw.put_metric_alarm(**request)
    alarms = cw.describe_alarms(AlarmNames=[args.alarm_name]).get("MetricAlarms", [])
    arn = alarms[0].get("AlarmArn") if alarms else None
    state = alarms[0].get("StateValue") if alarms else None
    reason = alarms[0].get("StateReason") if alarms else None
    notify = (
        f", notifying {args.sns_topic_arn}" if args.sns_topic_arn else " (no notification target)"
    )
    text = (
        f"Alarm {args.alarm_name}: {args.metric} {args.statistic} {args.comparison} "
        f"{args.threshold:g} {metric_unit(args.metric)} for {args.periods} × {args.period_seconds}s "
        f"on {args.endpoint_name}{notify}. State now: {state or 'unknown'}"
        + (f" ({reason})" if reason else "")
        + "."
    )
    return ToolResult(
        text,
        data={
            "alarm_name": args.alarm_name,
            "alarm_arn": arn,
            "state": state,
            "reason": reason,
            "request": request,
        },
        resources=[Resource("cloudwatch_alarm", args.alarm_name, arn)],
    )


class ListAlarmsArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name_prefix: Annotated[str | None, Field(description="Alarm name prefix")] = None
    state: Literal["OK", "ALARM", "INSUFFICIENT_DATA"] | None = None
    max_results: Annotated[int, Field(ge=1, le=100)] = 50


@tool(
    name="cloudwatch_list_alarms",
    stage="monitoring",
    risk="read",
    operations=("cloudwatch:DescribeAlarms",),
    phrases=("list alarms", "which alarms are firing", "show cloudwatch alarms"),
)
def cloudwatch_list_alarms(ctx: ToolContext, args: ListAlarmsArgs) -> ToolResult:
    """List CloudWatch alarms with their state and what they watch."""
    params: dict[str, Any] = {"MaxRecords": args.max_results, "AlarmTypes": ["MetricAlarm"]}
    if args.name_prefix:
        params["AlarmNamePrefix"] = args.name_prefix
    if args.state:
        params["StateValue"] = args.state
    response = ctx.client("cloudwatch").describe_alarms(**params)
    rows = []
    for alarm in response.get("MetricAlarms", []):
        dims = {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}
        rows.append(
            {
                "name": alarm["AlarmName"],
                "state": alarm.get("StateValue"),
                "metric": alarm.get("MetricName"),
                "statistic": alarm.get("ExtendedStatistic") or alarm.get("Statistic"),
                "threshold": alarm.get("Threshold"),
                "comparison": alarm.get("ComparisonOperator"),
                "endpoint": dims.get("EndpointName") or dims.get("Endpoint"),
                "actions": alarm.get("AlarmActions", []),
                "reason": alarm.get("StateReason"),
            }
        )
    if not rows:
        return ToolResult("No alarms.", data={"rows": []})
    firing = [r for r in rows if r["state"] == "ALARM"]
    lines = [
        f"- {r['name']}: {r['state']} ({r['metric']} {r['statistic']} {r['comparison']} {r['threshold']:g})"
        + (f" — {r['reason']}" if r["state"] == "ALARM" and r.get("reason") else "")
        for r in rows[:30]
    ]
    more = f"\n… {len(rows) - 30} more" if len(rows) > 30 else ""
    return ToolResult(
        f"{len(rows)} alarms, {len(firing)} in ALARM:\n" + "\n".join(lines) + more,
        data={"rows": rows},
    )


# --- alarms on Model Monitor's drift metrics ------------------------------------------------------
DATA_METRICS = "/aws/sagemaker/Endpoints/data-metrics"


class DriftAlarmArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alarm_name: Annotated[str, Field(min_length=1, max_length=255)]
    endpoint_name: SageMakerName
    schedule_name: Annotated[
        SageMakerName, Field(description="The data-quality monitoring schedule")
    ]
    feature: Annotated[
        str, Field(min_length=1, description="Feature (column) whose drift to watch")
    ]
    threshold: Annotated[
        float, Field(gt=0, le=1, description="Drift distance that alarms (0-1)")
    ] = 0.2
    sns_topic_arn: Annotated[str | None, Field(description="SNS topic to notify")] = None


def build_drift_alarm_request(
    args: DriftAlarmArgs, *, tags: list[dict[str, str]]
) -> dict[str, Any]:
    request: dict[str, Any] = {
        "AlarmName": args.alarm_name,
        "AlarmDescription": f"sagecoach: drift of {args.feature} on {args.endpoint_name} > {args.threshold:g}",
        "Namespace": DATA_METRICS,
        "MetricName": f"feature_baseline_drift_{args.feature}",
        "Dimensions": [
            {"Name": "Endpoint", "Value": args.endpoint_name},
            {"Name": "MonitoringSchedule", "Value": args.schedule_name},
        ],
        "Statistic": "Maximum",
        "Period": 3600,
        "EvaluationPeriods": 1,
        "DatapointsToAlarm": 1,
        "Threshold": args.threshold,
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "notBreaching",
        "Tags": list(tags),
    }
    if args.sns_topic_arn:
        request["AlarmActions"] = [args.sns_topic_arn]
    return request


@tool(
    name="cloudwatch_put_drift_alarm",
    stage="monitoring",
    risk="write",
    operations=("cloudwatch:PutMetricAlarm",),
    phrases=(
        "alarm when the data drifts",
        "alert me on drift",
        "alarm on model monitor violations",
    ),
)
def cloudwatch_put_drift_alarm(ctx: ToolContext, args: DriftAlarmArgs) -> ToolResult:
    """Create a CloudWatch alarm on a feature's baseline drift, as a data-quality monitoring schedule reports it."""
    if args.sns_topic_arn and ":sns:" not in args.sns_topic_arn:
        raise ToolError("sns_topic_arn must be an SNS topic ARN", kind="invalid_arguments")
    request = build_drift_alarm_request(args, tags=ctx.aws.tags())
    cw = ctx.client("cloudwatch")
    cw.put_metric_alarm(**request)
    alarm = (cw.describe_alarms(AlarmNames=[args.alarm_name]).get("MetricAlarms") or [{}])[0]
    text = (
        f"Alarm {args.alarm_name}: drift of '{args.feature}' on {args.endpoint_name} (schedule "
        f"{args.schedule_name}) above {args.threshold:g}. State now: {alarm.get('StateValue', 'unknown')}"
        + (f" ({alarm['StateReason']})" if alarm.get("StateReason") else "")
        + "."
    )
    return ToolResult(
        text,
        {"alarm_name": args.alarm_name, "state": alarm.get("StateValue"),
         "reason": alarm.get("StateReason"), "request": request},
        [Resource("cloudwatch_alarm", args.alarm_name, alarm.get("AlarmArn"))],
    )  # fmt: skip


# --- alarm history ----------------------------------------------------------------------------------
class AlarmHistoryArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alarm_name: Annotated[str, Field(min_length=1, max_length=255)]
    max_results: Annotated[int, Field(ge=1, le=100)] = 20


@tool(
    name="cloudwatch_alarm_history",
    stage="monitoring",
    risk="read",
    operations=("cloudwatch:DescribeAlarmHistory",),
    phrases=("why did the alarm fire", "alarm history", "when did the alarm go off"),
)
def cloudwatch_alarm_history(ctx: ToolContext, args: AlarmHistoryArgs) -> ToolResult:
    """An alarm's history: state changes with their reasons, configuration updates, actions."""
    items = (
        ctx.client("cloudwatch")
        .describe_alarm_history(
            AlarmName=args.alarm_name, MaxRecords=args.max_results, ScanBy="TimestampDescending"
        )
        .get("AlarmHistoryItems", [])
    )
    rows = []
    for item in items:
        reason = ""
        if item.get("HistoryItemType") == "StateUpdate":
            try:
                reason = (
                    json.loads(item.get("HistoryData") or "{}")
                    .get("newState", {})
                    .get("stateReason", "")
                )
            except ValueError:
                reason = ""
        rows.append({"time": str(item.get("Timestamp", ""))[:19], "type": item.get("HistoryItemType"),
                     "summary": item.get("HistorySummary"), "reason": reason})  # fmt: skip
    if not rows:
        return ToolResult(f"{args.alarm_name} has no history (is the name right?).", {"rows": []})
    lines = [
        f"- {r['time']} {r['summary']}" + (f": {r['reason']}" if r["reason"] else "")
        for r in rows[:10]
    ]
    # What a person asks first: the latest state change and why (items of one second may
    # come in any order, so the newest line alone does not say it).
    change = next((r for r in rows if r["type"] == "StateUpdate"), None)
    lead = (
        f"{change['summary']} at {change['time']}"
        + (f" ({change['reason']})" if change["reason"] else "")
        + f". History of {args.alarm_name}, newest first:"
        if change
        else f"History of {args.alarm_name}, newest first (no state change yet):"
    )
    return ToolResult(lead + "\n" + "\n".join(lines), {"rows": rows})
