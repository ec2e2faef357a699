"""One monitoring execution: a processing job with the analyzer image over the endpoint's
captured data in the schedule's window, against the schedule's baseline; then its status
(Completed, CompletedWithViolations, Failed), its CloudWatch metrics and its ExitMessage, as
SageMaker records them."""

from __future__ import annotations

import json
import random
import string
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox.engine.monitor.cron import offset

ENDPOINT_INPUT = "/opt/ml/processing/input/endpoint"
GROUND_TRUTH = "/opt/ml/processing/groundtruth"
DATA_METRICS = "/aws/sagemaker/Endpoints/data-metrics"
MODEL_METRICS = "/aws/sagemaker/Endpoints/model-metrics"


def _hex(length: int = 8) -> str:
    return "".join(random.choices(string.hexdigits.lower()[:16], k=length))


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def capture_prefix(engine: Any, region: str, account: str, endpoint_name: str) -> str | None:
    """Where the endpoint's captured requests go, or None when it captures nothing."""
    backend = engine.sagemaker(region, account)
    endpoint = backend.endpoints.get(endpoint_name)
    if endpoint is None:
        return None
    config = backend.endpoint_configs.get(getattr(endpoint, "endpoint_config_name", ""))
    capture = (getattr(config, "data_capture_config", None) or {}) if config else {}
    if not capture.get("EnableCapture", False) or not capture.get("DestinationS3Uri"):
        return None
    return f"{capture['DestinationS3Uri'].rstrip('/')}/{endpoint_name}"


def start(
    engine: Any, schedule: dict[str, Any], scheduled: datetime, now_run: bool
) -> dict[str, Any]:
    """Create the execution's processing job (or a Failed execution saying why there is none)."""
    region, account = schedule["_region"], schedule["_account"]
    definition = schedule["_definition"]
    kind = schedule["MonitoringType"]
    endpoint_input = definition["endpoint_input"]
    endpoint_name = endpoint_input.get("EndpointName", "")
    execution: dict[str, Any] = {
        "MonitoringScheduleName": schedule["MonitoringScheduleName"], "ScheduledTime": scheduled,
        "CreationTime": datetime.now(UTC), "LastModifiedTime": datetime.now(UTC),
        "MonitoringExecutionStatus": "Pending", "EndpointName": endpoint_name,
        "MonitoringType": kind, "_region": region, "_account": account,
    }  # fmt: skip
    if schedule.get("MonitoringJobDefinitionName"):
        execution["MonitoringJobDefinitionName"] = schedule["MonitoringJobDefinitionName"]
    prefix = capture_prefix(engine, region, account, endpoint_name)
    try:  # what the endpoint captured up to now is written before the run reads it
        from sandbox.engine.invoke import flush

        flush(engine)
    except Exception:
        pass
    if kind == "DataQuality":
        window = (offset(endpoint_input.get("StartTimeOffset"), timedelta(hours=-1)),
                  offset(endpoint_input.get("EndTimeOffset"), timedelta(0)))  # fmt: skip
    else:
        window = (offset(endpoint_input.get("StartTimeOffset"), timedelta(days=-2)),
                  offset(endpoint_input.get("EndTimeOffset"), timedelta(days=-1)))  # fmt: skip
    if now_run:  # the sandbox's "run now": the window's length, ending now
        end = datetime.now(UTC) + timedelta(minutes=1)
        begin = end - max(timedelta(hours=1), window[1] - window[0])
    else:
        begin, end = scheduled + window[0], scheduled + window[1]
    s3 = engine.s3(region)
    if prefix is None or not s3.list_prefix(prefix + "/"):
        execution.update(MonitoringExecutionStatus="Failed",
                         FailureReason="Job inputs had no data: the endpoint has captured no requests yet.")  # fmt: skip
        return execution
    stamp = scheduled.strftime("%Y%m%d%H%M")
    name = f"model-monitoring-{stamp}-{_hex()}"
    output = definition["output"]
    report_uri = (f"{output['S3Uri'].rstrip('/')}/{endpoint_name}/{schedule['MonitoringScheduleName']}/"
                  f"{scheduled.strftime('%Y/%m/%d/%H')}")  # fmt: skip
    environment = {
        "dataset_format": json.dumps({"sagemakerCaptureJson": {"captureIndexNames": ["endpointInput", "endpointOutput"]}}),
        "dataset_source": ENDPOINT_INPUT, "output_path": output.get("LocalPath", "/opt/ml/processing/output"),
        "publish_cloudwatch_metrics": "Enabled", "sagemaker_endpoint_name": endpoint_name,
        "sagemaker_monitoring_schedule_name": schedule["MonitoringScheduleName"],
        "start_time": _stamp(begin), "end_time": _stamp(end), "metric_time": _stamp(scheduled),
        **definition.get("environment", {}),
    }  # fmt: skip
    inputs = [{"InputName": "endpoint_input", "S3Input": {
        "S3Uri": prefix, "LocalPath": ENDPOINT_INPUT, "S3DataType": "S3Prefix", "S3InputMode": "File",
        "S3DataDistributionType": "FullyReplicated"}}]  # fmt: skip
    for key, env, local in (("constraints", "baseline_constraints", "/opt/ml/processing/baseline/constraints"),
                            ("statistics", "baseline_statistics", "/opt/ml/processing/baseline/stats")):  # fmt: skip
        uri = definition.get(key)
        if uri:
            inputs.append({"InputName": key, "S3Input": {"S3Uri": uri, "LocalPath": local,
                           "S3DataType": "S3Prefix", "S3InputMode": "File"}})  # fmt: skip
            environment[env] = f"{local}/{uri.rsplit('/', 1)[-1]}"
    if kind == "ModelQuality":
        environment.update(definition.get("model_quality_env", {}))
        inputs.append({"InputName": "groundtruth_input", "S3Input": {
            "S3Uri": definition["ground_truth"], "LocalPath": GROUND_TRUTH,
            "S3DataType": "S3Prefix", "S3InputMode": "File"}})  # fmt: skip
        environment["ground_truth_source"] = GROUND_TRUTH
    sm = engine.client("sagemaker", region)
    arn = sm.create_processing_job(
        ProcessingJobName=name, RoleArn=definition["role"],
        AppSpecification={"ImageUri": definition["image"]},
        ProcessingResources=definition["resources"], ProcessingInputs=inputs,
        ProcessingOutputConfig={"Outputs": [{"OutputName": "monitoring_output", "S3Output": {
            "S3Uri": report_uri, "LocalPath": output.get("LocalPath", "/opt/ml/processing/output"),
            "S3UploadMode": "EndOfJob"}}]},
        Environment=environment, StoppingCondition=definition["stopping"],
    )["ProcessingJobArn"]  # fmt: skip
    execution.update(
        ProcessingJobArn=arn, MonitoringExecutionStatus="InProgress", _report=report_uri
    )
    threading.Thread(target=_follow, args=(engine, region, name, execution, kind),
                     name=f"monitor-{name}", daemon=True).start()  # fmt: skip
    return execution


