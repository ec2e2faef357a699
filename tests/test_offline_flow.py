"""The offline planner through the real agent runtime in the sandbox: data → training →
deployment → cleanup, in plain sentences, every call approved (mode "yes")."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import boto3
import pytest

from agent.events import ToolCallFinished, TurnFinished
from agent.offline import OfflinePlanner
from tools.demo_data import write_churn_csv

pytest.importorskip("agent.runtime")
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"


async def _turn(session: Any, text: str) -> tuple[list[ToolCallFinished], str]:
    finished: list[ToolCallFinished] = []
    reply = ""
    async for event in session.send(text):
        if isinstance(event, ToolCallFinished):
            finished.append(event)
        elif isinstance(event, TurnFinished):
            reply = event.reply
    return finished, reply


async def test_data_training_deployment_cleanup(
    moto_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agent.runtime import open_session
    from agent.settings import load_settings

    moto_server.reset()
    write_churn_csv(tmp_path / "churn.csv", rows=200)
    monkeypatch.chdir(tmp_path)
    settings = load_settings(sandbox="on", mode="yes", model="offline", state_dir=tmp_path / "s")
    session = await open_session(
        settings, model=OfflinePlanner(), sandbox_endpoint=moto_server.endpoint
    )
    try:
        steps = [
            ("create a bucket named flow-data-1", ["s3_create_bucket"]),
            (
                "upload churn.csv to s3://flow-data-1/raw/churn.csv and then preview it",
                ["s3_upload_file", "s3_preview_object"],
            ),
            ("now train xgboost on it, call the job xgb-flow-1", []),
            (f"use role {ROLE}", ["sagemaker_start_training_job"]),
            ("create a model named churn-flow from that training job", ["sagemaker_create_model"]),
            (
                "deploy churn-flow to an endpoint called churn-flow-ep",
                ["sagemaker_create_endpoint"],
            ),
            ("clean up everything you created", ["session_cleanup"]),
        ]
        for text, tools in steps:
            finished, reply = await _turn(session, text)
            assert [f.name for f in finished] == tools, (text, reply)
            assert all(f.status == "success" for f in finished), (
                text,
                [f.summary for f in finished],
            )
            assert reply, text
        # what each step really did, in the sandbox
        sm = boto3.client(
            "sagemaker",
            endpoint_url=moto_server.endpoint,
            region_name=session.region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        job = sm.describe_training_job(TrainingJobName="xgb-flow-1")
        assert job["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] == (
            "s3://flow-data-1/raw/churn.csv"
        )
        assert sm.list_endpoints()["Endpoints"] == []  # cleanup left no endpoint behind
    finally:
        await session.aclose()
        os.chdir(Path(__file__).parent)
