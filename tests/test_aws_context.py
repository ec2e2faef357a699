"""The AWS access layer: guard, audit records, endpoints, sandbox choice."""

from __future__ import annotations

import socket

import boto3
import pytest
from botocore.exceptions import ClientError

from agent.environment import choose_sandbox, open_environment
from agent.settings import load_settings
from sandbox.server import Sandbox
from tools.aws.context import USER_AGENT, AwsContext
from tools.aws.guard import ReadOnlyViolation, allowed_in_read_only, classify


def test_sandbox_serves_s3_and_sagemaker_on_loopback_only() -> None:
    sandbox = Sandbox()
    endpoint = sandbox.start()
    try:
        sandbox.reset()  # moto's state is per process: other tests' servers share it
        assert endpoint.startswith("http://127.0.0.1:")
        aws = AwsContext(sandbox_endpoint=endpoint)
        aws.client("s3").create_bucket(Bucket="loopback-check")
        assert [b["Name"] for b in aws.client("s3").list_buckets()["Buckets"]] == ["loopback-check"]
        assert aws.client("sagemaker").list_training_jobs()["TrainingJobSummaries"] == []
        # Bound to 127.0.0.1 only: another local address on the same port refuses.
        with socket.socket() as sock:
            sock.settimeout(1)
            assert sock.connect_ex(("127.0.0.2", sandbox.port)) != 0
    finally:
        sandbox.stop()
    with socket.socket() as sock:
        sock.settimeout(1)
        assert sock.connect_ex(("127.0.0.1", int(endpoint.rsplit(":", 1)[1]))) != 0


def test_read_only_blocks_mutation_before_sending(aws: AwsContext, aws_calls: list[dict]) -> None:
    aws.client("s3").create_bucket(Bucket="before-read-only")
    aws.set_read_only(True)
    with pytest.raises(ReadOnlyViolation, match="s3:CreateBucket"):
        aws.client("s3").create_bucket(Bucket="blocked-bucket")
    with pytest.raises(ReadOnlyViolation):
        aws.client("sagemaker").delete_endpoint(EndpointName="x")
    names = [b["Name"] for b in aws.client("s3").list_buckets()["Buckets"]]
    assert names == ["before-read-only"]  # the blocked call never reached the server
    blocked = [r for r in aws_calls if r.get("blocked")]
    assert [(r["service"], r["operation"]) for r in blocked] == [
        ("s3", "CreateBucket"),
        ("sagemaker", "DeleteEndpoint"),
    ]
    assert all(r["status"] is None for r in blocked)


def test_read_only_athena_allows_select_refuses_ddl(aws: AwsContext) -> None:
    aws.client("s3").create_bucket(Bucket="athena-out")
    aws.set_read_only(True)
    athena = aws.client("athena")
    result = {"OutputLocation": "s3://athena-out/q/"}
    assert athena.start_query_execution(QueryString="SELECT 1", ResultConfiguration=result)[
        "QueryExecutionId"
    ]
    for sql in (
        "DROP TABLE t",
        "SELECT 1; DROP TABLE t",
        "UNLOAD (SELECT 1) TO 's3://x/'",
        "WITH a AS (SELECT 1) INSERT INTO t SELECT * FROM a",
    ):
        with pytest.raises(ReadOnlyViolation):
            athena.start_query_execution(QueryString=sql, ResultConfiguration=result)


def test_one_aws_call_record_per_call_with_secrets_redacted(
    aws: AwsContext, aws_calls: list[dict]
) -> None:
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="audit-me")
    s3.put_object(
        Bucket="audit-me",
        Key="k",
        Body=b"data",
        Metadata={"password": "hunter2", "note": "AKIAABCDEFGHIJKLMNOP"},
    )
    with pytest.raises(ClientError):
        s3.head_object(Bucket="audit-me", Key="missing")
    ops = [r["operation"] for r in aws_calls]
    assert ops == ["CreateBucket", "PutObject", "HeadObject"]
    put = aws_calls[1]
    assert put["status"] == 200 and put["request_id"] and put["latency_ms"] >= 0
    assert put["params"]["Body"] == "<4 bytes>"
    assert put["params"]["Metadata"]["password"] == "***"
    assert "AKIAABCDEFGHIJKLMNOP" not in str(put)
    head = aws_calls[2]
    assert head["status"] == 404 and head["error"]


def test_user_agent_and_adaptive_retries(aws: AwsContext) -> None:
    client = aws.client("s3")
    assert USER_AGENT in client.meta.config.user_agent_extra
    assert client.meta.config.retries["mode"] == "adaptive"
    assert aws.client("s3") is client  # cached


