"""The sandbox engine runs training jobs as SageMaker does, seen through plain boto3."""

from __future__ import annotations

import math

import pytest

from sandbox.server import DEMO_URI, Sandbox
from tests.engine_helpers import (
    LL_IMAGE,
    XGB_IMAGE,
    channel,
    clients,
    label_first_csv,
    log_lines,
    signal_rows,
    training_request,
    untar,
    wait_training,
)

pytestmark = pytest.mark.slow
LOGS = "/aws/sagemaker/TrainingJobs"


def _put_signal(s3, bucket: str, header: str | None = None) -> None:
    s3.create_bucket(Bucket=bucket)
    labels, rows = signal_rows(400)
    s3.put_object(Bucket=bucket, Key="train/part-0.csv",
                  Body=label_first_csv(labels[:300], rows[:300], header))  # fmt: skip
    s3.put_object(Bucket=bucket, Key="validation/part-0.csv",
                  Body=label_first_csv(labels[300:], rows[300:], header))  # fmt: skip


def test_xgboost_learns_a_known_signal_with_statuses_log_metrics_and_a_model(
    engine_sandbox: Sandbox,
) -> None:
    import xgboost

    sm, s3, logs, cw = clients(engine_sandbox.endpoint, "sagemaker", "s3", "logs", "cloudwatch")
    _put_signal(s3, "signal-data")
    request = training_request(
        "xgb-signal", XGB_IMAGE,
        {"num_round": "25", "objective": "binary:logistic", "eval_metric": "auc", "max_depth": "3"},
        [channel("train", "s3://signal-data/train/"),
         channel("validation", "s3://signal-data/validation/")],
        "s3://signal-data/output/",
    )  # fmt: skip
    sm.create_training_job(**request)
    first = sm.describe_training_job(TrainingJobName="xgb-signal")
    assert first["TrainingJobStatus"] == "InProgress"
    desc = wait_training(sm, "xgb-signal")

    assert desc["TrainingJobStatus"] == "Completed", desc.get("FailureReason")
    statuses = [t["Status"] for t in desc["SecondaryStatusTransitions"]]
    assert statuses == ["Starting", "Downloading", "Training", "Uploading", "Completed"]
    assert desc["TrainingStartTime"] <= desc["TrainingEndTime"]
    assert desc["BillableTimeInSeconds"] >= 1
    final = {m["MetricName"]: m["Value"] for m in desc["FinalMetricDataList"]}
    assert final["validation:auc"] > 0.85
    assert final["train:auc"] >= final["validation:auc"] - 0.05

    artifact = desc["ModelArtifacts"]["S3ModelArtifacts"]
    assert artifact == "s3://signal-data/output/xgb-signal/output/model.tar.gz"
    files = untar(
        s3.get_object(Bucket="signal-data", Key="output/xgb-signal/output/model.tar.gz")[
            "Body"
        ].read()
    )
    assert set(files) == {"xgboost-model"}
    booster = xgboost.Booster()
    booster.load_model(bytearray(files["xgboost-model"]))
    assert booster.num_boosted_rounds() == 25

    lines = log_lines(logs, LOGS, "xgb-signal")
    rounds = [line for line in lines if line.startswith("[")]
    assert any(
        line.startswith("[24]#011train-auc:") and "#011validation-auc:" in line for line in rounds
    )
    assert any("Train matrix has 300 rows and 5 columns" in line for line in lines)
    listed = cw.list_metrics(Namespace="/aws/sagemaker/TrainingJobs",
                             Dimensions=[{"Name": "TrainingJobName", "Value": "xgb-signal"}])  # fmt: skip
    assert {"train:auc", "validation:auc"} <= {m["MetricName"] for m in listed["Metrics"]}
    (metrics,) = clients(engine_sandbox.endpoint, "sagemaker-metrics")
    [curve] = metrics.batch_get_metrics(MetricQueries=[{
        "MetricName": "validation:auc", "ResourceArn": desc["TrainingJobArn"], "MetricStat": "Avg",
        "Period": "IterationNumber", "XAxisType": "IterationNumber"}])["MetricQueryResults"]  # fmt: skip
    assert curve["Status"] == "Complete"
    assert curve["XAxisValues"] == list(range(25))
    assert curve["MetricValues"][-1] == pytest.approx(final["validation:auc"])


