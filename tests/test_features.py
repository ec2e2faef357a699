"""Stage 3 tools: Feature Store (moto + Stubber for the runtime), Processing jobs, the job waiter."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from botocore.stub import ANY, Stubber

import tools.stages.features.feature_records as feature_records
import tools.stages.features.processing as processing
from sandbox.demo_data import churn_csv
from tools.aws.context import AwsContext
from tools.core.context import ToolContext
from tools.core.errors import ToolError
from tools.core.registry import get_tool
from tools.core.results import ProgressEvent

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"


def run(ctx: ToolContext, tool_name: str, /, **args):
    return get_tool(tool_name).run(ctx, args)


@pytest.fixture
def churn_object(tool_ctx: ToolContext) -> str:
    s3 = tool_ctx.client("s3")
    s3.create_bucket(Bucket="feature-data")
    s3.put_object(Bucket="feature-data", Key="raw/churn.csv", Body=churn_csv(300).encode())
    return "s3://feature-data/raw/churn.csv"


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "preprocess.py"
    path.write_text("import sys\nprint(sys.argv)\n")
    return path


# ---------------------------------------------------------------- Feature Store


def test_create_feature_group_from_an_s3_csv(tool_ctx: ToolContext, churn_object: str) -> None:
    result = run(
        tool_ctx, "featurestore_create_feature_group", name="churn-features", s3_uri=churn_object,
        record_identifier="customer_id", offline_s3_uri="s3://feature-data/offline/", role_arn=ROLE,
    )  # fmt: skip
    fg = tool_ctx.client("sagemaker").describe_feature_group(FeatureGroupName="churn-features")
    assert fg["RecordIdentifierFeatureName"] == "customer_id"
    assert fg["EventTimeFeatureName"] == "signup_date"  # the first date column
    types = {f["FeatureName"]: f["FeatureType"] for f in fg["FeatureDefinitions"]}
    assert types["tenure_months"] == "Integral" and types["monthly_charges"] == "Fractional"
    assert types["contract"] == "String" and len(types) == 11
    assert fg["OfflineStoreConfig"]["S3StorageConfig"]["S3Uri"] == "s3://feature-data/offline/"
    request = result.resources[0].extra["request"]
    assert request["OnlineStoreConfig"] == {"EnableOnlineStore": True}
    assert {"Key": "CreatedBy", "Value": "sagecoach"} in request["Tags"]
    described = run(tool_ctx, "featurestore_describe_feature_group", name="churn-features")
    assert (
        described.data["status"] == "Created"
        and described.data["record_identifier"] == "customer_id"
    )
    with pytest.raises(ToolError, match="Already exists"):
        run(
            tool_ctx, "featurestore_create_feature_group", name="churn-features", s3_uri=churn_object,
            record_identifier="customer_id", offline_s3_uri="s3://feature-data/offline/", role_arn=ROLE,
        )  # fmt: skip


def test_feature_group_adds_event_time_when_the_data_has_none(
    tool_ctx: ToolContext, tmp_path: Path
) -> None:
    local = tmp_path / "f.csv"
    local.write_text("id,score\n1,0.5\n2,0.7\n")
    result = run(
        tool_ctx, "featurestore_create_feature_group", name="scores", local_file=str(local),
        record_identifier="id", offline_s3_uri="s3://feature-data/o/", role_arn=ROLE,
    )  # fmt: skip
    assert result.data["event_time_added"] is True
    assert result.data["features"][-1] == {"FeatureName": "event_time", "FeatureType": "Fractional"}
    assert (
        tool_ctx.client("sagemaker").describe_feature_group(FeatureGroupName="scores")[
            "EventTimeFeatureName"
        ]
        == "event_time"
    )


def test_feature_group_from_explicit_features(tool_ctx: ToolContext) -> None:
    run(
        tool_ctx, "featurestore_create_feature_group", name="explicit",
        features={"id": "String", "ts": "Fractional", "x": "Integral"}, record_identifier="id",
        event_time_feature="ts", offline_s3_uri="s3://feature-data/o/", role_arn=ROLE,
    )  # fmt: skip
    fg = tool_ctx.client("sagemaker").describe_feature_group(FeatureGroupName="explicit")
    assert fg["FeatureDefinitions"] == [
        {"FeatureName": "id", "FeatureType": "String"},
        {"FeatureName": "ts", "FeatureType": "Fractional"},
        {"FeatureName": "x", "FeatureType": "Integral"},
    ]


def test_feature_group_validation(
    tool_ctx: ToolContext, churn_object: str, aws_calls: list[dict]
) -> None:
    aws_calls.clear()  # the fixture's setup calls
    base = {"name": "fg", "offline_s3_uri": "s3://feature-data/o/", "role_arn": ROLE}
    with pytest.raises(ToolError, match="online store or give offline_s3_uri"):
        run(
            tool_ctx,
            "featurestore_create_feature_group",
            name="fg",
            s3_uri=churn_object,
            record_identifier="customer_id",
            online=False,
        )
    # No role_arn for the offline store is valid: the session's role is used at run time.
    no_role = get_tool("featurestore_create_feature_group").validate(
        {
            "name": "fg",
            "s3_uri": churn_object,
            "record_identifier": "customer_id",
            "offline_s3_uri": "s3://feature-data/o/",
        }
    )
    assert no_role.role_arn is None
    with pytest.raises(ToolError, match="not among the features"):
        run(
            tool_ctx,
            "featurestore_create_feature_group",
            **base,
            features={"a": "String"},
            record_identifier="b",
        )
    with pytest.raises(ToolError, match="not a feature group name"):
        run(
            tool_ctx,
            "featurestore_create_feature_group",
            **{**base, "name": "bad name"},
            s3_uri=churn_object,
            record_identifier="customer_id",
        )
    assert aws_calls == []
    with pytest.raises(ToolError, match="record_identifier 'nope' is not a column"):
        run(
            tool_ctx,
            "featurestore_create_feature_group",
            **base,
            s3_uri=churn_object,
            record_identifier="nope",
        )
    with pytest.raises(ToolError, match="tenure_months' is bigint"):
        run(
            tool_ctx,
            "featurestore_create_feature_group",
            **base,
            s3_uri=churn_object,
            record_identifier="customer_id",
            event_time_feature="tenure_months",
        )
    assert not any(c["operation"] == "CreateFeatureGroup" for c in aws_calls)


def test_online_only_feature_group_is_explained_in_the_sandbox(
    tool_ctx: ToolContext, churn_object: str, aws_calls: list[dict]
) -> None:
    with pytest.raises(ToolError, match="does not emulate online-only feature groups") as info:
        run(
            tool_ctx,
            "featurestore_create_feature_group",
            name="online",
            s3_uri=churn_object,
            record_identifier="customer_id",
        )
    assert info.value.kind == "not_emulated"
    assert not any(c["operation"] == "CreateFeatureGroup" for c in aws_calls)


def test_feature_group_list_not_emulated_then_stubbed() -> None:
    calls: list[dict] = []
    ctx = ToolContext(AwsContext(region="us-east-1", on_aws_call=calls.append))
    with Stubber(ctx.client("sagemaker")) as stub:
        stub.add_response(
            "list_feature_groups",
            {
                "FeatureGroupSummaries": [
                    {
                        "FeatureGroupName": "churn",
                        "FeatureGroupArn": "arn:aws:sagemaker:us-east-1:1:feature-group/churn",
                        "CreationTime": datetime(2024, 1, 1, tzinfo=UTC),
                        "FeatureGroupStatus": "Created",
                    }
                ]
            },
            {},
        )
        result = run(ctx, "featurestore_list_feature_groups")
    assert result.data["rows"] == [
        {"name": "churn", "status": "Created", "created": "2024-01-01 00:00:00"}
    ]


def test_feature_group_list_in_sandbox_says_so(tool_ctx: ToolContext) -> None:
    with pytest.raises(ToolError, match="does not emulate listing feature groups"):
        run(tool_ctx, "featurestore_list_feature_groups")


def _record(**values: str) -> list[dict[str, str]]:
    return [{"FeatureName": k, "ValueAsString": v} for k, v in values.items()]


def test_ingest_puts_records_with_progress_and_counts_failures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feature_records, "INGEST_WORKERS", 1)  # deterministic order for the Stubber
    data = tmp_path / "rows.csv"
    data.write_text(
        "id,signup,score,extra\nA,2024-01-02,1.5,x\n,2024-01-03,2.0,y\nB,2024-01-04 10:00:00,,z\nC,2024-01-05,3,w\n"
    )
    events: list[ProgressEvent] = []
    calls: list[dict] = []
    ctx = ToolContext(
        AwsContext(region="us-east-1", on_aws_call=calls.append), progress=events.append
    )
    definitions = [
        {"FeatureName": "id", "FeatureType": "String"},
        {"FeatureName": "signup", "FeatureType": "String"},
        {"FeatureName": "score", "FeatureType": "Fractional"},
    ]
    described = {
        "FeatureGroupArn": "arn:aws:sagemaker:us-east-1:1:feature-group/fg", "FeatureGroupName": "fg",
        "RecordIdentifierFeatureName": "id", "EventTimeFeatureName": "signup", "FeatureDefinitions": definitions,
        "CreationTime": "2024-01-01T00:00:00Z", "FeatureGroupStatus": "Created", "NextToken": "",
    }  # fmt: skip
    with (
        Stubber(ctx.client("sagemaker")) as sm,
        Stubber(ctx.client("sagemaker-featurestore-runtime")) as rt,
    ):
        sm.add_response("describe_feature_group", described, {"FeatureGroupName": "fg"})
        rt.add_response(
            "put_record",
            {},
            {
                "FeatureGroupName": "fg",
                "Record": _record(id="A", signup="2024-01-02T00:00:00Z", score="1.5"),
            },
        )
        rt.add_response(
            "put_record",
            {},
            {"FeatureGroupName": "fg", "Record": _record(id="B", signup="2024-01-04T10:00:00Z")},
        )
        rt.add_client_error(
            "put_record",
            "ValidationError",
            "bad value",
            400,
            expected_params={"FeatureGroupName": "fg", "Record": ANY},
        )
        result = run(ctx, "featurestore_ingest", name="fg", local_file=str(data))
        rt.assert_no_pending_responses()
    assert (
        result.data["written"] == 2 and result.data["failed"] == 1 and result.data["skipped"] == 1
    )
    assert "bad value" in result.text and "extra" in result.text
    assert events[-1].done == 3 and events[-1].total == 3 and events[-1].unit == "rows"
    assert [c["operation"] for c in calls].count("PutRecord") == 3


def test_ingest_and_get_record_not_emulated_in_the_sandbox(
    tool_ctx: ToolContext, churn_object: str, aws_calls: list[dict]
) -> None:
    aws_calls.clear()  # the fixture's setup calls
    with pytest.raises(
        ToolError, match=r"does not emulate the Feature Store runtime \(PutRecord\)"
    ):
        run(tool_ctx, "featurestore_ingest", name="fg", s3_uri=churn_object)
    with pytest.raises(ToolError, match=r"GetRecord"):
        run(tool_ctx, "featurestore_get_record", name="fg", record_id="C1")
    assert aws_calls == []


def test_get_record_with_stubber() -> None:
    ctx = ToolContext(AwsContext(region="us-east-1"))
    with Stubber(ctx.client("sagemaker-featurestore-runtime")) as stub:
        stub.add_response(
            "get_record",
            {"Record": _record(id="C1", score="0.9")},
            {
                "FeatureGroupName": "fg",
                "RecordIdentifierValueAsString": "C1",
                "FeatureNames": ["score"],
            },
        )
        result = run(ctx, "featurestore_get_record", name="fg", record_id="C1", features=["score"])
        stub.add_response(
            "get_record", {}, {"FeatureGroupName": "fg", "RecordIdentifierValueAsString": "nobody"}
        )
        missing = run(ctx, "featurestore_get_record", name="fg", record_id="nobody")
    assert result.data["record"] == {"id": "C1", "score": "0.9"}
    assert missing.data["record"] is None and "No record 'nobody'" in missing.text


# ------------------------------------------------------------------ Processing


def test_build_processing_job_request_shape(script: Path) -> None:
    args = processing.ProcessingJobArgs(
        job_name="prep-1", script=str(script), role_arn=ROLE, inputs={"raw": "s3://b-in/raw/"},
        outputs={"train": "s3://b-out/train/"}, instance_type="ml.m5.xlarge", instance_count=2,
        max_runtime_s=1800, arguments=["--split", "0.2"],
    )  # fmt: skip
    tags = [{"Key": "CreatedBy", "Value": "sagecoach"}]
    request = processing.build_processing_job_request(
        args, region="us-east-1", tags=tags, code_uri="s3://b-out/code/preprocess.py"
    )
    assert request == {
        "ProcessingJobName": "prep-1",
        "RoleArn": ROLE,
        "AppSpecification": {
            "ImageUri": SKLEARN_IMAGE,
            "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/preprocess.py"],
            "ContainerArguments": ["--split", "0.2"],
        },
        "ProcessingInputs": [
            {
                "InputName": "code",
                "S3Input": {
                    "S3Uri": "s3://b-out/code/preprocess.py",
                    "LocalPath": "/opt/ml/processing/input/code",
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                    "S3DataDistributionType": "FullyReplicated",
                },
            },
            {
                "InputName": "raw",
                "S3Input": {
                    "S3Uri": "s3://b-in/raw/",
                    "LocalPath": "/opt/ml/processing/input/raw",
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                    "S3DataDistributionType": "FullyReplicated",
                },
            },
        ],
        "ProcessingOutputConfig": {
            "Outputs": [
                {
                    "OutputName": "train",
                    "S3Output": {
                        "S3Uri": "s3://b-out/train/",
                        "LocalPath": "/opt/ml/processing/output/train",
                        "S3UploadMode": "EndOfJob",
                    },
                }
            ]
        },
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceCount": 2,
                "InstanceType": "ml.m5.xlarge",
                "VolumeSizeInGB": 30,
            }
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": 1800},
        "Tags": tags,
    }
    spark = processing.build_processing_job_request(
        args.model_copy(update={"framework": "spark"}),
        region="eu-west-1",
        tags=[],
        code_uri="s3://b/c.py",
    )
    assert spark["AppSpecification"]["ImageUri"].endswith("sagemaker-spark-processing:3.3-cpu")
    assert ".eu-west-1." in spark["AppSpecification"]["ImageUri"]
    assert spark["AppSpecification"]["ContainerEntrypoint"][0] == "smspark-submit"


def test_start_processing_job_uploads_the_script_and_creates_the_job(
    tool_ctx: ToolContext, script: Path
) -> None:
    tool_ctx.client("s3").create_bucket(Bucket="proc-bucket")
    spec = get_tool("sagemaker_start_processing_job")
    args = {
        "job_name": "churn-prep",
        "script": str(script),
        "role_arn": ROLE,
        "inputs": {"raw": "s3://proc-bucket/raw/"},
        "outputs": {"train": "s3://proc-bucket/train/"},
        "max_runtime_s": 7200,
        "instance_count": 2,
    }
    estimate = spec.estimate(args, "us-east-1")
    assert estimate.high_usd == pytest.approx(2 * 0.23 * 2)
    result = spec.run(tool_ctx, args)
    code_key = "sagecoach/code/churn-prep/preprocess.py"
    assert (
        tool_ctx.client("s3").get_object(Bucket="proc-bucket", Key=code_key)["Body"].read()
        == script.read_bytes()
    )
    job = tool_ctx.client("sagemaker").describe_processing_job(ProcessingJobName="churn-prep")
    assert job["AppSpecification"]["ImageUri"] == SKLEARN_IMAGE
    assert job["StoppingCondition"] == {"MaxRuntimeInSeconds": 7200}
    assert job["ProcessingInputs"][0]["S3Input"]["S3Uri"] == f"s3://proc-bucket/{code_key}"
    resource = result.resources[0]
    assert resource.kind == "sagemaker_processing_job" and resource.hourly_usd == pytest.approx(
        0.46
    )
    assert resource.extra["request"]["ProcessingJobName"] == "churn-prep"
    assert {"Key": "sagecoach:session", "Value": "test-session"} in resource.extra["request"][
        "Tags"
    ]
    described = run(tool_ctx, "sagemaker_describe_processing_job", name="churn-prep")
    assert described.data["status"] == "Completed" and described.data["outputs"] == [
        "s3://proc-bucket/train/"
    ]
    waited = run(
        tool_ctx, "sagemaker_wait_for_job", kind="processing", name="churn-prep", timeout_s=30
    )
    assert waited.data["status"] == "Completed" and not waited.data["timed_out"]


def test_processing_arguments_rejected_before_any_call(
    tool_ctx: ToolContext, script: Path, aws_calls: list[dict]
) -> None:
    base = {
        "script": str(script),
        "role_arn": ROLE,
        "outputs": {"o": "s3://proc-bucket/o/"},
        "max_runtime_s": 600,
    }
    cases = [
        ({"instance_type": "ml.p99.huge"}, "not a known SageMaker processing instance type"),
        ({"instance_type": "m5.xlarge"}, "not a SageMaker instance type"),
        ({"instance_count": -1}, "instance_count"),
        ({"script": str(script.parent / "missing" / "prep.py")}, "does not exist"),
        ({"script": "/missing/prep.py"}, "outside the working directory"),
        ({"outputs": {}}, "give code_s3_uri"),
        ({"outputs": {"code": "s3://proc-bucket/o/"}}, "not 'code'"),
        ({"job_name": "bad_name!"}, "letters, digits and hyphens"),
        ({"max_runtime_s": None}, "max_runtime_s"),
    ]
    for change, message in cases:
        args = {**base, **change}
        args = {k: v for k, v in args.items() if v is not None}
        with pytest.raises(ToolError, match=message):
            run(tool_ctx, "sagemaker_start_processing_job", **args)
    assert aws_calls == []


def test_wait_for_job_unknown_job_and_kind(tool_ctx: ToolContext) -> None:
    with pytest.raises(ToolError, match="kind"):
        run(tool_ctx, "sagemaker_wait_for_job", kind="crawler", name="x")
    with pytest.raises(ToolError) as info:
        run(tool_ctx, "sagemaker_wait_for_job", kind="training", name="absent-job", timeout_s=5)
    assert info.value.kind in ("not_found", "invalid_request", "aws_error")