def _follow(engine: Any, region: str, name: str, execution: dict[str, Any], kind: str) -> None:
    """Wait for the processing job; record the execution's outcome and publish its metrics."""
    sm = engine.client("sagemaker", region)
    while not engine.stopping.is_set():
        desc = sm.describe_processing_job(ProcessingJobName=name)
        status = desc["ProcessingJobStatus"]
        if status in ("Completed", "Failed", "Stopped"):
            break
        time.sleep(0.2)
    else:
        return
    now = datetime.now(UTC)
    execution["LastModifiedTime"] = now
    if status != "Completed":
        execution.update(MonitoringExecutionStatus="Failed" if status == "Failed" else "Stopped",
                         FailureReason=desc.get("FailureReason") or desc.get("ExitMessage") or status)  # fmt: skip
        return
    violations: list[Any] = []
    try:
        raw = engine.s3(region).get_bytes(execution["_report"] + "/constraint_violations.json")
        violations = json.loads(raw).get("violations", [])
    except Exception:
        pass
    message = (f"CompletedWithViolations: Job completed successfully with {len(violations)} violations."
               if violations else "Completed: Job completed successfully with no violations.")  # fmt: skip
    fake = engine.sagemaker(region, execution.get("_account", "123456789012")).processing_jobs.get(
        name
    )
    if fake is not None:
        fake.exit_message = message
    _publish(engine, region, name, kind)
    execution["MonitoringExecutionStatus"] = (
        "CompletedWithViolations" if violations else "Completed"
    )
    if engine.persistence is not None:
        engine.persistence.mark_dirty()


def _publish(engine: Any, region: str, job_name: str, kind: str) -> None:
    """The platform's part: metrics the container left in /opt/ml/output/metrics/cloudwatch."""
    folder = engine.work_root / "processing" / job_name / "output" / "metrics" / "cloudwatch"
    if not folder.exists():
        return
    data = []
    for file in folder.glob("*.json"):
        try:
            data += json.loads(file.read_text())
        except ValueError:
            continue
    for item in data:
        item["Timestamp"] = datetime.fromisoformat(str(item["Timestamp"]).replace("Z", "+00:00"))
    namespace = DATA_METRICS if kind == "DataQuality" else MODEL_METRICS
    cloudwatch = engine.client("cloudwatch", region)
    for begin in range(0, len(data), 500):
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=data[begin : begin + 500])
