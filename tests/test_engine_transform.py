"""Batch transform in the sandbox engine, through plain boto3: every input object gets an
`.out` with one line per input line, DataProcessing filters and joins as SageMaker does, and
a payload the model refuses fails the job with its log telling why."""

from __future__ import annotations

import time
from typing import Any

import pytest

from sandbox.server import Sandbox
from tests.engine_helpers import clients, label_first_csv, log_lines
from tests.serving_helpers import create_model, csv_rows, held_out, xgb_artifact

pytestmark = pytest.mark.slow


def _job(name: str, source: str, output: str, **extra: Any) -> dict[str, Any]:
    return {
        "TransformJobName": name,
        "ModelName": "tx-model",
        "TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": source}},
                           "ContentType": "text/csv", "SplitType": "Line"},
        "TransformOutput": {"S3OutputPath": output, "AssembleWith": "Line", "Accept": "text/csv"},
        "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
        **extra,
    }  # fmt: skip


def _wait(sm: Any, name: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        desc = sm.describe_transform_job(TransformJobName=name)
        if (
            desc["TransformJobStatus"] in ("Completed", "Failed", "Stopped")
            or time.monotonic() > deadline
        ):
            return dict(desc)
        time.sleep(0.05)


def test_batch_transform_writes_one_line_per_input_line(engine_sandbox: Sandbox) -> None:
    from sklearn.metrics import roc_auc_score

    sm, s3, logs = clients(engine_sandbox.endpoint, "sagemaker", "s3", "logs")
    s3.create_bucket(Bucket="tx-data")
    s3.put_object(Bucket="tx-data", Key="model/model.tar.gz", Body=xgb_artifact())
    create_model(sm, "tx-model", "s3://tx-data/model/model.tar.gz")
    labels, features = held_out()
    s3.put_object(Bucket="tx-data", Key="features/part-1.csv", Body=csv_rows(features[:60]) + "\n")
    s3.put_object(
        Bucket="tx-data", Key="features/more/part-2.csv", Body=csv_rows(features[60:]) + "\n"
    )
    s3.put_object(Bucket="tx-data", Key="labelled/test.csv", Body=label_first_csv(labels, features))

    sm.create_transform_job(**_job("tx-plain", "s3://tx-data/features/", "s3://tx-data/scored/",
                                   BatchStrategy="MultiRecord", MaxPayloadInMB=1))  # fmt: skip
    # Prepared rows keep their label: leave it out going in, keep label and score coming out.
    sm.create_transform_job(**_job(
        "tx-joined", "s3://tx-data/labelled/", "s3://tx-data/joined/", BatchStrategy="SingleRecord",
        DataProcessing={"InputFilter": "$[1:]", "JoinSource": "Input", "OutputFilter": "$[0,-1]"}))  # fmt: skip
    # InProgress while it runs (a loaded machine may have finished the small job already)
    status = sm.describe_transform_job(TransformJobName="tx-plain")["TransformJobStatus"]
    assert status in ("InProgress", "Completed")
    plain, joined = _wait(sm, "tx-plain"), _wait(sm, "tx-joined")
    assert plain["TransformJobStatus"] == "Completed", plain.get("FailureReason")
    assert joined["TransformJobStatus"] == "Completed", joined.get("FailureReason")
    assert plain["TransformStartTime"] <= plain["TransformEndTime"]

    def read(key: str) -> list[str]:
        return s3.get_object(Bucket="tx-data", Key=key)["Body"].read().decode().splitlines()

    first, second = read("scored/part-1.csv.out"), read("scored/more/part-2.csv.out")
    assert (len(first), len(second)) == (60, 40)
    scores = [float(v) for v in first + second]
    assert roc_auc_score(labels, scores) > 0.85
    rows = [line.split(",") for line in read("joined/test.csv.out")]
    assert len(rows) == 100 and all(len(r) == 2 for r in rows)
    assert [int(r[0]) for r in rows] == labels
    assert [float(r[1]) for r in rows] == pytest.approx(scores, rel=1e-6)
    lines = log_lines(logs, "/aws/sagemaker/TransformJobs", "tx-plain")
    assert any("Model loaded successfully" in line for line in lines)
    assert any("features/part-1.csv: Completed" in line for line in lines)


def test_a_payload_the_model_refuses_fails_the_job_with_its_reason_in_the_log(
    engine_sandbox: Sandbox,
) -> None:
    sm, s3, logs = clients(engine_sandbox.endpoint, "sagemaker", "s3", "logs")
    s3.create_bucket(Bucket="tx-bad")
    s3.put_object(Bucket="tx-bad", Key="model/model.tar.gz", Body=xgb_artifact())
    create_model(sm, "tx-model", "s3://tx-bad/model/model.tar.gz")
    _, features = held_out()
    s3.put_object(
        Bucket="tx-bad", Key="raw/with-header.csv", Body="f0,f1,f2,f3,f4\n" + csv_rows(features[:5])
    )
    sm.create_transform_job(
        **_job("tx-header", "s3://tx-bad/raw/", "s3://tx-bad/out/", BatchStrategy="MultiRecord")
    )
    desc = _wait(sm, "tx-header")
    assert desc["TransformJobStatus"] == "Failed"
    assert desc["FailureReason"] == "ClientError: See job logs for more information"
    lines = log_lines(logs, "/aws/sagemaker/TransformJobs", "tx-header")
    assert any("tx-bad/raw/with-header.csv: ClientError: 415" in line for line in lines)
    assert any("could not convert string to float: 'f0'" in line for line in lines)
    with pytest.raises(sm.exceptions.ClientError, match='Could not find model "nope"'):
        sm.create_transform_job(
            **{**_job("tx-nomodel", "s3://tx-bad/raw/", "s3://tx-bad/o/"), "ModelName": "nope"}
        )
