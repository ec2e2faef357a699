"""Stage 1 tools against moto (S3, Glue, Kinesis) and botocore's Stubber (Data Exchange)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from botocore.stub import Stubber

import tools.stages.collection.s3_upload as s3_upload
from sandbox.demo_data import write_churn_csv
from sandbox.server import Sandbox
from tools.aws.context import AwsContext
from tools.core.context import ToolContext
from tools.core.errors import ToolError
from tools.core.registry import get_tool
from tools.core.results import ProgressEvent
from tools.stages.shared.s3_reads import human_bytes

ROLE = "arn:aws:iam::123456789012:role/GlueRole"


def run(ctx: ToolContext, tool_name: str, /, **args):
    return get_tool(tool_name).run(ctx, args)


def mutating(calls: list[dict]) -> list[str]:
    return [c["operation"] for c in calls if c["op_class"] == "mutating" and not c.get("blocked")]


@pytest.fixture
def churn_file(tmp_path: Path) -> Path:
    return write_churn_csv(tmp_path / "churn.csv", rows=500)


@pytest.fixture
def data_bucket(tool_ctx: ToolContext, churn_file: Path) -> str:
    run(tool_ctx, "s3_create_bucket", bucket="churn-data")
    run(tool_ctx, "s3_upload_file", local_path=str(churn_file), s3_uri="s3://churn-data/raw/")
    return "churn-data"


# --------------------------------------------------------------------------- S3


def test_create_bucket_tags_it_and_rejects_bad_names_before_any_call(
    tool_ctx: ToolContext, aws_calls: list[dict]
) -> None:
    result = run(tool_ctx, "s3_create_bucket", bucket="my-ml-data")
    s3 = tool_ctx.client("s3")
    assert "my-ml-data" in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket="my-ml-data")["TagSet"]}
    assert tags == {"CreatedBy": "sagecoach", "sagecoach:session": "test-session"}
    assert result.resources[0].kind == "s3_bucket"
    assert result.resources[0].arn == "arn:aws:s3:::my-ml-data"

    before = len(aws_calls)
    for bad, words in [("My_Bucket", "lower case"), ("ab", "3 to 63"), ("bad_name", "underscores")]:
        with pytest.raises(ToolError, match=words):
            run(tool_ctx, "s3_create_bucket", bucket=bad)
    assert len(aws_calls) == before  # nothing was sent

    with pytest.raises(ToolError, match="already exists"):
        run(tool_ctx, "s3_create_bucket", bucket="my-ml-data")


def test_create_bucket_outside_us_east_1_sends_location_constraint(
    sandbox: Sandbox, aws_calls: list[dict]
) -> None:
    aws = AwsContext(
        sandbox_endpoint=sandbox.endpoint, region="eu-west-1", on_aws_call=aws_calls.append
    )
    ctx = ToolContext(aws, sandbox=sandbox)
    run(ctx, "s3_create_bucket", bucket="eu-bucket-1")
    create = next(c for c in aws_calls if c["operation"] == "CreateBucket")
    assert create["params"]["CreateBucketConfiguration"] == {"LocationConstraint": "eu-west-1"}
    assert (
        aws.client("s3").get_bucket_location(Bucket="eu-bucket-1")["LocationConstraint"]
        == "eu-west-1"
    )


def test_upload_single_file_reports_progress_and_size(
    tool_ctx: ToolContext, churn_file: Path, sandbox: Sandbox
) -> None:
    events: list[ProgressEvent] = []
    ctx = ToolContext(tool_ctx.aws, sandbox=sandbox, progress=events.append)
    run(ctx, "s3_create_bucket", bucket="up-bucket")
    spec = get_tool("s3_upload_file")
    args = spec.validate({"local_path": str(churn_file), "s3_uri": "s3://up-bucket/data/"})
    size = churn_file.stat().st_size
    assert args.size_bytes == size
    estimate = spec.estimate(args, "us-east-1")
    assert f"1 file(s), {human_bytes(size)} to upload" in estimate.basis
    result = spec.run(ctx, args)
    body = ctx.client("s3").get_object(Bucket="up-bucket", Key="data/churn.csv")["Body"].read()
    assert body == churn_file.read_bytes()
    assert (
        result.data["total_bytes"] == size and result.data["uri"] == "s3://up-bucket/data/churn.csv"
    )
    byte_events = [e for e in events if e.unit == "bytes"]
    assert byte_events and byte_events[-1].done == size and byte_events[-1].total == size
    tagging = ctx.client("s3").get_object_tagging(Bucket="up-bucket", Key="data/churn.csv")[
        "TagSet"
    ]
    assert {"Key": "CreatedBy", "Value": "sagecoach"} in tagging


def test_upload_large_file_uses_multipart(
    tool_ctx: ToolContext, tmp_path: Path, aws_calls: list[dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(s3_upload, "MULTIPART_THRESHOLD", 5 * 1024 * 1024)
    monkeypatch.setattr(s3_upload, "MULTIPART_CHUNK", 5 * 1024 * 1024)
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * (11 * 1024 * 1024))
    run(tool_ctx, "s3_create_bucket", bucket="big-bucket")
    run(tool_ctx, "s3_upload_file", local_path=str(big), s3_uri="s3://big-bucket/blob.bin")
    ops = [c["operation"] for c in aws_calls]
    assert "CreateMultipartUpload" in ops and ops.count("UploadPart") == 3
    assert "CompleteMultipartUpload" in ops
    head = tool_ctx.client("s3").head_object(Bucket="big-bucket", Key="blob.bin")
    assert head["ContentLength"] == 11 * 1024 * 1024


def test_upload_folder_keeps_relative_paths(tool_ctx: ToolContext, tmp_path: Path) -> None:
    folder = tmp_path / "dataset"
    (folder / "train").mkdir(parents=True)
    (folder / "train" / "a.csv").write_text("x\n1\n")
    (folder / "test.csv").write_text("x\n2\n")
    (folder / ".hidden").write_text("skip me")
    run(tool_ctx, "s3_create_bucket", bucket="folder-bucket")
    result = run(tool_ctx, "s3_upload_file", local_path=str(folder), s3_uri="s3://folder-bucket/in")
    keys = sorted(
        o["Key"] for o in tool_ctx.client("s3").list_objects_v2(Bucket="folder-bucket")["Contents"]
    )
    assert keys == ["in/test.csv", "in/train/a.csv"]
    assert result.data["files"] == 2


def test_upload_rejects_missing_file_and_bucketless_uri(
    tool_ctx: ToolContext, aws_calls: list[dict], tmp_path: Path
) -> None:
    missing = str(tmp_path / "nope" / "file.csv")
    with pytest.raises(ToolError, match="does not exist"):
        run(tool_ctx, "s3_upload_file", local_path=missing, s3_uri="s3://b-ucket/x")
    with pytest.raises(ToolError, match="no bucket name"):
        run(tool_ctx, "s3_upload_file", local_path=__file__, s3_uri="s3:///key")
    assert aws_calls == []


def test_list_preview_and_missing_bucket(
    tool_ctx: ToolContext, data_bucket: str, churn_file: Path
) -> None:
    listing = run(tool_ctx, "s3_list_objects", s3_uri=f"s3://{data_bucket}/")
    assert listing.data["count"] == 1 and listing.data["total_bytes"] == churn_file.stat().st_size
    assert "raw/churn.csv" in listing.text
    preview = run(tool_ctx, "s3_preview_object", s3_uri=f"s3://{data_bucket}/raw/churn.csv", rows=3)
    assert preview.data["row_estimate"] == 500 and preview.data["row_estimate_exact"]
    assert {c["name"]: c["type"] for c in preview.data["columns"]}["monthly_charges"] == "double"
    assert "tenure_months: bigint" in preview.text
    with pytest.raises(ToolError, match="bucket does not exist"):
        run(tool_ctx, "s3_list_objects", s3_uri="s3://no-such-bucket-here/")
    with pytest.raises(ToolError, match=r"missing\.csv does not exist"):
        run(tool_ctx, "s3_preview_object", s3_uri=f"s3://{data_bucket}/raw/missing.csv")


def test_delete_objects_lists_what_goes_and_refuses_too_many(tool_ctx: ToolContext) -> None:
    s3 = tool_ctx.client("s3")
    run(tool_ctx, "s3_create_bucket", bucket="del-bucket")
    for i in range(5):
        s3.put_object(Bucket="del-bucket", Key=f"tmp/{i}.txt", Body=b"x")
    s3.put_object(Bucket="del-bucket", Key="keep/me.txt", Body=b"x")
    with pytest.raises(ToolError, match="More than 3 objects"):
        run(tool_ctx, "s3_delete_objects", s3_uri="s3://del-bucket/tmp/", max_objects=3)
    assert s3.list_objects_v2(Bucket="del-bucket")["KeyCount"] == 6
    result = run(tool_ctx, "s3_delete_objects", s3_uri="s3://del-bucket/tmp/")
    assert result.data["deleted"] == 5 and "tmp/0.txt" in result.text
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="del-bucket")["Contents"]] == [
        "keep/me.txt"
    ]
    with pytest.raises(ToolError, match="whole bucket"):
        run(tool_ctx, "s3_delete_objects", s3_uri="s3://del-bucket/")


# ------------------------------------------------------------------------ Glue


def test_glue_catalog_database_crawler_and_table(tool_ctx: ToolContext, data_bucket: str) -> None:
    glue = tool_ctx.client("glue")
    run(tool_ctx, "glue_create_database", database="churn")
    assert glue.get_database(Name="churn")["Database"]["Name"] == "churn"
    crawler = run(
        tool_ctx, "glue_create_crawler", name="churn_crawler", role=ROLE, database="churn",
        s3_targets=[f"s3://{data_bucket}/raw/"], schedule="cron(0 2 * * ? *)",
    )  # fmt: skip
    got = glue.get_crawler(Name="churn_crawler")["Crawler"]
    assert [t["Path"] for t in got["Targets"]["S3Targets"]] == ["s3://churn-data/raw/"]
    assert got["Schedule"]["ScheduleExpression"] == "cron(0 2 * * ? *)"
    assert crawler.resources[0].extra["request"]["Tags"] == {
        "CreatedBy": "sagecoach",
        "sagecoach:session": "test-session",
    }
    started = run(tool_ctx, "glue_start_crawler", name="churn_crawler")
    assert started.data["state"] == "RUNNING" and "catalogs nothing" in started.text
    status = run(tool_ctx, "glue_get_crawler", name="churn_crawler")
    assert status.data["state"] == "RUNNING" and status.data["targets"] == ["s3://churn-data/raw/"]

    table = run(
        tool_ctx,
        "glue_create_table",
        database="churn",
        table="customers",
        s3_uri=f"s3://{data_bucket}/raw/churn.csv",
    )
    stored = glue.get_table(DatabaseName="churn", Name="customers")["Table"]
    sd = stored["StorageDescriptor"]
    assert sd["Location"] == "s3://churn-data/raw/"
    assert sd["Columns"][:2] == [
        {"Name": "customer_id", "Type": "string"},
        {"Name": "signup_date", "Type": "date"},
    ]
    assert sd["SerdeInfo"]["Parameters"]["field.delim"] == ","
    assert stored["Parameters"]["skip.header.line.count"] == "1"
    assert table.resources[0].name == "churn.customers"

    listed = run(tool_ctx, "glue_list_tables", database="churn")
    assert listed.data["rows"] == [
        {
            "table": "customers",
            "location": "s3://churn-data/raw/",
            "columns": 11,
            "classification": "csv",
        }
    ]
    schema = run(tool_ctx, "glue_get_table_schema", database="churn", table="customers")
    assert {"name": "churned", "type": "bigint"} in schema.data["columns"]

    with pytest.raises(ToolError, match="Already exists"):
        run(tool_ctx, "glue_create_database", database="churn")
    with pytest.raises(ToolError, match="Not found"):
        run(tool_ctx, "glue_get_table_schema", database="churn", table="nope")


def test_glue_create_table_from_a_prefix_with_explicit_columns(
    tool_ctx: ToolContext, data_bucket: str
) -> None:
    run(tool_ctx, "glue_create_database", database="d1")
    run(
        tool_ctx,
        "glue_create_table",
        database="d1",
        table="t1",
        s3_uri=f"s3://{data_bucket}/raw/",
        columns={"Customer ID": "string", "churned": "int"},
    )
    sd = tool_ctx.client("glue").get_table(DatabaseName="d1", Name="t1")["Table"][
        "StorageDescriptor"
    ]
    assert sd["Columns"] == [
        {"Name": "customer_id", "Type": "string"},
        {"Name": "churned", "Type": "int"},
    ]
    with pytest.raises(ToolError, match="No data files"):
        run(
            tool_ctx,
            "glue_create_table",
            database="d1",
            table="t2",
            s3_uri=f"s3://{data_bucket}/empty/",
        )


def test_glue_names_and_roles_validated(tool_ctx: ToolContext, aws_calls: list[dict]) -> None:
    with pytest.raises(ToolError, match="not a usable Glue/Athena name"):
        run(tool_ctx, "glue_create_database", database="Churn-DB")
    with pytest.raises(ToolError, match="IAM role"):
        run(
            tool_ctx,
            "glue_create_crawler",
            name="c",
            role="arn:aws:iam::12:role/x",
            database="d",
            s3_targets=["s3://bkt/x/"],
        )
    with pytest.raises(ToolError, match="cron"):
        run(
            tool_ctx,
            "glue_create_crawler",
            name="c",
            role="GlueRole",
            database="d",
            s3_targets=["s3://bkt/x/"],
            schedule="daily",
        )
    with pytest.raises(ToolError, match="number_of_workers"):
        run(tool_ctx, "glue_start_job_run", job_name="j", number_of_workers=-1)
    assert aws_calls == []


def test_glue_job_create_run_and_estimate(tool_ctx: ToolContext, tmp_path: Path) -> None:
    script = tmp_path / "etl.py"
    script.write_text("print('etl')\n")
    run(tool_ctx, "s3_create_bucket", bucket="code-bucket")
    created = run(
        tool_ctx,
        "glue_create_job",
        name="clean_churn",
        role="GlueRole",
        script=str(script),
        code_s3_uri="s3://code-bucket/glue/",
        worker_type="G.2X",
        number_of_workers=3,
        timeout_minutes=30,
    )
    job = tool_ctx.client("glue").get_job(JobName="clean_churn")["Job"]
    assert job["Command"]["ScriptLocation"] == "s3://code-bucket/glue/etl.py"
    assert (job["WorkerType"], job["NumberOfWorkers"], job["Timeout"]) == ("G.2X", 3, 30)
    assert (
        tool_ctx.client("s3").get_object(Bucket="code-bucket", Key="glue/etl.py")["Body"].read()
        == b"print('etl')\n"
    )
    assert created.resources[0].extra["request"]["Command"]["Name"] == "glueetl"

    spec = get_tool("glue_start_job_run")
    estimate = spec.estimate(
        {
            "job_name": "clean_churn",
            "worker_type": "G.2X",
            "number_of_workers": 3,
            "timeout_minutes": 30,
        },
        "us-east-1",
    )
    assert estimate.high_usd == pytest.approx(6 * 0.5 * 0.44)  # 6 DPU × 0.5 h × $0.44
    assert estimate.low_usd == pytest.approx(6 / 60 * 0.44)
    started = run(
        tool_ctx,
        "glue_start_job_run",
        job_name="clean_churn",
        worker_type="G.2X",
        number_of_workers=3,
        timeout_minutes=30,
    )
    got = run(tool_ctx, "glue_get_job_run", job_name="clean_churn")
    assert got.data["run_id"] == started.data["run_id"] and got.data["state"] == "SUCCEEDED"
    with pytest.raises(ToolError, match="code_s3_uri is required"):
        run(tool_ctx, "glue_create_job", name="j2", role="GlueRole", script=str(script))
    with pytest.raises(ToolError, match="neither an s3:// URI nor an existing local file"):
        run(
            tool_ctx,
            "glue_create_job",
            name="j2",
            role="GlueRole",
            script="missing.py",
            code_s3_uri="s3://code-bucket/",
        )


def test_crawler_estimate_uses_the_ten_minute_minimum() -> None:
    estimate = get_tool("glue_start_crawler").estimate(
        {"name": "c", "expected_minutes": 5}, "us-east-1"
    )
    assert estimate.low_usd == pytest.approx(10 / 60 * 0.44, abs=1e-6)
    assert estimate.high_usd == pytest.approx(2 * 10 / 60 * 0.44, abs=1e-6)


# --------------------------------------------------------------------- Kinesis


def test_kinesis_stream_estimate_create_and_sample_records(
    tool_ctx: ToolContext, churn_file: Path, sandbox: Sandbox
) -> None:
    spec = get_tool("kinesis_create_stream")
    estimate = spec.estimate({"name": "clicks", "shards": 2}, "us-east-1")
    assert estimate.hourly_usd == pytest.approx(0.03) and estimate.high_usd == pytest.approx(0.72)
    on_demand = spec.estimate({"name": "clicks", "mode": "on_demand"}, "us-east-1")
    assert on_demand.hourly_usd == pytest.approx(0.04)
    created = run(tool_ctx, "kinesis_create_stream", name="clicks", shards=2)
    assert created.resources[0].hourly_usd == pytest.approx(0.03)
    summary = tool_ctx.client("kinesis").describe_stream_summary(StreamName="clicks")[
        "StreamDescriptionSummary"
    ]
    assert summary["OpenShardCount"] == 2
    listed = run(tool_ctx, "kinesis_list_streams")
    assert listed.data["rows"] == [{"name": "clicks", "status": "ACTIVE", "mode": "PROVISIONED"}]

    events: list[ProgressEvent] = []
    ctx = ToolContext(tool_ctx.aws, sandbox=sandbox, progress=events.append)
    sent = run(
        ctx,
        "kinesis_put_sample_records",
        stream="clicks",
        local_file=str(churn_file),
        partition_key_column="customer_id",
        max_records=120,
    )
    assert sent.data == {"sent": 120, "failed": 0, "stream": "clicks"}
    assert events[-1].done == 120 and events[-1].unit == "rows"
    kinesis = tool_ctx.client("kinesis")
    records = []
    for shard in kinesis.list_shards(StreamName="clicks")["Shards"]:
        it = kinesis.get_shard_iterator(
            StreamName="clicks", ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records += kinesis.get_records(ShardIterator=it, Limit=1000)["Records"]
    assert len(records) == 120
    first = json.loads(min(records, key=lambda r: r["SequenceNumber"])["Data"])
    assert set(first) >= {"customer_id", "churned"}
    with pytest.raises(ToolError, match="not in the file"):
        run(
            tool_ctx,
            "kinesis_put_sample_records",
            stream="clicks",
            local_file=str(churn_file),
            partition_key_column="nope",
        )


def test_kinesis_put_to_missing_stream_is_readable(tool_ctx: ToolContext, churn_file: Path) -> None:
    with pytest.raises(ToolError, match="Not found"):
        run(
            tool_ctx,
            "kinesis_put_sample_records",
            stream="absent",
            local_file=str(churn_file),
            max_records=3,
        )


# --------------------------------------------------------------- Data Exchange


def test_data_exchange_in_sandbox_says_not_emulated(
    tool_ctx: ToolContext, aws_calls: list[dict]
) -> None:
    with pytest.raises(ToolError, match="does not emulate AWS Data Exchange") as info:
        run(tool_ctx, "dataexchange_list_data_sets")
    assert info.value.kind == "not_emulated" and aws_calls == []


def _real_ctx(calls: list[dict]) -> ToolContext:
    return ToolContext(AwsContext(region="us-east-1", session_id="t", on_aws_call=calls.append))


def test_data_exchange_lists_owned_and_entitled_with_stubber() -> None:
    calls: list[dict] = []
    ctx = _real_ctx(calls)
    client = ctx.client("dataexchange")
    with Stubber(client) as stub:
        stub.add_response(
            "list_data_sets",
            {
                "DataSets": [
                    {
                        "Name": "mine",
                        "Id": "1",
                        "Origin": "OWNED",
                        "AssetType": "S3_SNAPSHOT",
                        "Arn": "arn:x",
                        "CreatedAt": "2024-01-01T00:00:00Z",
                        "Description": "d",
                        "UpdatedAt": "2024-02-01T00:00:00Z",
                    }
                ]
            },
            {"Origin": "OWNED"},
        )
        stub.add_response(
            "list_data_sets",
            {
                "DataSets": [
                    {
                        "Name": "weather",
                        "Id": "2",
                        "Origin": "ENTITLED",
                        "AssetType": "API_GATEWAY_API",
                        "Arn": "arn:y",
                        "CreatedAt": "2024-01-01T00:00:00Z",
                        "Description": "d",
                        "UpdatedAt": "2024-03-01T00:00:00Z",
                    }
                ]
            },
            {"Origin": "ENTITLED"},
        )
        result = run(ctx, "dataexchange_list_data_sets")
        stub.assert_no_pending_responses()
    assert [r["name"] for r in result.data["rows"]] == ["mine", "weather"]
    assert "weather (ENTITLED, API_GATEWAY_API)" in result.text
    assert [c["operation"] for c in calls] == ["ListDataSets", "ListDataSets"]


def test_access_denied_becomes_a_readable_error() -> None:
    ctx = _real_ctx([])
    with Stubber(ctx.client("dataexchange")) as stub:
        stub.add_client_error(
            "list_data_sets",
            "AccessDeniedException",
            "User: x is not authorized to perform: dataexchange:ListDataSets",
            403,
        )
        with pytest.raises(ToolError, match="may not call dataexchange:ListDataSets") as info:
            run(ctx, "dataexchange_list_data_sets", origin="OWNED")
    assert info.value.kind == "access_denied"
