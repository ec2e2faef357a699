"""Model Monitor in the sandbox: the analyzer image's processing jobs write statistics.json and
constraints.json (a baseline) and constraint_violations.json (a run over captured data)."""

from __future__ import annotations

import json
import time
import urllib.request

import botocore.exceptions
import pytest

from sandbox.server import Sandbox
from tests.engine_helpers import ROLE, clients, label_first_csv, signal_rows, wait_processing
from tests.serving_helpers import create_model, csv_rows, deploy, realtime_variant, xgb_artifact

pytestmark = pytest.mark.slow

ANALYZER = "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"
BUCKET = "sagecoach-demo"
BASELINE_CSV = "churned,tenure,charges,plan\n" + "".join(
    f"{i % 2},{10 + i},{20.5 + i},{'basic' if i % 3 else 'pro'}\n" for i in range(30)
)


def _analyzer_job(sm, name: str, inputs: list[tuple[str, str, str]], env: dict[str, str]) -> dict:
    sm.create_processing_job(
        ProcessingJobName=name,
        RoleArn=ROLE,
        AppSpecification={"ImageUri": ANALYZER},
        ProcessingResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge",
                                               "VolumeSizeInGB": 5}},
        ProcessingInputs=[
            {"InputName": input_name, "S3Input": {"S3Uri": uri, "LocalPath": local,
                                                  "S3DataType": "S3Prefix", "S3InputMode": "File"}}
            for input_name, uri, local in inputs
        ],
        ProcessingOutputConfig={"Outputs": [{"OutputName": "monitoring_output", "S3Output": {
            "S3Uri": f"s3://{BUCKET}/monitor/{name}", "LocalPath": "/opt/ml/processing/output",
            "S3UploadMode": "EndOfJob"}}]},
        Environment={"output_path": "/opt/ml/processing/output",
                     "publish_cloudwatch_metrics": "Disabled", **env},
        StoppingCondition={"MaxRuntimeInSeconds": 300},
    )  # fmt: skip
    return wait_processing(sm, name)


def _json(s3, key: str) -> dict:
    return json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())


def _baseline(sm, s3, name: str = "baseline-job") -> dict:
    s3.put_object(Bucket=BUCKET, Key="monitor/data/train.csv", Body=BASELINE_CSV.encode())
    return _analyzer_job(
        sm, name,
        [("baseline_dataset_input", f"s3://{BUCKET}/monitor/data/",
          "/opt/ml/processing/input/baseline_dataset_input")],
        {"dataset_format": json.dumps({"csv": {"header": True, "output_columns_position": "START"}}),
         "dataset_source": "/opt/ml/processing/input/baseline_dataset_input"},
    )  # fmt: skip


def test_a_baseline_job_writes_statistics_and_constraints(engine_sandbox: Sandbox) -> None:
    sm, s3 = clients(engine_sandbox.endpoint, "sagemaker", "s3")
    job = _baseline(sm, s3)
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    stats = _json(s3, "monitor/baseline-job/statistics.json")
    assert stats["version"] == 0.0 and stats["dataset"]["item_count"] == 30
    features = {f["name"]: f for f in stats["features"]}
    assert [f["name"] for f in stats["features"]] == ["churned", "tenure", "charges", "plan"]
    assert features["tenure"]["inferred_type"] == "Integral"
    assert features["charges"]["inferred_type"] == "Fractional"
    tenure = features["tenure"]["numerical_statistics"]
    assert tenure["mean"] == pytest.approx(sum(10 + i for i in range(30)) / 30)
    assert (tenure["min"], tenure["max"]) == (10.0, 39.0)
    assert tenure["common"] == {"num_present": 30, "num_missing": 0}
    assert sum(b["count"] for b in tenure["distribution"]["kll"]["buckets"]) == 30
    plan = features["plan"]["string_statistics"]["distribution"]["categorical"]["buckets"]
    assert {b["value"]: b["count"] for b in plan} == {"basic": 20, "pro": 10}
    constraints = _json(s3, "monitor/baseline-job/constraints.json")
    by_name = {f["name"]: f for f in constraints["features"]}
    assert by_name["plan"]["string_constraints"]["domains"] == ["basic", "pro"]
    assert by_name["tenure"]["completeness"] == 1.0
    assert by_name["tenure"]["num_constraints"] == {"is_non_negative": True}
    assert (
        constraints["monitoring_config"]["distribution_constraints"]["comparison_threshold"] == 0.1
    )


