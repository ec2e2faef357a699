"""Endpoints in the sandbox engine, seen through plain boto3: the model a training job wrote
answers with its own predictions, in the XGBoost container's inference contract; errors,
data capture, invocation metrics and logs are SageMaker's."""

from __future__ import annotations

import json

import pytest

from sandbox.server import Sandbox
from tests.engine_helpers import (
    XGB_IMAGE,
    channel,
    clients,
    label_first_csv,
    log_lines,
    signal_rows,
    training_request,
    wait_training,
)
from tests.serving_helpers import (
    create_model,
    csv_rows,
    deploy,
    held_out,
    realtime_variant,
    serverless_variant,
    tar_bytes,
    wait_endpoint,
    wait_for,
    xgb_artifact,
)

pytestmark = pytest.mark.slow


def test_trained_model_serves_real_predictions_on_real_time_and_serverless_endpoints(
    engine_sandbox: Sandbox,
) -> None:
    from sklearn.metrics import roc_auc_score

    sm, s3, rt, logs, cw = clients(engine_sandbox.endpoint, "sagemaker", "s3",
                                   "sagemaker-runtime", "logs", "cloudwatch")  # fmt: skip
    s3.create_bucket(Bucket="serve-data")
    labels, rows = signal_rows(400)
    s3.put_object(
        Bucket="serve-data", Key="train/a.csv", Body=label_first_csv(labels[:300], rows[:300])
    )
    sm.create_training_job(**training_request(
        "xgb-serve", XGB_IMAGE, {"num_round": "20", "objective": "binary:logistic", "max_depth": "3"},
        [channel("train", "s3://serve-data/train/")], "s3://serve-data/out/"))  # fmt: skip
    job = wait_training(sm, "xgb-serve")
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    create_model(sm, "xgb-serve-model", job["ModelArtifacts"]["S3ModelArtifacts"])
    capture = {"EnableCapture": True, "InitialSamplingPercentage": 100,
               "DestinationS3Uri": "s3://serve-data/capture",
               "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}]}  # fmt: skip
    deploy(sm, "churn-rt", [realtime_variant("xgb-serve-model")], capture, wait=False)
    # Creating until the model host has loaded the model (on a loaded machine that may be over
    # by the time the question arrives)
    status = sm.describe_endpoint(EndpointName="churn-rt")["EndpointStatus"]
    assert status in ("Creating", "InService")
    deploy(sm, "churn-sls", [serverless_variant("xgb-serve-model")], wait=False)
    realtime, serverless = wait_endpoint(sm, "churn-rt"), wait_endpoint(sm, "churn-sls")
    assert realtime["EndpointStatus"] == "InService", realtime.get("FailureReason")
    assert serverless["EndpointStatus"] == "InService", serverless.get("FailureReason")
    assert realtime["ProductionVariants"][0]["DeployedImages"][0]["SpecifiedImage"] == XGB_IMAGE
    assert realtime["DataCaptureConfig"]["CaptureStatus"] == "Started"

    truth, features = held_out()
    answer = rt.invoke_endpoint(
        EndpointName="churn-rt", Body=csv_rows(features), ContentType="text/csv"
    )
    assert answer["InvokedProductionVariant"] == "AllTraffic"
    assert answer["ContentType"] == "text/csv; charset=utf-8"
    scores = [float(x) for x in answer["Body"].read().decode().split()]
    assert len(scores) == len(features) == 100
    assert roc_auc_score(truth, scores) > 0.85  # the predictions follow the data
    as_json = rt.invoke_endpoint(EndpointName="churn-sls", Body=csv_rows(features[:3]),
                                 ContentType="text/csv", Accept="application/json")  # fmt: skip
    assert json.loads(as_json["Body"].read()) == {"predictions": [{"score": s} for s in scores[:3]]}

    # Wrong shapes fail as the container fails them: a ModelError with its status and message.
    with pytest.raises(rt.exceptions.ModelError) as header_row:
        rt.invoke_endpoint(EndpointName="churn-rt", ContentType="text/csv",
                           Body="f0,f1,f2,f3,f4\n" + csv_rows(features[:2]))  # fmt: skip
    error = header_row.value.response
    assert error["OriginalStatusCode"] == 415
    assert "could not convert string to float: 'f0'" in error["OriginalMessage"]
    assert error["LogStreamArn"].startswith("arn:aws:logs:us-east-1:123456789012:log-group:"
                                            "/aws/sagemaker/Endpoints/churn-rt:log-stream:AllTraffic/i-")  # fmt: skip
    assert "Received client error (415) from primary" in error["Error"]["Message"]
    with pytest.raises(rt.exceptions.ModelError) as with_label:
        rt.invoke_endpoint(EndpointName="churn-rt", ContentType="text/csv",
                           Body=label_first_csv(truth[:2], features[:2]))  # fmt: skip
    assert with_label.value.response["OriginalStatusCode"] == 400
    assert "Unable to evaluate payload provided" in with_label.value.response["OriginalMessage"]
    with pytest.raises(rt.exceptions.ModelError) as as_json_request:
        rt.invoke_endpoint(EndpointName="churn-rt", ContentType="application/json",
                           Body=json.dumps({"instances": features[:1]}))  # fmt: skip
    assert as_json_request.value.response["OriginalStatusCode"] == 415
    assert (
        "application/json is not an accepted ContentType"
        in as_json_request.value.response["OriginalMessage"]
    )

    # Data capture: one JSON Lines record per invocation, under <prefix>/<endpoint>/<variant>/yyyy/mm/dd/hh/.
    keys = wait_for(lambda: [o["Key"] for o in s3.list_objects_v2(
        Bucket="serve-data", Prefix="capture/churn-rt/AllTraffic/").get("Contents", [])])  # fmt: skip
    assert keys and all(k.count("/") == 7 and k.endswith(".jsonl") for k in keys)
    records = [json.loads(line) for k in keys
               for line in s3.get_object(Bucket="serve-data", Key=k)["Body"].read().splitlines()]  # fmt: skip
    assert len(records) == 1  # the failed requests are not captured
    captured = records[0]["captureData"]
    assert captured["endpointInput"] == {"observedContentType": "text/csv", "mode": "INPUT",
                                         "data": csv_rows(features), "encoding": "CSV"}  # fmt: skip
    assert captured["endpointOutput"]["data"].split() == [str(s) for s in scores]
    assert records[0]["eventVersion"] == "0" and records[0]["eventMetadata"]["eventId"]

    # Invocation metrics in AWS/SageMaker; the container's log in /aws/sagemaker/Endpoints.
    dims = [
        {"Name": "EndpointName", "Value": "churn-rt"},
        {"Name": "VariantName", "Value": "AllTraffic"},
    ]

    def stat(metric: str, statistic: str) -> float:
        from datetime import UTC, datetime, timedelta

        points = cw.get_metric_statistics(
            Namespace="AWS/SageMaker", MetricName=metric, Dimensions=dims, Period=60,
            StartTime=datetime.now(UTC) - timedelta(minutes=5), EndTime=datetime.now(UTC) + timedelta(minutes=1),
            Statistics=[statistic])["Datapoints"]  # fmt: skip
        return sum(p[statistic] for p in points)

    assert wait_for(lambda: stat("Invocations", "Sum") >= 4)
    assert stat("Invocation4XXErrors", "Sum") == 3
    assert stat("ModelLatency", "SampleCount") == 4 and stat("ModelLatency", "Maximum") > 0
    lines = wait_for(lambda: log_lines(logs, "/aws/sagemaker/Endpoints/churn-rt", "AllTraffic"))
    assert any("Model loaded successfully" in line for line in lines)


def test_invocation_errors_are_sagemakers(engine_sandbox: Sandbox) -> None:
    sm, s3, rt = clients(engine_sandbox.endpoint, "sagemaker", "s3", "sagemaker-runtime")
    s3.create_bucket(Bucket="serve-bad")
    s3.put_object(Bucket="serve-bad", Key="m/model.tar.gz", Body=xgb_artifact())
    with pytest.raises(
        sm.exceptions.ClientError,
        match=r"Could not find model data at s3://serve-bad/m/none\.tar\.gz",
    ):
        create_model(sm, "no-artifact", "s3://serve-bad/m/none.tar.gz")
    create_model(sm, "good", "s3://serve-bad/m/model.tar.gz")
    with pytest.raises(
        rt.exceptions.ValidationError, match="Endpoint missing of account 123456789012 not found"
    ):
        rt.invoke_endpoint(EndpointName="missing", Body=b"1,2,3,4,5", ContentType="text/csv")
    deploy(sm, "bad-sls", [serverless_variant("good")], wait=False)
    with pytest.raises(rt.exceptions.ValidationError, match="status is Creating"):
        rt.invoke_endpoint(EndpointName="bad-sls", Body=b"1,2,3,4,5", ContentType="text/csv")
    assert wait_endpoint(sm, "bad-sls")["EndpointStatus"] == "InService"
    with pytest.raises(rt.exceptions.ValidationError, match="serverless endpoint \\(4 MB\\)"):
        rt.invoke_endpoint(
            EndpointName="bad-sls", Body=b"1" * (4 * 1024 * 1024 + 1), ContentType="text/csv"
        )

    # A model whose artifact went away, one the container cannot load, an image it cannot run.
    s3.put_object(Bucket="serve-bad", Key="m/gone.tar.gz", Body=xgb_artifact())
    create_model(sm, "gone", "s3://serve-bad/m/gone.tar.gz")
    s3.delete_object(Bucket="serve-bad", Key="m/gone.tar.gz")
    s3.put_object(
        Bucket="serve-bad", Key="m/junk.tar.gz", Body=tar_bytes({"xgboost-model": b"not a model"})
    )
    create_model(sm, "junk", "s3://serve-bad/m/junk.tar.gz")
    create_model(
        sm,
        "custom",
        "s3://serve-bad/m/model.tar.gz",
        image="123456789012.dkr.ecr.us-east-1.amazonaws.com/mine:1",
    )
    for endpoint, model in (("ep-gone", "gone"), ("ep-junk", "junk"), ("ep-custom", "custom")):
        deploy(sm, endpoint, [realtime_variant(model)], wait=False)
    gone, junk, custom = (wait_endpoint(sm, e) for e in ("ep-gone", "ep-junk", "ep-custom"))
    assert gone["EndpointStatus"] == "Failed"
    assert gone["FailureReason"].startswith(
        "Failed to download model data(bucket: serve-bad, key: m/gone.tar.gz)"
    )
    assert junk["EndpointStatus"] == "Failed"
    assert "did not pass the ping health check" in junk["FailureReason"]
    assert (
        custom["EndpointStatus"] == "Failed"
        and "cannot run the container image" in custom["FailureReason"]
    )
    with pytest.raises(rt.exceptions.ValidationError, match="status is Failed"):
        rt.invoke_endpoint(EndpointName="ep-junk", Body=b"1,2,3,4,5", ContentType="text/csv")
