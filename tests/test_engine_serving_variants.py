"""Endpoint features beyond one model: production variants splitting traffic by weight,
UpdateEndpoint, multi-model endpoints loading TargetModel on demand, scikit-learn script mode
with the container's defaults, and Linear Learner's inference format."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from sandbox.server import Sandbox
from tests.engine_helpers import (
    LL_IMAGE,
    SKLEARN_IMAGE,
    channel,
    clients,
    label_first_csv,
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
    tar_bytes,
    wait_endpoint,
    xgb_artifact,
)

pytestmark = pytest.mark.slow

INFERENCE_SCRIPT = """
import os
import joblib

def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))
"""


def test_variants_update_and_multi_model(engine_sandbox: Sandbox) -> None:
    sm, s3, rt = clients(engine_sandbox.endpoint, "sagemaker", "s3", "sagemaker-runtime")
    s3.create_bucket(Bucket="variants")
    for key, seed in (("a", 1), ("b", 2)):
        s3.put_object(Bucket="variants", Key=f"{key}/model.tar.gz", Body=xgb_artifact(seed=seed))
        s3.put_object(Bucket="variants", Key=f"mme/{key}.tar.gz", Body=xgb_artifact(seed=seed))
        create_model(sm, f"model-{key}", f"s3://variants/{key}/model.tar.gz")
    desc = deploy(
        sm,
        "ab",
        [realtime_variant("model-a", "Blue", 1.0), realtime_variant("model-b", "Green", 1.0)],
    )
    assert desc["EndpointStatus"] == "InService", desc.get("FailureReason")
    _, features = held_out()
    row = csv_rows(features[:1])
    seen = Counter(rt.invoke_endpoint(EndpointName="ab", Body=row, ContentType="text/csv")
                   ["InvokedProductionVariant"] for _ in range(40))  # fmt: skip
    assert set(seen) == {"Blue", "Green"} and min(seen.values()) >= 5
    green = rt.invoke_endpoint(
        EndpointName="ab", Body=row, ContentType="text/csv", TargetVariant="Green"
    )
    assert green["InvokedProductionVariant"] == "Green"
    blue = rt.invoke_endpoint(
        EndpointName="ab", Body=row, ContentType="text/csv", TargetVariant="Blue"
    )
    blue_score, green_score = float(blue["Body"].read()), float(green["Body"].read())
    assert blue_score != green_score  # two models, two answers

    sm.create_endpoint_config(
        EndpointConfigName="ab-green-only",
        ProductionVariants=[realtime_variant("model-b", "Green")],
    )
    sm.update_endpoint(EndpointName="ab", EndpointConfigName="ab-green-only")
    assert sm.describe_endpoint(EndpointName="ab")["EndpointStatus"] == "Updating"
    assert rt.invoke_endpoint(EndpointName="ab", Body=row, ContentType="text/csv")[
        "InvokedProductionVariant"
    ] in ("Blue", "Green")
    updated = wait_endpoint(sm, "ab")
    while updated["EndpointStatus"] == "Updating":
        updated = wait_endpoint(sm, "ab")
    assert (
        updated["EndpointStatus"] == "InService"
        and updated["EndpointConfigName"] == "ab-green-only"
    )
    assert [v["VariantName"] for v in updated["ProductionVariants"]] == ["Green"]
    with pytest.raises(rt.exceptions.ValidationError, match="Variant Blue does not exist"):
        rt.invoke_endpoint(
            EndpointName="ab", Body=row, ContentType="text/csv", TargetVariant="Blue"
        )

    create_model(sm, "mme", "s3://variants/mme/", mode="MultiModel")
    assert deploy(sm, "mme", [realtime_variant("mme")])["EndpointStatus"] == "InService"
    a = rt.invoke_endpoint(
        EndpointName="mme", Body=row, ContentType="text/csv", TargetModel="a.tar.gz"
    )["Body"].read()
    b = rt.invoke_endpoint(
        EndpointName="mme", Body=row, ContentType="text/csv", TargetModel="b.tar.gz"
    )["Body"].read()
    # The multi-model server's handler answers a JSON list by default.
    assert json.loads(a) == [pytest.approx(blue_score)] and json.loads(b) == [
        pytest.approx(green_score)
    ]
    with pytest.raises(rt.exceptions.ValidationError, match="Failed to download model data"):
        rt.invoke_endpoint(
            EndpointName="mme", Body=row, ContentType="text/csv", TargetModel="c.tar.gz"
        )
    sm.delete_endpoint(EndpointName="ab")
    with pytest.raises(rt.exceptions.ValidationError, match="not found"):
        rt.invoke_endpoint(EndpointName="ab", Body=row, ContentType="text/csv")


def test_script_mode_and_linear_learner_inference(engine_sandbox: Sandbox) -> None:
    import io

    import joblib
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    sm, s3, rt = clients(engine_sandbox.endpoint, "sagemaker", "s3", "sagemaker-runtime")
    s3.create_bucket(Bucket="script-serve")
    labels, rows = signal_rows(300)
    # Linear Learner, trained by the engine: its JSON answer has score and predicted_label.
    s3.put_object(
        Bucket="script-serve", Key="ll/train.csv", Body=label_first_csv(labels[:200], rows[:200])
    )
    sm.create_training_job(**training_request("ll-serve", LL_IMAGE, {"predictor_type": "binary_classifier"},
                                              [channel("train", "s3://script-serve/ll/")], "s3://script-serve/out/"))  # fmt: skip
    model = io.BytesIO()
    joblib.dump(LogisticRegression().fit(np.array(rows[:200]), labels[:200]), model)
    s3.put_object(Bucket="script-serve", Key="sk/model.tar.gz",
                  Body=tar_bytes({"model.joblib": model.getvalue(), "code/inference.py": INFERENCE_SCRIPT.encode()}))  # fmt: skip
    create_model(sm, "sk", "s3://script-serve/sk/model.tar.gz", image=SKLEARN_IMAGE,
                 environment={"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code"})  # fmt: skip
    deploy(sm, "sk", [realtime_variant("sk")], wait=False)
    job = wait_training(sm, "ll-serve")
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    create_model(sm, "ll", job["ModelArtifacts"]["S3ModelArtifacts"], image=LL_IMAGE)
    assert deploy(sm, "ll", [realtime_variant("ll")])["EndpointStatus"] == "InService"
    assert wait_endpoint(sm, "sk")["EndpointStatus"] == "InService"

    truth, features = labels[200:], rows[200:]
    answer = rt.invoke_endpoint(EndpointName="ll", Body=csv_rows(features), ContentType="text/csv")
    assert answer["ContentType"] == "application/json"
    predictions = json.loads(answer["Body"].read())["predictions"]
    assert len(predictions) == 100 and set(predictions[0]) == {"score", "predicted_label"}
    accuracy = np.mean([p["predicted_label"] == t for p, t in zip(predictions, truth, strict=True)])
    assert accuracy > 0.8
    lines = rt.invoke_endpoint(EndpointName="ll", Body=json.dumps({"instances": [{"features": features[0]}]}),
                               ContentType="application/json", Accept="application/jsonlines")["Body"].read()  # fmt: skip
    assert json.loads(lines.splitlines()[0])["score"] == pytest.approx(predictions[0]["score"])
    with pytest.raises(rt.exceptions.ModelError) as short:
        rt.invoke_endpoint(EndpointName="ll", Body="1,2", ContentType="text/csv")
    assert short.value.response["OriginalMessage"] == "unable to evaluate payload provided"

    # scikit-learn: the script's model_fn, the container's default input/predict/output.
    sk = rt.invoke_endpoint(
        EndpointName="sk", Body=json.dumps(features[:3]), ContentType="application/json"
    )
    assert sk["ContentType"] == "application/json"
    assert json.loads(sk["Body"].read()) == [
        int(v)
        for v in LogisticRegression()
        .fit(np.array(rows[:200]), labels[:200])
        .predict(np.array(features[:3]))
    ]
    two = rt.invoke_endpoint(
        EndpointName="sk", Body=csv_rows(features[:2]), ContentType="text/csv", Accept="text/csv"
    )
    assert len(two["Body"].read().decode().split()) == 2
    with pytest.raises(rt.exceptions.ModelError) as one_row:  # genfromtxt gives 1-D for one row
        rt.invoke_endpoint(EndpointName="sk", Body=csv_rows(features[:1]), ContentType="text/csv")
    assert one_row.value.response["OriginalStatusCode"] == 500
    with pytest.raises(rt.exceptions.ModelError) as npz:
        rt.invoke_endpoint(EndpointName="sk", Body=b"x", ContentType="application/x-parquet")
    assert npz.value.response["OriginalStatusCode"] == 415
    assert "UnsupportedFormatError" in npz.value.response["OriginalMessage"]