def test_header_row_with_a_numeric_first_column_fails_with_xgboosts_label_message(
    engine_sandbox: Sandbox,
) -> None:
    sm, s3, logs = clients(engine_sandbox.endpoint, "sagemaker", "s3", "logs")
    s3.create_bucket(Bucket="tenure-first")
    body = "tenure,calls,churned\n12,3,0\n40,1,1\n7,5,1\n"
    s3.put_object(Bucket="tenure-first", Key="train/data.csv", Body=body.encode())
    sm.create_training_job(**training_request(
        "xgb-bad-label", XGB_IMAGE, {"num_round": "5", "objective": "binary:logistic"},
        [channel("train", "s3://tenure-first/train/")], "s3://tenure-first/out/",
    ))  # fmt: skip
    desc = wait_training(sm, "xgb-bad-label")
    assert desc["TrainingJobStatus"] == "Failed"
    assert desc["SecondaryStatus"] == "Failed"
    reason = desc["FailureReason"]
    assert reason.startswith("AlgorithmError: framework error")
    assert "label must be in [0,1] for logistic regression" in reason
    assert len(reason) <= 1024
    assert "ModelArtifacts" not in desc
    assert any("label must be in [0,1]" in line for line in log_lines(logs, LOGS, "xgb-bad-label"))


def test_the_demo_csv_as_a_user_brings_it_completes_with_no_skill(engine_sandbox: Sandbox) -> None:
    """Header read as data, the customer id as the label (→ 0 for every row): it 'works' and
    learns nothing, as on AWS."""
    sm, _s3 = clients(engine_sandbox.endpoint, "sagemaker", "s3")
    sm.create_training_job(**training_request(
        "xgb-demo-raw", XGB_IMAGE,
        {"num_round": "5", "objective": "binary:logistic", "eval_metric": "auc"},
        [channel("train", DEMO_URI), channel("validation", DEMO_URI)], "s3://sagecoach-demo/out/",
    ))  # fmt: skip
    desc = wait_training(sm, "xgb-demo-raw")
    assert desc["TrainingJobStatus"] == "Completed", desc.get("FailureReason")
    final = {m["MetricName"]: m["Value"] for m in desc["FinalMetricDataList"]}
    assert math.isnan(final["validation:auc"])  # every label is 0: no skill to measure


def test_linear_learner_without_predictor_type_fails_as_the_container_does(
    engine_sandbox: Sandbox,
) -> None:
    sm, s3, logs = clients(engine_sandbox.endpoint, "sagemaker", "s3", "logs")
    _put_signal(s3, "ll-data")
    sm.create_training_job(**training_request(
        "ll-no-type", LL_IMAGE, {"feature_dim": "5", "mini_batch_size": "100"},
        [channel("train", "s3://ll-data/train/")], "s3://ll-data/out/",
    ))  # fmt: skip
    desc = wait_training(sm, "ll-no-type")
    assert desc["TrainingJobStatus"] == "Failed"
    assert desc["FailureReason"].startswith("ClientError: Unable to initialize the algorithm.")
    assert "'predictor_type' is a required property" in desc["FailureReason"]
    assert any("predictor_type" in line for line in log_lines(logs, LOGS, "ll-no-type"))


def test_missing_prefix_is_refused_at_create_and_an_empty_channel_fails(
    engine_sandbox: Sandbox,
) -> None:
    from botocore.exceptions import ClientError

    sm, s3 = clients(engine_sandbox.endpoint, "sagemaker", "s3")
    s3.create_bucket(Bucket="empty-data")
    with pytest.raises(ClientError) as refused:
        sm.create_training_job(**training_request(
            "xgb-nothing", XGB_IMAGE, {"num_round": "5"},
            [channel("train", "s3://empty-data/train/")], "s3://empty-data/out/",
        ))  # fmt: skip
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert 'No S3 objects found under S3 URL "s3://empty-data/train/"' in str(refused.value)

    s3.put_object(Bucket="empty-data", Key="train/empty.csv", Body=b"")
    sm.create_training_job(**training_request(
        "xgb-empty", XGB_IMAGE, {"num_round": "5"},
        [channel("train", "s3://empty-data/train/")], "s3://empty-data/out/",
    ))  # fmt: skip
    desc = wait_training(sm, "xgb-empty")
    assert desc["TrainingJobStatus"] == "Failed"
    assert "No data in training channel path" in desc["FailureReason"]


