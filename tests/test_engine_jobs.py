"""Script mode, processing jobs, stop and time limits, and the other built-in algorithms."""

from __future__ import annotations

import time

import pytest

from sandbox.server import DEMO_URI, Sandbox
from tests.engine_helpers import (
    KMEANS_IMAGE,
    RCF_IMAGE,
    ROLE,
    SKLEARN_IMAGE,
    channel,
    clients,
    label_first_csv,
    log_lines,
    signal_rows,
    tar_gz,
    training_request,
    untar,
    wait_processing,
    wait_training,
)

pytestmark = pytest.mark.slow

TRAIN_SCRIPT = """
import argparse, glob, os
import joblib
import pandas as pd
from sklearn.linear_model import LogisticRegression

parser = argparse.ArgumentParser()
parser.add_argument("--c_value", type=float, default=1.0)
parser.add_argument("--model-dir", default=os.environ["SM_MODEL_DIR"])
args = parser.parse_args()
files = glob.glob(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "*.csv"))
frame = pd.concat(pd.read_csv(f, header=None) for f in files)
model = LogisticRegression(C=args.c_value).fit(frame.iloc[:, 1:], frame.iloc[:, 0])
print(f"train accuracy: {model.score(frame.iloc[:, 1:], frame.iloc[:, 0]):.3f}")
joblib.dump(model, os.path.join(args.model_dir, "model.joblib"))
with open("/opt/ml/model/hyperparameters.txt", "w") as handle:  # a hard-coded container path
    handle.write(os.environ["SM_HPS"])
"""

PREPROCESS = """
import os
import pandas as pd

source = "/opt/ml/processing/input/raw"
frame = pd.read_csv(os.path.join(source, "churn.csv"))
frame = frame[["churned", "tenure_months", "support_calls", "monthly_charges"]].dropna()
os.makedirs("/opt/ml/processing/output/train", exist_ok=True)
frame.to_csv("/opt/ml/processing/output/train/train.csv", header=False, index=False)
print(f"wrote {len(frame)} rows")
"""


def _sklearn_job(
    s3, name: str, script: str, hyperparameters: dict[str, str], max_runtime: int = 600
) -> dict:
    s3.put_object(
        Bucket="sagecoach-demo", Key=f"code/{name}.tar.gz", Body=tar_gz({"train.py": script})
    )
    request = training_request(
        name, SKLEARN_IMAGE,
        {**hyperparameters, "sagemaker_program": '"train.py"',
         "sagemaker_submit_directory": f'"s3://sagecoach-demo/code/{name}.tar.gz"'},
        [channel("train", "s3://sagecoach-demo/signal/")], "s3://sagecoach-demo/out/", max_runtime,
    )  # fmt: skip
    return request


def _put_signal(s3) -> None:
    labels, rows = signal_rows(200)
    s3.put_object(Bucket="sagecoach-demo", Key="signal/a.csv", Body=label_first_csv(labels, rows))


def test_script_mode_runs_the_users_script_with_the_toolkit_environment(
    engine_sandbox: Sandbox,
) -> None:
    import io

    import joblib

    sm, s3, logs = clients(engine_sandbox.endpoint, "sagemaker", "s3", "logs")
    _put_signal(s3)
    sm.create_training_job(**_sklearn_job(s3, "sk-script", TRAIN_SCRIPT, {"c_value": "0.5"}))
    desc = wait_training(sm, "sk-script")
    assert desc["TrainingJobStatus"] == "Completed", desc.get("FailureReason")
    key = "out/sk-script/output/model.tar.gz"
    files = untar(s3.get_object(Bucket="sagecoach-demo", Key=key)["Body"].read())
    model = joblib.load(io.BytesIO(files["model.joblib"]))
    assert model.C == 0.5
    assert files["hyperparameters.txt"] == b'{"c_value":0.5}'
    lines = log_lines(logs, "/aws/sagemaker/TrainingJobs", "sk-script")
    accuracy = next(line for line in lines if line.startswith("train accuracy:"))
    assert float(accuracy.split(":")[1]) > 0.8


