"""The offline planner against the registry's real tools: knowledge routing, nested arguments
(hyperparameters, tuning ranges), second names, made-first prerequisites, rows from a file,
spelling, and the short replies written after tool results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from agent.offline import OfflinePlanner
from agent.offline.extract import match_service, match_stage
from agent.offline.memory import Call
from agent.offline.reply import result_reply
from agent.offline.structured import find_hyperparameters, find_ranges
from tools.core.registry import all_tools


@pytest.fixture(scope="module")
def model() -> Any:
    return OfflinePlanner().bind_tools(all_tools())


def call_of(msg: AIMessage) -> tuple[str, dict[str, Any]] | None:
    if not msg.tool_calls:
        return None
    assert len(msg.tool_calls) == 1
    return msg.tool_calls[0]["name"], msg.tool_calls[0]["args"]


def result(msg: AIMessage, content: str, artifact: dict | None = None) -> ToolMessage:
    tc = msg.tool_calls[0]
    return ToolMessage(content, tool_call_id=tc["id"], name=tc["name"], artifact=artifact or {})


# ---- knowledge routing ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tool", "args"),
    [
        ("what should I use to store features?", "recommend_services", {"stage": "features"}),
        (
            "which service should I use to label and store features?",
            "recommend_services",
            {"stage": "features"},
        ),
        ("best way to share features across teams?", "recommend_services", {"stage": "features"}),
        ("wat shoud i use to stor featurs?", "recommend_services", {"stage": "features"}),
        ("how should I store raw data for ML?", "recommend_services", {"stage": "collection"}),
        ("how is autopilot billed?", "describe_service", {"service": "autopilot"}),
        (
            "what does a serverless endpoint cost?",
            "describe_service",
            {"service": "serverless-inference"},
        ),
        ("when should I not use DataBrew?", "describe_service", {"service": "databrew"}),
        ("athena pricing?", "describe_service", {"service": "athena"}),
        # about what is running, not about a service in general
        ("what does my endpoint cost", "sagemaker_list_endpoints", {}),
        ("what is running and what does it cost?", "session_list_resources", {}),
    ],
)
def test_knowledge_routing(model: Any, text: str, tool: str, args: dict[str, Any]) -> None:
    got = call_of(model.invoke([HumanMessage(text)]))
    assert got is not None, text
    name, got_args = got
    assert name == tool, (text, got)
    assert {k: got_args.get(k) for k in args} == args


def test_stage_and_service_words() -> None:
    assert match_stage("what should I use to store features?") == "features"
    assert match_stage("how should I store raw data?") == "collection"
    assert match_stage("share features across teams") == "features"
    assert match_stage("store") == "collection"
    # catalog keywords ("store", "feature") do not name a service; names do, in any plural
    assert match_service("what should I use to store features?") is None
    assert match_service("what do serverless endpoints cost") == "serverless-inference"
    assert match_service("tell me about the feature store") == "feature-store"


# ---- nested arguments ----------------------------------------------------------------------


def test_training_hyperparameters_reach_the_nested_shape(model: Any) -> None:
    text = (
        "train an xgboost model on s3://churn-data/train/ for 50 rounds with eta 0.1, "
        "max depth 6 and objective binary:logistic"
    )
    name, args = call_of(model.invoke([HumanMessage(text)]))  # type: ignore[misc]
    assert name == "sagemaker_start_training_job"
    assert args["hyperparameters"] == {
        "num_round": 50,
        "eta": 0.1,
        "max_depth": 6,
        "objective": "binary:logistic",
    }
    assert "max_runtime_s" not in args  # "6 and" is not six days
    spec = {s.name: s for s in all_tools()}["sagemaker_start_training_job"]
    spec.validate(args)  # the tool accepts exactly this


def test_linear_learner_and_kmeans_words() -> None:
    assert find_hyperparameters("for 20 epochs, learning rate 0.01", "linear-learner").values == {
        "epochs": 20,
        "learning_rate": 0.01,
    }
    assert find_hyperparameters("5 clusters over 10 features", "kmeans").values == {
        "k": 5,
        "feature_dim": 10,
    }
    # the most specific name wins: "early stopping rounds 10" is not num_round
    assert find_hyperparameters("early stopping rounds 10 and 300 rounds", "xgboost").values == {
        "early_stopping_rounds": 10,
        "num_round": 300,
    }


def test_tuning_ranges_reach_the_nested_shape(model: Any) -> None:
    text = (
        "tune eta between 0.01 and 0.3 on a log scale and max_depth from 3 to 10 on "
        "s3://churn-data/train/ with validation s3://churn-data/val/, 20 jobs, 4 at a time"
    )
    name, args = call_of(model.invoke([HumanMessage(text)]))  # type: ignore[misc]
    assert name == "sagemaker_start_tuning_job"
    assert args["ranges"] == [
        {"name": "eta", "type": "continuous", "min": 0.01, "max": 0.3, "scaling": "Logarithmic"},
        {"name": "max_depth", "type": "integer", "min": 3, "max": 10},
    ]
    assert args["train_s3_uri"] == "s3://churn-data/train/"
    assert args["validation_s3_uri"] == "s3://churn-data/val/"
    assert (args["max_jobs"], args["max_parallel_jobs"]) == (20, 4)
    assert "objective_type" not in args  # "max_depth" is not "maximize"
    spec = {s.name: s for s in all_tools()}["sagemaker_start_tuning_job"]
    spec.validate(args)


def test_range_scaling_and_categorical_values() -> None:
    found = find_ranges(
        "tune the learning rate 0.001-0.1, subsample 0.5 to 1 and objective in "
        "binary:logistic or reg:logistic, log scale",
        "xgboost",
    ).values["ranges"]
    by_name = {r["name"]: r for r in found}
    # a trailing "log scale" goes to the learning-rate kind of range only
    assert by_name["eta"]["scaling"] == "Logarithmic"
    assert by_name["subsample"] == {"name": "subsample", "type": "continuous", "min": 0.5, "max": 1}
    assert by_name["objective"]["values"] == ["binary:logistic", "reg:logistic"]


def test_tuning_without_ranges_asks(model: Any) -> None:
    msg = model.invoke([HumanMessage("tune hyperparameters on s3://churn-data/train/")])
    assert msg.tool_calls == [] and "ranges" in msg.content


def test_called_fills_the_name_the_tool_still_needs(model: Any) -> None:
    text = "put a lambda in front of endpoint churn-ep called churn-proxy"
    assert call_of(model.invoke([HumanMessage(text)])) == (
        "lambda_create_endpoint_proxy",
        {"endpoint_name": "churn-ep", "function_name": "churn-proxy"},
    )


def test_a_required_value_the_tool_names_is_asked_for_then_filled(model: Any) -> None:
    first = HumanMessage("train a random cut forest on s3://churn-data/train/")
    ask = model.invoke([first])
    assert ask.tool_calls == [] and "feature_dim" in ask.content  # the tool's own reason
    name, args = call_of(model.invoke([first, ask, HumanMessage("feature_dim 12")]))  # type: ignore[misc]
    assert name == "sagemaker_start_training_job"
    assert args["algorithm"] == "randomcutforest"
    assert args["hyperparameters"] == {"feature_dim": 12}


# ---- prerequisites, rows from a file -------------------------------------------------------


TRAINED = {
    "data": {"job_name": "xgb-1"},
    "resources": [{"kind": "sagemaker_training_job", "name": "xgb-1", "hourly_usd": 0.115}],
}


def test_deploy_after_training_makes_the_model_first(model: Any) -> None:
    train = HumanMessage("train xgboost on s3://churn-data/raw/churn.csv named xgb-1")
    started = model.invoke([train])
    assert call_of(started)[0] == "sagemaker_start_training_job"  # type: ignore[index]
    history = [train, started, result(started, "Started training job xgb-1.", TRAINED)]
    history.append(model.invoke(history))  # the report
    deploy = HumanMessage("deploy it to a serverless endpoint")
    first = model.invoke([*history, deploy])
    name, args = call_of(first)  # type: ignore[misc]
    assert name == "sagemaker_create_model"
    assert args["training_job_name"] == "xgb-1"
    assert "model_name" not in args  # the tool's declared default names it, not the planner
    model_name = "xgb-1-model"
    assert "a model comes first: making it from xgb-1" in first.content
    made = result(
        first,
        f"Created model {model_name} from training job xgb-1.",
        {"resources": [{"kind": "sagemaker_model", "name": model_name}]},
    )
    second = model.invoke([*history, deploy, first, made])
    name, args = call_of(second)  # type: ignore[misc]
    assert name == "sagemaker_create_endpoint"
    assert args["model_name"] == model_name and args["endpoint_type"] == "serverless"
    assert "endpoint_name" not in args
    done = result(
        second,
        "Endpoint xgb-1-model-ep (serverless) is InService; bills per request.",
        {"resources": [{"kind": "sagemaker_endpoint", "name": "xgb-1-model-ep"}]},
    )
    final = model.invoke([*history, deploy, first, made, second, done])
    assert final.tool_calls == []
    assert final.content.startswith(f"✓ Created model {model_name}")
    assert "invoke the endpoint" in final.content  # the next step


def test_rows_from_the_csv_become_the_payload(
    model: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data.csv").write_text("id,a,b\nr1,1,2\nr2,3,4\nr3,5,6\nr4,7,8\n")
    text = "score the first 2 rows of data.csv with endpoint churn-ep"
    assert call_of(model.invoke([HumanMessage(text)])) == (
        "sagemaker_invoke_endpoint",
        {"endpoint_name": "churn-ep", "payload": "r1,1,2\nr2,3,4"},
    )
    inline = "invoke endpoint churn-ep with C1,2023-08-10,NY,39,36.34,no,0"
    assert call_of(model.invoke([HumanMessage(inline)])) == (
        "sagemaker_invoke_endpoint",
        {"endpoint_name": "churn-ep", "payload": "C1,2023-08-10,NY,39,36.34,no,0"},
    )


# ---- replies -------------------------------------------------------------------------------


def _infos() -> tuple[dict[str, Any], list[Any]]:
    from agent.offline.model import _to_openai, planner_for

    planner = planner_for([_to_openai(s) for s in all_tools()])
    return planner.by_name, planner.tools


def test_reply_does_not_repeat_the_card() -> None:
    by_name, tools = _infos()
    text = (
        "Started training job xgb-9: XGBoost 1.7-1 on 1 × ml.m5.large, stops after 60 min at "
        "most. Cost bound: $0.01–$0.12 (1 × ml.m5.large × up to 1 h × $0.115/h).\n"
        "Output: s3://b/out/xgb-9/output/model.tar.gz\nNote: CSV: label in the first column.\n"
        "Check it with sagemaker_describe_training_job."
    )
    call = Call(
        "c1",
        "sagemaker_start_training_job",
        {},
        0,
        status="success",
        content=text,
        artifact={"data": {"job_name": "xgb-9"}, "resources": TRAINED["resources"]},
    )
    reply = result_reply([call], by_name, tools, "train it")
    lines = reply.splitlines()
    assert lines[0].startswith("✓ Started training job xgb-9")
    assert "Note: CSV" not in reply and "Check it with" not in reply  # left in the card
    assert "$0.115/h" in reply
    assert lines[-1].startswith("Next: deploy")
    assert len(reply) < len(text)


def test_reply_counts_rows_instead_of_listing_them() -> None:
    by_name, tools = _infos()
    rows = [{"name": f"ep-{i}", "status": "InService", "id": f"x{i}"} for i in range(12)]
    call = Call(
        "c1",
        "sagemaker_list_endpoints",
        {},
        0,
        status="success",
        content="12 endpoints:\n" + "\n".join(f"- ep-{i}" for i in range(12)),
        artifact={"data": {"rows": rows}},
    )
    reply = result_reply([call], by_name, tools, "list my endpoints")
    assert "12 rows in the table" in reply
    assert "ep-0" in reply and "ep-3" not in reply and "x0" not in reply


def test_knowledge_replies_answer_the_question(tool_ctx: Any) -> None:
    by_name, tools = _infos()
    specs = {s.name: s for s in all_tools()}

    def ask(tool: str, args: dict[str, Any], request: str) -> str:
        res = specs[tool].run(tool_ctx, args)
        call = Call("c", tool, args, 0, status="success", content=res.text, artifact=res.artifact())
        return result_reply([call], by_name, tools, request)

    rec = ask(
        "recommend_services",
        {"goal": "what should I use to store features?", "stage": "features"},
        "what should I use to store features?",
    )
    assert rec.startswith("✓ Feature engineering → Amazon SageMaker Feature Store")
    assert "offline planner — no LLM" in rec
    billed = ask("describe_service", {"service": "autopilot"}, "how is autopilot billed?")
    assert "Billing:" in billed and "Avoid" not in billed
    avoid = ask("describe_service", {"service": "databrew"}, "when should I not use DataBrew?")
    assert "Avoid it when:" in avoid


def test_a_later_step_that_asks_keeps_the_rest_of_the_steps(model: Any, tmp_path: Path) -> None:
    request = HumanMessage("create a bucket called demo-bkt-77 and upload nothere.csv to it")
    first = model.invoke([request])
    assert call_of(first) == ("s3_create_bucket", {"bucket": "demo-bkt-77"})
    made = result(
        first,
        "Created bucket s3://demo-bkt-77 in us-east-1.",
        {"resources": [{"kind": "s3_bucket", "name": "demo-bkt-77"}]},
    )
    second = model.invoke([request, first, made])
    assert second.tool_calls == []
    # what was done, then the question about the file that is not there
    assert second.content.startswith("✓ Created bucket s3://demo-bkt-77")
    assert "nothere.csv" in second.content and second.content.rstrip().endswith("?")


def test_reply_keeps_the_case_of_names() -> None:
    by_name, tools = _infos()
    call = Call(
        "c1",
        "sagemaker_create_model",
        {},
        0,
        status="success",
        content="Created model ChurnModel-A.",
        artifact={"resources": [{"kind": "sagemaker_endpoint_config", "name": "Churn-CFG-1"}]},
    )
    reply = result_reply([call], by_name, tools, "make a model")
    assert "Created SageMaker endpoint config Churn-CFG-1." in reply
