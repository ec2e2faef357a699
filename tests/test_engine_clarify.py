"""Clarify in the sandbox: processing jobs with Clarify's image compute bias metrics and SHAP
values from the analysis config, as SageMaker Clarify does, and fail with readable reasons."""

from __future__ import annotations

import io
import json
import math
import tarfile

import pytest

from sandbox.server import Sandbox
from tests.engine_helpers import ROLE, SKLEARN_IMAGE, XGB_IMAGE, clients, wait_processing

pytestmark = pytest.mark.slow

CLARIFY_IMAGE = "205585389593.dkr.ecr.us-east-1.amazonaws.com/sagemaker-clarify-processing:1.0"
BUCKET = "sagecoach-demo"

# 12 applicants: women (the sensitive group d) are approved 1 in 4, men 6 in 8.
TABLE = """gender,region,income,approved,predicted
F,north,30,1,1
F,north,32,0,0
F,south,28,0,1
F,south,35,0,0
M,north,50,1,1
M,north,52,1,1
M,north,47,1,0
M,south,45,0,0
M,south,60,1,1
M,south,41,0,1
M,north,55,1,1
M,south,58,1,1
"""


def _start_clarify(sm, s3, name: str, config: dict, data: str = TABLE) -> None:
    s3.put_object(Bucket=BUCKET, Key=f"clarify/{name}/data/table.csv", Body=data.encode())
    s3.put_object(Bucket=BUCKET, Key=f"clarify/{name}/config/analysis_config.json",
                  Body=json.dumps(config).encode())  # fmt: skip
    sm.create_processing_job(
        ProcessingJobName=name,
        RoleArn=ROLE,
        AppSpecification={"ImageUri": CLARIFY_IMAGE},
        ProcessingResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge",
                                               "VolumeSizeInGB": 5}},
        ProcessingInputs=[
            {"InputName": "analysis_config", "S3Input": {
                "S3Uri": f"s3://{BUCKET}/clarify/{name}/config/analysis_config.json",
                "LocalPath": "/opt/ml/processing/input/config", "S3DataType": "S3Prefix",
                "S3InputMode": "File"}},
            {"InputName": "dataset", "S3Input": {
                "S3Uri": f"s3://{BUCKET}/clarify/{name}/data/table.csv",
                "LocalPath": "/opt/ml/processing/input/data", "S3DataType": "S3Prefix",
                "S3InputMode": "File"}},
        ],
        ProcessingOutputConfig={"Outputs": [{"OutputName": "analysis_result", "S3Output": {
            "S3Uri": f"s3://{BUCKET}/clarify/{name}/output",
            "LocalPath": "/opt/ml/processing/output", "S3UploadMode": "EndOfJob"}}]},
        StoppingCondition={"MaxRuntimeInSeconds": 300},
    )  # fmt: skip


def _analysis(s3, name: str) -> dict:
    body = s3.get_object(Bucket=BUCKET, Key=f"clarify/{name}/output/analysis.json")["Body"]
    return json.loads(body.read())


def _metrics(section: dict, facet: str) -> dict[str, float]:
    return {m["name"]: m.get("value") for m in section["facets"][facet][0]["metrics"]}


def test_pre_and_post_training_bias_match_the_formulas(engine_sandbox: Sandbox) -> None:
    sm, s3 = clients(engine_sandbox.endpoint, "sagemaker", "s3")
    config = {
        "dataset_type": "text/csv",
        "headers": ["gender", "region", "income", "approved", "predicted"],
        "label": "approved",
        "label_values_or_threshold": [1],
        "facet": [{"name_or_index": "gender", "value_or_threshold": ["F"]}],
        "group_variable": "region",
        "predicted_label": "predicted",
        "methods": {"pre_training_bias": {"methods": "all"},
                    "post_training_bias": {"methods": "all"},
                    "report": {"name": "report", "title": "Bias report"}},
    }  # fmt: skip
    _start_clarify(sm, s3, "clarify-bias", config)
    # a facet that is not in the data, started alongside: it fails with the columns there are
    wrong = {"dataset_type": "text/csv", "label": "approved", "label_values_or_threshold": [1],
             "facet": [{"name_or_index": "sex"}],
             "methods": {"pre_training_bias": {"methods": "all"}}}  # fmt: skip
    _start_clarify(sm, s3, "clarify-no-facet", wrong)
    failed = wait_processing(sm, "clarify-no-facet")
    assert failed["ProcessingJobStatus"] == "Failed"
    reason = failed["FailureReason"]
    assert reason.startswith("ClientError: The facet column 'sex' is not in the dataset")
    assert "gender, region, income, approved, predicted" in reason
    job = wait_processing(sm, "clarify-bias")
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    result = _analysis(s3, "clarify-bias")
    pre = result["pre_training_bias_metrics"]
    assert pre["label"] == "approved" and pre["label_value_or_threshold"] == "1"
    assert pre["facets"]["gender"][0]["value_or_threshold"] == "F"
    got = _metrics(pre, "gender")
    # by hand: n_a = 8 men (6 approved), n_d = 4 women (1 approved)
    q_a, q_d = 6 / 8, 1 / 4
    p_a, p_d = [1 - q_a, q_a], [1 - q_d, q_d]
    mid = [(a + d) / 2 for a, d in zip(p_a, p_d, strict=True)]
    # CDDL: north has 5 approved (1 woman) and 1 rejected (a woman); south 2 approved (no
    # woman) and 4 rejected (2 women); weighted by group size (6 and 6)
    cddl = (6 * (1 / 1 - 1 / 5) + 6 * (2 / 4 - 0 / 2)) / 12
    expected = {
        "CI": (8 - 4) / 12,
        "DPL": q_a - q_d,
        "KL": sum(a * math.log(a / d) for a, d in zip(p_a, p_d, strict=True)),
        "JS": 0.5 * sum(a * math.log(a / m) + d * math.log(d / m)
                        for a, d, m in zip(p_a, p_d, mid, strict=True)),
        "LP": math.sqrt(sum((a - d) ** 2 for a, d in zip(p_a, p_d, strict=True))),
        "TVD": 0.5 * sum(abs(a - d) for a, d in zip(p_a, p_d, strict=True)),
        "KS": max(abs(a - d) for a, d in zip(p_a, p_d, strict=True)),
        "CDDL": cddl,
    }  # fmt: skip
    assert sorted(got) == sorted(expected)  # Clarify's pre-training set, in name order
    assert [m["name"] for m in pre["facets"]["gender"][0]["metrics"]] == sorted(expected)
    for name, value in expected.items():
        assert got[name] == pytest.approx(value), name
    post = _metrics(result["post_training_bias_metrics"], "gender")
    # predictions: women 2 of 4 predicted approved, men 6 of 8
    assert post["DPPL"] == pytest.approx(6 / 8 - 2 / 4)
    assert post["DI"] == pytest.approx((2 / 4) / (6 / 8))
    # men: TP 5, FP 1, FN 1, TN 1; women: TP 1, FP 1, FN 0, TN 2
    assert post["AD"] == pytest.approx(6 / 8 - 3 / 4)
    assert post["RD"] == pytest.approx(5 / 6 - 1 / 1)
    assert post["DAR"] == pytest.approx(5 / 6 - 1 / 2)
    assert post["DRR"] == pytest.approx(2 / 2 - 1 / 2)
    assert post["DCA"] == pytest.approx(6 / 6 - 1 / 2)
    assert post["DCR"] == pytest.approx(3 / 2 - 2 / 2)
    assert post["TE"] == pytest.approx(0 / 1 - 1 / 1)
    assert isinstance(post["FT"], float)
    report = s3.get_object(Bucket=BUCKET, Key="clarify/clarify-bias/output/report.html")
    assert b"Class Imbalance (CI)" in report["Body"].read()


