"""CloudWatch alarms on endpoint metrics: put one, list them with their state."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tools.core.context import ToolContext
from tools.core.declaration import tool
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
    notify = (
        f", notifying {args.sns_topic_arn}" if args.sns_topic_arn else " (no notification target)"
    )
    text = (
        f"Alarm {args.alarm_name}: {args.metric} {args.statistic} {args.comparison} "
        f"{args.threshold:g} {metric_unit(args.metric)} for {args.periods} × {args.period_seconds}s "
        f"on {args.endpoint_name}{notify}. State now: {state or 'unknown'}."
    )
    return ToolResult(
        text,
        data={"alarm_name": args.alarm_name, "alarm_arn": arn, "state": state, "request": request},
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
                "endpoint": dims.get("EndpointName"),
                "actions": alarm.get("AlarmActions", []),
            }
        )
    if not rows:
        return ToolResult("No alarms.", data={"rows": []})
    firing = [r for r in rows if r["state"] == "ALARM"]
    lines = [
        f"- {r['name']}: {r['state']} ({r['metric']} {r['statistic']} {r['comparison']} {r['threshold']:g})"
        for r in rows[:30]
    ]
    more = f"\n… {len(rows) - 30} more" if len(rows) > 30 else ""
    return ToolResult(
        f"{len(rows)} alarms, {len(firing)} in ALARM:\n" + "\n".join(lines) + more,
        data={"rows": rows},
    )
