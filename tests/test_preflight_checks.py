"""Pre-flight checks against the sandbox (moto), and against "real AWS" clients where moto has no
answer: IAM policy simulation and Service Quotas through botocore's Stubber."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from sandbox.demo_data import churn_csv
from tools.aws.context import AwsContext
from tools.aws.roles import ensure_sandbox_role, trust_policy
from tools.core.registry import get_tool
from tools.cost.lookups import forget_lookups
from tools.preflight import run_checks, run_preflight
from tools.preflight.checks_capacity import check_quotas
from tools.preflight.checks_iam import check_role, scoped_s3_policy, trusts
from tools.preflight.needs import Channel, DataContract, InstanceNeed, Needs
from tools.preflight.probe import Probe

BUCKET = "my-churn-data"


@pytest.fixture
def seeded(aws: AwsContext) -> AwsContext:
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="raw/churn.csv", Body=churn_csv(60).encode())
    rows = "\n".join(f"{i % 2},{i * 0.5},{i % 7}" for i in range(40)) + "\n"
    s3.put_object(Bucket=BUCKET, Key="prepared/train/train.csv", Body=rows.encode())
    s3.put_object(Bucket=BUCKET, Key="prepared/schema.json", Body=b"{}")
    return aws


def _names(report: Any, status: str) -> list[str]:
    return [c.name for c in report.checks if c.status == status]


def test_training_on_the_raw_csv_fails_before_anything_is_sent(
    seeded: AwsContext, aws_calls: list[dict]
) -> None:
    spec = get_tool("sagemaker_start_training_job")
    args = spec.validate({"train_s3_uri": f"s3://{BUCKET}/raw/churn.csv"})
    role = ensure_sandbox_role(seeded)
    aws_calls.clear()
    report = run_preflight(spec.name, args, seeded, default_role_arn=role)
    assert report is not None and report.failed
    assert {"data.header", "data.label", "data.numeric"} <= set(_names(report, "fail"))
    assert "customer_id" in report.for_model()
    # Pre-flight only reads: no create, put or delete went out.
    ops = {c["operation"] for c in aws_calls}
    assert ops and all(op.startswith(("Get", "List", "Head")) for op in ops), ops


def test_prepared_channels_pass(seeded: AwsContext) -> None:
    spec = get_tool("sagemaker_start_training_job")
    args = spec.validate({"train_s3_uri": f"s3://{BUCKET}/prepared/train/"})
    report = run_preflight(spec.name, args, seeded, default_role_arn=ensure_sandbox_role(seeded))
    assert report is not None and not report.failed, report.for_model()
    assert {"s3.exists", "s3.region", "data.contract", "iam.trust", "instance.offered"} <= set(
        _names(report, "pass")
    )
    # Skips say why, never silently: the sandbox enforces no IAM and has no quotas.
    assert {"iam.access", "quota"} <= set(_names(report, "skip"))


def test_a_channel_that_also_holds_the_manifest_fails(seeded: AwsContext) -> None:
    contract = DataContract("xgboost", None, {}, (Channel("train", f"s3://{BUCKET}/prepared/"),))
    report = run_checks(seeded, Needs(contract=contract, reads=[f"s3://{BUCKET}/prepared/"]))
    (files,) = [c for c in report.checks if c.name == "data.files"]
    assert files.status == "fail" and "schema.json" in files.message


def test_missing_inputs_buckets_and_other_regions(seeded: AwsContext) -> None:
    s3 = seeded.client("s3")
    s3.create_bucket(
        Bucket="far-away", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    needs = Needs(
        reads=[f"s3://{BUCKET}/nothing-here/", "s3://no-such-bucket-x/a.csv"],
        writes=["s3://far-away/out/"],
    )
    report = run_checks(seeded, needs)
    by = {(c.name, c.subject): c for c in report.checks}
    assert by[("s3.exists", f"s3://{BUCKET}/nothing-here/")].status == "fail"
    assert by[("s3.bucket", "s3://no-such-bucket-x")].status == "fail"
    region = by[("s3.region", "s3://far-away")]
    assert region.status == "fail" and "eu-west-1" in region.message


def test_role_missing_or_not_trusting_the_service(seeded: AwsContext) -> None:
    iam = seeded.client("iam")
    glue_only = trust_policy(("glue.amazonaws.com",))
    arn = iam.create_role(RoleName="glue-only", AssumeRolePolicyDocument=json.dumps(glue_only))[
        "Role"
    ]["Arn"]
    report = run_checks(seeded, Needs(needs_role=True, role_arn=arn))
    assert _names(report, "fail") == ["iam.trust"]
    missing = "arn:aws:iam::123456789012:role/not-there"
    report = run_checks(seeded, Needs(needs_role=True, role_arn=missing))
    assert _names(report, "fail") == ["iam.role"]
    report = run_checks(seeded, Needs(needs_role=True, role_arn=None))
    assert _names(report, "fail") == ["iam.role"] and "SAGECOACH_ROLE_ARN" in report.checks[0].fix


def test_instance_not_offered_in_the_region(seeded: AwsContext) -> None:
    needs = Needs(instances=[InstanceNeed("ml.t3.medium", 1, "training")])
    (offered,) = [c for c in run_checks(seeded, needs).checks if c.name == "instance.offered"]
    assert offered.status == "fail" and "ml.t3.medium" in offered.message


def test_endpoint_needs_the_model_artifact(seeded: AwsContext) -> None:
    sm = seeded.client("sagemaker")
    role = ensure_sandbox_role(seeded)
    image = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    for name, key in (
        ("has-artifact", "out/a/model.tar.gz"),
        ("no-artifact", "out/b/model.tar.gz"),
    ):
        sm.create_model(
            ModelName=name,
            ExecutionRoleArn=role,
            PrimaryContainer={"Image": image, "ModelDataUrl": f"s3://{BUCKET}/{key}"},
        )
    seeded.client("s3").put_object(Bucket=BUCKET, Key="out/a/model.tar.gz", Body=b"x")
    report = run_checks(seeded, Needs(model_names=["has-artifact", "no-artifact"]))
    by = {c.subject: c.status for c in report.checks}
    assert by == {"model has-artifact": "pass", "model no-artifact": "fail"}


def test_monitoring_needs_data_capture(seeded: AwsContext) -> None:
    sm = seeded.client("sagemaker")
    role = ensure_sandbox_role(seeded)
    image = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    sm.create_model(ModelName="m", ExecutionRoleArn=role, PrimaryContainer={"Image": image})
    variant = {
        "VariantName": "v",
        "ModelName": "m",
        "InstanceType": "ml.m5.large",
        "InitialInstanceCount": 1,
    }
    sm.create_endpoint_config(EndpointConfigName="plain", ProductionVariants=[variant])
    sm.create_endpoint(EndpointName="plain", EndpointConfigName="plain")
    capture = {
        "EnableCapture": True,
        "InitialSamplingPercentage": 100,
        "DestinationS3Uri": f"s3://{BUCKET}/capture/",
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
    }
    sm.create_endpoint_config(
        EndpointConfigName="cap", ProductionVariants=[variant], DataCaptureConfig=capture
    )
    sm.create_endpoint(EndpointName="cap", EndpointConfigName="cap")
    plain = run_checks(seeded, Needs(capture_endpoint="plain"))
    assert _names(plain, "fail") == ["endpoint.data_capture"]
    assert "sagemaker_update_endpoint with data_capture" in next(
        c.fix for c in plain.checks if c.status == "fail"
    )
    serverless = {"VariantName": "v", "ModelName": "m",
                  "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5}}  # fmt: skip
    sm.create_endpoint_config(EndpointConfigName="sls", ProductionVariants=[serverless])
    sm.create_endpoint(EndpointName="sls", EndpointConfigName="sls")
    sls = run_checks(seeded, Needs(capture_endpoint="sls"))
    assert _names(sls, "fail") == ["endpoint.data_capture"]
    assert "serverless endpoints do not support data capture" in next(
        c.fix for c in sls.checks if c.status == "fail"
    )
    assert _names(run_checks(seeded, Needs(capture_endpoint="cap")), "pass") == [
        "endpoint.data_capture"
    ]


# --- "real AWS": what moto cannot answer, through Stubber --------------------------------------
class RealAws:
    """An AwsContext stand-in that is not the sandbox; named clients are stubbed."""

    is_sandbox = False

    def __init__(self, region: str = "us-east-1", **clients: Any) -> None:
        self.region = region
        self.clients = clients

    def client(self, service: str) -> Any:
        return self.clients[service.replace("-", "_")]


def _client(service: str) -> Any:
    return boto3.client(
        service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )


ROLE = "arn:aws:iam::111122223333:role/SagecoachExecutionRole"


def _stub_role(stub: Stubber) -> None:
    document = json.dumps(trust_policy())
    stub.add_response(
        "get_role",
        {
            "Role": {
                "Path": "/",
                "RoleName": "SagecoachExecutionRole",
                "RoleId": "AROAEXAMPLEEXAMPLE123",
                "Arn": ROLE,
                "CreateDate": "2026-01-01T00:00:00Z",
                "AssumeRolePolicyDocument": document,
            }
        },
        {"RoleName": "SagecoachExecutionRole"},
    )


def _evaluation(action: str, resource: str, decision: str) -> dict[str, Any]:
    return {"EvalActionName": action, "EvalResourceName": resource, "EvalDecision": decision}


def test_a_role_that_cannot_read_the_users_bucket_fails_with_a_scoped_policy() -> None:
    iam = _client("iam")
    with Stubber(iam) as stub:
        _stub_role(stub)
        stub.add_response(
            "simulate_principal_policy",
            {
                "EvaluationResults": [
                    _evaluation(
                        "s3:GetObject", "arn:aws:s3:::my-churn-data/raw/churn.csv*", "implicitDeny"
                    )
                ]
            },
            {
                "PolicySourceArn": ROLE,
                "ActionNames": ["s3:GetObject"],
                "ResourceArns": ["arn:aws:s3:::my-churn-data/raw/churn.csv*"],
            },
        )
        stub.add_response(
            "simulate_principal_policy",
            {
                "EvaluationResults": [
                    _evaluation("s3:PutObject", "arn:aws:s3:::my-churn-data/out/*", "allowed")
                ]
            },
            {
                "PolicySourceArn": ROLE,
                "ActionNames": ["s3:PutObject"],
                "ResourceArns": ["arn:aws:s3:::my-churn-data/out/*"],
            },
        )
        needs = Needs(
            needs_role=True,
            role_arn=ROLE,
            reads=["s3://my-churn-data/raw/churn.csv"],
            writes=["s3://my-churn-data/out/"],
        )
        results = check_role(Probe(RealAws(iam=iam)), needs)
    by = {r.name: r for r in results}
    assert by["iam.trust"].status == "pass"
    access = by["iam.access"]
    assert access.status == "fail" and "s3:GetObject" in access.message
    # The fix is a policy scoped to the bucket in use, not a *sagemaker* bucket pattern.
    assert "put-role-policy" in access.fix and "arn:aws:s3:::my-churn-data/*" in access.fix
    assert "sagemaker" not in access.fix.split("--policy-document")[1]


def test_simulation_not_allowed_is_a_warning() -> None:
    iam = _client("iam")
    with Stubber(iam) as stub:
        _stub_role(stub)
        stub.add_client_error("simulate_principal_policy", "AccessDenied", "not allowed", 403)
        needs = Needs(needs_role=True, role_arn=ROLE, reads=["s3://my-churn-data/raw/a.csv"])
        results = check_role(Probe(RealAws(iam=iam)), needs)
    (access,) = [r for r in results if r.name == "iam.access"]
    assert access.status == "warn" and "AccessDenied" in access.message


def test_scoped_policy_covers_exactly_the_buckets() -> None:
    policy = scoped_s3_policy(["b2", "b1", "b1"])
    resources = [r for s in policy["Statement"] for r in s["Resource"]]
    assert resources == [
        "arn:aws:s3:::b1",
        "arn:aws:s3:::b2",
        "arn:aws:s3:::b1/*",
        "arn:aws:s3:::b2/*",
    ]
    assert trusts(trust_policy(), "sagemaker.amazonaws.com")
    assert not trusts(trust_policy(("glue.amazonaws.com",)), "sagemaker.amazonaws.com")


def test_quotas_from_service_quotas() -> None:
    forget_lookups()
    quotas = _client("service-quotas")
    with Stubber(quotas) as stub:
        defaults = [
            {"QuotaName": "ml.p3.2xlarge for training job usage", "Value": 0.0},
            {"QuotaName": "ml.m5.xlarge for training job usage", "Value": 4.0},
            {"QuotaName": "ml.m5.large for endpoint usage", "Value": 2.0},
        ]
        stub.add_response(
            "list_aws_default_service_quotas",
            {"Quotas": defaults},
            {"ServiceCode": "sagemaker", "MaxResults": 100},
        )
        applied = [{"QuotaName": "ml.m5.large for endpoint usage", "Value": 1.0}]
        stub.add_response(
            "list_service_quotas",
            {"Quotas": applied},
            {"ServiceCode": "sagemaker", "MaxResults": 100},
        )
        needs = Needs(
            instances=[
                InstanceNeed("ml.p3.2xlarge", 1, "training"),
                InstanceNeed("ml.m5.xlarge", 2, "training"),
                InstanceNeed("ml.m5.large", 2, "endpoint"),
                InstanceNeed("ml.c5.xlarge", 1, "processing"),
            ]
        )
        results = check_quotas(Probe(RealAws(service_quotas=quotas)), needs)
    forget_lookups()
    by = {r.subject: r for r in results}
    assert by["ml.p3.2xlarge for training job usage"].status == "fail"
    assert "Service Quotas" in by["ml.p3.2xlarge for training job usage"].fix
    assert by["ml.m5.xlarge for training job usage"].status == "pass"
    # The account's applied value (1) overrides the default (2).
    assert by["ml.m5.large for endpoint usage"].status == "fail"
    assert by["ml.c5.xlarge for processing job usage"].status == "skip"


def test_a_check_that_breaks_is_a_skip_not_a_crash() -> None:
    class Broken(RealAws):
        def client(self, service: str) -> Any:
            raise RuntimeError("no network")

    report = run_checks(
        Broken(),
        Needs(reads=["s3://b/k.csv"], instances=[InstanceNeed("ml.m5.large", 1, "training")]),
    )
    assert not report.failed
    assert {c.status for c in report.checks} <= {"skip", "pass"}


def test_a_pipeline_whose_step_code_was_never_uploaded_is_stopped(seeded: AwsContext) -> None:
    """Defect 4 at the gate: a processing step points at code that is not in S3."""
    role = ensure_sandbox_role(seeded)
    step = {
        "Name": "Features",
        "Type": "Processing",
        "Arguments": {
            "ProcessingInputs": [
                {"InputName": "code", "S3Input": {"S3Uri": f"s3://{BUCKET}/code/fe.py"}},
                {"InputName": "raw", "S3Input": {"S3Uri": f"s3://{BUCKET}/raw/"}},
            ]
        },
    }
    definition = {"Version": "2020-12-01", "Steps": [step]}
    sm = seeded.client("sagemaker")
    sm.create_pipeline(
        PipelineName="churn", PipelineDefinition=json.dumps(definition), RoleArn=role
    )
    spec = get_tool("pipelines_start_execution")
    report = run_preflight(spec.name, spec.validate({"pipeline_name": "churn"}), seeded)
    assert report is not None and [c.name for c in report.failures] == ["pipeline.inputs"]
    assert "Features input code" in report.failures[0].message
    seeded.client("s3").put_object(Bucket=BUCKET, Key="code/fe.py", Body=b"print(1)")
    report = run_preflight(spec.name, spec.validate({"pipeline_name": "churn"}), seeded)
    assert report is not None and not report.failed


def test_glue_runs_check_workers_against_the_jobs_command(seeded: AwsContext) -> None:
    """Defect 8 at the gate: G.025X is for streaming jobs, and a run that replaces the job's
    workers says so before approval."""
    glue = seeded.client("glue")
    seeded.client("s3").put_object(Bucket=BUCKET, Key="code/etl.py", Body=b"print(1)")
    command = {"Name": "glueetl", "ScriptLocation": f"s3://{BUCKET}/code/etl.py"}
    glue.create_job(Name="etl", Role="r", Command=command, WorkerType="G.2X", NumberOfWorkers=10)
    spec = get_tool("glue_start_job_run")
    report = run_preflight(spec.name, spec.validate({"job_name": "etl"}), seeded)
    assert report is not None and not report.failed and not report.warnings  # the job's own
    changed = spec.validate({"job_name": "etl", "worker_type": "G.1X", "number_of_workers": 2})
    report = run_preflight(spec.name, changed, seeded)
    assert report is not None and not report.failed
    (warning,) = report.warnings
    assert "2 × G.1X" in warning.message and "10 × G.2X" in warning.message
    streaming_only = spec.validate({"job_name": "etl", "worker_type": "G.025X"})
    report = run_preflight(spec.name, streaming_only, seeded)
    assert report is not None and [c.name for c in report.failures] == ["glue.workers"]