def test_a_reused_job_name_is_refused(engine_sandbox: Sandbox) -> None:
    from botocore.exceptions import ClientError

    sm, _s3 = clients(engine_sandbox.endpoint, "sagemaker", "s3")
    request = training_request("xgb-twice", XGB_IMAGE, {"num_round": "2"},
                               [channel("train", DEMO_URI)], "s3://sagecoach-demo/out/")  # fmt: skip
    sm.create_training_job(**request)
    with pytest.raises(ClientError) as again:
        sm.create_training_job(**request)
    assert again.value.response["Error"]["Code"] == "ResourceInUse"
    wait_training(sm, "xgb-twice")


def test_a_custom_image_fails_with_a_reason_that_says_why(engine_sandbox: Sandbox) -> None:
    sm, _s3 = clients(engine_sandbox.endpoint, "sagemaker", "s3")
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-trainer:latest"
    sm.create_training_job(**training_request("custom-img", image, {},
                                              [channel("train", DEMO_URI)], "s3://sagecoach-demo/o/"))  # fmt: skip
    desc = wait_training(sm, "custom-img")
    assert desc["TrainingJobStatus"] == "Failed"
    assert "cannot run the container image" in desc["FailureReason"]
    assert image in desc["FailureReason"]


def test_state_survives_a_sandbox_restart(tmp_path, engine_sandbox: Sandbox) -> None:
    from moto.core.base_backend import BackendDict

    state = tmp_path / "state"
    first = Sandbox(state_dir=state)
    first.start()
    try:
        sm, s3 = clients(first.endpoint, "sagemaker", "s3")
        assert (
            s3.head_object(Bucket="sagecoach-demo", Key="churn/churn.csv")["ContentLength"] > 1000
        )
        s3.create_bucket(Bucket="kept")
        s3.put_object(Bucket="kept", Key="a/b.txt", Body=b"hello")
        sm.create_training_job(**training_request("kept-job", XGB_IMAGE, {"num_round": "3"},
                                                  [channel("train", DEMO_URI)], "s3://kept/out/"))  # fmt: skip
        assert wait_training(sm, "kept-job")["TrainingJobStatus"] == "Completed"
    finally:
        first.stop()
    BackendDict.reset()  # nothing left in memory: what follows comes from disk

    second = Sandbox(state_dir=state)
    second.start()
    try:
        assert second.restored, second.restore_message
        sm, s3 = clients(second.endpoint, "sagemaker", "s3")
        assert s3.get_object(Bucket="kept", Key="a/b.txt")["Body"].read() == b"hello"
        desc = sm.describe_training_job(TrainingJobName="kept-job")
        assert desc["TrainingJobStatus"] == "Completed"
        assert desc["ModelArtifacts"]["S3ModelArtifacts"].endswith("kept-job/output/model.tar.gz")
        assert s3.head_object(Bucket="kept", Key="out/kept-job/output/model.tar.gz")
    finally:
        second.stop()


def test_an_unreadable_state_starts_empty_and_says_so(tmp_path, engine_sandbox: Sandbox) -> None:
    state = tmp_path / "state"
    (state / "sandbox").mkdir(parents=True)
    (state / "sandbox" / "state.pickle").write_bytes(b"not a snapshot")
    (state / "audit.jsonl").write_text('{"kind": "session_start"}\n')
    sandbox = Sandbox(state_dir=state)
    sandbox.start()
    try:
        assert not sandbox.restored
        assert "could not be restored" in sandbox.restore_message
        assert "starts empty" in sandbox.restore_message
        (s3,) = clients(sandbox.endpoint, "s3")
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["sagecoach-demo"]
    finally:
        sandbox.stop()
    assert (state / "audit.jsonl").read_text() == '{"kind": "session_start"}\n'
    assert list((state / "sandbox").glob("state.pickle.unreadable-*"))


def test_the_identity_route_says_this_is_the_sandbox(engine_sandbox: Sandbox) -> None:
    from sandbox.server import SANDBOX_ROLE_ARN, probe

    identity = probe(engine_sandbox.endpoint)
    assert identity is not None
    assert identity["execution_role_arn"] == SANDBOX_ROLE_ARN
    assert identity["demo_data"] == DEMO_URI
    (iam,) = clients(engine_sandbox.endpoint, "iam")
    assert (
        iam.get_role(RoleName="sagecoach-sandbox-execution-role")["Role"]["Arn"] == SANDBOX_ROLE_ARN
    )
    assert probe("http://127.0.0.1:9") is None