def test_a_failing_script_fails_the_job_with_its_error(engine_sandbox: Sandbox) -> None:
    sm, s3 = clients(engine_sandbox.endpoint, "sagemaker", "s3")
    _put_signal(s3)
    script = "import sys\nraise ValueError('column churned not found')\n"
    sm.create_training_job(**_sklearn_job(s3, "sk-broken", script, {"epochs": "2"}))
    desc = wait_training(sm, "sk-broken")
    assert desc["TrainingJobStatus"] == "Failed"
    reason = desc["FailureReason"]
    assert reason.startswith("AlgorithmError: ExecuteUserScriptError:")
    assert "ValueError: column churned not found" in reason
    assert 'Command "python train.py --epochs 2", exit code: 1' in reason


def test_stop_training_job_stops_a_running_script(engine_sandbox: Sandbox) -> None:
    sm, s3 = clients(engine_sandbox.endpoint, "sagemaker", "s3")
    _put_signal(s3)
    sm.create_training_job(**_sklearn_job(s3, "sk-sleepy", "import time\ntime.sleep(60)\n", {}))
    deadline = time.monotonic() + 30
    while sm.describe_training_job(TrainingJobName="sk-sleepy")["SecondaryStatus"] != "Training":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    sm.stop_training_job(TrainingJobName="sk-sleepy")
    assert sm.describe_training_job(TrainingJobName="sk-sleepy")["TrainingJobStatus"] in (
        "Stopping", "Stopped",
    )  # fmt: skip
    desc = wait_training(sm, "sk-sleepy", timeout=20)
    assert desc["TrainingJobStatus"] == "Stopped"
    assert desc["SecondaryStatus"] == "Stopped"
    assert "Stopping" in [t["Status"] for t in desc["SecondaryStatusTransitions"]]


def test_max_runtime_stops_the_job(engine_sandbox: Sandbox) -> None:
    sm, s3 = clients(engine_sandbox.endpoint, "sagemaker", "s3")
    _put_signal(s3)
    sm.create_training_job(**_sklearn_job(s3, "sk-slow", "import time\ntime.sleep(60)\n", {}, 2))
    desc = wait_training(sm, "sk-slow", timeout=30)
    assert desc["TrainingJobStatus"] == "Stopped"
    assert desc["SecondaryStatus"] == "MaxRuntimeExceeded"
    assert 2 <= desc["BillableTimeInSeconds"] <= 10


def test_processing_job_runs_the_script_against_its_inputs_and_outputs(
    engine_sandbox: Sandbox,
) -> None:
    sm, s3, logs = clients(engine_sandbox.endpoint, "sagemaker", "s3", "logs")
    s3.put_object(Bucket="sagecoach-demo", Key="code/preprocess.py", Body=PREPROCESS.encode())
    sm.create_processing_job(
        ProcessingJobName="prep-churn",
        RoleArn=ROLE,
        AppSpecification={
            "ImageUri": SKLEARN_IMAGE,
            "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/preprocess.py"],
        },
        ProcessingInputs=[
            {"InputName": "code", "S3Input": {
                "S3Uri": "s3://sagecoach-demo/code/preprocess.py",
                "LocalPath": "/opt/ml/processing/input/code", "S3DataType": "S3Prefix",
                "S3InputMode": "File"}},
            {"InputName": "raw", "S3Input": {
                "S3Uri": DEMO_URI, "LocalPath": "/opt/ml/processing/input/raw",
                "S3DataType": "S3Prefix", "S3InputMode": "File"}},
        ],
        ProcessingOutputConfig={"Outputs": [{"OutputName": "train", "S3Output": {
            "S3Uri": "s3://sagecoach-demo/prepared/train/",
            "LocalPath": "/opt/ml/processing/output/train", "S3UploadMode": "EndOfJob"}}]},
        ProcessingResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large",
                                               "VolumeSizeInGB": 5}},
        StoppingCondition={"MaxRuntimeInSeconds": 300},
    )  # fmt: skip
    assert (
        sm.describe_processing_job(ProcessingJobName="prep-churn")["ProcessingJobStatus"]
        == "InProgress"
    )
    desc = wait_processing(sm, "prep-churn")
    assert desc["ProcessingJobStatus"] == "Completed", desc.get("FailureReason")
    assert desc["ProcessingStartTime"] <= desc["ProcessingEndTime"]
    body = s3.get_object(Bucket="sagecoach-demo", Key="prepared/train/train.csv")["Body"].read()
    rows = body.decode().strip().splitlines()
    assert len(rows) > 2900 and rows[0].split(",")[0] in ("0", "1")
    assert any(
        line.startswith("wrote ")
        for line in log_lines(logs, "/aws/sagemaker/ProcessingJobs", "prep-churn")
    )


