"""Issue 9's "done when" flow, in plain sentences, through the real agent runtime in the sandbox
with the offline planner: from "what should I use to store features?" to a trained, deployed,
invoked and cleaned-up model. Training on the raw CSV is stopped by pre-flight (header row, id
column first); the data is prepared (prepare_training_data), trained on, deployed, and invoked
with raw rows from the same file, which the model's manifest says how to encode. The session runs in "ask" mode and every call that asks is
approved, so each costly step visibly pauses for approval first."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from agent.events import (
    ApprovalRequested,
    Decision,
    ErrorEvent,
    ToolCallFinished,
    ToolCallStarted,
    TurnFinished,
)
from agent.offline import OfflinePlanner
from sandbox.demo_data import write_churn_csv

pytest.importorskip("agent.runtime")


@dataclass
class Turn:
    started: list[ToolCallStarted] = field(default_factory=list)
    finished: list[ToolCallFinished] = field(default_factory=list)
    approvals: list[Any] = field(default_factory=list)  # ApprovalRequest, in order
    errors: list[str] = field(default_factory=list)
    reply: str = ""

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.finished]

    def args(self, name: str) -> dict[str, Any]:
        """The arguments the call ran with, unset ones (None) left out as the app shows them."""
        args = next(s.args for s in self.started if s.name == name)
        return {k: v for k, v in args.items() if v is not None}


async def _proposed_calls(session: Any) -> dict[str, dict[str, Any]]:
    """The arguments the planner itself proposed in the conversation's tool calls (latest
    call of each tool), before any tool's defaults were filled in."""
    state = await session.agent.aget_state(session._config)
    proposed: dict[str, dict[str, Any]] = {}
    for message in state.values.get("messages", []):
        for call in getattr(message, "tool_calls", None) or []:
            proposed[call["name"]] = dict(call["args"])
    return proposed


async def _turn(session: Any, text: str, *, stopped: bool = False) -> Turn:
    """Send one request; approve every approval request (as a person pressing y would).

    stopped: the turn's call is expected to be stopped by pre-flight (denied, nothing asked)."""
    turn = Turn()
    events = session.send(text)
    while True:
        pending = []
        async for event in events:
            if isinstance(event, ToolCallStarted):
                turn.started.append(event)
            elif isinstance(event, ToolCallFinished):
                turn.finished.append(event)
            elif isinstance(event, ApprovalRequested):
                pending.append(event.request)
                turn.approvals.append(event.request)
            elif isinstance(event, ErrorEvent):
                turn.errors.append(event.message)
            elif isinstance(event, TurnFinished):
                turn.reply = event.reply
        if not pending:
            break
        events = session.decide({r.call_id: Decision.approve() for r in pending})
    assert not turn.errors, (text, turn.errors)
    if stopped:
        return turn
    assert all(f.status == "success" for f in turn.finished), (
        text,
        [(f.name, f.status, f.summary) for f in turn.finished],
    )
    # Every call that costs or changes something paused for approval before it ran.
    asked = {r.call_id for r in turn.approvals}
    for call in turn.started:
        if call.risk != "read":
            assert call.call_id in asked, (text, call.name, call.risk)
    return turn


def _wait_training(sm: Any, name: str, timeout_s: float = 60) -> dict[str, Any]:
    import time

    deadline = time.monotonic() + timeout_s
    while True:
        job = sm.describe_training_job(TrainingJobName=name)
        if job["TrainingJobStatus"] in ("Completed", "Failed", "Stopped"):
            return dict(job)
        assert time.monotonic() < deadline, job["SecondaryStatus"]
        time.sleep(0.1)


def _wait_processing(sm: Any, name: str, timeout_s: float = 60) -> dict[str, Any]:
    import time

    deadline = time.monotonic() + timeout_s
    while True:
        job = sm.describe_processing_job(ProcessingJobName=name)
        if job["ProcessingJobStatus"] in ("Completed", "Failed", "Stopped"):
            return dict(job)
        assert time.monotonic() < deadline, name
        time.sleep(0.1)


