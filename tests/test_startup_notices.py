"""What a session tells a person before the first request: where calls go, what still bills."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.settings import Settings
from agent.startup import open_session
from tests.scripted_model import ScriptedChatModel
from tools.aws.context import AwsContext


def _leave_endpoint_running(endpoint: str, session: str) -> None:
    """An endpoint a previous sagecoach session created and never deleted."""
    aws = AwsContext(sandbox_endpoint=endpoint, session_id=session)
    sm = aws.client("sagemaker")
    sm.create_model(
        ModelName="old-model",
        PrimaryContainer={
            "Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
        },
        ExecutionRoleArn="arn:aws:iam::123456789012:role/r",
    )
    sm.create_endpoint_config(
        EndpointConfigName="old-config",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "old-model",
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
            }
        ],
    )
    sm.create_endpoint(
        EndpointName="forgotten-ep", EndpointConfigName="old-config", Tags=aws.tags()
    )
    sm.create_endpoint(EndpointName="not-ours", EndpointConfigName="old-config")


async def test_session_warns_about_endpoints_left_running(tmp_path: Path, sandbox: Any) -> None:
    _leave_endpoint_running(sandbox.endpoint, "yesterday")
    settings = Settings(state_dir=tmp_path / "state", sandbox="on")
    session = await open_session(
        settings, model=ScriptedChatModel(script=["hi"]), sandbox_endpoint=sandbox.endpoint
    )
    try:
        messages = [n.message for n in session.notices]
        assert messages[0].startswith("sandbox")
        warning = " ".join(messages[1:])
        assert "forgotten-ep" in warning and "not-ours" not in warning
        assert session.notices[1].level == "warning"
    finally:
        await session.aclose()


async def test_no_warning_when_nothing_is_running(tmp_path: Path, sandbox: Any) -> None:
    settings = Settings(state_dir=tmp_path / "state", sandbox="on")
    session = await open_session(
        settings, model=ScriptedChatModel(script=["hi"]), sandbox_endpoint=sandbox.endpoint
    )
    try:
        assert len(session.notices) == 1
    finally:
        await session.aclose()