def test_kmeans_and_rcf_train_and_rcf_wants_sharded_data(engine_sandbox: Sandbox) -> None:
    sm, s3 = clients(engine_sandbox.endpoint, "sagemaker", "s3")
    _, rows = signal_rows(200, features=3)
    body = ("\n".join(",".join(map(str, r)) for r in rows) + "\n").encode()
    s3.put_object(Bucket="sagecoach-demo", Key="unlabeled/x.csv", Body=body)
    sm.create_training_job(**training_request(
        "km", KMEANS_IMAGE, {"k": "3", "feature_dim": "3"},
        [channel("train", "s3://sagecoach-demo/unlabeled/", "text/csv;label_size=0"),
         channel("test", "s3://sagecoach-demo/unlabeled/", "text/csv;label_size=0")],
        "s3://sagecoach-demo/out/",
    ))  # fmt: skip
    sm.create_training_job(**training_request(
        "rcf-replicated", RCF_IMAGE, {"feature_dim": "3"},
        [channel("train", "s3://sagecoach-demo/unlabeled/", "text/csv;label_size=0")],
        "s3://sagecoach-demo/out/",
    ))  # fmt: skip
    kmeans = wait_training(sm, "km")
    assert kmeans["TrainingJobStatus"] == "Completed", kmeans.get("FailureReason")
    metrics = {m["MetricName"]: m["Value"] for m in kmeans["FinalMetricDataList"]}
    assert metrics["test:msd"] > 0 and metrics["test:ssd"] > metrics["test:msd"]
    rcf = wait_training(sm, "rcf-replicated")
    assert rcf["TrainingJobStatus"] == "Failed"
    assert "'FullyReplicated' is not one of ['ShardedByS3Key']" in rcf["FailureReason"]


def test_xgboost_spot_checkpoints_are_saved_and_a_new_job_resumes_from_them(
    engine_sandbox: Sandbox,
) -> None:
    sm, s3, logs = clients(engine_sandbox.endpoint, "sagemaker", "s3", "logs")
    _put_signal(s3)

    def request(name: str, rounds: str) -> dict:
        body = training_request(name, "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
                                {"num_round": rounds, "objective": "binary:logistic"},
                                [channel("train", "s3://sagecoach-demo/signal/")],
                                "s3://sagecoach-demo/out/")  # fmt: skip
        body["EnableManagedSpotTraining"] = True
        body["StoppingCondition"]["MaxWaitTimeInSeconds"] = 1200
        body["CheckpointConfig"] = {"S3Uri": "s3://sagecoach-demo/checkpoints/churn/"}
        return body

    sm.create_training_job(**request("spot-1", "6"))
    assert wait_training(sm, "spot-1")["TrainingJobStatus"] == "Completed"
    keys = [
        o["Key"]
        for o in s3.list_objects_v2(Bucket="sagecoach-demo", Prefix="checkpoints/churn/")[
            "Contents"
        ]
    ]
    assert "checkpoints/churn/xgboost-checkpoint.5" in keys

    sm.create_training_job(**request("spot-2", "10"))
    assert wait_training(sm, "spot-2")["TrainingJobStatus"] == "Completed"
    lines = log_lines(logs, "/aws/sagemaker/TrainingJobs", "spot-2")
    assert any("Resuming from iteration 6" in line for line in lines)
    rounds = [line for line in lines if line.startswith("[") and "#011" in line]
    assert len(rounds) == 4  # only the rounds left
    keys = [
        o["Key"]
        for o in s3.list_objects_v2(Bucket="sagecoach-demo", Prefix="checkpoints/")["Contents"]
    ]
    assert "checkpoints/churn/xgboost-checkpoint.9" in keys