def _wait_pipeline(sm: Any, arn: str, timeout_s: float = 120) -> dict[str, Any]:
    import time

    deadline = time.monotonic() + timeout_s
    while True:
        desc = sm.describe_pipeline_execution(PipelineExecutionArn=arn)
        if desc["PipelineExecutionStatus"] not in ("Executing", "Stopping"):
            return dict(desc)
        assert time.monotonic() < deadline, arn
        time.sleep(0.2)


def _constant_predictions(s3: Any, job: dict[str, Any]) -> bool:
    """Whether the job's model predicts one value for every row (a model with no skill)."""
    import io
    import tarfile

    import numpy as np
    import xgboost

    bucket, key = job["ModelArtifacts"]["S3ModelArtifacts"][5:].split("/", 1)
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as archive:
        model = archive.extractfile("xgboost-model").read()  # type: ignore[union-attr]
    booster = xgboost.Booster()
    booster.load_model(bytearray(model))
    rows = np.random.default_rng(0).normal(size=(20, booster.num_features())) * 50
    predictions = booster.predict(xgboost.DMatrix(rows))
    return bool(np.allclose(predictions, predictions[0]))


def _engine_writes_artifacts(s3: Any, artifact: str) -> bool:
    bucket, key = artifact[5:].split("/", 1)
    return "Contents" in s3.list_objects_v2(Bucket=bucket, Prefix=key)


