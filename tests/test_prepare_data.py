"""prepare_training_data: the plan, the encoding, the split, the manifest, and the tool in the
sandbox (local run and the processing-job route)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.demo_data import COLUMNS, churn_csv, churn_rows
from tools.core.context import ToolContext
from tools.core.errors import ToolError
from tools.core.registry import get_tool
from tools.dataprep import core, manifest
from tools.preflight import run_preflight

BUCKET = "my-churn-data"


def _plan(rows: list[list[str]] | None = None, **kw):
    return core.make_plan(COLUMNS, rows or churn_rows(200), target="churned", **kw)


def test_plan_drops_the_id_and_encodes_text_dates_and_booleans() -> None:
    plan = _plan()
    kinds = {t["column"]: t["kind"] for t in plan["transforms"]}
    assert kinds["customer_id"] == "drop"
    assert kinds["state"] == kinds["contract"] == "onehot"
    assert kinds["signup_date"] == "date" and kinds["has_partner"] == "boolean"
    assert kinds["tenure_months"] == kinds["total_charges"] == "numeric"
    assert plan["label"] == {
        "name": "churned",
        "problem_type": "binary_classification",
        "classes": ["0", "1"],
    }
    assert "contract=month-to-month" in plan["features"] and "churned" not in plan["features"]
    assert plan["hyperparameters"]["objective"] == "binary:logistic"


def test_constant_empty_and_free_text_columns_are_dropped_with_a_reason() -> None:
    columns = ["id", "note", "always", "nothing", "size", "y"]
    rows = [
        [
            str(i),
            f"customer said thing number {i} at length",
            "x",
            "",
            str(i % 5),
            "yes" if i % 3 else "no",
        ]
        for i in range(50)
    ]
    plan = core.make_plan(columns, rows, target="y", algorithm="linear-learner")
    reasons = {t["column"]: t.get("reason", "") for t in plan["transforms"]}
    assert reasons["note"].startswith("free text") and reasons["always"].startswith("constant")
    assert reasons["nothing"].startswith("empty") and reasons["id"].startswith("id-like")
    assert plan["label"]["classes"] == ["no", "yes"]  # yes is the positive class: 1
    assert plan["hyperparameters"] == {"predictor_type": "binary_classifier", "feature_dim": 1}


def test_categories_over_the_cap_keep_the_most_common_and_an_other_bucket() -> None:
    rows = [[f"c{i % 30}", str(i % 2)] for i in range(300)]
    plan = core.make_plan(["city", "y"], rows, target="y", max_categories=5)
    (city,) = plan["transforms"]
    assert len(city["values"]) == 5 and city["other"] is True
    assert plan["features"][-1] == "city=(other)"
    assert core.encode_value(city, "never-seen") == [0, 0, 0, 0, 0, 1]
    ordinal = core.make_plan(["city", "y"], rows, target="y", max_categories=5, encoding="ordinal")
    assert core.encode_value(ordinal["transforms"][0], "never-seen") == [0]


def test_missing_values_stay_missing_for_xgboost_and_are_filled_otherwise() -> None:
    rows = churn_rows(200)
    xgb = {t["column"]: t for t in _plan(rows)["transforms"]}
    ll = {t["column"]: t for t in _plan(rows, algorithm="linear-learner")["transforms"]}
    assert "fill" not in xgb["total_charges"] and "fill" in ll["total_charges"]
    assert core.encode_value(xgb["total_charges"], "") == [None]
    assert core.encode_value(ll["total_charges"], "")[0] == ll["total_charges"]["fill"]
    assert core.csv_line([1, None, 2.5]) == "1,,2.5"


def test_target_problems_are_clear_errors() -> None:
    with pytest.raises(core.PrepareError, match="no column named 'churn'"):
        core.make_plan(COLUMNS, churn_rows(20), target="churn")
    with pytest.raises(core.PrepareError, match="learns from a label"):
        core.make_plan(COLUMNS, churn_rows(20), target=None)
    with pytest.raises(core.PrepareError, match="regression needs a numeric target"):
        core.make_plan(COLUMNS, churn_rows(20), target="state", problem_type="regression")
    multi = core.make_plan(COLUMNS, churn_rows(200), target="contract")
    assert multi["label"]["problem_type"] == "multiclass_classification"
    assert multi["hyperparameters"] == {"objective": "multi:softprob", "num_class": 3}


def test_split_is_seeded_and_stratified() -> None:
    labels = [0] * 80 + [1] * 20
    a = core.split_indices(labels, (0.7, 0.15, 0.15), seed=7, stratify=True)
    b = core.split_indices(labels, (0.7, 0.15, 0.15), seed=7, stratify=True)
    c = core.split_indices(labels, (0.7, 0.15, 0.15), seed=8, stratify=True)
    assert a == b and a != c
    assert sorted(a["train"] + a["validation"] + a["test"]) == list(range(100))
    assert sum(labels[i] for i in a["validation"]) == 3  # 15 % of each class
    assert sum(labels[i] for i in a["test"]) == 3


def test_run_writes_label_first_channels_and_a_manifest(tmp_path: Path) -> None:
    source = tmp_path / "in" / "churn.csv"
    source.parent.mkdir()
    source.write_text(churn_csv(200))
    out = tmp_path / "out"
    written = core.run(str(source.parent), str(out), target="churned", output_uri="s3://b/p/")
    lines = (out / "train" / "train.csv").read_text().splitlines()
    assert len(lines) == written["split"]["rows"]["train"] == 140
    first = lines[0].split(",")
    assert first[0] in ("0", "1") and len(first) == 1 + len(written["features"])
    saved = json.loads((out / "schema.json").read_text())
    assert saved["channels"] == {
        "train": "s3://b/p/train/",
        "validation": "s3://b/p/validation/",
        "test": "s3://b/p/test/",
    }
    assert saved["content_types"]["train"] == "text/csv"


def test_unsupervised_channels_carry_no_label_except_the_rcf_test_channel(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text(churn_csv(100))
    out = tmp_path / "out"
    written = core.run(str(source), str(out), target="churned", algorithm="randomcutforest")
    width = len(written["features"])
    assert len((out / "train" / "train.csv").read_text().splitlines()[0].split(",")) == width
    assert len((out / "test" / "test.csv").read_text().splitlines()[0].split(",")) == width + 1
    assert written["content_types"] == {
        "train": "text/csv;label_size=0",
        "validation": "text/csv;label_size=0",
        "test": "text/csv;label_size=1",
    }


def test_raw_rows_encode_exactly_as_the_prepared_rows(tmp_path: Path) -> None:
    """Invoke and transform use the manifest: a raw row from the table gives the same features
    as the prepared file holds for that row (label and id dropped, same category columns)."""
    raw = churn_csv(120)
    source = tmp_path / "churn.csv"
    source.write_text(raw)
    out = tmp_path / "out"
    written = core.run(str(source), str(out), target="churned", split=(1.0, 0.0, 0.0))
    prepared = (out / "train" / "train.csv").read_text().splitlines()
    raw_rows = manifest.parse_rows(raw)
    encoded = manifest.encode_rows(written, raw_rows)  # header row recognised and skipped
    assert [line.split(",", 1)[1] for line in prepared] == encoded
    without_label = [r[:-1] for r in raw_rows[1:4]]
    assert manifest.row_shape(written, without_label) == "raw"
    assert manifest.encode_rows(written, without_label) == encoded[:3]
    assert manifest.row_shape(written, [[c] for c in "123"]) == "bad"


def test_the_core_runs_as_a_standalone_script(tmp_path: Path) -> None:
    """The file uploaded to the processing job runs on its own (no sagecoach imports)."""
    source = tmp_path / "data"
    source.mkdir()
    (source / "part-1.csv").write_text(churn_csv(60))
    out = tmp_path / "prepared"
    result = subprocess.run(
        [
            sys.executable,
            "-I",
            core.__file__,
            "--input",
            str(source),
            "--output",
            str(out),
            "--target",
            "churned",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert (out / "schema.json").exists() and (out / "train" / "train.csv").exists()
    bad = subprocess.run(
        [
            sys.executable,
            "-I",
            core.__file__,
            "--input",
            str(source),
            "--output",
            str(out),
            "--target",
            "nope",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "no column named 'nope'" in bad.stderr


# --- the tool in the sandbox -----------------------------------------------------------------
@pytest.fixture
def raw(tool_ctx: ToolContext) -> str:
    s3 = tool_ctx.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="raw/churn.csv", Body=churn_csv(200).encode())
    return f"s3://{BUCKET}/raw/churn.csv"


def test_tool_prepares_in_place_and_training_preflight_then_passes(
    tool_ctx: ToolContext, raw: str
) -> None:
    spec = get_tool("prepare_training_data")
    args = spec.validate({"source_s3_uri": raw, "target_column": "churned"})
    estimate = spec.estimate(args, tool_ctx.region, tool_ctx.aws)
    assert estimate is not None and estimate.high_usd == 0.0 and "this machine" in estimate.basis
    preflight = run_preflight(spec.name, args, tool_ctx.aws)
    assert preflight is not None and not preflight.failed
    (plan,) = [c for c in preflight.checks if c.name == "prepare.plan"]
    assert any(d.startswith("customer_id: id-like") for d in plan.detail["dropped"])
    assert any(e.startswith("state: one-hot") for e in plan.detail["encoded"])

    result = spec.run(tool_ctx, args)
    out = f"s3://{BUCKET}/sagecoach/prepared/churn/"
    assert result.data["channels"]["train"] == f"{out}train/"
    assert result.data["manifest_uri"] == f"{out}schema.json"
    assert "Dropped: customer_id" in result.text and "binary:logistic" in result.text
    keys = {o["Key"] for o in tool_ctx.client("s3").list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert {
        "sagecoach/prepared/churn/train/train.csv",
        "sagecoach/prepared/churn/validation/validation.csv",
        "sagecoach/prepared/churn/test/test.csv",
        "sagecoach/prepared/churn/schema.json",
    } <= keys
    found = manifest.manifest_for_channel(tool_ctx.client("s3"), f"{out}train/")
    assert found is not None and found["label"]["name"] == "churned"

    train = get_tool("sagemaker_start_training_job")
    on_prepared = train.validate(
        {"train_s3_uri": f"{out}train/", "validation_s3_uri": f"{out}validation/"}
    )
    report = run_preflight(train.name, on_prepared, tool_ctx.aws, default_role_arn=None)
    assert report is not None
    assert [c.name for c in report.checks if c.status == "fail"] == ["iam.role"]  # no role given


def test_tool_refuses_a_missing_target_before_running(tool_ctx: ToolContext, raw: str) -> None:
    spec = get_tool("prepare_training_data")
    args = spec.validate({"source_s3_uri": raw, "target_column": "churn"})
    report = run_preflight(spec.name, args, tool_ctx.aws)
    assert report is not None and report.failed
    assert "no column named 'churn'" in report.for_model() and "churned" in report.for_model()
    with pytest.raises(ToolError, match="learns from a label"):
        spec.validate({"source_s3_uri": raw})


def test_large_sources_go_to_a_processing_job_with_the_same_code(
    tool_ctx: ToolContext, raw: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tools.stages.features import prepare

    monkeypatch.setattr(prepare, "LOCAL_LIMIT_BYTES", 100)  # the demo file is "large" now
    spec = get_tool("prepare_training_data")
    args = spec.validate(
        {
            "source_s3_uri": raw,
            "target_column": "churned",
            "role_arn": "arn:aws:iam::123456789012:role/r",
        }
    )
    estimate = spec.estimate(args, tool_ctx.region, tool_ctx.aws)
    assert estimate is not None and estimate.high_usd and estimate.high_usd > 0
    result = spec.run(tool_ctx, args)
    request = result.data["request"]
    assert request["AppSpecification"]["ImageUri"].endswith("sagemaker-scikit-learn:1.2-1-cpu-py3")
    arguments = request["AppSpecification"]["ContainerArguments"]
    assert arguments[arguments.index("--target") + 1] == "churned"
    code = next(i for i in request["ProcessingInputs"] if i["InputName"] == "code")["S3Input"][
        "S3Uri"
    ]
    bucket, key = code[5:].split("/", 1)
    uploaded = tool_ctx.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    assert uploaded == Path(core.__file__).read_bytes()
    assert result.resources[0].kind == "sagemaker_processing_job"


def test_the_processing_route_checks_its_role_and_instance(tool_ctx: ToolContext, raw: str) -> None:
    spec = get_tool("prepare_training_data")
    args = spec.validate(
        {
            "source_s3_uri": raw,
            "target_column": "churned",
            "run_as": "processing",
            "role_arn": "arn:aws:iam::123456789012:role/not-made",
        }
    )
    report = run_preflight(spec.name, args, tool_ctx.aws)
    assert report is not None and [c.name for c in report.failures] == ["iam.role"]
    assert "instance.offered" in {c.name for c in report.checks}
    local = spec.validate({"source_s3_uri": raw, "target_column": "churned"})
    checks = run_preflight(spec.name, local, tool_ctx.aws)
    assert checks is not None and "iam.role" not in {c.name for c in checks.checks}


def test_the_approval_card_and_the_terminal_prompt_show_the_plan() -> None:
    from agent.events import ApprovalRequest
    from tui.commands.ask import _describe
    from tui.screens.approval import request_table

    checks = [
        {"name": "iam.access", "status": "warn", "message": "could not simulate", "fix": "allow it", "subject": "role r", "detail": {}},
        {
            "name": "prepare.plan",
            "status": "pass",
            "message": "label churned; 23 features",
            "fix": "",
            "subject": "s3://b/raw.csv",
            "detail": {"dropped": ["customer_id: id-like"], "encoded": ["state: one-hot (10 values)"]},
        },
    ]  # fmt: skip
    request = ApprovalRequest(
        call_id="c1", tool="prepare_training_data", stage="features", risk="costly", args={},
        description="", operations=[], estimate=None, account="SANDBOX", region="us-east-1",
        profile=None, sandbox=True, mode="ask", preflight=checks,
    )  # fmt: skip
    text = _describe(request)
    assert "! iam.access [role r]: could not simulate Fix: allow it" in text
    assert "will drop: customer_id: id-like" in text and "will encode: state: one-hot" in text
    from rich.console import Console

    console = Console(width=160, record=True)
    console.print(request_table(request))
    card = console.export_text()
    assert "pre-flight" in card and "will drop: customer_id" in card


def test_transform_input_filters_prepared_labels_and_encodes_raw_rows(
    tool_ctx: ToolContext, raw: str
) -> None:
    spec = get_tool("prepare_training_data")
    spec.run(tool_ctx, spec.validate({"source_s3_uri": raw, "target_column": "churned"}))
    s3 = tool_ctx.client("s3")
    out = f"s3://{BUCKET}/sagecoach/prepared/churn/"
    found = manifest.manifest_for_channel(s3, f"{out}train/")
    assert found is not None
    uri, flt, _ = manifest.transform_input(s3, found, f"{out}test/", f"s3://{BUCKET}/stage/", 10**6)
    assert (uri, flt) == (f"{out}test/", "$[1:]")
    uri, flt, note = manifest.transform_input(s3, found, raw, f"s3://{BUCKET}/stage/", 10**6)
    assert uri == f"s3://{BUCKET}/stage/" and flt is None and "encoded" in note
    staged = s3.get_object(Bucket=BUCKET, Key="stage/churn.csv")["Body"].read().decode()
    assert (
        staged.splitlines()[0] == manifest.encode_rows(found, manifest.parse_rows(churn_csv(1)))[0]
    )
    with pytest.raises(ValueError, match="prepare it with prepare_training_data"):
        manifest.transform_input(s3, found, raw, f"s3://{BUCKET}/stage/", 100)


def test_script_mode_environment_and_channel_rules() -> None:
    from tools.stages.training.algorithms import channel_distribution, script_mode_environment

    env = script_mode_environment(
        {
            "sagemaker_program": '"train.py"',
            "sagemaker_submit_directory": "s3://b1b/code/src.tar.gz",
        },
        "eu-west-1",
    )
    assert env == {
        "SAGEMAKER_PROGRAM": "train.py",
        "SAGEMAKER_SUBMIT_DIRECTORY": "s3://b1b/code/src.tar.gz",
        "SAGEMAKER_CONTAINER_LOG_LEVEL": "20",
        "SAGEMAKER_REGION": "eu-west-1",
    }
    assert script_mode_environment({"num_round": "5"}, "eu-west-1") == {}
    assert channel_distribution("randomcutforest", "train") == "ShardedByS3Key"
    assert channel_distribution("randomcutforest", "test") == "FullyReplicated"
    assert channel_distribution("xgboost", "train") == "FullyReplicated"


def test_invoke_payload_of_raw_rows_is_encoded_with_the_models_manifest(
    tool_ctx: ToolContext, raw: str
) -> None:
    from tools.aws.roles import ensure_sandbox_role

    prep = get_tool("prepare_training_data")
    prep.run(tool_ctx, prep.validate({"source_s3_uri": raw, "target_column": "churned"}))
    out = f"s3://{BUCKET}/sagecoach/prepared/churn/"
    role = ensure_sandbox_role(tool_ctx.aws)
    job = get_tool("sagemaker_start_training_job").run(
        tool_ctx, {"train_s3_uri": f"{out}train/", "role_arn": role, "job_name": "churn-1"}
    )
    sm = tool_ctx.client("sagemaker")
    artifact = sm.describe_training_job(TrainingJobName=job.data["job_name"])["ModelArtifacts"]
    image = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    container = {"Image": image, "ModelDataUrl": artifact["S3ModelArtifacts"]}
    sm.create_model(ModelName="churn", ExecutionRoleArn=role, PrimaryContainer=container)
    variant = {
        "VariantName": "v",
        "ModelName": "churn",
        "InstanceType": "ml.m5.large",
        "InitialInstanceCount": 1,
    }
    sm.create_endpoint_config(EndpointConfigName="churn", ProductionVariants=[variant])
    sm.create_endpoint(EndpointName="churn", EndpointConfigName="churn")
    rows = "\n".join(churn_csv(3).splitlines()[1:])
    body, note = manifest.encode_payload(tool_ctx.aws, "churn", rows.encode(), "text/csv")
    found = manifest.manifest_for_model(tool_ctx.aws, "churn")
    assert found is not None and "encoded 3 raw row(s)" in note
    assert body.decode().splitlines() == manifest.encode_rows(found, manifest.parse_rows(rows))
    features = body.decode().splitlines()[0]
    assert manifest.encode_payload(tool_ctx.aws, "churn", features.encode(), "text/csv") == (
        features.encode(),
        "",
    )