def test_tags_carry_session(aws: AwsContext) -> None:
    assert {"Key": "CreatedBy", "Value": "sagecoach"} in aws.tags()
    assert aws.tag_map()["sagecoach:session"] == "test-session"


def test_aws_endpoint_url_naming_the_sandbox_makes_a_sandbox_session(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, aws_calls: list[dict]
) -> None:
    """`sagecoach sandbox serve` prints an AWS_ENDPOINT_URL; a session pointed there knows it is
    the sandbox (SANDBOX on screen and in the audit log), whatever credentials are set."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", sandbox.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEEXAMPLE12")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x" * 40)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    settings = load_settings()
    assert choose_sandbox(settings) == (True, "AWS_ENDPOINT_URL names sagecoach's sandbox")
    env = open_environment(settings, session_id="real1", on_aws_call=aws_calls.append)
    assert env.is_sandbox and env.aws.sandbox_endpoint == sandbox.endpoint
    assert env.aws.account_label == "SANDBOX" and env.aws.region == "eu-west-1"
    assert "AWS_ENDPOINT_URL" in env.reason
    env.aws.client("s3").create_bucket(
        Bucket="via-endpoint", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    plain = boto3.client("s3", endpoint_url=sandbox.endpoint, region_name="eu-west-1")
    assert "via-endpoint" in [b["Name"] for b in plain.list_buckets()["Buckets"]]
    assert aws_calls[-1]["sandbox"] is True and aws_calls[-1]["operation"] == "CreateBucket"


def test_real_mode_honours_another_aws_endpoint_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any other AWS-compatible endpoint needs no sagecoach-specific flag and is not the sandbox."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEEXAMPLE12")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x" * 40)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    settings = load_settings()
    assert choose_sandbox(settings) == (False, "real AWS (credentials from env)")
    env = open_environment(settings, session_id="real2")
    assert not env.is_sandbox
    assert env.aws.client("s3").meta.endpoint_url == "http://127.0.0.1:9"


def test_per_service_endpoint_variable(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sandbox.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEEXAMPLE12")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x" * 40)
    aws = AwsContext(region="us-east-1")
    assert aws.identity.account == "123456789012"
    assert aws.client("s3").meta.endpoint_url.startswith("https://")


def test_auto_sandbox_when_no_credentials() -> None:
    use, reason = choose_sandbox(load_settings())
    assert use is True and "no AWS credentials" in reason
    env = open_environment(load_settings(), session_id="auto1")
    try:
        assert env.is_sandbox and env.aws.account_label == "SANDBOX"
        assert env.aws.client("s3").meta.endpoint_url.startswith("http://127.0.0.1:")
    finally:
        env.close()


def test_sandbox_ignores_profile_variable(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "does-not-exist")
    aws = AwsContext(sandbox_endpoint=sandbox.endpoint)
    assert aws.client("s3").list_buckets()["Buckets"] == []


@pytest.mark.parametrize(
    ("service", "op", "expected"),
    [
        ("s3", "ListBuckets", "read"),
        ("sagemaker", "DescribeTrainingJob", "read"),
        ("glue", "GetTables", "read"),
        ("glue", "BatchGetJobs", "read"),
        ("s3", "HeadObject", "read"),
        ("sagemaker", "Search", "read"),
        ("sagemaker", "CreateTrainingJob", "mutating"),
        ("s3", "PutObject", "mutating"),
        ("sts", "AssumeRole", "mutating"),
        ("iam", "CreateAccessKey", "mutating"),
        ("sagemaker-runtime", "InvokeEndpoint", "billable_read"),
        ("athena", "StartQueryExecution", "billable_read"),
        ("sagemaker", "Frobnicate", "mutating"),
        ("logs", "FilterLogEvents", "read"),
        ("iam", "SimulatePrincipalPolicy", "read"),
    ],
)
def test_classification(service: str, op: str, expected: str) -> None:
    assert classify(service, op) == expected


def test_every_read_tool_can_run_in_read_only_mode() -> None:
    """A tool declared `read` must not be blocked by the read-only guard: each AWS operation it
    declares (wildcards such as `Describe*` aside) is a read."""
    from tools.aws.guard import allowed_in_read_only
    from tools.core.registry import all_tools

    blocked = [
        (spec.name, op)
        for spec in all_tools()
        if spec.risk == "read"
        for op in spec.operations
        if "*" not in op and not allowed_in_read_only(*op.split(":", 1))
    ]
    assert blocked == []


def test_param_check_failure_fails_closed() -> None:
    assert allowed_in_read_only("athena", "StartQueryExecution", {"QueryString": "SELECT 1"})
    assert not allowed_in_read_only("athena", "StartQueryExecution", {})
    assert not allowed_in_read_only("s3", "DeleteObject", {})
