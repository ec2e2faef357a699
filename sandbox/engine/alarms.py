"""CloudWatch metric alarms that evaluate, as CloudWatch does, on the sandbox's metrics
(endpoint invocations, Model Monitor runs, anything put with PutMetricData).

moto stores alarms and never evaluates them. Here each alarm is evaluated when its metric gets
data, when it is created or updated, and every `EVALUATE_EVERY_S` seconds: the statistic of each
of the last `EvaluationPeriods` periods, `DatapointsToAlarm` of them breaching to alarm, missing
periods treated by `TreatMissingData`. A change of state carries CloudWatch's StateReason text
and StateReasonData, runs the alarm's SNS actions, and is kept for DescribeAlarmHistory (which
moto lacks) with creations, updates and SetAlarmState calls.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox.engine.core import Engine
from sandbox.engine.dispatch import HOOKS, Call, Reply
from sandbox.engine.periodic import every

log = logging.getLogger("sandbox.engine.alarms")
KEY = "sandbox.engine.alarms"
EVALUATE_EVERY_S = 10.0
_WORDS = {
    "GreaterThanThreshold": "greater than",
    "GreaterThanOrEqualToThreshold": "greater than or equal to",
    "LessThanThreshold": "less than",
    "LessThanOrEqualToThreshold": "less than or equal to",
}
_LOCK = threading.RLock()


def _state(engine: Engine) -> dict[str, Any]:
    return engine.extensions.setdefault(KEY, {"history": [], "previous": {}})


def attach(engine: Engine) -> None:
    state = _state(engine)
    if engine.persistence is not None:

        def load(data: Any) -> None:
            state["history"] = list(data or [])

        engine.persistence.register(KEY, lambda: list(state["history"]), load)
    every(engine, EVALUATE_EVERY_S, "alarms", lambda: evaluate_all(engine))


def _backend(region: str, account: str) -> Any:
    from moto.backends import get_backend

    return get_backend("cloudwatch")[account][region]


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(stamp: datetime) -> datetime:
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def _iso(stamp: datetime) -> str:
    return stamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


def _record(engine: Engine, call_region: str, account: str, alarm: str, kind: str,
            summary: str, data: dict[str, Any]) -> None:  # fmt: skip
    _state(engine)["history"].append({
        "AlarmName": alarm, "AlarmType": "MetricAlarm", "Timestamp": _now(),
        "HistoryItemType": kind, "HistorySummary": summary,
        "HistoryData": json.dumps(data), "_region": call_region, "_account": account,
    })  # fmt: skip
    if engine.persistence is not None:
        engine.persistence.mark_dirty()


# --- evaluation ------------------------------------------------------------------------------
def _statistic(values: list[float], aggregated: list[Any], name: str) -> float | None:
    count = len(values) + sum(a.sample_count for a in aggregated)
    if count == 0:
        return None
    total = sum(values) + sum(a.sum for a in aggregated)
    if name == "SampleCount":
        return float(count)
    if name == "Sum":
        return float(total)
    if name == "Average":
        return float(total / count)
    if name == "Minimum":
        return float(min([*values, *(a.min for a in aggregated)]))
    if name == "Maximum":
        return float(max([*values, *(a.max for a in aggregated)]))
    if name.startswith("p") and values:
        ordered = sorted(values)
        rank = max(0, math.ceil(float(name[1:]) / 100 * len(ordered)) - 1)
        return float(ordered[rank])
    return None


def _datapoints(
    backend: Any, alarm: Any, now: datetime
) -> list[tuple[datetime, float | None, int]]:
    """(period start, statistic or None, samples) for the last EvaluationPeriods periods, newest
    first. The period in progress counts once it has data; while it has none yet, the window
    ends with the last complete period (metrics arrive a little after the fact, and a request
    made just before the minute turned still counts)."""
    from moto.cloudwatch.models import MetricAggregatedDatum, MetricDatum

    period = int(alarm.period or 60)
    count = int(alarm.evaluation_periods or 1)
    newest = datetime.fromtimestamp(int(now.timestamp()) // period * period, UTC)
    starts = [newest - timedelta(seconds=period * i) for i in range(count + 1)]
    wanted = {(d.name, d.value) for d in alarm.dimensions}
    buckets: dict[datetime, tuple[list[float], list[Any]]] = {s: ([], []) for s in starts}
    oldest = starts[-1]
    for datum in list(backend.metric_data):
        if datum.namespace != alarm.namespace or datum.name != alarm.metric_name:
            continue
        if {(d.name, d.value) for d in datum.dimensions} != wanted:
            continue
        stamp = _aware(datum.timestamp)
        if stamp < oldest or stamp >= newest + timedelta(seconds=period):
            continue
        start = datetime.fromtimestamp(int(stamp.timestamp()) // period * period, UTC)
        if start not in buckets:
            continue
        if isinstance(datum, MetricDatum):
            buckets[start][0].append(float(datum.value))
        elif isinstance(datum, MetricAggregatedDatum):
            buckets[start][1].append(datum)
    statistic = alarm.extended_statistic or alarm.statistic or "Average"
    result = []
    for start in starts:
        values, aggregated = buckets[start]
        samples = len(values) + int(sum(a.sample_count for a in aggregated))
        result.append((start, _statistic(values, aggregated, statistic), samples))
    return result[1:] if result[0][2] == 0 else result[:-1]


def _breaches(value: float, operator: str, threshold: float) -> bool:
    return {
        "GreaterThanThreshold": value > threshold,
        "GreaterThanOrEqualToThreshold": value >= threshold,
        "LessThanThreshold": value < threshold,
        "LessThanOrEqualToThreshold": value <= threshold,
    }.get(operator, False)


def _shown(points: list[tuple[datetime, float | None, int]]) -> str:
    return ", ".join(
        f"{v} ({s.strftime('%d/%m/%y %H:%M:%S')})" for s, v, _ in points if v is not None
    )


def decide(alarm: Any, points: list[tuple[datetime, float | None, int]]) -> tuple[str, str] | None:
    """(new state, StateReason), or None to keep the state (TreatMissingData=ignore)."""
    operator = alarm.comparison_operator
    if operator not in _WORDS:
        return None  # anomaly-detection bands: not evaluated here
    threshold = float(alarm.threshold)
    needed = int(alarm.datapoints_to_alarm or alarm.evaluation_periods or 1)
    total = len(points)
    treat = alarm.treat_missing_data or "missing"
    present = [(s, v, n) for s, v, n in points if v is not None]
    missing = total - len(present)
    breaching = [(s, v, n) for s, v, n in present if _breaches(float(v), operator, threshold)]  # type: ignore[arg-type]
    bad = len(breaching) + (missing if treat == "breaching" else 0)
    word = _WORDS[operator]
    if not present:
        if treat == "ignore":
            return None
        if treat == "missing":
            plural = "datapoints were" if total > 1 else "datapoint was"
            return "INSUFFICIENT_DATA", f"Insufficient Data: {total} {plural} unknown."
        kind = "Breaching" if treat == "breaching" else "NonBreaching"
        state = "ALARM" if (treat == "breaching" and total >= needed) else "OK"
        return state, (
            f"Threshold Crossed: no datapoints were received for {total} period"
            f"{'s' if total > 1 else ''} and {total} missing datapoint"
            f"{'s were' if total > 1 else ' was'} treated as [{kind}]."
        )
    if bad >= needed:
        if total == 1:
            reason = (f"Threshold Crossed: 1 datapoint [{_shown(breaching)}] was {word} the "
                      f"threshold ({threshold}).")  # fmt: skip
        else:
            verb = "were" if len(breaching) != 1 else "was"
            reason = (
                f"Threshold Crossed: {len(breaching)} out of the last {total} datapoints "
                f"[{_shown(breaching)}] {verb} {word} the threshold ({threshold}) (minimum "
                f"{needed} datapoint{'s' if needed > 1 else ''} for OK -> ALARM transition)."
            )
        return "ALARM", reason
    if total == 1 or len(present) == 1:
        return "OK", (f"Threshold Crossed: 1 datapoint [{_shown(present[:1])}] was not {word} "
                      f"the threshold ({threshold}).")  # fmt: skip
    return "OK", (
        f"Threshold Crossed: {len(present)} datapoints [{_shown(present)}] were not {word} the "
        f"threshold ({threshold})."
    )


def _reason_data(
    alarm: Any, points: list[tuple[datetime, float | None, int]], now: datetime
) -> str:
    present = [(s, v, n) for s, v, n in points if v is not None]
    data: dict[str, Any] = {
        "version": "1.0",
        "queryDate": _iso(now),
        "startDate": _iso(points[-1][0]) if points else _iso(now),
        "statistic": alarm.extended_statistic or alarm.statistic or "Average",
        "period": int(alarm.period or 60),
        "recentDatapoints": [v for _, v, _ in reversed(present)],
        "threshold": float(alarm.threshold),
        "evaluatedDatapoints": [
            {"timestamp": _iso(s), "sampleCount": float(n), "value": v} for s, v, n in present
        ],
    }
    return json.dumps(data)


def evaluate(engine: Engine, region: str, account: str, alarm: Any) -> bool:
    """Evaluate one alarm now; True when its state changed."""
    if not alarm.metric_name or getattr(alarm, "rule", None):
        return False  # metric-math and composite alarms keep the state they have
    now = _now()
    points = _datapoints(_backend(region, account), alarm, now)
    decision = decide(alarm, points)
    if decision is None:
        return False
    state, reason = decision
    if state == alarm.state_value:
        return False
    change(engine, region, account, alarm, state, reason, _reason_data(alarm, points, now))
    return True


def change(engine: Engine, region: str, account: str, alarm: Any, state: str, reason: str,
           reason_data: str, *, set_by_call: bool = False) -> None:  # fmt: skip
    old = {"stateValue": alarm.state_value, "stateReason": alarm.state_reason}
    if not set_by_call:
        alarm.update_state(reason, reason_data, state)
    new: dict[str, Any] = {"stateValue": state, "stateReason": reason}
    try:
        new["stateReasonData"] = json.loads(reason_data) if reason_data else {}
    except ValueError:
        pass
    _record(engine, region, account, alarm.name, "StateUpdate",
            f"Alarm updated from {old['stateValue']} to {state}",
            {"version": "1.0", "oldState": old, "newState": new})  # fmt: skip
    actions = {"ALARM": alarm.alarm_actions, "OK": alarm.ok_actions,
               "INSUFFICIENT_DATA": alarm.insufficient_data_actions}.get(state) or []  # fmt: skip
    if alarm.actions_enabled:
        for action in actions:
            _run_action(engine, region, account, alarm, action, old["stateValue"], state, reason)


def _run_action(engine: Engine, region: str, account: str, alarm: Any, action: str,
                old: str, state: str, reason: str) -> None:  # fmt: skip
    if ":sns:" not in action:
        _record(engine, region, account, alarm.name, "Action",
                f"Failed to execute action {action}. The sandbox runs SNS actions only.",
                {"actionState": "Failed", "notificationResource": action})  # fmt: skip
        return
    message = {"AlarmName": alarm.name, "AlarmDescription": alarm.description,
               "AWSAccountId": account, "NewStateValue": state, "NewStateReason": reason,
               "StateChangeTime": _iso(_now()), "Region": region, "AlarmArn": alarm.alarm_arn,
               "OldStateValue": old,
               "Trigger": {"MetricName": alarm.metric_name, "Namespace": alarm.namespace,
                           "Statistic": alarm.statistic, "Period": alarm.period,
                           "EvaluationPeriods": alarm.evaluation_periods,
                           "ComparisonOperator": alarm.comparison_operator,
                           "Threshold": alarm.threshold}}  # fmt: skip
    try:
        engine.client("sns", region).publish(
            TopicArn=action, Subject=f'{state}: "{alarm.name}" in {region}',
            Message=json.dumps(message),
        )  # fmt: skip
        _record(engine, region, account, alarm.name, "Action",
                f"Successfully executed action {action}",
                {"actionState": "Succeeded", "notificationResource": action})  # fmt: skip
    except Exception as exc:
        _record(engine, region, account, alarm.name, "Action",
                f"Failed to execute action {action}. Received error: \"{exc}\"",
                {"actionState": "Failed", "notificationResource": action})  # fmt: skip


def evaluate_all(engine: Engine, only: set[tuple[str, str]] | None = None) -> None:
    """Every alarm of every account and region (or only those on the given namespace/metric)."""
    from moto.backends import get_backend

    with _LOCK:
        for account, region, backend in get_backend("cloudwatch").iter_backends():
            for alarm in list(backend.alarms.values()):
                if only is None or (alarm.namespace, alarm.metric_name) in only:
                    evaluate(engine, region, account, alarm)


# --- hooks -----------------------------------------------------------------------------------
@HOOKS.before("monitoring", "PutMetricAlarm")
def remember_state(engine: Engine, call: Call) -> None:
    # What endpoints answered just now goes into the metrics before the alarm exists, so its
    # first evaluation reads it (and no evaluation runs on an alarm not yet set up).
    try:
        from sandbox.engine.invoke import flush

        flush(engine)
    except Exception:
        log.debug("could not write buffered endpoint metrics", exc_info=True)
    name = call.params.get("AlarmName", "")
    alarm = _backend(call.region, call.account).alarms.get(name)
    _state(engine)["previous"][(call.account, call.region, name)] = (
        (alarm.state_value, alarm.state_reason, alarm.state_reason_data, alarm.state_updated_timestamp)
        if alarm is not None
        else None
    )  # fmt: skip
    return None


@HOOKS.after("monitoring", "PutMetricAlarm")
def alarm_saved(engine: Engine, call: Call, response: dict[str, Any]) -> None:
    name = call.params.get("AlarmName", "")
    alarm = _backend(call.region, call.account).alarms.get(name)
    if alarm is None:
        return None
    previous = _state(engine)["previous"].pop((call.account, call.region, name), None)
    with _LOCK:
        if previous is None:  # CloudWatch starts every alarm in INSUFFICIENT_DATA
            alarm.state_value = "INSUFFICIENT_DATA"
            alarm.state_reason = "Unchecked: Initial alarm creation"
            _record(engine, call.region, call.account, name, "ConfigurationUpdate",
                    f'Alarm "{name}" created', {"type": "Create", "version": "1.0",
                                                "createdAlarm": _summary(alarm)})  # fmt: skip
        else:
            (alarm.state_value, alarm.state_reason, alarm.state_reason_data,
             alarm.state_updated_timestamp) = previous  # fmt: skip
            _record(engine, call.region, call.account, name, "ConfigurationUpdate",
                    f'Alarm "{name}" updated', {"type": "Update", "version": "1.0",
                                                "updatedAlarm": _summary(alarm)})  # fmt: skip
        evaluate(engine, call.region, call.account, alarm)
    return None


def _summary(alarm: Any) -> dict[str, Any]:
    return {"alarmName": alarm.name, "metricName": alarm.metric_name,
            "namespace": alarm.namespace, "threshold": alarm.threshold,
            "comparisonOperator": alarm.comparison_operator,
            "evaluationPeriods": alarm.evaluation_periods, "period": alarm.period,
            "treatMissingData": alarm.treat_missing_data}  # fmt: skip


@HOOKS.after("monitoring", "PutMetricData")
def data_arrived(engine: Engine, call: Call, response: dict[str, Any]) -> None:
    namespace = call.params.get("Namespace", "")
    names = {(namespace, d.get("MetricName", "")) for d in call.params.get("MetricData") or []}
    evaluate_all(engine, names)
    return None


@HOOKS.before("monitoring", "SetAlarmState")
def remember_before_set(engine: Engine, call: Call) -> None:
    name = call.params.get("AlarmName", "")
    alarm = _backend(call.region, call.account).alarms.get(name)
    if alarm is not None:
        _state(engine)["previous"][(call.account, call.region, "set:" + name)] = alarm.state_value
    return None


@HOOKS.after("monitoring", "SetAlarmState")
def state_set(engine: Engine, call: Call, response: dict[str, Any]) -> None:
    name = call.params.get("AlarmName", "")
    alarm = _backend(call.region, call.account).alarms.get(name)
    old = _state(engine)["previous"].pop((call.account, call.region, "set:" + name), None)
    if alarm is None or old is None:
        return None
    new_state = alarm.state_value
    alarm.state_value = old
    change(engine, call.region, call.account, alarm, new_state,
           call.params.get("StateReason", ""), call.params.get("StateReasonData") or "{}")  # fmt: skip
    return None


@HOOKS.before("monitoring", "DeleteAlarms")
def alarms_deleted(engine: Engine, call: Call) -> None:
    for name in call.params.get("AlarmNames") or []:
        if name in _backend(call.region, call.account).alarms:
            _record(engine, call.region, call.account, name, "ConfigurationUpdate",
                    f'Alarm "{name}" deleted', {"type": "Delete", "version": "1.0"})  # fmt: skip
    return None


@HOOKS.before("monitoring", "DescribeAlarmHistory")
def describe_history(engine: Engine, call: Call) -> Reply:
    params = call.params
    items = [
        h for h in _state(engine)["history"]
        if h["_region"] == call.region and h["_account"] == call.account
        and (not params.get("AlarmName") or h["AlarmName"] == params["AlarmName"])
        and (not params.get("HistoryItemType") or h["HistoryItemType"] == params["HistoryItemType"])
        and (not params.get("AlarmTypes") or h["AlarmType"] in params["AlarmTypes"])
        and (not params.get("StartDate") or h["Timestamp"] >= _param_time(params["StartDate"]))
        and (not params.get("EndDate") or h["Timestamp"] <= _param_time(params["EndDate"]))
    ]  # fmt: skip
    items.sort(key=lambda h: h["Timestamp"], reverse=params.get("ScanBy") != "TimestampAscending")
    start = int(params.get("NextToken") or 0)
    size = int(params.get("MaxRecords") or 100)
    page = items[start : start + size]
    body: dict[str, Any] = {
        "AlarmHistoryItems": [{k: v for k, v in h.items() if not k.startswith("_")} for h in page]
    }
    if start + size < len(items):
        body["NextToken"] = str(start + size)
    return Reply(body, content_type="application/x-amz-json-1.0")


def _param_time(value: Any) -> datetime:
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(float(value), UTC)
    return _aware(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