def _model_artifact(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _signal_table(rows: int = 120) -> tuple[str, object, object]:
    import numpy as np

    rng = np.random.default_rng(3)
    x = rng.normal(size=(rows, 3))
    y = (x[:, 0] * 2 + 0.2 * rng.normal(size=rows) > 0).astype(int)
    lines = ["signal,noise_a,noise_b,label"]
    lines += [f"{a:.4f},{b:.4f},{c:.4f},{t}" for (a, b, c), t in zip(x, y, strict=True)]
    return "\n".join(lines) + "\n", x, y


def _upload_model(sm, s3, kind: str, x, y) -> None:
    import joblib
    import xgboost
    from sklearn.linear_model import LogisticRegression

    if kind == "xgboost":
        booster = xgboost.train({"objective": "binary:logistic", "max_depth": 2},
                                xgboost.DMatrix(x, label=y), num_boost_round=10)  # fmt: skip
        artifact = _model_artifact({"xgboost-model": bytes(booster.save_raw("json"))})
        image = XGB_IMAGE
    else:
        buffer = io.BytesIO()
        joblib.dump(LogisticRegression().fit(x, y), buffer)
        artifact = _model_artifact({"model.joblib": buffer.getvalue()})
        image = SKLEARN_IMAGE
    s3.put_object(Bucket=BUCKET, Key=f"models/{kind}/model.tar.gz", Body=artifact)
    sm.create_model(ModelName=f"shap-{kind}", ExecutionRoleArn=ROLE, PrimaryContainer={
        "Image": image, "ModelDataUrl": f"s3://{BUCKET}/models/{kind}/model.tar.gz"})  # fmt: skip


def test_shap_ranks_the_feature_the_model_uses_first(engine_sandbox: Sandbox) -> None:
    """TreeSHAP for an XGBoost model, KernelSHAP for a scikit-learn one."""
    sm, s3 = clients(engine_sandbox.endpoint, "sagemaker", "s3")
    data, x, y = _signal_table()
    kinds = ("xgboost", "sklearn")
    for kind in kinds:
        _upload_model(sm, s3, kind, x, y)
        config = {"dataset_type": "text/csv", "label": "label",
                  "predictor": {"model_name": f"shap-{kind}", "instance_type": "ml.m5.xlarge",
                                "initial_instance_count": 1, "content_type": "text/csv"},
                  "methods": {"shap": {"num_samples": 50, "agg_method": "mean_abs",
                                       "save_local_shap_values": True}}}  # fmt: skip
        _start_clarify(sm, s3, f"clarify-shap-{kind}", config, data)
    for kind in kinds:
        job = wait_processing(sm, f"clarify-shap-{kind}")
        assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
        shap = _analysis(s3, f"clarify-shap-{kind}")["explanations"]["kernel_shap"]["label0"]
        values = shap["global_shap_values"]
        assert set(values) == {"signal", "noise_a", "noise_b"}
        assert values["signal"] > 3 * max(values["noise_a"], values["noise_b"]), kind
        local = s3.get_object(Bucket=BUCKET, Key=f"clarify/clarify-shap-{kind}/output/"
                              "explanations_shap/out.csv")["Body"].read().decode()  # fmt: skip
        assert local.splitlines()[0] == "signal,noise_a,noise_b"
        assert len(local.splitlines()) == 121
