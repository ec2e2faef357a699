"""The stage catalog covers the seed document; the knowledge tools rank and describe services."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tools.catalog import lookup, recommender
from tools.core.context import ToolContext
from tools.core.errors import ToolError
from tools.core.registry import load_all
from tools.core.stages import STAGES

SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "aws-ml-pipeline-stages.md"

# The seed's stages and services, as written there (used when the seed file is not beside the repo).
SEED_SERVICES: dict[int, list[str]] = {
    1: ["AWS Glue", "Amazon S3", "AWS Data Exchange", "Amazon Kinesis"],
    2: [
        "Amazon SageMaker Data Wrangler",
        "AWS Glue DataBrew",
        "AWS Lambda",
        "Amazon Athena",
        "Amazon QuickSight",
    ],
    3: ["Amazon SageMaker Feature Store", "SageMaker Processing Jobs", "AWS Lambda"],
    4: [
        "Amazon SageMaker",
        "SageMaker Studio",
        "SageMaker Experiments",
        "SageMaker Debugger",
        "AWS Batch",
        "Amazon SageMaker Training Jobs",
        "Amazon SageMaker Autopilot",
        "SageMaker JumpStart",
    ],
    5: ["Amazon SageMaker Automatic Model Tuning"],
    6: [
        "Amazon SageMaker Experiments",
        "SageMaker Studio Notebooks",
        "Amazon SageMaker Model Monitor",
        "Amazon SageMaker Clarify",
    ],
    7: [
        "Amazon SageMaker Endpoints",
        "Amazon SageMaker Batch Transform",
        "Amazon SageMaker Multi-Model Endpoints",
        "SageMaker Serverless Inference",
        "AWS Lambda",
        "Amazon API Gateway",
    ],
    8: ["Amazon SageMaker Model Monitor", "Amazon CloudWatch", "AWS CloudTrail"],
    9: ["Amazon SageMaker Pipelines"],
}


def seed_services() -> dict[int, list[str]]:
    """Every service name per stage number, parsed from the seed document when it is present."""
    if not SEED.is_file():
        return SEED_SERVICES
    found: dict[int, list[str]] = {}
    stage = 0
    in_table = False
    for line in SEED.read_text().splitlines():
        heading = re.match(r"^## (\d)\. ", line)
        if heading:
            stage = int(heading.group(1))
            found.setdefault(stage, [])
            continue
        if line.startswith("## Summary"):
            in_table, stage = True, 0
            continue
        if stage:
            bullet = re.match(r"^\s*- ([^:(]+):", line)
            if bullet:
                found[stage].append(bullet.group(1).strip())
            also = re.match(r"^\s*- \(summary table also names\) (.+?)\.?$", line)
            if also:
                found[stage].extend(n.strip() for n in also.group(1).split(","))
        elif in_table and line.startswith("|") and not line.startswith(("| Stage", "|---")):
            cells = [c.strip() for c in line.strip("|").split("|")]
            number = next(n for sid, n, title in STAGES if _same_stage(title, cells[0]))
            found[number].extend(n.strip() for n in cells[2].split(","))
    return found


def _same_stage(title: str, seed_title: str) -> bool:
    simple = {"Data preparation & exploration": "data preparation & eda"}
    return simple.get(title, title).lower() == seed_title.lower()


def test_seed_parsing_found_every_stage() -> None:
    parsed = seed_services()
    assert sorted(parsed) == list(range(1, 10))
    assert all(parsed[n] for n in parsed)
    if SEED.is_file():  # the embedded copy agrees with the document
        for number, names in SEED_SERVICES.items():
            for name in names:
                assert lookup.find_service(name) in {lookup.find_service(n) for n in parsed[number]}


def test_every_seed_stage_is_in_the_catalog_in_order() -> None:
    assert [(s.id, s.number, s.title) for s in lookup.stages()] == list(STAGES)
    for st in lookup.stages():
        assert st.purpose and st.services


@pytest.mark.parametrize(
    ("number", "name"), [(n, name) for n, names in seed_services().items() for name in names]
)
def test_every_seed_service_is_in_its_stage(number: int, name: str) -> None:
    svc = lookup.find_service(name)
    assert svc is not None, f"{name} is missing from the catalog"
    stage_id = STAGES[number - 1][0]
    assert stage_id in svc.stages, f"{svc.name} is not listed under {stage_id}"
    assert svc.id in lookup.get_stage(stage_id).services  # type: ignore[union-attr]


def test_every_service_is_fully_described() -> None:
    ids = [s.id for s in lookup.services()]
    assert len(ids) == len(set(ids))
    for svc in lookup.services():
        for text in (svc.purpose, svc.use_when, svc.avoid_when, svc.billing):
            assert len(text) > 20, (svc.id, text)
        assert svc.tools or svc.console, f"{svc.id}: no tool and no console guidance"
        assert svc.traits and svc.keywords
        assert 1 <= svc.cost_rank <= 5
        for name in svc.tools:
            assert re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", name), name
        for stage in svc.stage_roles:
            assert stage in svc.stages


def test_stage_lists_agree_with_service_stages() -> None:
    for st in lookup.stages():
        assert set(st.services) == {s.id for s in lookup.services() if st.id in s.stages}
        assert len(st.services) == len(set(st.services))


def test_console_only_services_say_what_to_do() -> None:
    wrangler = lookup.find_service("Data Wrangler")
    assert wrangler is not None and wrangler.console_only
    assert "Studio" in wrangler.console
    assert lookup.find_service("Studio Notebooks").console_only  # type: ignore[union-attr]
    assert not lookup.find_service("Athena").console_only  # type: ignore[union-attr]


def test_catalog_tools_that_exist_are_registered_for_a_related_stage() -> None:
    registry = load_all()
    for svc in lookup.services():
        for name in svc.tools:
            if name in registry:
                spec = registry.get(name)
                # a tool acts in a stage the service belongs to, or is a general/shared helper
                related = {*svc.stages, "general"} | {
                    s for other in lookup.services_using_tool(name) for s in other.stages
                }
                assert spec.stage in related, (name, spec.stage, svc.id)


def test_every_stage_tool_is_named_by_a_catalog_service() -> None:
    """describe_service and `sagecoach stages` can only show tools the catalog names."""
    missing = sorted(
        spec.name
        for spec in load_all().all()
        if spec.stage != "general" and spec.name not in lookup.all_tool_names()
    )
    assert not missing, (
        f"add these tools to a service's `tools` in its stage's tools/stages/<stage>/catalog.py: {missing}"
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Kinesis", "kinesis"),
        ("Amazon Kinesis Data Streams", "kinesis"),
        ("serverless", "serverless-inference"),
        ("Endpoints", "endpoints"),
        ("sagemaker endpoint", "endpoints"),
        ("processing job", "processing"),
        ("Glue DataBrew", "databrew"),
        ("AWS Glue", "glue"),
        ("Amazon SageMaker", "sagemaker"),
        ("Automatic Model Tuning", "automatic-model-tuning"),
        ("multi-model endpoints", "multi-model-endpoints"),
        ("cloudtrail", "cloudtrail"),
    ],
)
def test_find_service_by_name_alias_or_id(query: str, expected: str) -> None:
    svc = lookup.find_service(query)
    assert svc is not None and svc.id == expected


def test_get_stage_by_id_number_or_words() -> None:
    assert lookup.get_stage("training").id == "training"  # type: ignore[union-attr]
    assert lookup.get_stage("4").id == "training"  # type: ignore[union-attr]
    assert lookup.get_stage("Model deployment").id == "deployment"  # type: ignore[union-attr]
    assert lookup.get_stage("feature engineering").id == "features"  # type: ignore[union-attr]
    assert lookup.get_stage("eda").id == "preparation"  # type: ignore[union-attr]
    assert lookup.get_stage("astrology") is None


def test_normalize_constraints() -> None:
    assert recommender.normalize_constraints(["no code", "Cheapest", "low latency"]) == [
        "no-code",
        "cheapest",
        "realtime",
    ]
    assert recommender.normalize_constraints(["streaming"]) == ["streaming"]
    assert recommender.normalize_constraints(["gluten-free"]) == ["gluten-free"]  # kept, harmless
    assert recommender.normalize_constraints("without writing code, as cheap as possible") == [
        "no-code",
        "cheapest",
    ]


def top(goal: str = "", stage: str | None = None, constraints=(), n: int = 1) -> list[str]:
    ranked, _ = recommender.recommend(goal, stage=stage, constraints=list(constraints), limit=n)
    return [r.service.id for r in ranked]


@pytest.mark.parametrize(
    ("goal", "stage", "constraints", "first"),
    [
        ("", "preparation", ["no code"], {"data-wrangler", "databrew"}),
        ("clean my data without writing code", None, [], {"databrew", "data-wrangler"}),
        ("explore the data", None, ["sql", "cheapest"], {"athena"}),
        ("ingest clickstream events", None, ["streaming"], {"kinesis"}),
        ("", "collection", ["streaming"], {"kinesis"}),
        ("bring in third-party weather data", None, [], {"data-exchange"}),
        ("deploy my model", None, ["cheapest"], {"serverless-inference"}),
        ("deploy for occasional traffic", None, [], {"serverless-inference"}),
        ("", "deployment", ["realtime"], {"endpoints"}),
        ("score a whole dataset every night", None, [], {"batch-transform"}),
        ("serve hundreds of per-customer models", None, [], {"multi-model-endpoints"}),
        ("train an xgboost model", None, [], {"training-jobs"}),
        (
            "find the best model automatically, I don't know which algorithm",
            None,
            [],
            {"autopilot"},
        ),
        ("fine-tune a pretrained llm", None, [], {"jumpstart"}),
        ("tune hyperparameters", None, [], {"automatic-model-tuning"}),
        ("check my model for bias", None, [], {"clarify"}),
        ("detect data drift on my endpoint", None, [], {"model-monitor"}),
        ("who deleted my endpoint", None, [], {"cloudtrail"}),
        ("alarm when latency is high", None, [], {"cloudwatch"}),
        ("automate retraining every week", None, [], {"pipelines"}),
        ("share features across teams", None, [], {"feature-store"}),
        ("what about athena", None, [], {"athena"}),
    ],
)
def test_recommend_ranks_the_right_service_first(goal, stage, constraints, first) -> None:
    assert top(goal, stage, constraints)[0] in first


def test_constraints_change_the_ranking() -> None:
    plain = top(stage="deployment", n=10)
    cheap = top(stage="deployment", constraints=["cheapest"], n=10)
    assert plain[0] == "endpoints"
    assert cheap[0] == "serverless-inference"
    assert cheap.index("endpoints") > cheap.index("batch-transform")
    # "no code" pushes code-first services down and says why
    ranked, _ = recommender.recommend(stage="preparation", constraints=["no code"], limit=10)
    lam = next(r for r in ranked if r.service.id == "lambda")
    assert any("does not fit 'no-code'" in reason for reason in lam.reasons)
    assert [r.service.id for r in ranked].index("lambda") > 2


def test_recommend_is_deterministic_and_explains() -> None:
    a = recommender.recommend("deploy cheaply", limit=5)
    b = recommender.recommend("deploy cheaply", limit=5)
    assert [r.to_dict() for r in a[0]] == [r.to_dict() for r in b[0]]
    ranked, understood = a
    assert understood == {"stages": ["deployment"], "constraints": ["cheapest"]}
    assert all(r.reasons for r in ranked)
    assert ranked == sorted(ranked, key=lambda r: -r.score)


def test_explicit_stage_limits_the_results() -> None:
    ranked, _ = recommender.recommend("anything cheap", stage="tuning", limit=10)
    assert [r.service.id for r in ranked] == ["automatic-model-tuning"]
    with pytest.raises(ValueError, match="unknown stage 'astrology'"):
        recommender.recommend("x", stage="astrology")


# --- the knowledge tools -------------------------------------------------------------------------
@pytest.fixture
def ctx() -> ToolContext:
    from tools.aws.context import AwsContext

    # No AWS call is made by these tools; the endpoint is never contacted.
    return ToolContext(AwsContext(sandbox_endpoint="http://127.0.0.1:9", session_id="k"))


def test_knowledge_tools_are_registered_as_general_free_reads() -> None:
    registry = load_all()
    for name in ("list_stages", "recommend_services", "describe_service"):
        spec = registry.get(name)
        assert spec.stage == "general" and spec.risk == "read" and spec.operations == ()
        assert 3 <= len(spec.phrases) <= 8
        body = json.dumps(spec.to_bedrock_tool_spec())
        assert len(body) < 1200, (name, len(body))


def test_list_stages_tool(ctx: ToolContext) -> None:
    result = load_all().get("list_stages").run(ctx, {})
    assert [r["stage"] for r in result.data["rows"]] == [sid for sid, _, _ in STAGES]
    assert "9. Automation & orchestration" in result.text
    assert "Amazon SageMaker Pipelines" in result.text
    assert len(result.text) < 2500


def test_recommend_services_tool(ctx: ToolContext) -> None:
    spec = load_all().get("recommend_services")
    result = spec.run(ctx, {"goal": "stream sensor events", "limit": 3})
    rows = result.data["rows"]
    assert rows[0]["id"] == "kinesis" and len(rows) <= 3
    assert result.text.splitlines()[1].startswith("1. Amazon Kinesis")
    assert "streaming" in result.data["understood"]["constraints"]
    # tools are named only when they are registered in this build
    registry = load_all()
    for row in rows:
        assert all(name in registry for name in row["available_tools"])
    prep = spec.run(ctx, {"stage": "preparation", "constraints": ["no code"]})
    assert prep.data["rows"][0]["console_only"] in (True, False)
    assert "console:" in prep.text  # Data Wrangler has no programmatic path
    with pytest.raises(ToolError, match="give a goal or a stage"):
        spec.run(ctx, {})
    with pytest.raises(ToolError, match="stage"):
        spec.run(ctx, {"stage": "astrology"})
    with pytest.raises(ToolError, match="limit"):
        spec.run(ctx, {"goal": "x", "limit": 50})


def test_describe_service_tool(ctx: ToolContext) -> None:
    spec = load_all().get("describe_service")
    result = spec.run(ctx, {"service": "athena"})
    assert result.text.startswith("Amazon Athena")
    for label in ("Purpose:", "Use when:", "Avoid when:", "Billing:"):
        assert label in result.text
    assert "$5/TB" in result.text
    assert result.data["id"] == "athena"
    assert set(result.data["available_tools"]) | set(result.data["unavailable_tools"]) == {
        "athena_run_query",
        "athena_list_workgroups",
    }
    wrangler = spec.run(ctx, {"service": "Data Wrangler"})
    assert "Console:" in wrangler.text and wrangler.data["console_only"]
    with pytest.raises(ToolError, match=r"not in the stage catalog\. Did you mean Amazon Athena"):
        spec.run(ctx, {"service": "Athina"})
