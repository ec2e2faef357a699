"""The issue's "done when" flow end to end in the sandbox, and the safety property over every
mutating tool of stages 1-3: unapproved calls send nothing, read-only mode blocks at the client."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agent.policy import SessionBudget, decide
from sandbox.demo_data import write_churn_csv
from sandbox.server import Sandbox
from tools.aws.context import AwsContext
from tools.aws.guard import ReadOnlyViolation
from tools.core.context import ToolContext
from tools.core.errors import NotEmulated, ToolError
from tools.core.registry import get_tool, tools_for_stage

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"


def test_done_when_flow(tool_ctx: ToolContext, sandbox: Sandbox, tmp_path: Path) -> None:
    csv = write_churn_csv(tmp_path / "churn.csv", rows=1000)
    script = tmp_path / "features.py"
    script.write_text("import pandas as pd\nprint('feature engineering')\n")

    def run(tool_name: str, /, **args: Any):
        return get_tool(tool_name).run(tool_ctx, args)

    run("s3_create_bucket", bucket="churn-flow")
    upload = run("s3_upload_file", local_path=str(csv), s3_uri="s3://churn-flow/raw/")
    assert upload.data["uri"] == "s3://churn-flow/raw/churn.csv"
    preview = run("s3_preview_object", s3_uri=upload.data["uri"])
    assert preview.data["row_estimate"] == 1000
    run("glue_create_database", database="churn")
    run(
        "glue_create_crawler",
        name="churn_raw",
        role=ROLE,
        database="churn",
        s3_targets=["s3://churn-flow/raw/"],
    )
    crawl = run("glue_start_crawler", name="churn_raw")
    assert crawl.data["state"] == "RUNNING"
    run("glue_create_table", database="churn", table="customers", s3_uri=upload.data["uri"])
    tables = run("glue_list_tables", database="churn")
    assert [r["table"] for r in tables.data["rows"]] == ["customers"]

    estimate = get_tool("athena_run_query").estimate(
        {"query": "SELECT churned, count(*) FROM customers GROUP BY 1", "database": "churn"},
        tool_ctx.region,
        tool_ctx.aws,
    )
    assert estimate.known and "churn.customers" in estimate.basis
    sandbox.queue_athena_results([["churned", "n"], ["0", "730"], ["1", "270"]])
    query = run(
        "athena_run_query",
        query="SELECT churned, count(*) AS n FROM customers GROUP BY 1",
        database="churn",
    )
    assert query.data["rows"] == [{"churned": "0", "n": "730"}, {"churned": "1", "n": "270"}]

    group = run(
        "featurestore_create_feature_group", name="churn-customers", s3_uri=upload.data["uri"],
        record_identifier="customer_id", offline_s3_uri="s3://churn-flow/feature-store/", role_arn=ROLE,
    )  # fmt: skip
    assert group.data["event_time_feature"] == "signup_date"
    job = run(
        "sagemaker_start_processing_job", job_name="churn-features", script=str(script), role_arn=ROLE,
        inputs={"raw": "s3://churn-flow/raw/"}, outputs={"features": "s3://churn-flow/features/"}, max_runtime_s=3600,
    )  # fmt: skip
    sm = tool_ctx.client("sagemaker")
    assert (
        sm.describe_processing_job(ProcessingJobName="churn-features")["ProcessingJobStatus"]
        == "Completed"
    )
    assert (
        sm.describe_feature_group(FeatureGroupName="churn-customers")["FeatureGroupStatus"]
        == "Created"
    )
    assert (
        tool_ctx.client("glue").get_table(DatabaseName="churn", Name="customers")["Table"][
            "StorageDescriptor"
        ]["Location"]
        == "s3://churn-flow/raw/"
    )
    assert job.resources[0].extra["request"]["ProcessingJobName"] == "churn-features"


# ---------------------------------------------------------------- safety property

STAGES = ("collection", "preparation", "features")


def _valid_args(tmp: Path) -> dict[str, dict[str, Any]]:
    csv = write_churn_csv(tmp / "churn.csv", rows=50)
    handler = tmp / "handler.py"
    handler.write_text("def lambda_handler(event, context):\n    return event\n")
    script = tmp / "job.py"
    script.write_text("print('job')\n")
    return {
        "s3_create_bucket": {"bucket": "new-bucket-x"},
        "s3_upload_file": {"local_path": str(csv), "s3_uri": "s3://seed-bucket/upload/"},
        "s3_delete_objects": {"s3_uri": "s3://seed-bucket/raw/"},
        "glue_create_database": {"database": "newdb"},
        "glue_create_crawler": {
            "name": "c2",
            "role": "GlueRole",
            "database": "seed",
            "s3_targets": ["s3://seed-bucket/raw/"],
        },
        "glue_start_crawler": {"name": "seed_crawler"},
        "glue_create_table": {
            "database": "seed",
            "table": "t2",
            "s3_uri": "s3://seed-bucket/raw/churn.csv",
        },
        "glue_create_job": {
            "name": "j2",
            "role": "GlueRole",
            "script": "s3://seed-bucket/code/etl.py",
        },
        "glue_start_job_run": {"job_name": "seed_job"},
        "kinesis_create_stream": {"name": "new-stream"},
        "kinesis_put_sample_records": {
            "stream": "seed-stream",
            "local_file": str(csv),
            "max_records": 10,
        },
        "databrew_create_dataset": {"name": "ds2", "s3_uri": "s3://seed-bucket/raw/churn.csv"},
        "databrew_create_profile_job": {
            "name": "pj2",
            "dataset": "ds2",
            "output_s3_uri": "s3://seed-bucket/p/",
            "role_arn": ROLE,
        },
        "databrew_start_job_run": {"job_name": "pj2"},
        "lambda_create_function": {"name": "fn2", "handler_file": str(handler), "role_arn": ROLE},
        "featurestore_create_feature_group": {
            "name": "fg2",
            "s3_uri": "s3://seed-bucket/raw/churn.csv",
            "record_identifier": "customer_id",
            "offline_s3_uri": "s3://seed-bucket/fs/",
            "role_arn": ROLE,
        },
        "featurestore_ingest": {"name": "fg2", "s3_uri": "s3://seed-bucket/raw/churn.csv"},
        "prepare_training_data": {
            "source_s3_uri": "s3://seed-bucket/raw/churn.csv",
            "target_column": "churned",
        },
        "sagemaker_start_processing_job": {
            "job_name": "p2",
            "script": str(script),
            "role_arn": ROLE,
            "outputs": {"o": "s3://seed-bucket/out/"},
            "max_runtime_s": 600,
        },
    }


def _seed(ctx: ToolContext, csv: Path) -> None:
    s3 = ctx.client("s3")
    s3.create_bucket(Bucket="seed-bucket")
    s3.put_object(Bucket="seed-bucket", Key="raw/churn.csv", Body=csv.read_bytes())
    glue = ctx.client("glue")
    glue.create_database(DatabaseInput={"Name": "seed"})
    glue.create_crawler(
        Name="seed_crawler",
        Role="GlueRole",
        DatabaseName="seed",
        Targets={"S3Targets": [{"Path": "s3://seed-bucket/raw/"}]},
    )
    glue.create_job(
        Name="seed_job",
        Role="GlueRole",
        Command={"Name": "glueetl", "ScriptLocation": "s3://seed-bucket/code/etl.py"},
    )
    ctx.client("kinesis").create_stream(StreamName="seed-stream", ShardCount=1)


def _state(ctx: ToolContext) -> str:
    s3, glue = ctx.client("s3"), ctx.client("glue")
    state: dict[str, Any] = {
        "buckets": sorted(b["Name"] for b in s3.list_buckets()["Buckets"]),
        "objects": {
            b: sorted(o["Key"] for o in s3.list_objects_v2(Bucket=b).get("Contents", []))
            for b in sorted(b["Name"] for b in s3.list_buckets()["Buckets"])
        },
        "databases": sorted(d["Name"] for d in glue.get_databases()["DatabaseList"]),
        "tables": sorted(t["Name"] for t in glue.get_tables(DatabaseName="seed")["TableList"]),
        "crawlers": {c["Name"]: c["State"] for c in glue.get_crawlers()["Crawlers"]},
        "jobs": sorted(j["Name"] for j in glue.get_jobs()["Jobs"]),
        "job_runs": len(glue.get_job_runs(JobName="seed_job")["JobRuns"]),
        "streams": sorted(ctx.client("kinesis").list_streams()["StreamNames"]),
        "brew": sorted(d["Name"] for d in ctx.client("databrew").list_datasets()["Datasets"]),
        "functions": sorted(
            f["FunctionName"] for f in ctx.client("lambda").list_functions()["Functions"]
        ),
        "processing": sorted(
            j["ProcessingJobName"]
            for j in ctx.client("sagemaker").list_processing_jobs()["ProcessingJobSummaries"]
        ),
    }
    return json.dumps(state, sort_keys=True)


def test_every_mutating_tool_of_stages_1_to_3_is_covered(tmp_path: Path) -> None:
    mutating = {t.name for s in STAGES for t in tools_for_stage(s) if t.mutating}
    assert mutating == set(_valid_args(tmp_path))


def test_unapproved_calls_send_nothing_mutating(
    tool_ctx: ToolContext, aws_calls: list[dict], tmp_path: Path
) -> None:
    args = _valid_args(tmp_path)
    _seed(tool_ctx, tmp_path / "churn.csv")
    aws_calls.clear()
    for name, raw in args.items():
        spec = get_tool(name)
        verdict = decide(
            spec,
            raw,
            mode="ask",
            budget_per_call=5.0,
            budget_per_session=20.0,
            session=SessionBudget(),
            region=tool_ctx.region,
        )
        assert verdict.action == "ask", name  # nobody approves, so the tool never runs
        auto = decide(
            spec,
            raw,
            mode="read-only",
            budget_per_call=5.0,
            budget_per_session=20.0,
            session=SessionBudget(),
            region=tool_ctx.region,
        )
        assert auto.action == "deny", name
    # estimators may read (sizes, prices) but never mutate
    assert [c["operation"] for c in aws_calls if c["op_class"] != "read"] == []


def test_read_only_mode_blocks_every_mutating_tool_at_the_client(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    args = _valid_args(tmp_path)
    calls: list[dict] = []
    aws = AwsContext(sandbox_endpoint=sandbox.endpoint, session_id="ro", on_aws_call=calls.append)
    ctx = ToolContext(aws, sandbox=sandbox)
    _seed(ctx, tmp_path / "churn.csv")
    before = _state(ctx)
    aws.set_read_only(True)
    calls.clear()
    for name, raw in args.items():
        spec = get_tool(name)
        with pytest.raises((ReadOnlyViolation, NotEmulated)):
            spec.func(ctx, spec.validate(raw))  # the tool body, with no policy in front of it
        with pytest.raises(ToolError) as info:
            spec.run(ctx, raw)  # the framework maps the violation to a readable ToolError
        assert info.value.kind in ("read_only", "not_emulated"), (name, info.value)
    sent = [c for c in calls if c["op_class"] == "mutating" and not c.get("blocked")]
    assert sent == []
    assert any(c.get("blocked") for c in calls)
    aws.set_read_only(False)
    assert _state(ctx) == before


def test_tool_bodies_turn_read_only_violation_into_tool_error(sandbox: Sandbox) -> None:
    aws = AwsContext(sandbox_endpoint=sandbox.endpoint, read_only=True)
    ctx = ToolContext(aws, sandbox=sandbox)
    with pytest.raises(ToolError) as info:
        get_tool("s3_create_bucket").run(ctx, {"bucket": "ro-bucket"})
    assert info.value.kind == "read_only" and "nothing was sent" in str(info.value)
