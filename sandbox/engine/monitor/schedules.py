"""Monitoring schedules, which moto lacks: Create/Describe/List/Update/Delete/Start/Stop
MonitoringSchedule and ListMonitoringExecutions, answered from the engine's records.

A Scheduled schedule runs on its cron (checked every `TICK_S` seconds; AWS starts a run within
the hour it fires, the sandbox at the hour), `NOW` runs once at once, and the sandbox route
`POST /_sagecoach/monitoring/run {"MonitoringScheduleName": ..., "Region": ...}` runs one now
over the last hour of captured data. An endpoint that captures no data cannot be monitored:
CreateMonitoringSchedule refuses it, as the analysis would have nothing to read.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sandbox.engine.core import Engine
from sandbox.engine.dispatch import HOOKS, ApiError, Call, Reply
from sandbox.engine.monitor import executions
from sandbox.engine.monitor.cron import CronError, hours_of, last_fire
from sandbox.engine.periodic import every

KEY = "sandbox.engine.monitor.schedules"
TICK_S = 30.0
RUN_PATH = "/_sagecoach/monitoring/run"


def _records(engine: Engine) -> dict[tuple[str, str, str], dict[str, Any]]:
    return engine.persisted_dict(KEY)


def attach(engine: Engine) -> None:
    _records(engine)  # kept with the sandbox's state from the start
    every(engine, TICK_S, "monitoring-schedules", lambda: tick(engine))


def recover(engine: Engine) -> None:
    for record in _records(engine).values():
        for execution in record["executions"]:
            if execution["MonitoringExecutionStatus"] in ("Pending", "InProgress", "Stopping"):
                execution.update(MonitoringExecutionStatus="Failed",
                                 FailureReason="The sandbox stopped while this execution was running.")  # fmt: skip


def public(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if not k.startswith("_")}


# --- the definition a schedule runs -----------------------------------------------------------
def _definition(engine: Engine, call: Call, config: dict[str, Any]) -> dict[str, Any]:
    """What an execution needs, from the inline definition or a named job definition."""
    kind = config.get("MonitoringType", "DataQuality")
    backend = engine.sagemaker(call.region, call.account)
    name = config.get("MonitoringJobDefinitionName")
    if name:
        store = {"DataQuality": "data_quality_job_definitions", "ModelQuality": "model_quality_job_definitions",
                 "ModelBias": "model_bias_job_definitions",
                 "ModelExplainability": "model_explainability_job_definitions"}.get(kind, "")  # fmt: skip
        found = getattr(backend, store, {}).get(name)
        if found is None:
            raise ApiError("ResourceNotFound", f"Job definition {name} ({kind}) does not exist.")
        raw = getattr(found, "response_object", None) or {}
        prefix = {"DataQuality": "DataQuality", "ModelQuality": "ModelQuality"}.get(kind)
        if prefix is None:
            raise ApiError("ValidationException",
                           f"The sandbox runs DataQuality and ModelQuality schedules; {kind} is not emulated.")  # fmt: skip
        app = raw.get(f"{prefix}AppSpecification") or {}
        job_input = raw.get(f"{prefix}JobInput") or {}
        baseline = raw.get(f"{prefix}BaselineConfig") or {}
        outputs = (raw.get(f"{prefix}JobOutputConfig") or {}).get("MonitoringOutputs") or []
        resources, role = raw.get("JobResources") or {}, raw.get("RoleArn")
        stopping, environment = (
            raw.get("StoppingCondition") or {},
            dict(app.get("Environment") or {}),
        )
        endpoint_input = job_input.get("EndpointInput") or {}
        ground_truth = (job_input.get("GroundTruthS3Input") or {}).get("S3Uri")
        problem = app.get("ProblemType")
    else:
        job = config.get("MonitoringJobDefinition") or {}
        app, baseline = job.get("MonitoringAppSpecification") or {}, job.get("BaselineConfig") or {}
        inputs = job.get("MonitoringInputs") or [{}]
        endpoint_input = inputs[0].get("EndpointInput") or {}
        outputs = (job.get("MonitoringOutputConfig") or {}).get("MonitoringOutputs") or []
        resources, role = job.get("MonitoringResources") or {}, job.get("RoleArn")
        stopping, environment = (
            job.get("StoppingCondition") or {},
            dict(job.get("Environment") or {}),
        )
        ground_truth, problem = None, None
    if not endpoint_input.get("EndpointName"):
        raise ApiError("ValidationException",
                       "The sandbox monitors endpoints: give an EndpointInput (BatchTransformInput is not emulated).")  # fmt: skip
    if not outputs:
        raise ApiError(
            "ValidationException", "MonitoringOutputs needs an S3Output for the reports."
        )
    definition: dict[str, Any] = {
        "image": app.get("ImageUri", ""), "endpoint_input": endpoint_input,
        "output": outputs[0]["S3Output"], "resources": resources, "role": role,
        "stopping": stopping or {"MaxRuntimeInSeconds": 3600}, "environment": environment,
        "constraints": (baseline.get("ConstraintsResource") or {}).get("S3Uri"),
        "statistics": (baseline.get("StatisticsResource") or {}).get("S3Uri"),
    }  # fmt: skip
    if kind == "ModelQuality":
        if not ground_truth:
            raise ApiError(
                "ValidationException", "Model quality monitoring needs GroundTruthS3Input."
            )
        definition["ground_truth"] = ground_truth
        mq = {"analysis_type": "MODEL_QUALITY", "problem_type": problem or "BinaryClassification"}
        for key, env in (("InferenceAttribute", "inference_attribute"), ("ProbabilityAttribute", "probability_attribute"),
                         ("ProbabilityThresholdAttribute", "probability_threshold_attribute")):  # fmt: skip
            if endpoint_input.get(key) is not None:
                mq[env] = str(endpoint_input[key])
        definition["model_quality_env"] = mq
    return definition


def _check_endpoint(engine: Engine, call: Call, endpoint: str) -> None:
    backend = engine.sagemaker(call.region, call.account)
    if endpoint not in backend.endpoints:
        raise ApiError(
            "ValidationException",
            f"Endpoint {endpoint} does not exist; create it before monitoring it.",
        )
    if executions.capture_prefix(engine, call.region, call.account, endpoint) is None:
        raise ApiError(
            "ValidationException",
            f"Endpoint {endpoint} does not capture data (its endpoint config has no DataCaptureConfig "
            "with EnableCapture true and a DestinationS3Uri), so Model Monitor would have nothing to "
            "analyze. Update the endpoint with an endpoint config that captures requests and responses.",
        )


# --- API -------------------------------------------------------------------------------------
@HOOKS.before("sagemaker", "CreateMonitoringSchedule")
def create_schedule(engine: Engine, call: Call) -> Reply:
    params = call.params
    name = params.get("MonitoringScheduleName", "")
    key = (call.account, call.region, name)
    if key in _records(engine):
        raise ApiError("ResourceInUse", f"Monitoring schedule {name} already exists.")
    record = _new_record(engine, call, name, params.get("MonitoringScheduleConfig") or {})
    record["_tags"] = params.get("Tags") or []
    _records(engine)[key] = record
    if (
        record["MonitoringScheduleConfig"].get("ScheduleConfig", {}).get("ScheduleExpression")
        == "NOW"
    ):
        run_now(engine, record)
    return Reply({"MonitoringScheduleArn": record["MonitoringScheduleArn"]})


def _new_record(engine: Engine, call: Call, name: str, config: dict[str, Any]) -> dict[str, Any]:
    expression = (config.get("ScheduleConfig") or {}).get("ScheduleExpression", "")
    if expression != "NOW":
        try:
            hours_of(expression)
        except CronError as exc:
            raise ApiError("ValidationException", str(exc)) from None
    definition = _definition(engine, call, config)
    _check_endpoint(engine, call, definition["endpoint_input"]["EndpointName"])
    now = datetime.now(UTC)
    record: dict[str, Any] = {
        "MonitoringScheduleArn": f"arn:aws:sagemaker:{call.region}:{call.account}:monitoring-schedule/{name}",
        "MonitoringScheduleName": name, "MonitoringScheduleStatus": "Scheduled",
        "MonitoringType": config.get("MonitoringType", "DataQuality"), "CreationTime": now,
        "LastModifiedTime": now, "MonitoringScheduleConfig": config,
        "EndpointName": definition["endpoint_input"]["EndpointName"],
        "_region": call.region, "_account": call.account, "_definition": definition,
        "_last_fire": last_fire(expression, now) if expression != "NOW" else None, "executions": [],
    }  # fmt: skip
    if config.get("MonitoringJobDefinitionName"):
        record["MonitoringJobDefinitionName"] = config["MonitoringJobDefinitionName"]
    return record


def _get(engine: Engine, call: Call) -> dict[str, Any]:
    name = call.params.get("MonitoringScheduleName", "")
    record = _records(engine).get((call.account, call.region, name))
    if record is None:
        raise ApiError("ResourceNotFound", f"Monitoring schedule {name} does not exist.")
    return record


@HOOKS.before("sagemaker", "DescribeMonitoringSchedule")
def describe_schedule(engine: Engine, call: Call) -> Reply:
    record = _get(engine, call)
    body = {k: v for k, v in public(record).items() if k != "executions"}
    if record["executions"]:
        body["LastMonitoringExecutionSummary"] = public(record["executions"][-1])
    return Reply(body)


@HOOKS.before("sagemaker", "ListMonitoringSchedules")
def list_schedules(engine: Engine, call: Call) -> Reply:
    p = call.params
    rows = [r for (account, region, _), r in _records(engine).items()
            if account == call.account and region == call.region
            and (not p.get("EndpointName") or r["EndpointName"] == p["EndpointName"])
            and (not p.get("NameContains") or p["NameContains"] in r["MonitoringScheduleName"])
            and (not p.get("StatusEquals") or r["MonitoringScheduleStatus"] == p["StatusEquals"])
            and (not p.get("MonitoringTypeEquals") or r["MonitoringType"] == p["MonitoringTypeEquals"])]  # fmt: skip
    key = {"Name": "MonitoringScheduleName", "Status": "MonitoringScheduleStatus"}.get(
        p.get("SortBy", ""), "CreationTime"
    )
    rows.sort(key=lambda r: r[key], reverse=p.get("SortOrder", "Descending") == "Descending")
    fields = ("MonitoringScheduleName", "MonitoringScheduleArn", "CreationTime", "LastModifiedTime",
              "MonitoringScheduleStatus", "EndpointName", "MonitoringJobDefinitionName", "MonitoringType")  # fmt: skip
    return _page(
        p, "MonitoringScheduleSummaries", [{f: r[f] for f in fields if f in r} for r in rows]
    )


@HOOKS.before("sagemaker", "ListMonitoringExecutions")
def list_executions(engine: Engine, call: Call) -> Reply:
    p = call.params
    rows = [public(e) for (account, region, name), r in _records(engine).items()
            if account == call.account and region == call.region
            and (not p.get("MonitoringScheduleName") or name == p["MonitoringScheduleName"])
            and (not p.get("EndpointName") or r["EndpointName"] == p["EndpointName"])
            for e in r["executions"]]  # fmt: skip
    if p.get("StatusEquals"):
        rows = [r for r in rows if r["MonitoringExecutionStatus"] == p["StatusEquals"]]
    key = {"CreationTime": "CreationTime", "Status": "MonitoringExecutionStatus"}.get(
        p.get("SortBy", ""), "ScheduledTime"
    )
    rows.sort(key=lambda r: r[key], reverse=p.get("SortOrder", "Descending") == "Descending")
    return _page(p, "MonitoringExecutionSummaries", rows)


def _page(params: dict[str, Any], key: str, rows: list[dict[str, Any]]) -> Reply:
    start = int(params.get("NextToken") or 0)
    size = int(params.get("MaxResults") or 10)
    body: dict[str, Any] = {key: rows[start : start + size]}
    if start + size < len(rows):
        body["NextToken"] = str(start + size)
    return Reply(body)


@HOOKS.before("sagemaker", "UpdateMonitoringSchedule")
def update_schedule(engine: Engine, call: Call) -> Reply:
    record = _get(engine, call)
    fresh = _new_record(
        engine,
        call,
        record["MonitoringScheduleName"],
        call.params.get("MonitoringScheduleConfig") or {},
    )
    for key in (
        "MonitoringScheduleConfig",
        "MonitoringType",
        "EndpointName",
        "_definition",
        "_last_fire",
    ):
        record[key] = fresh[key]
    record["LastModifiedTime"] = datetime.now(UTC)
    return Reply({"MonitoringScheduleArn": record["MonitoringScheduleArn"]})


@HOOKS.before("sagemaker", "DeleteMonitoringSchedule")
def delete_schedule(engine: Engine, call: Call) -> Reply:
    record = _get(engine, call)
    del _records(engine)[(call.account, call.region, record["MonitoringScheduleName"])]
    return Reply({})


@HOOKS.before("sagemaker", "StartMonitoringSchedule")
@HOOKS.before("sagemaker", "StopMonitoringSchedule")
def start_stop_schedule(engine: Engine, call: Call) -> Reply:
    record = _get(engine, call)
    record["MonitoringScheduleStatus"] = (
        "Scheduled" if call.operation.startswith("Start") else "Stopped"
    )
    if record["MonitoringScheduleStatus"] == "Scheduled" and record.get("_last_fire") is not None:
        expression = record["MonitoringScheduleConfig"]["ScheduleConfig"]["ScheduleExpression"]
        record["_last_fire"] = last_fire(
            expression, datetime.now(UTC)
        )  # no catching up on missed runs
    record["LastModifiedTime"] = datetime.now(UTC)
    return Reply({})


# --- running ------------------------------------------------------------------------------------
def run_now(
    engine: Engine, record: dict[str, Any], scheduled: datetime | None = None
) -> dict[str, Any]:
    execution = executions.start(engine, record, scheduled or datetime.now(UTC), scheduled is None)
    record["executions"].append(execution)
    if engine.persistence is not None:
        engine.persistence.mark_dirty()
    return execution


def tick(engine: Engine) -> None:
    """Start the runs whose hour has come."""
    now = datetime.now(UTC)
    for record in list(_records(engine).values()):
        expression = (
            record["MonitoringScheduleConfig"].get("ScheduleConfig", {}).get("ScheduleExpression")
        )
        if record["MonitoringScheduleStatus"] != "Scheduled" or expression in (None, "NOW"):
            continue
        fire = last_fire(expression, now)
        if record.get("_last_fire") is None or fire > record["_last_fire"]:
            record["_last_fire"] = fire
            try:
                run_now(engine, record, fire)
            except Exception as exc:
                record["executions"].append({"MonitoringScheduleName": record["MonitoringScheduleName"],
                                             "ScheduledTime": fire, "CreationTime": now, "LastModifiedTime": now,
                                             "MonitoringExecutionStatus": "Failed", "FailureReason": str(exc)[:1024],
                                             "EndpointName": record["EndpointName"],
                                             "MonitoringType": record["MonitoringType"]})  # fmt: skip


@HOOKS.local(RUN_PATH)
def run_route(engine: Engine, environ: dict[str, Any]) -> Reply:
    """The sandbox's "run it now": POST {"MonitoringScheduleName", "Region"}."""
    try:
        body = json.loads(environ["wsgi.input"].read() or b"{}")
    except ValueError:
        body = {}
    region = body.get("Region", "us-east-1")
    account = body.get("Account", "123456789012")
    name = body.get("MonitoringScheduleName", "")
    record = _records(engine).get((account, region, name))
    if record is None:
        return Reply({"message": f"Monitoring schedule {name} does not exist in {region}."}, status=404,
                     content_type="application/json")  # fmt: skip
    execution = run_now(engine, record)
    return Reply(public(execution), content_type="application/json")
