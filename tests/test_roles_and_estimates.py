"""Cross-cutting framework behaviour: the session's default IAM role, estimators that read AWS,
the sandbox's 'not emulated' mapping, and how tiny costs are shown."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict

from agent.environment import open_environment
from agent.policy import SessionBudget, decide
from agent.settings import SettingsError, load_settings
from tools.aws.context import AwsContext
from tools.aws.roles import SANDBOX_ROLE_NAME, TRUSTED_SERVICES, ensure_sandbox_role, resolve_role
from tools.core.context import ToolContext
from tools.core.declaration import ToolSpec
from tools.core.errors import NotEmulated, ToolError
from tools.core.explain import explain_exception
from tools.core.registry import get_tool, load_all
from tools.core.results import CostEstimate

CONFIGURED = "arn:aws:iam::111122223333:role/TeamSageMakerRole"
SANDBOX_ROLE = f"arn:aws:iam::123456789012:role/{SANDBOX_ROLE_NAME}"
MB = 1024**2
TB = 1024**4


def _iam_roles(aws: AwsContext) -> list[dict[str, Any]]:
    return aws.client("iam").list_roles()["Roles"]


# --------------------------------------------------------------------------- settings


def test_settings_role_arn_from_the_environment_and_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert load_settings().role_arn is None
    monkeypatch.setenv("SAGECOACH_ROLE_ARN", CONFIGURED)
    assert load_settings().role_arn == CONFIGURED
    monkeypatch.setenv("SAGECOACH_ROLE_ARN", "SageMakerRole")
    with pytest.raises(SettingsError, match=r"SAGECOACH_ROLE_ARN.*not an IAM role ARN"):
        load_settings()
    monkeypatch.delenv("SAGECOACH_ROLE_ARN")
    config = tmp_path / "config.toml"
    config.write_text(f'role_arn = "{CONFIGURED}"\n')
    monkeypatch.setenv("SAGECOACH_CONFIG", str(config))
    assert load_settings().role_arn == CONFIGURED


# --------------------------------------------------------------------------- schemas


def _role_fields() -> list[tuple[str, str]]:
    out = []
    for spec in load_all().all():
        for name in ("role_arn", "role"):
            if name in spec.args_model.model_fields:
                out.append((spec.name, name))
    return out


def test_every_role_field_is_optional_and_says_it_defaults_to_the_session_role() -> None:
    fields = _role_fields()
    tools = {t for t, _ in fields}
    assert {
        "sagemaker_start_training_job",
        "sagemaker_start_tuning_job",
        "autopilot_start_job",
        "clarify_start_bias_job",
        "monitor_suggest_baseline",
        "sagemaker_start_processing_job",
        "featurestore_create_feature_group",
        "glue_create_crawler",
        "glue_create_job",
        "databrew_create_profile_job",
        "lambda_create_function",
        "sagemaker_create_model",
        "monitor_create_schedule",
        "pipelines_create_pipeline",
    } <= tools
    for tool_name, field in fields:
        schema = get_tool(tool_name).to_bedrock_tool_spec()["toolSpec"]["inputSchema"]["json"]
        assert field not in schema.get("required", []), tool_name
        assert "session" in json.dumps(schema["properties"][field]), tool_name


# --------------------------------------------------------------------------- the sandbox role


def test_sandbox_session_makes_its_role_once_tagged_and_trusted(
    sandbox: Any, aws_calls: list[dict]
) -> None:
    settings = load_settings(sandbox="on")
    env = open_environment(
        settings, session_id="s1", sandbox_endpoint=sandbox.endpoint, on_aws_call=aws_calls.append
    )
    assert env.default_role_arn == SANDBOX_ROLE
    # Sandbox set-up is not a session action: nothing in the session's audit stream.
    assert aws_calls == []
    role = env.aws.client("iam").get_role(RoleName=SANDBOX_ROLE_NAME)["Role"]
    trust = role["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert sorted(trust["Statement"][0]["Principal"]["Service"]) == sorted(TRUSTED_SERVICES)
    tags = {
        t["Key"]: t["Value"]
        for t in env.aws.client("iam").list_role_tags(RoleName=SANDBOX_ROLE_NAME)["Tags"]
    }
    assert tags == {"CreatedBy": "sagecoach", "sagecoach:session": "s1"}
    # A second session on the same server reuses it.
    again = open_environment(settings, session_id="s2", sandbox_endpoint=sandbox.endpoint)
    assert again.default_role_arn == SANDBOX_ROLE
    assert [r["RoleName"] for r in _iam_roles(env.aws)] == [SANDBOX_ROLE_NAME]
    # A configured role wins and nothing is created.
    sandbox.reset()
    configured = open_environment(
        load_settings(sandbox="on", role_arn=CONFIGURED),
        session_id="s3",
        sandbox_endpoint=sandbox.endpoint,
    )
    assert configured.default_role_arn == CONFIGURED and _iam_roles(configured.aws) == []


def test_read_only_sandbox_session_still_has_its_role(sandbox: Any) -> None:
    env = open_environment(
        load_settings(sandbox="on", mode="read-only"),
        session_id="ro",
        sandbox_endpoint=sandbox.endpoint,
    )
    assert env.aws.read_only and env.default_role_arn == SANDBOX_ROLE


TRAIN = {"train_s3_uri": "s3://role-data/train.csv", "job_name": "no-role-given"}


async def test_training_without_role_arn_runs_as_the_sandbox_role_through_the_session(
    sandbox: Any, tmp_path: Path
) -> None:
    from agent.startup import open_session
    from tests.scripted_model import ScriptedChatModel

    settings = load_settings(sandbox="on", mode="yes", state_dir=tmp_path / "state")
    session = await open_session(
        settings, model=ScriptedChatModel(script=[]), sandbox_endpoint=sandbox.endpoint
    )
    try:
        spec = get_tool("sagemaker_start_training_job")
        ctx = session._tool_context(spec, "call-1", lambda event: None)
        assert ctx.default_role_arn == SANDBOX_ROLE
        result = spec.run(ctx, TRAIN)
        assert result.data["request"]["RoleArn"] == SANDBOX_ROLE
        job = ctx.client("sagemaker").describe_training_job(TrainingJobName="no-role-given")
        assert job["RoleArn"] == SANDBOX_ROLE
        assert ctx.client("iam").get_role(RoleName=SANDBOX_ROLE_NAME)["Role"]["Arn"] == SANDBOX_ROLE
    finally:
        await session.aclose()


async def test_configured_role_reaches_the_tools(sandbox: Any, tmp_path: Path) -> None:
    from agent.startup import open_session
    from tests.scripted_model import ScriptedChatModel

    settings = load_settings(
        sandbox="on", mode="yes", state_dir=tmp_path / "state", role_arn=CONFIGURED
    )
    session = await open_session(
        settings, model=ScriptedChatModel(script=[]), sandbox_endpoint=sandbox.endpoint
    )
    try:
        spec = get_tool("sagemaker_start_training_job")
        ctx = session._tool_context(spec, "call-1", lambda event: None)
        assert ctx.default_role_arn == CONFIGURED
        spec.run(ctx, TRAIN)
        job = ctx.client("sagemaker").describe_training_job(TrainingJobName="no-role-given")
        assert job["RoleArn"] == CONFIGURED
        # An explicit role in the call still wins over the default.
        explicit = "arn:aws:iam::123456789012:role/Explicit"
        spec.run(ctx, {**TRAIN, "job_name": "explicit-role", "role_arn": explicit})
        job = ctx.client("sagemaker").describe_training_job(TrainingJobName="explicit-role")
        assert job["RoleArn"] == explicit
    finally:
        await session.aclose()


def test_bare_sandbox_context_makes_the_role_when_a_tool_needs_it(
    tool_ctx: ToolContext, aws_calls: list[dict]
) -> None:
    assert tool_ctx.default_role_arn is None
    assert resolve_role(tool_ctx, None) == SANDBOX_ROLE
    assert tool_ctx.default_role_arn == SANDBOX_ROLE  # cached for the rest of this context
    assert resolve_role(tool_ctx, CONFIGURED) == CONFIGURED
    assert not [c for c in aws_calls if c["service"] == "iam"]  # set-up, not a session call


def test_ensure_sandbox_role_refuses_real_aws() -> None:
    with pytest.raises(RuntimeError, match="only for the sandbox"):
        ensure_sandbox_role(AwsContext(region="us-east-1"))


# --------------------------------------------------------------------------- real AWS, no role


def _real_ctx(tmp_path: Path, calls: list[dict]) -> ToolContext:
    aws = AwsContext(region="us-east-1", on_aws_call=calls.append)
    assert not aws.is_sandbox
    return ToolContext(aws, session_id="real", state_dir=tmp_path)


def _no_role_cases(tmp_path: Path) -> list[tuple[str, dict[str, Any]]]:
    script = tmp_path / "prep.py"
    script.write_text("print('hi')\n")
    handler = tmp_path / "fn.py"
    handler.write_text("def lambda_handler(event, context):\n    return event\n")
    return [
        ("sagemaker_start_training_job", {"train_s3_uri": "s3://b-1/train.csv"}),
        (
            "sagemaker_start_tuning_job",
            {
                "train_s3_uri": "s3://b-1/train/",
                "validation_s3_uri": "s3://b-1/validation/",
                "hyperparameters": {"num_round": 100},
                "ranges": [{"name": "max_depth", "type": "integer", "min": 3, "max": 10}],
            },
        ),
        ("autopilot_start_job", {"data_s3_uri": "s3://b-1/churn.csv", "target_column": "churned"}),
        (
            "clarify_start_bias_job",
            {
                "data_s3_uri": "s3://b-1/churn.csv",
                "label": "churned",
                "facet": "state",
                "stage": "pre_training",
            },
        ),
        ("monitor_suggest_baseline", {"dataset_s3_uri": "s3://b-1/churn.csv"}),
        (
            "sagemaker_start_processing_job",
            {"script": str(script), "inputs": {"raw": "s3://b-1/raw/"}, "max_runtime_s": 600},
        ),
        (
            "featurestore_create_feature_group",
            {
                "name": "fg",
                "features": {"id": "String", "ts": "String"},
                "record_identifier": "id",
                "event_time_feature": "ts",
                "offline_s3_uri": "s3://b-1/fs/",
            },
        ),
        (
            "glue_create_crawler",
            {"name": "crawl", "database": "db", "s3_targets": ["s3://b-1/raw/"]},
        ),
        ("glue_create_job", {"name": "etl", "script": "s3://b-1/etl.py"}),
        (
            "databrew_create_profile_job",
            {"name": "prof", "dataset": "ds", "output_s3_uri": "s3://b-1/profile/"},
        ),
        ("lambda_create_function", {"name": "fn", "handler_file": str(handler)}),
        (
            "sagemaker_create_model",
            {"model_name": "m", "image_uri": "img", "model_data_url": "s3://b-1/model.tar.gz"},
        ),
        (
            "monitor_create_schedule",
            {"schedule_name": "mon", "endpoint_name": "ep", "output_s3_uri": "s3://b-1/mon/"},
        ),
        ("pipelines_create_pipeline", {"pipeline_name": "pipe"}),
        ("lambda_create_endpoint_proxy", {"function_name": "proxy", "endpoint_name": "ep"}),
    ]


def test_real_aws_without_a_role_gets_one_readable_error_before_any_call(tmp_path: Path) -> None:
    calls: list[dict] = []
    ctx = _real_ctx(tmp_path, calls)
    messages = set()
    for tool_name, args in _no_role_cases(tmp_path):
        with pytest.raises(ToolError) as err:
            get_tool(tool_name).run(ctx, args)
        text = err.value.message
        assert err.value.kind == "invalid_arguments", (tool_name, text)
        assert text.startswith("No IAM execution role"), (tool_name, text)
        assert "SAGECOACH_ROLE_ARN" in text and "aws iam create-role" in text, tool_name
        assert calls == [], (tool_name, calls)
        # one message for every tool; only the purpose, the field name and the data's
        # buckets (a policy scoped to them, not to *sagemaker* bucket names) differ
        general, _, scoped = text.partition(" Then let it read and write your data's buckets")
        if scoped:
            assert "put-role-policy" in scoped and "arn:aws:s3:::" in scoped, tool_name
        messages.add(
            general.split(": ", 1)[1].split(" run as", 1)[1].replace("Pass role,", "Pass role_arn,")
        )
    assert len(messages) == 1


def test_real_aws_with_a_configured_role_builds_the_request_with_it(tmp_path: Path) -> None:
    from tools.stages.training.training_request import StartTrainingArgs, build_training_job_request

    args = StartTrainingArgs.model_validate({"train_s3_uri": "s3://b-1/train.csv"})
    with pytest.raises(ToolError, match="No IAM execution role"):
        build_training_job_request(args, region="us-east-1", tags=[])
    ctx = _real_ctx(tmp_path, [])
    ctx.default_role_arn = CONFIGURED
    assert resolve_role(ctx, None) == CONFIGURED
    from tools.aws.roles import with_role

    request = build_training_job_request(with_role(ctx, args), region="us-east-1", tags=[])
    assert request["RoleArn"] == CONFIGURED


# --------------------------------------------------------------------------- estimators with AWS


def _glue_table(aws: AwsContext, sizes: list[int]) -> int:
    """A Glue table over S3 objects, made with plain clients (no sagecoach tool has run)."""
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="est-lake")
    for i, size in enumerate(sizes):
        s3.put_object(Bucket="est-lake", Key=f"sales/part-{i}.csv", Body=b"x" * size)
    s3.put_object(Bucket="est-lake", Key="other/ignored.csv", Body=b"y" * 1000)
    glue = aws.client("glue")
    glue.create_database(DatabaseInput={"Name": "shop"})
    glue.create_table(
        DatabaseName="shop",
        TableInput={
            "Name": "sales",
            "StorageDescriptor": {
                "Location": "s3://est-lake/sales/",
                "Columns": [{"Name": "id", "Type": "string"}],
            },
        },
    )
    return sum(sizes)


def test_athena_estimate_sizes_the_glue_table_with_the_session_aws(aws: AwsContext) -> None:
    total = _glue_table(aws, [30 * MB, 20 * MB])
    spec = get_tool("athena_run_query")
    args = {"query": "SELECT count(*) FROM sales", "database": "shop"}
    estimate = spec.estimate(args, aws.region, aws)
    assert estimate is not None and estimate.known
    assert estimate.high_usd == pytest.approx(total / TB * 5, rel=1e-4)
    assert "shop.sales" in estimate.basis and "50.0 MB" in estimate.basis
    # The policy gets the same figure: auto mode runs it under budget, without aws it asks.
    budget = {"budget_per_call": 1.0, "budget_per_session": 5.0, "session": SessionBudget()}
    verdict = decide(spec, args, mode="auto", region=aws.region, aws=aws, **budget)
    assert verdict.action == "allow" and verdict.estimate == estimate
    blind = decide(spec, args, mode="auto", region=aws.region, **budget)
    assert blind.action == "ask" and not blind.estimate.known


def test_an_estimate_that_cannot_look_up_says_so_and_never_raises(aws: AwsContext) -> None:
    spec = get_tool("athena_run_query")
    estimate = spec.estimate({"query": "SELECT * FROM nowhere.missing"}, aws.region, aws)
    assert estimate is not None and not estimate.known
    assert estimate.basis.startswith("could not size nowhere.missing")
    lam = get_tool("lambda_invoke").estimate({"name": "not-there"}, aws.region, aws)
    assert lam.known and "10240 MB" in lam.basis and "not looked up" in lam.notes[0]


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n: int = 1


def _spec(estimator: Any) -> ToolSpec:
    return ToolSpec("tst_est", "general", "t", "costly", (), _Args, lambda c, a: None, estimator)


def test_tool_spec_passes_aws_only_to_estimators_that_take_it(aws: AwsContext) -> None:
    seen: list[Any] = []

    def two(args: _Args, region: str) -> CostEstimate:
        return CostEstimate(1.0, 1.0, f"two {region}")

    def three(args: _Args, region: str, aws: AwsContext | None = None) -> CostEstimate:
        seen.append(aws)
        return CostEstimate(2.0, 2.0, "three")

    def broken(args: _Args, region: str, aws: Any) -> CostEstimate:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetTable")

    assert _spec(two).estimate({}, "eu-west-1", aws).basis == "two eu-west-1"
    assert _spec(three).estimate({}, "us-east-1", aws).high_usd == 2.0
    assert _spec(three).estimate({}, "us-east-1").high_usd == 2.0
    assert seen == [aws, None]
    failed = _spec(broken).estimate({}, "us-east-1", aws)
    assert failed is not None and not failed.known and "estimate failed" in failed.basis


async def test_approval_request_carries_the_looked_up_athena_estimate(
    sandbox: Any, tmp_path: Path
) -> None:
    from agent.events import ApprovalRequested
    from agent.startup import open_session
    from tests.scripted_model import ScriptedChatModel, tool_turn

    settings = load_settings(sandbox="on", mode="ask", state_dir=tmp_path / "state")
    model = ScriptedChatModel(
        script=[
            tool_turn(
                "athena_run_query", {"query": "SELECT count(*) FROM sales", "database": "shop"}
            ),
            "done",
        ]
    )
    session = await open_session(settings, model=model, sandbox_endpoint=sandbox.endpoint)
    try:
        _glue_table(session.env.aws, [12 * MB])  # no sagecoach tool has run before the estimate
        asked = [
            e async for e in session.send("how many sales?") if isinstance(e, ApprovalRequested)
        ]
        estimate = asked[0].request.estimate
    finally:
        await session.aclose()
    assert estimate["known"] and estimate["high_usd"] == pytest.approx(12 * MB / TB * 5, rel=1e-4)
    assert "shop.sales" in estimate["basis"]


# --------------------------------------------------------------------------- error mapping


def test_sandbox_head_object_404_is_a_missing_object_not_a_gap(tool_ctx: ToolContext) -> None:
    s3 = tool_ctx.client("s3")
    s3.create_bucket(Bucket="err-bucket")
    with pytest.raises(ClientError) as raw:
        s3.head_object(Bucket="err-bucket", Key="nope.csv")
    assert raw.value.response["Error"]["Code"] == "404"
    mapped = explain_exception(raw.value, tool_ctx)
    assert not isinstance(mapped, NotEmulated) and mapped.kind == "not_found"
    assert "does not exist" in mapped.message and "not emulate" not in mapped.message
    # Through a tool: the preview names the object it could not find.
    with pytest.raises(ToolError) as err:
        get_tool("s3_preview_object").run(tool_ctx, {"s3_uri": "s3://err-bucket/raw/missing.csv"})
    assert err.value.kind == "not_found"
    assert "s3://err-bucket/raw/missing.csv does not exist" in err.value.message
    with pytest.raises(ClientError) as raw_bucket:
        s3.head_bucket(Bucket="no-such-bucket-anywhere")
    assert explain_exception(raw_bucket.value, tool_ctx).kind == "not_found"


def test_moto_unimplemented_operations_are_still_not_emulated(tool_ctx: ToolContext) -> None:
    with pytest.raises(ClientError) as raw:
        tool_ctx.client("sagemaker").list_feature_groups()  # moto 5.2.5 lacks it: HTML 500
    mapped = explain_exception(raw.value, tool_ctx)
    assert isinstance(mapped, NotEmulated) and "ListFeatureGroups" in mapped.message


def _error(code: str, message: str, status: int, operation: str = "DoThing") -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        operation,
    )


@pytest.mark.parametrize(
    ("code", "message", "status", "emulated"),
    [
        ("404", "Not Found", 404, True),
        ("500", "Internal Server Error", 500, True),
        ("InternalFailure", "An internal error occurred", 500, True),
        ("ResourceNotFound", "no such thing", 404, True),
        ("500", "<!doctype html><html><title>500 Internal Server Error</title></html>", 500, False),
        ("404", "<html><body>404 Not Found: the URL is unknown</body></html>", 404, False),
        ("NotImplemented", "The operation is not implemented", 501, False),
        ("InvalidAction", "The ListX action has not been implemented", 400, False),
    ],
)
def test_not_emulated_only_for_html_or_not_implemented(
    tool_ctx: ToolContext, code: str, message: str, status: int, emulated: bool
) -> None:
    mapped = explain_exception(_error(code, message, status), tool_ctx)
    assert isinstance(mapped, NotEmulated) is (not emulated), mapped.message


def test_real_aws_404_on_head_object_is_not_found(tmp_path: Path) -> None:
    ctx = _real_ctx(tmp_path, [])
    mapped = explain_exception(_error("404", "Not Found", 404, "HeadObject"), ctx)
    assert mapped.kind == "not_found" and "does not exist" in mapped.message


# --------------------------------------------------------------------------- summary


@pytest.mark.parametrize(
    ("low", "high", "shown"),
    [
        (0.003, 0.003, "<$0.01"),
        (0.0001, 0.004, "<$0.01"),
        (0.0, 0.003, "$0.00–<$0.01"),
        (0.003, 0.25, "<$0.01–$0.25"),
        (0.0, 0.0, "$0.00"),
        (0.005, 0.005, "$0.01"),
        (1.5, 3.0, "$1.50–$3.00"),
        (2.0, 2.0, "$2.00"),
    ],
)
def test_summary_shows_tiny_real_costs_as_under_a_cent(low: float, high: float, shown: str) -> None:
    assert CostEstimate(low, high, "basis").summary().startswith(f"{shown} (basis")