def test_a_failing_processing_script_and_stop_processing_job(engine_sandbox: Sandbox) -> None:
    sm, s3 = clients(engine_sandbox.endpoint, "sagemaker", "s3")
    s3.put_object(
        Bucket="sagecoach-demo", Key="code/bad.py", Body=b"import sys\nraise KeyError('churned')\n"
    )
    s3.put_object(
        Bucket="sagecoach-demo", Key="code/slow.py", Body=b"import time\ntime.sleep(60)\n"
    )

    def create(name: str, script: str) -> None:
        sm.create_processing_job(
            ProcessingJobName=name, RoleArn=ROLE,
            AppSpecification={"ImageUri": SKLEARN_IMAGE, "ContainerEntrypoint": [
                "python3", f"/opt/ml/processing/input/code/{script}"]},
            ProcessingInputs=[{"InputName": "code", "S3Input": {
                "S3Uri": f"s3://sagecoach-demo/code/{script}", "LocalPath": "/opt/ml/processing/input/code",
                "S3DataType": "S3Prefix", "S3InputMode": "File"}}],
            ProcessingResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large",
                                                   "VolumeSizeInGB": 5}},
            StoppingCondition={"MaxRuntimeInSeconds": 300},
        )  # fmt: skip

    create("bad-script", "bad.py")
    create("slow-script", "slow.py")
    bad = wait_processing(sm, "bad-script")
    assert bad["ProcessingJobStatus"] == "Failed"
    assert bad["FailureReason"] == "AlgorithmError: See job logs for more information"
    assert "KeyError: 'churned'" in bad["ExitMessage"]
    deadline = time.monotonic() + 30
    while engine_sandbox.engine.jobs.get("processing", "us-east-1", "slow-script") is None or (
        engine_sandbox.engine.jobs.get("processing", "us-east-1", "slow-script").process is None
    ):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    sm.stop_processing_job(ProcessingJobName="slow-script")
    assert wait_processing(sm, "slow-script", timeout=20)["ProcessingJobStatus"] == "Stopped"


def test_xgboost_hyperparameters_are_checked_by_the_container(engine_sandbox: Sandbox) -> None:
    sm, s3 = clients(engine_sandbox.endpoint, "sagemaker", "s3")
    _put_signal(s3)
    sm.create_training_job(**training_request(
        "xgb-typo", "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
        {"num_round": "5", "max_dept": "4"}, [channel("train", "s3://sagecoach-demo/signal/")],
        "s3://sagecoach-demo/out/",
    ))  # fmt: skip
    desc = wait_training(sm, "xgb-typo")
    assert desc["TrainingJobStatus"] == "Failed"
    assert "Extraneous hyperparameter found: max_dept" in desc["FailureReason"]


PREPARE_FOR_XGBOOST = """
import os
import pandas as pd

frame = pd.read_csv("/opt/ml/processing/input/raw/churn.csv")
frame["month_to_month"] = (frame["contract"] == "month-to-month").astype(int)
frame["partner"] = (frame["has_partner"] == "yes").astype(int)
columns = ["churned", "tenure_months", "monthly_charges", "support_calls", "data_gb",
           "month_to_month", "partner"]
frame = frame[columns].dropna()
cut = int(len(frame) * 0.8)
for name, part in (("train", frame[:cut]), ("validation", frame[cut:])):
    os.makedirs(f"/opt/ml/processing/output/{name}", exist_ok=True)
    part.to_csv(f"/opt/ml/processing/output/{name}/{name}.csv", header=False, index=False)
"""