def test_a_baseline_on_an_empty_prefix_fails_saying_where_it_looked(
    engine_sandbox: Sandbox,
) -> None:
    sm, _ = clients(engine_sandbox.endpoint, "sagemaker", "s3")
    job = _analyzer_job(
        sm, "baseline-empty",
        [("baseline_dataset_input", f"s3://{BUCKET}/nothing-here/",
          "/opt/ml/processing/input/baseline_dataset_input")],
        {"dataset_format": json.dumps({"csv": {"header": True}}),
         "dataset_source": "/opt/ml/processing/input/baseline_dataset_input"},
    )  # fmt: skip
    assert job["ProcessingJobStatus"] == "Failed"
    assert f"s3://{BUCKET}/nothing-here/" in job["FailureReason"]
    assert job["FailureReason"].startswith("ClientError: No S3 objects found")


def test_a_schedule_run_over_drifted_captured_data_reports_violations(
    engine_sandbox: Sandbox,
) -> None:
    """A real endpoint captures what it is sent; the schedule's run compares it with the
    baseline of the training data and reports the feature that moved."""
    sm, s3, cw, runtime = clients(
        engine_sandbox.endpoint, "sagemaker", "s3", "cloudwatch", "sagemaker-runtime"
    )
    labels, rows = signal_rows(200, seed=3)
    header = "label," + ",".join(f"f{i}" for i in range(5))
    s3.put_object(
        Bucket=BUCKET, Key="monitor/signal/train.csv", Body=label_first_csv(labels, rows, header)
    )
    baseline = _analyzer_job(
        sm, "signal-baseline",
        [("baseline_dataset_input", f"s3://{BUCKET}/monitor/signal/", "/opt/ml/processing/input/baseline_dataset_input")],
        {"dataset_format": json.dumps({"csv": {"header": True, "output_columns_position": "START"}}),
         "dataset_source": "/opt/ml/processing/input/baseline_dataset_input"},
    )  # fmt: skip
    assert baseline["ProcessingJobStatus"] == "Completed", baseline.get("FailureReason")
    s3.put_object(Bucket=BUCKET, Key="models/signal.tar.gz", Body=xgb_artifact(seed=3))
    create_model(sm, "signal-model", f"s3://{BUCKET}/models/signal.tar.gz")
    capture = {"EnableCapture": True, "InitialSamplingPercentage": 100,
               "DestinationS3Uri": f"s3://{BUCKET}/capture",
               "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}]}  # fmt: skip
    deploy(sm, "churn-endpoint", [realtime_variant("signal-model")], capture=capture)
    deploy(sm, "no-capture", [realtime_variant("signal-model")])
    definition = {
        "BaselineConfig": {
            "ConstraintsResource": {"S3Uri": f"s3://{BUCKET}/monitor/signal-baseline/constraints.json"},
            "StatisticsResource": {"S3Uri": f"s3://{BUCKET}/monitor/signal-baseline/statistics.json"}},
        "MonitoringInputs": [{"EndpointInput": {"EndpointName": "churn-endpoint",
                                                "LocalPath": "/opt/ml/processing/input/endpoint"}}],
        "MonitoringOutputConfig": {"MonitoringOutputs": [{"S3Output": {
            "S3Uri": f"s3://{BUCKET}/reports", "LocalPath": "/opt/ml/processing/output"}}]},
        "MonitoringResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge",
                                                  "VolumeSizeInGB": 5}},
        "MonitoringAppSpecification": {"ImageUri": ANALYZER},
        "RoleArn": ROLE,
    }  # fmt: skip
    schedule = {"ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
                "MonitoringJobDefinition": definition, "MonitoringType": "DataQuality"}  # fmt: skip
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        blind = json.loads(json.dumps(schedule).replace('"churn-endpoint"', '"no-capture"'))
        sm.create_monitoring_schedule(
            MonitoringScheduleName="blind", MonitoringScheduleConfig=blind
        )
    assert "Endpoint no-capture does not capture data" in refused.value.response["Error"]["Message"]
    sm.create_monitoring_schedule(
        MonitoringScheduleName="churn-drift", MonitoringScheduleConfig=schedule
    )
    described = sm.describe_monitoring_schedule(MonitoringScheduleName="churn-drift")
    assert (
        described["MonitoringScheduleStatus"] == "Scheduled"
        and described["EndpointName"] == "churn-endpoint"
    )
    assert (
        sm.list_monitoring_executions(MonitoringScheduleName="churn-drift")[
            "MonitoringExecutionSummaries"
        ]
        == []
    )

    # served traffic: the training rows, but f0 moved far from anything in the baseline
    drifted = [[row[0] + 10.0, *row[1:]] for row in rows]
    runtime.invoke_endpoint(
        EndpointName="churn-endpoint", ContentType="text/csv", Body=csv_rows(drifted).encode()
    )
    request = urllib.request.Request(
        engine_sandbox.endpoint + "/_sagecoach/monitoring/run",
        method="POST",
        data=json.dumps({"MonitoringScheduleName": "churn-drift", "Region": "us-east-1"}).encode(),
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert json.loads(answer.read())["MonitoringExecutionStatus"] == "InProgress"
    deadline = time.monotonic() + 60
    while True:
        runs = sm.list_monitoring_executions(MonitoringScheduleName="churn-drift")[
            "MonitoringExecutionSummaries"
        ]
        if (
            runs[0]["MonitoringExecutionStatus"] not in ("Pending", "InProgress")
            or time.monotonic() > deadline
        ):
            break
        time.sleep(0.2)
    assert runs[0]["MonitoringExecutionStatus"] == "CompletedWithViolations", runs[0].get(
        "FailureReason"
    )
    job = sm.describe_processing_job(
        ProcessingJobName=runs[0]["ProcessingJobArn"].rsplit("/", 1)[-1]
    )
    assert job["ExitMessage"].startswith("CompletedWithViolations: Job completed successfully with")
    report = job["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
    assert report.startswith(f"s3://{BUCKET}/reports/churn-endpoint/churn-drift/")
    violations = _json(s3, report[len(f"s3://{BUCKET}/") :] + "/constraint_violations.json")[
        "violations"
    ]
    found = {(v["feature_name"], v["constraint_check_type"]) for v in violations}
    assert ("f0", "baseline_drift_check") in found
    assert not {f for f, _ in found} & {"f1", "f2", "f3", "f4"}  # the other inputs did not move
    # the model's probabilities where the baseline had 0/1 labels: Model Monitor says so too
    assert ("label", "data_type_check") in found
    drift = next(v for v in violations if v["feature_name"] == "f0"
                 and v["constraint_check_type"] == "baseline_drift_check")  # fmt: skip
    assert drift["description"] == "Baseline drift distance: 1.0 exceeds threshold: 0.1"
    last = sm.describe_monitoring_schedule(MonitoringScheduleName="churn-drift")[
        "LastMonitoringExecutionSummary"
    ]
    assert last["MonitoringExecutionStatus"] == "CompletedWithViolations"

    # the run's metrics are in CloudWatch, where an alarm on drift goes off
    dims = [
        {"Name": "Endpoint", "Value": "churn-endpoint"},
        {"Name": "MonitoringSchedule", "Value": "churn-drift"},
    ]
    cw.put_metric_alarm(AlarmName="f0-drift", Namespace="/aws/sagemaker/Endpoints/data-metrics",
                        MetricName="feature_baseline_drift_f0", Dimensions=dims, Statistic="Maximum",
                        Period=3600, EvaluationPeriods=1, Threshold=0.2,
                        ComparisonOperator="GreaterThanThreshold")  # fmt: skip
    alarm = cw.describe_alarms(AlarmNames=["f0-drift"])["MetricAlarms"][0]
    assert alarm["StateValue"] == "ALARM", alarm["StateReason"]
