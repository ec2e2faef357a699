"""Stage 2 tools: Athena, DataBrew, Lambda, QuickSight (moto, and Stubber where moto lacks an API)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from botocore.stub import Stubber

from sandbox.demo_data import churn_csv
from sandbox.server import Sandbox
from tools.aws.context import AwsContext
from tools.core.context import ToolContext
from tools.core.errors import ToolError
from tools.core.registry import get_tool
from tools.cost import lookups
from tools.stages.preparation.lambda_functions import zip_handler

ROLE = "arn:aws:iam::123456789012:role/DataRole"
MB = 1024**2
TB = 1024**4


def run(ctx: ToolContext, tool_name: str, /, **args):
    return get_tool(tool_name).run(ctx, args)


@pytest.fixture
def churn_table(tool_ctx: ToolContext) -> str:
    s3 = tool_ctx.client("s3")
    s3.create_bucket(Bucket="lake-bucket")
    s3.put_object(Bucket="lake-bucket", Key="churn/part-0.csv", Body=churn_csv(200).encode())
    s3.put_object(Bucket="lake-bucket", Key="churn/part-1.csv", Body=b"x" * (12 * MB))
    run(tool_ctx, "glue_create_database", database="lake")
    run(
        tool_ctx,
        "glue_create_table",
        database="lake",
        table="churn",
        s3_uri="s3://lake-bucket/churn/part-0.csv",
    )
    lookups.forget_lookups()
    return "lake.churn"


# ---------------------------------------------------------------------- Athena


def test_athena_query_returns_rows_and_writes_results_under_a_sagecoach_prefix(
    tool_ctx: ToolContext, churn_table: str, sandbox: Sandbox, aws_calls: list[dict]
) -> None:
    sandbox.queue_athena_results(
        [["contract", "n"], ["month-to-month", "97"], ["one-year", "61"], ["two-year", "42"]]
    )
    result = run(
        tool_ctx,
        "athena_run_query",
        query="SELECT contract, count(*) AS n FROM churn GROUP BY 1",
        database="lake",
        max_rows=2,
    )
    assert result.data["columns"] == ["contract", "n"]
    assert result.data["rows"] == [
        {"contract": "month-to-month", "n": "97"},
        {"contract": "one-year", "n": "61"},
    ]
    assert result.data["truncated"] is True
    assert "0 bytes scanned" in result.text and "month-to-month,97" in result.text
    start = next(c for c in aws_calls if c["operation"] == "StartQueryExecution")
    assert start["params"]["ResultConfiguration"] == {
        "OutputLocation": "s3://lake-bucket/sagecoach/athena-results/"
    }
    assert start["params"]["QueryExecutionContext"] == {"Database": "lake"}
    assert result.data["cost_usd"] == pytest.approx(10 * MB / TB * 5, rel=1e-3)  # 10 MB minimum


def test_athena_estimate_uses_the_table_size_in_s3(tool_ctx: ToolContext, churn_table: str) -> None:
    spec = get_tool("athena_run_query")
    size = sum(
        o["Size"] for o in tool_ctx.client("s3").list_objects_v2(Bucket="lake-bucket")["Contents"]
    )
    estimate = spec.estimate(
        {"query": "select * from lake.churn c join churn d on c.x = d.x", "database": "lake"},
        "us-east-1",
        tool_ctx.aws,
    )
    assert estimate.known
    assert estimate.high_usd == pytest.approx(size / TB * 5, rel=1e-3)
    assert estimate.low_usd == pytest.approx(10 * MB / TB * 5, rel=1e-3)
    assert "lake.churn" in estimate.basis
    no_table = spec.estimate({"query": "SELECT 1"}, "us-east-1")
    assert no_table.high_usd == no_table.low_usd == pytest.approx(10 * MB / TB * 5, rel=1e-3)


def test_athena_estimate_without_a_session_says_unknown() -> None:
    estimate = get_tool("athena_run_query").estimate({"query": "select * from t"}, "eu-central-1")
    assert not estimate.known and "not looked up" in estimate.basis
    assert "no AWS access" in estimate.basis


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("DROP TABLE churn", "the statement is DROP"),
        ("SELECT 1; DELETE FROM churn", "statement 2 is DELETE"),
        ("CREATE TABLE x AS SELECT * FROM churn", "the statement is CREATE"),
        (
            "UNLOAD (SELECT * FROM churn) TO 's3://b/x/' WITH (format='CSV')",
            "the statement is UNLOAD",
        ),
        ("WITH a AS (SELECT 1) INSERT INTO t SELECT * FROM a", "contains INSERT"),
    ],
)
def test_athena_read_only_mode_refuses_mutating_sql_before_any_call(
    sandbox: Sandbox, sql: str, reason: str
) -> None:
    calls: list[dict] = []
    aws = AwsContext(sandbox_endpoint=sandbox.endpoint, read_only=True, on_aws_call=calls.append)
    ctx = ToolContext(aws, sandbox=sandbox)
    with pytest.raises(ToolError, match=reason) as info:
        run(ctx, "athena_run_query", query=sql, output_s3_uri="s3://b-results/x/")
    assert info.value.kind == "read_only"
    assert calls == []


def test_athena_read_only_mode_allows_select(sandbox: Sandbox) -> None:
    aws = AwsContext(sandbox_endpoint=sandbox.endpoint, read_only=True)
    ctx = ToolContext(aws, sandbox=sandbox)
    sandbox.queue_athena_results([["x"], ["1"]])
    result = run(ctx, "athena_run_query", query="SELECT 1 AS x", output_s3_uri="s3://b-results/x/")
    assert result.data["rows"] == [{"x": "1"}]


def test_athena_needs_an_output_location_when_nothing_gives_one(tool_ctx: ToolContext) -> None:
    with pytest.raises(ToolError, match="results location"):
        run(tool_ctx, "athena_run_query", query="SELECT 1")


def test_athena_list_workgroups(tool_ctx: ToolContext) -> None:
    athena = tool_ctx.client("athena")
    athena.create_work_group(
        Name="capped",
        Configuration={
            "ResultConfiguration": {"OutputLocation": "s3://res/"},
            "BytesScannedCutoffPerQuery": 10 * 1024**3,
        },
    )
    result = run(tool_ctx, "athena_list_workgroups")
    capped = next(r for r in result.data["rows"] if r["name"] == "capped")
    assert capped["output"] == "s3://res/" and capped["scan_limit_bytes"] == 10 * 1024**3
    assert "scan limit 10.0 GB" in result.text


# -------------------------------------------------------------------- DataBrew


def test_databrew_dataset_and_profile_job(tool_ctx: ToolContext) -> None:
    brew = tool_ctx.client("databrew")
    run(
        tool_ctx,
        "databrew_create_dataset",
        name="churn-raw",
        s3_uri="s3://lake-bucket/churn/part-0.csv",
    )
    ds = brew.describe_dataset(Name="churn-raw")
    assert ds["Input"]["S3InputDefinition"] == {"Bucket": "lake-bucket", "Key": "churn/part-0.csv"}
    assert ds["Format"] == "CSV"
    assert ds["Tags"]["CreatedBy"] == "sagecoach"
    run(tool_ctx, "databrew_create_dataset", name="churn-cat", glue_table="lake.churn")
    assert (
        brew.describe_dataset(Name="churn-cat")["Input"]["DataCatalogInputDefinition"]["TableName"]
        == "churn"
    )
    run(
        tool_ctx,
        "databrew_create_profile_job",
        name="churn-profile",
        dataset="churn-raw",
        output_s3_uri="s3://lake-bucket/profiles/",
        role_arn=ROLE,
        max_nodes=2,
        timeout_minutes=30,
    )
    job = brew.describe_job(Name="churn-profile")
    assert (job["Type"], job["MaxCapacity"], job["RoleArn"]) == ("PROFILE", 2, ROLE)
    with pytest.raises(ToolError, match="exactly one of s3_uri or glue_table"):
        run(tool_ctx, "databrew_create_dataset", name="x", s3_uri="s3://a-b/c", glue_table="a.b")


def test_databrew_runs_are_not_emulated_in_the_sandbox(
    tool_ctx: ToolContext, aws_calls: list[dict]
) -> None:
    with pytest.raises(ToolError, match="does not emulate DataBrew job runs"):
        run(tool_ctx, "databrew_start_job_run", job_name="churn-profile")
    with pytest.raises(ToolError, match="does not emulate DataBrew job runs"):
        run(tool_ctx, "databrew_describe_job_run", job_name="churn-profile", run_id="r1")
    assert aws_calls == []


def _real_ctx(calls: list[dict] | None = None) -> ToolContext:
    aws = AwsContext(
        region="us-east-1",
        session_id="t",
        on_aws_call=(calls.append if calls is not None else None),
    )
    return ToolContext(aws)


def test_databrew_start_run_checks_the_job_size_against_the_estimate() -> None:
    ctx = _real_ctx()
    estimate = get_tool("databrew_start_job_run").estimate(
        {"job_name": "p", "nodes": 5, "max_minutes": 60}, "us-east-1"
    )
    assert estimate.high_usd == pytest.approx(5 * 0.48)
    with Stubber(ctx.client("databrew")) as stub:
        stub.add_response(
            "describe_job", {"Name": "p", "MaxCapacity": 5, "Timeout": 60}, {"Name": "p"}
        )
        stub.add_response("start_job_run", {"RunId": "run-1"}, {"Name": "p"})
        result = run(ctx, "databrew_start_job_run", job_name="p")
        stub.assert_no_pending_responses()
    assert result.data["run_id"] == "run-1"
    with Stubber(ctx.client("databrew")) as stub:
        stub.add_response(
            "describe_job", {"Name": "big", "MaxCapacity": 20, "Timeout": 600}, {"Name": "big"}
        )
        with pytest.raises(ToolError, match="nodes=20 and max_minutes=600"):
            run(ctx, "databrew_start_job_run", job_name="big")
        stub.assert_no_pending_responses()  # start_job_run was never sent


def test_databrew_describe_job_run_with_stubber() -> None:
    ctx = _real_ctx()
    with Stubber(ctx.client("databrew")) as stub:
        stub.add_response(
            "describe_job_run",
            {
                "RunId": "r1",
                "JobName": "p",
                "State": "SUCCEEDED",
                "ExecutionTime": 95,
                "Outputs": [{"Location": {"Bucket": "out-b", "Key": "profiles/p.json"}}],
            },
            {"Name": "p", "RunId": "r1"},
        )
        result = run(ctx, "databrew_describe_job_run", job_name="p", run_id="r1")
    assert result.data["state"] == "SUCCEEDED" and result.data["outputs"] == [
        "s3://out-b/profiles/p.json"
    ]


# ---------------------------------------------------------------------- Lambda


@pytest.fixture
def lambda_role(tool_ctx: ToolContext) -> str:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    return tool_ctx.client("iam").create_role(
        RoleName="fn-role", AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]["Arn"]


def test_lambda_create_invoke_list_and_estimate(
    tool_ctx: ToolContext, lambda_role: str, tmp_path: Path
) -> None:
    handler = tmp_path / "clean.py"
    handler.write_text("def handle(event, context):\n    return {'rows': event.get('rows', 0)}\n")
    created = run(
        tool_ctx,
        "lambda_create_function",
        name="clean-rows",
        handler_file=str(handler),
        handler_function="handle",
        role_arn=lambda_role,
        memory_mb=512,
        timeout_s=60,
    )
    fn = tool_ctx.client("lambda").get_function(FunctionName="clean-rows")
    config = fn["Configuration"]
    assert (config["Handler"], config["Runtime"], config["MemorySize"], config["Timeout"]) == (
        "clean.handle",
        "python3.12",
        512,
        60,
    )
    assert fn["Tags"]["CreatedBy"] == "sagecoach"
    assert "Code" not in created.resources[0].extra["request"]
    # the zip the tool built holds the handler file
    sent = created.data["zip_bytes"]
    assert sent > 0
    invoked = run(tool_ctx, "lambda_invoke", name="clean-rows", payload={"rows": 3})
    assert invoked.data["response"] == {"rows": 3}  # moto without Docker echoes the event
    assert "does not run your code" in invoked.text
    listed = run(tool_ctx, "lambda_list_functions")
    assert (
        listed.data["rows"][0]["name"] == "clean-rows"
        and listed.data["rows"][0]["memory_mb"] == 512
    )
    lookups.forget_lookups()
    estimate = get_tool("lambda_invoke").estimate({"name": "clean-rows"}, "us-east-1", tool_ctx.aws)
    assert "512 MB × up to 60 s" in estimate.basis
    assert estimate.high_usd == pytest.approx(0.2 / 1e6 + 0.5 * 60 * 1.66667e-05, rel=1e-3)


def test_lambda_package_has_the_handler_at_the_root(tmp_path: Path) -> None:
    handler = tmp_path / "root.py"
    handler.write_text("def lambda_handler(e, c):\n    return e\n")
    archive = zipfile.ZipFile(io.BytesIO(zip_handler(handler)))
    assert archive.namelist() == ["root.py"]
    assert archive.read("root.py") == handler.read_bytes()


def test_lambda_arguments_validated(
    tmp_path: Path, tool_ctx: ToolContext, aws_calls: list[dict]
) -> None:
    handler = tmp_path / "h.py"
    handler.write_text("def other(e, c):\n    return e\n")
    with pytest.raises(ToolError, match="defines neither lambda_handler nor handler"):
        run(tool_ctx, "lambda_create_function", name="f", handler_file=str(handler), role_arn=ROLE)
    with pytest.raises(ToolError, match="defines no function 'main'"):
        run(
            tool_ctx,
            "lambda_create_function",
            name="f",
            handler_file=str(handler),
            handler_function="main",
            role_arn=ROLE,
        )
    plain = tmp_path / "plain.py"
    plain.write_text("def handler(event, context):\n    return event\n")
    spec = get_tool("lambda_create_function")
    assert (
        spec.validate({"name": "f", "handler_file": str(plain), "role_arn": ROLE}).handler_function
        == "handler"
    )
    with pytest.raises(ToolError, match="memory_mb"):
        run(
            tool_ctx,
            "lambda_create_function",
            name="f",
            handler_file=str(handler),
            handler_function="other",
            role_arn=ROLE,
            memory_mb=64,
        )
    with pytest.raises(ToolError, match="does not exist"):
        run(
            tool_ctx,
            "lambda_create_function",
            name="f",
            handler_file=str(tmp_path / "none.py"),
            role_arn=ROLE,
        )
    assert aws_calls == []


def test_lambda_missing_role_is_readable(tool_ctx: ToolContext, tmp_path: Path) -> None:
    handler = tmp_path / "h.py"
    handler.write_text("def lambda_handler(e, c):\n    return e\n")
    with pytest.raises(
        ToolError, match=r"CreateFunction: .*role defined for the function cannot be assumed"
    ):
        run(tool_ctx, "lambda_create_function", name="f", handler_file=str(handler), role_arn=ROLE)


# ------------------------------------------------------------------ QuickSight


def test_quicksight_list_dashboards(tool_ctx: ToolContext) -> None:
    assert run(tool_ctx, "quicksight_list_dashboards").text == "No QuickSight dashboards."
