"""CloudWatch alarms in the sandbox evaluate on the metrics they watch, change state with
CloudWatch's reasons, run their SNS actions and keep their history."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sandbox.server import Sandbox
from tests.engine_helpers import clients

DIMS = [{"Name": "EndpointName", "Value": "churn"}, {"Name": "VariantName", "Value": "AllTraffic"}]


def _put(cw, *values: float, ago_s: int = 0, metric: str = "ModelLatency") -> None:
    stamp = datetime.now(UTC) - timedelta(seconds=ago_s)
    cw.put_metric_data(Namespace="AWS/SageMaker", MetricData=[
        {"MetricName": metric, "Dimensions": DIMS, "Value": value, "Timestamp": stamp,
         "Unit": "Microseconds"} for value in values])  # fmt: skip


def _alarm(cw, name: str, **extra) -> dict:
    request = {"AlarmName": name, "Namespace": "AWS/SageMaker", "MetricName": "ModelLatency",
               "Dimensions": DIMS, "Statistic": "Average", "Period": 60, "EvaluationPeriods": 1,
               "Threshold": 100000.0, "ComparisonOperator": "GreaterThanThreshold", **extra}  # fmt: skip
    cw.put_metric_alarm(**request)
    return cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]


def test_an_alarm_goes_to_alarm_when_its_metric_breaches(engine_sandbox: Sandbox) -> None:
    cw, sns = clients(engine_sandbox.endpoint, "cloudwatch", "sns")
    topic = sns.create_topic(Name="oncall")["TopicArn"]
    alarm = _alarm(cw, "slow-endpoint", AlarmActions=[topic])
    assert alarm["StateValue"] == "INSUFFICIENT_DATA"  # as CloudWatch starts every alarm
    _put(cw, 250000.0, 350000.0)
    alarm = cw.describe_alarms(AlarmNames=["slow-endpoint"])["MetricAlarms"][0]
    assert alarm["StateValue"] == "ALARM"
    assert alarm["StateReason"].startswith("Threshold Crossed: 1 datapoint [300000.0 (")
    assert alarm["StateReason"].endswith("was greater than the threshold (100000.0).")
    data = json.loads(alarm["StateReasonData"])
    assert data["recentDatapoints"] == [300000.0] and data["statistic"] == "Average"
    assert data["evaluatedDatapoints"][0]["sampleCount"] == 2.0
    history = cw.describe_alarm_history(AlarmName="slow-endpoint")["AlarmHistoryItems"]
    kinds = [(h["HistoryItemType"], h["HistorySummary"]) for h in history]
    assert ("StateUpdate", "Alarm updated from INSUFFICIENT_DATA to ALARM") in kinds
    assert ("ConfigurationUpdate", 'Alarm "slow-endpoint" created') in kinds
    assert ("Action", f"Successfully executed action {topic}") in kinds
    update = next(h for h in history if h["HistoryItemType"] == "StateUpdate")
    assert json.loads(update["HistoryData"])["newState"]["stateValue"] == "ALARM"
    only_states = cw.describe_alarm_history(
        AlarmName="slow-endpoint", HistoryItemType="StateUpdate"
    )
    assert len(only_states["AlarmHistoryItems"]) == 1


def test_m_out_of_n_and_missing_data(engine_sandbox: Sandbox) -> None:
    (cw,) = clients(engine_sandbox.endpoint, "cloudwatch")
    _put(cw, 200000.0, ago_s=120)
    _put(cw, 50000.0, ago_s=60)
    _put(cw, 300000.0)
    alarm = _alarm(cw, "two-of-three", EvaluationPeriods=3, DatapointsToAlarm=2,
                   TreatMissingData="notBreaching")  # fmt: skip
    assert alarm["StateValue"] == "ALARM"
    assert "2 out of the last 3 datapoints" in alarm["StateReason"]
    assert "(minimum 2 datapoints for OK -> ALARM transition)" in alarm["StateReason"]
    healthy = _alarm(cw, "fast-enough", Threshold=400000.0)
    assert healthy["StateValue"] == "OK"
    assert "was not greater than the threshold (400000.0)" in healthy["StateReason"]
    silent = _alarm(cw, "no-errors-yet", MetricName="Invocation5XXErrors", Statistic="Sum",
                    Threshold=0.0)  # fmt: skip
    assert silent["StateValue"] == "INSUFFICIENT_DATA"
    assert silent["StateReason"] == "Unchecked: Initial alarm creation"
    treated = _alarm(cw, "errors-or-ok", MetricName="Invocation5XXErrors", Statistic="Sum",
                     Threshold=0.0, TreatMissingData="notBreaching")  # fmt: skip
    assert treated["StateValue"] == "OK"
    assert treated["StateReason"] == (
        "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint "
        "was treated as [NonBreaching]."
    )


def test_set_alarm_state_is_in_the_history(engine_sandbox: Sandbox) -> None:
    (cw,) = clients(engine_sandbox.endpoint, "cloudwatch")
    _alarm(cw, "manual", Threshold=1.0)
    cw.set_alarm_state(AlarmName="manual", StateValue="ALARM", StateReason="testing the pager")
    history = cw.describe_alarm_history(AlarmName="manual", HistoryItemType="StateUpdate")
    item = history["AlarmHistoryItems"][0]
    assert item["HistorySummary"] == "Alarm updated from INSUFFICIENT_DATA to ALARM"
    assert json.loads(item["HistoryData"])["newState"]["stateReason"] == "testing the pager"


def test_the_minute_turning_does_not_hide_the_last_datapoint(engine_sandbox: Sandbox) -> None:
    """A request answered just before the minute turned: while the new minute has no data yet,
    the alarm looks at the last complete minute (metrics arrive a little after the fact)."""
    (cw,) = clients(engine_sandbox.endpoint, "cloudwatch")
    dims = [{"Name": "EndpointName", "Value": "turning"}, {"Name": "VariantName", "Value": "A"}]
    now = datetime.now(UTC)
    last_minute = now.replace(second=0, microsecond=0) - timedelta(seconds=1)
    cw.put_metric_data(Namespace="AWS/SageMaker", MetricData=[
        {"MetricName": "ModelLatency", "Dimensions": dims, "Value": 250000.0,
         "Timestamp": last_minute, "Unit": "Microseconds"}])  # fmt: skip
    alarm = _alarm(cw, "turning", Dimensions=dims)
    assert alarm["StateValue"] == "ALARM", alarm["StateReason"]
    assert alarm["StateReason"].startswith("Threshold Crossed: 1 datapoint [250000.0 (")