def test_the_demo_csv_prepared_by_a_processing_job_gives_a_real_model(
    engine_sandbox: Sandbox,
) -> None:
    """The raw demo CSV teaches nothing; label first, numeric, no header, split: it learns."""
    sm, s3 = clients(engine_sandbox.endpoint, "sagemaker", "s3")
    s3.put_object(Bucket="sagecoach-demo", Key="code/prepare.py", Body=PREPARE_FOR_XGBOOST.encode())
    sm.create_processing_job(
        ProcessingJobName="prepare-demo", RoleArn=ROLE,
        AppSpecification={"ImageUri": SKLEARN_IMAGE, "ContainerEntrypoint": [
            "python3", "/opt/ml/processing/input/code/prepare.py"]},
        ProcessingInputs=[
            {"InputName": "code", "S3Input": {"S3Uri": "s3://sagecoach-demo/code/prepare.py",
             "LocalPath": "/opt/ml/processing/input/code", "S3DataType": "S3Prefix",
             "S3InputMode": "File"}},
            {"InputName": "raw", "S3Input": {"S3Uri": DEMO_URI,
             "LocalPath": "/opt/ml/processing/input/raw", "S3DataType": "S3Prefix",
             "S3InputMode": "File"}}],
        ProcessingOutputConfig={"Outputs": [
            {"OutputName": name, "S3Output": {"S3Uri": f"s3://sagecoach-demo/prepared/{name}/",
             "LocalPath": f"/opt/ml/processing/output/{name}", "S3UploadMode": "EndOfJob"}}
            for name in ("train", "validation")]},
        ProcessingResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large",
                                               "VolumeSizeInGB": 5}},
        StoppingCondition={"MaxRuntimeInSeconds": 300},
    )  # fmt: skip
    assert wait_processing(sm, "prepare-demo")["ProcessingJobStatus"] == "Completed"
    sm.create_training_job(**training_request(
        "xgb-prepared", "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
        {"num_round": "30", "objective": "binary:logistic", "eval_metric": "auc", "max_depth": "3"},
        [channel("train", "s3://sagecoach-demo/prepared/train/"),
         channel("validation", "s3://sagecoach-demo/prepared/validation/")],
        "s3://sagecoach-demo/out/",
    ))  # fmt: skip
    desc = wait_training(sm, "xgb-prepared")
    assert desc["TrainingJobStatus"] == "Completed", desc.get("FailureReason")
    final = {m["MetricName"]: m["Value"] for m in desc["FinalMetricDataList"]}
    assert final["validation:auc"] > 0.7


def test_linear_learner_binary_classifier_learns_the_signal(engine_sandbox: Sandbox) -> None:
    sm, s3 = clients(engine_sandbox.endpoint, "sagemaker", "s3")
    _put_signal(s3)
    sm.create_training_job(**training_request(
        "ll-binary", "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1",
        {"predictor_type": "binary_classifier", "feature_dim": "5"},
        [channel("train", "s3://sagecoach-demo/signal/"),
         channel("validation", "s3://sagecoach-demo/signal/")],
        "s3://sagecoach-demo/out/",
    ))  # fmt: skip
    desc = wait_training(sm, "ll-binary")
    assert desc["TrainingJobStatus"] == "Completed", desc.get("FailureReason")
    final = {m["MetricName"]: m["Value"] for m in desc["FinalMetricDataList"]}
    assert final["validation:binary_classification_accuracy"] > 0.8
    assert final["validation:roc_auc_score"] > 0.85
    files = untar(
        s3.get_object(Bucket="sagecoach-demo", Key="out/ll-binary/output/model.tar.gz")[
            "Body"
        ].read()
    )
    assert set(files) == {"model_algo-1"}