def _client(service: str, endpoint: str, region: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


async def test_issue9_flow_store_features_to_cleanup(
    engine_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In the sandbox with the engine: the training job really runs on the prepared data
    (statuses over time, a real model.tar.gz whose model has learned something)."""
    moto_server = engine_server
    from agent.settings import load_settings
    from agent.startup import open_session

    moto_server.reset()
    csv = tmp_path / "churn.csv"
    write_churn_csv(csv, rows=200)
    lines = csv.read_text().splitlines()
    monkeypatch.chdir(tmp_path)
    settings = load_settings(sandbox="on", mode="ask", model="offline", state_dir=tmp_path / "s")
    session = await open_session(
        settings, model=OfflinePlanner(), sandbox_endpoint=moto_server.endpoint
    )
    bucket = "churn-demo-9"
    s3 = _client("s3", moto_server.endpoint, session.region)
    sm = _client("sagemaker", moto_server.endpoint, session.region)
    try:
        # 1. A knowledge question: Feature engineering -> Feature Store, no tool that changes anything.
        t = await _turn(session, "what should I use to store features?")
        assert t.names == ["recommend_services"] and t.approvals == []
        assert t.args("recommend_services")["stage"] == "features"
        first = t.reply.splitlines()[0]
        assert first.startswith("✓ Feature engineering → Amazon SageMaker Feature Store"), t.reply
        assert "offline planner — no LLM" in t.reply

        # 2. A bucket, tagged as sagecoach's.
        t = await _turn(session, f"create a bucket called {bucket}")
        assert t.names == ["s3_create_bucket"] and [r.tool for r in t.approvals] == t.names
        tags = {x["Key"]: x["Value"] for x in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]}
        assert tags["CreatedBy"] == "sagecoach"
        assert f"upload churn.csv to s3://{bucket}/raw/" in t.reply  # the next step

        # 3. Upload the local CSV under raw/.
        t = await _turn(session, f"upload {csv} to s3://{bucket}/raw/")
        assert t.names == ["s3_upload_file"] and len(t.approvals) == 1
        body = s3.get_object(Bucket=bucket, Key="raw/churn.csv")["Body"].read()
        assert body == csv.read_bytes()

        # 4. "it" is the uploaded object; a free read runs without asking.
        t = await _turn(session, "preview it")
        assert t.names == ["s3_preview_object"] and t.approvals == []
        assert t.args("s3_preview_object")["s3_uri"] == f"s3://{bucket}/raw/churn.csv"
        assert "200 rows" in t.reply and lines[1] not in t.reply  # rows stay in the card

        # 5. Training on the raw CSV is stopped by pre-flight before anything is asked or
        # sent: the header row and the id column in the label's place, each with its fix.
        t = await _turn(session, "train an xgboost model on it for 50 rounds", stopped=True)
        assert t.names == ["sagemaker_start_training_job"] and t.approvals == []
        assert t.finished[0].status == "denied"
        assert sm.list_training_jobs()["TrainingJobSummaries"] == []
        assert "Pre-flight stopped sagemaker_start_training_job" in t.reply
        assert "header row (customer_id, signup_date" in t.reply
        assert "first column (customer_id" in t.reply and "is an id" in t.reply
        assert "Fix: run prepare_training_data" in t.reply and "target_column=churned" in t.reply

        # 5b. Prepare it: the approval card shows what will be dropped and encoded first.
        t = await _turn(session, "prepare it for training with target churned")
        assert t.names == ["prepare_training_data"] and len(t.approvals) == 1
        plan = next(c for c in t.approvals[0].preflight if c["name"] == "prepare.plan")
        assert any(d.startswith("customer_id: id-like") for d in plan["detail"]["dropped"])
        assert any(e.startswith("contract: one-hot") for e in plan["detail"]["encoded"])
        prepared = f"s3://{bucket}/sagecoach/prepared/churn/"
        head = s3.get_object(Bucket=bucket, Key="sagecoach/prepared/churn/train/train.csv")
        assert head["Body"].read().split(b"\n", 1)[0][:2] in (b"0,", b"1,")  # label first

        # 5c. Training now runs on the prepared train channel, after approval.
        t = await _turn(session, "train an xgboost model on it for 50 rounds")
        assert t.names == ["sagemaker_start_training_job"]
        request = t.approvals[0]
        assert request.risk == "costly" and request.estimate and request.sandbox
        assert {c["name"] for c in request.preflight if c["status"] == "pass"} >= {
            "s3.exists",
            "data.contract",
            "iam.trust",
        }
        args = t.args("sagemaker_start_training_job")
        assert args["hyperparameters"] == {"num_round": 50}
        job_name = sm.list_training_jobs()["TrainingJobSummaries"][0]["TrainingJobName"]
        job = sm.describe_training_job(TrainingJobName=job_name)
        assert job["HyperParameters"]["num_round"] == "50"
        assert job["TrainingJobStatus"] == "InProgress"  # it runs; time passes (here, briefly)
        job = _wait_training(sm, job_name)
        assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
        statuses = [x["Status"] for x in job["SecondaryStatusTransitions"]]
        assert statuses == ["Starting", "Downloading", "Training", "Uploading", "Completed"]
        assert not _constant_predictions(s3, job), "the prepared data gives a model with skill"
        assert job["AlgorithmSpecification"]["TrainingImage"].endswith("xgboost:1.7-1")
        source = job["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"]
        assert source == f"{prepared}train/"
        assert job_name in t.reply and "deploy it to a serverless endpoint" in t.reply
        assert "Cost bound" not in t.reply.split("\n", 1)[1]  # the card has the details
        assert _engine_writes_artifacts(s3, job["ModelArtifacts"]["S3ModelArtifacts"])

        # 6. "deploy it": the model is made from the training job first, then the endpoint;
        # both pause for approval.
        t = await _turn(session, "deploy it to a serverless endpoint")
        assert t.names == ["sagemaker_create_model", "sagemaker_create_endpoint"]
        assert [r.tool for r in t.approvals] == t.names
        assert t.approvals[1].risk == "costly"
        model_name = t.args("sagemaker_create_endpoint")["model_name"]
        assert t.args("sagemaker_create_model")["training_job_name"] == job_name
        # The planner names nothing itself: the tool's declared default names the model (the
        # approval shows that resolved name), and the endpoint call takes it from the model
        # call's result.
        proposed = await _proposed_calls(session)
        assert "model_name" not in proposed["sagemaker_create_model"]
        assert "endpoint_name" not in proposed["sagemaker_create_endpoint"]
        assert model_name == f"{job_name}-model"
        assert t.args("sagemaker_create_model")["model_name"] == model_name
        model = sm.describe_model(ModelName=model_name)
        assert (
            model["PrimaryContainer"]["ModelDataUrl"] == (job["ModelArtifacts"]["S3ModelArtifacts"])
        )
        endpoint = f"{model_name}-ep"
        assert t.args("sagemaker_create_endpoint")["endpoint_name"] == endpoint
        ep = sm.describe_endpoint(EndpointName=endpoint)
        assert ep["EndpointStatus"] == "InService"
        config = sm.describe_endpoint_config(EndpointConfigName=ep["EndpointConfigName"])
        variant = config["ProductionVariants"][0]
        assert variant["ModelName"] == model_name and "ServerlessConfig" in variant

        # 7. Three raw rows of the local CSV (the header left out) go to the endpoint; the
        # model's manifest says how they are encoded before they are sent.
        t = await _turn(session, "send it 3 rows from the csv")
        assert t.names == ["sagemaker_invoke_endpoint"] and len(t.approvals) == 1
        sent = t.args("sagemaker_invoke_endpoint")
        assert sent["endpoint_name"] == endpoint
        assert sent["payload"] == "\n".join(lines[1:4])
        (schema,) = [c for c in t.approvals[0].preflight if c["name"] == "payload.schema"]
        assert (
            schema["status"] == "pass" and "raw rows: sagecoach encodes them" in schema["message"]
        )
        assert "encoded 3 raw row(s)" in t.finished[0].summary
        # The model's own answer: one churn probability per row, quoted to the person.
        predictions = t.finished[0].data["predictions"]
        assert len(predictions) == 3 and all(0.0 <= float(p) <= 1.0 for p in predictions)
        assert all(p in t.reply or p in t.finished[0].summary for p in predictions), t.reply
        assert "canned" not in t.reply

        # 8. One raw row given inline, encoded the same way.
        t = await _turn(session, f"invoke the endpoint with {lines[5]}")
        assert t.names == ["sagemaker_invoke_endpoint"]
        assert t.args("sagemaker_invoke_endpoint") == {
            "endpoint_name": endpoint,
            "payload": lines[5],
            "content_type": "text/csv",  # the validated call, defaults filled in
        }
        assert "encoded 1 raw row(s)" in t.finished[0].summary

        # 8b. An alarm on the endpoint's latency, which the invocations just fed: CloudWatch
        # evaluates it on the sandbox's metrics and it fires (the threshold is 1 µs).
        t = await _turn(session, "alert me when latency is above 0.001 ms for 1 period")
        assert t.names == ["cloudwatch_put_alarm"] and len(t.approvals) == 1
        alarm = t.args("cloudwatch_put_alarm")
        assert alarm["endpoint_name"] == endpoint and alarm["periods"] == 1
        cw = _client("cloudwatch", moto_server.endpoint, session.region)
        state = cw.describe_alarms(AlarmNamePrefix=endpoint)["MetricAlarms"][0]
        assert state["StateValue"] == "ALARM", state["StateReason"]
        assert "was greater than the threshold (1.0)" in state["StateReason"]
        t = await _turn(session, "alarm history")
        assert t.names == ["cloudwatch_alarm_history"] and t.approvals == []
        assert "Alarm updated from INSUFFICIENT_DATA to ALARM" in t.reply

        # 8c. A schedule needs an endpoint that captures data: this serverless one does not,
        # and pre-flight says so before anything is asked or sent.
        t = await _turn(session, f"monitor the endpoint for drift, reports to s3://{bucket}/monitoring/",
                        stopped=True)  # fmt: skip
        assert t.names == ["monitor_create_schedule"] and t.finished[0].status == "denied"
        assert t.approvals == [] and "data capture" in t.reply.lower()

        # 8d. A pre-training bias check of the raw data: Clarify's metrics, computed for real.
        t = await _turn(session, f"run a pre-training bias check on s3://{bucket}/raw/churn.csv: "
                        "target churned, facet contract")  # fmt: skip
        assert t.names == ["clarify_start_bias_job"] and t.approvals[0].risk == "costly"
        clarify_job = t.args("clarify_start_bias_job")["job_name"]
        assert _wait_processing(sm, clarify_job)["ProcessingJobStatus"] == "Completed"
        t = await _turn(session, "show the bias report")
        assert t.names == ["clarify_get_results"] and t.approvals == []
        rows = {(r["facet"], r["metric"]): r["value"] for r in t.finished[0].data["rows"]}
        monthly = sum(1 for line in lines[1:] if ",month-to-month," in line)
        total = len(lines) - 1
        assert rows[("contract=month-to-month", "CI")] == pytest.approx(
            (total - 2 * monthly) / total, abs=1e-4
        )
        assert "Pre-training bias of 'churned'" in t.reply and "CI" in t.reply

        # 8e. A Model Monitor baseline of the raw data: statistics and suggested constraints.
        t = await _turn(
            session, f"suggest a baseline for data drift from s3://{bucket}/raw/churn.csv"
        )
        assert t.names == ["monitor_suggest_baseline"] and len(t.approvals) == 1
        baseline_job = t.finished[0].data["job_name"]
        assert _wait_processing(sm, baseline_job)["ProcessingJobStatus"] == "Completed"
        t = await _turn(session, "show the baseline")
        assert t.names == ["monitor_get_baseline"]
        features = {r["feature"]: r for r in t.finished[0].data["rows"]}
        assert features["tenure_months"]["type"] == "Integral"
        assert features["contract"]["constraints"] == "3 known values"
        assert f"Baseline {baseline_job}: 200 rows, 11 features" in t.reply

        # 8f. The session's jobs as a pipeline, created and run: each step runs again, in order.
        t = await _turn(
            session, "build a sagemaker pipeline called churn-pipeline from this session"
        )
        assert t.names == ["pipelines_build_definition"] and t.approvals == []
        kinds = [s["type"] for s in t.finished[0].data["steps"]]
        assert kinds == ["Training", "Model", "Processing", "Processing"], kinds  # session order
        t = await _turn(session, "create the pipeline churn-pipeline")
        assert t.names == ["pipelines_create_pipeline"]
        t = await _turn(session, "run the pipeline churn-pipeline")
        assert t.names == ["pipelines_start_execution"] and t.approvals[0].risk == "costly"
        execution = t.finished[0].data["execution_arn"]
        _wait_pipeline(sm, execution)
        t = await _turn(session, "pipeline step status of churn-pipeline")
        assert t.names == ["pipelines_describe_execution"]
        steps = t.finished[0].data["rows"]
        assert [r["status"] for r in steps] == ["Succeeded"] * 4, steps
        assert [r["type"] for r in steps] == ["Training", "Model", "Processing", "Processing"]
        assert steps[1]["after"] == steps[0]["step"]  # the model reads the training artifact
        assert t.reply.splitlines()[0].startswith("✓ Execution ") and ": Succeeded — " in t.reply

        # 9. What is running: the session's ledger, a free read.
        t = await _turn(session, "what is running and what does it cost?")
        assert t.names == ["session_list_resources"] and t.approvals == []
        assert "clean up everything" in t.reply

        # 10. Cleanup: one destructive call, approved; the endpoint, its config and the
        # model are gone; the bucket is kept unless asked (and the reply says how).
        t = await _turn(session, "clean up everything")
        assert t.names == ["session_cleanup"] and t.approvals[0].risk == "destructive"
        assert sm.list_endpoints()["Endpoints"] == []
        assert sm.list_endpoint_configs()["EndpointConfigs"] == []
        assert model_name not in [m["ModelName"] for m in sm.list_models()["Models"]]
        assert bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]
        assert "including buckets" in t.reply
    finally:
        await session.aclose()
        os.chdir(Path(__file__).parent)
