"""Issue 17: the offline planner understands the person, or says so and offers choices.

Against the registry's real tools, with scripted tool results where a conversation needs them:
the guided start, numbered choices, no invented names, units, "again", "the two runs", "why did
that fail?", pending questions, reject reasons read as edits, plain questions, "the best model"
and replies for people.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from agent.offline import OfflinePlanner
from agent.offline.memory import META_KEY
from sandbox.server import DEMO_BUCKET, DEMO_KEY
from tools.core.registry import all_tools

DEMO = f"s3://{DEMO_BUCKET}/{DEMO_KEY}"
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"


@pytest.fixture(scope="module")
def model() -> Any:
    return OfflinePlanner().bind_tools(all_tools())


def call_of(msg: AIMessage) -> tuple[str, dict[str, Any]] | None:
    if not msg.tool_calls:
        return None
    return msg.tool_calls[0]["name"], msg.tool_calls[0]["args"]


def meta(msg: AIMessage) -> dict[str, Any]:
    return (msg.additional_kwargs or {}).get(META_KEY) or {}


def result(
    msg: AIMessage, content: str, artifact: dict | None = None, status: str = "success"
) -> ToolMessage:
    tc = msg.tool_calls[0]
    return ToolMessage(
        content, tool_call_id=tc["id"], name=tc["name"], artifact=artifact or {}, status=status
    )


def ran(model: Any, text: str, history: list[BaseMessage], content: str, artifact: dict) -> None:
    """Append a request, the planner's call and its (scripted) result, and the report."""
    human = HumanMessage(text)
    msg = model.invoke([*history, human])
    assert msg.tool_calls, (text, msg.content)
    history.extend([human, msg, result(msg, content, artifact)])
    history.append(model.invoke(history))


# ---- the first minute ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "help",
        "what can you do?",
        "where do I start",
        "hey, where should I even begin?",
        "is there sample data I can use?",
        "I'm new here",
        "what should i try first",
    ],
)
def test_first_minute_is_a_guided_start(model: Any, text: str) -> None:
    msg = model.invoke([HumanMessage(text)])
    assert msg.tool_calls == []
    lines = msg.content.splitlines()
    stages = [line for line in lines if re.match(r"\s+\d\. ", line)]
    assert len(stages) == 9 and "Model deployment" in stages[6]
    assert DEMO in msg.content  # the sandbox's own demo data constants
    tries = re.findall(r'• "([^"]+)"', msg.content)
    assert len(tries) == 3


async def test_the_three_suggested_requests_work(
    model: Any, moto_server: Any, tmp_path: Any
) -> None:
    """The guided start's three requests, as typed, through the runtime in the sandbox with
    the demo data seeded: a preview, the preparation, and training on the prepared data."""
    import boto3

    from agent.events import ApprovalRequested, Decision, ToolCallFinished
    from agent.settings import load_settings
    from agent.startup import open_session
    from sandbox.server import seed_demo

    guide = model.invoke([HumanMessage("help")])
    tries = re.findall(r'• "([^"]+)"', guide.content)
    moto_server.reset()
    s3 = boto3.client(
        "s3",
        endpoint_url=moto_server.endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    seed_demo(s3, rows=200)
    settings = load_settings(sandbox="on", mode="ask", model="offline", state_dir=tmp_path / "s")
    session = await open_session(
        settings, model=OfflinePlanner(), sandbox_endpoint=moto_server.endpoint
    )
    done: list[tuple[str, str]] = []
    try:
        for text in tries:
            events = session.send(text)
            while True:
                pending = []
                async for event in events:
                    if isinstance(event, ApprovalRequested):
                        pending.append(event.request)
                    elif isinstance(event, ToolCallFinished):
                        done.append((event.name, event.status))
                if not pending:
                    break
                events = session.decide({r.call_id: Decision.approve() for r in pending})
    finally:
        await session.aclose()
    assert done == [
        ("s3_preview_object", "success"),
        ("prepare_training_data", "success"),
        ("sagemaker_start_training_job", "success"),
    ]


def test_help_overrides_a_pending_question(model: Any) -> None:
    asked = model.invoke([HumanMessage("upload churn.csv")])
    assert meta(asked)["kind"] == "ask"
    msg = model.invoke([HumanMessage("upload churn.csv"), asked, HumanMessage("help")])
    assert msg.tool_calls == [] and DEMO in msg.content


# ---- the confidence floor: numbered choices ------------------------------------------------


def test_vague_request_gets_numbered_choices_answerable_with_the_number(model: Any) -> None:
    ask = HumanMessage("do something with my data")
    msg = model.invoke([ask])
    assert msg.tool_calls == []
    choices = meta(msg)["choices"]
    assert 2 <= len(choices) <= 3
    assert re.search(r"^\s+1\. .+\n\s+2\. ", msg.content, re.M)
    assert "_" not in msg.content.split("\n", 1)[1]  # plain words, not tool names
    for answer, index in (("2", 1), ("the first one", 0), ("option 2.", 1)):
        picked = model.invoke([ask, msg, HumanMessage(answer)])
        chosen = call_of(picked)
        if chosen is not None:
            assert chosen[0] == choices[index]
        else:  # the chosen tool needs more: its own question, not another tool's
            assert meta(picked)["pending"]["tool"] == choices[index], answer


def test_a_costly_tool_without_a_clear_lead_is_only_offered(model: Any) -> None:
    msg = model.invoke([HumanMessage("start")])
    assert msg.tool_calls == [] and len(meta(msg)["choices"]) >= 2


# ---- never invent names --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "create a bucket",
        "create a glue database",
        "make a feature group from churn.csv",
        "create an experiment",
        "create the pipeline",
        "run the crawler",
        "start the glue job",
        "start databrew job",
        "submit a batch job",
        "create a kinesis stream",
    ],
)
def test_no_name_is_made_up(model: Any, text: str) -> None:
    msg = model.invoke([HumanMessage(text)])
    call = call_of(msg)
    if call is None:
        return  # a question: nothing invented
    name, args = call
    spec = {t.name: t for t in all_tools()}[name]
    for key, value in args.items():
        if isinstance(value, str) and key not in ("role_arn", "role"):
            default = spec.args_model.model_fields[key].default
            assert value in text or value == default, (text, key, value)


# ---- units ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "value"),
    [
        ("alert me if latency on churn-ep goes above 500 ms", "threshold", 500),
        ("ping me when latency on churn-ep is over 1.5 seconds", "threshold", 1500),
    ],
)
def test_alarm_thresholds_are_read_in_the_unit_said(
    model: Any, text: str, key: str, value: float
) -> None:
    name, args = call_of(model.invoke([HumanMessage(text)]))  # type: ignore[misc]
    assert name == "cloudwatch_put_alarm" and args[key] == value
    assert args["endpoint_name"] == "churn-ep" and "alarm_name" not in args


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        (f"train xgboost on {DEMO} but cap it at 45 min", 2700),
        (f"train xgboost on {DEMO} for at most 2 hours", 7200),
        (f"train xgboost on {DEMO}, max runtime 90 minutes", 5400),
    ],
)
def test_durations_become_seconds(model: Any, text: str, seconds: int) -> None:
    name, args = call_of(model.invoke([HumanMessage(text)]))  # type: ignore[misc]
    assert name == "sagemaker_start_training_job" and args["max_runtime_s"] == seconds


def test_gigabytes_become_megabytes(model: Any) -> None:
    text = "deploy model churn-model to a serverless endpoint with 4 GB of memory"
    name, args = call_of(model.invoke([HumanMessage(text)]))  # type: ignore[misc]
    assert name == "sagemaker_create_endpoint" and args["memory_size_mb"] == 4096


def test_percent_becomes_a_fraction_where_the_field_is_one() -> None:
    from agent.offline.entities import extract_entities
    from agent.offline.extract import extract
    from agent.offline.memory import Memory
    from agent.offline.toolinfo import FieldInfo, ToolInfo

    info = ToolInfo(
        "t_split",
        "split data",
        {},
        {"validation_fraction": FieldInfo("validation_fraction", ("number",), maximum=1.0)},
    )
    text = "keep 20% for validation"
    ex = extract(info, text, extract_entities(text), Memory())
    assert ex.args["validation_fraction"] == pytest.approx(0.2)


# ---- again / same but ----------------------------------------------------------------------

TRAIN = (
    f"train xgboost on s3://churn-data/raw/churn.csv named xgb-1 with eta 0.2, "
    f"objective binary:logistic and validation s3://churn-data/val/ with role {ROLE}"
)
TRAINED = {"resources": [{"kind": "sagemaker_training_job", "name": "xgb-1"}]}


def _trained(model: Any) -> list[BaseMessage]:
    history: list[BaseMessage] = []
    ran(model, TRAIN, history, "Started training job xgb-1.", TRAINED)
    return history


def test_again_keeps_every_earlier_argument(model: Any) -> None:
    history = _trained(model)
    first = call_of(history[1])[1]  # type: ignore[index]
    msg = model.invoke([*history, HumanMessage("train it again with max depth 3")])
    name, args = call_of(msg)  # type: ignore[misc]
    assert name == "sagemaker_start_training_job"
    assert args["hyperparameters"] == {**first["hyperparameters"], "max_depth": 3}
    for key in ("train_s3_uri", "validation_s3_uri", "role_arn", "algorithm"):
        assert args.get(key) == first.get(key), key
    assert "job_name" not in args  # a new job: the tool names it


def test_run_it_again_repeats_what_did_something_not_the_last_read(model: Any) -> None:
    history = _trained(model)
    ran(model, "list my buckets", history, "2 buckets.", {"data": {"rows": []}})
    name, args = call_of(  # type: ignore[misc]
        model.invoke([*history, HumanMessage("run it again but with eta 0.1")])
    )
    assert name == "sagemaker_start_training_job" and args["hyperparameters"]["eta"] == 0.1


# ---- the two runs --------------------------------------------------------------------------


def test_the_two_runs_come_from_the_conversation(model: Any) -> None:
    history = _trained(model)
    ran(
        model,
        "train xgboost on s3://churn-data/raw/churn.csv named xgb-2 with max depth 3",
        history,
        "Started training job xgb-2.",
        {"resources": [{"kind": "sagemaker_training_job", "name": "xgb-2"}]},
    )
    for text in ("compare the two runs", "which of those two did better?"):
        name, args = call_of(model.invoke([*history, HumanMessage(text)]))  # type: ignore[misc]
        assert name == "sagemaker_compare_training_jobs" and args["job_names"] == ["xgb-1", "xgb-2"]


def test_the_two_runs_with_one_known_asks_with_what_exists(model: Any) -> None:
    history = _trained(model)
    msg = model.invoke([*history, HumanMessage("compare the two runs")])
    assert msg.tool_calls == []
    assert "xgb-1" in msg.content and msg.content.rstrip().endswith("?")


# ---- why did that fail? --------------------------------------------------------------------


def test_why_did_that_fail_explains_the_last_failure(model: Any) -> None:
    ask = HumanMessage("preview s3://nowhere-1/raw/missing.csv")
    call = model.invoke([ask])
    failed = result(
        call, "NoSuchBucket: The specified bucket does not exist (nowhere-1).", status="error"
    )
    report = model.invoke([ask, call, failed])
    msg = model.invoke([ask, call, failed, report, HumanMessage("why did that fail?")])
    assert msg.tool_calls == []
    assert "s3_preview_object failed" in msg.content and "does not exist" in msg.content
    assert "list my buckets" in msg.content


def test_why_did_it_fail_with_no_failure_describes_the_last_job(model: Any) -> None:
    history = _trained(model)
    name, args = call_of(  # type: ignore[misc]
        model.invoke([*history, HumanMessage("why did it fail?")])
    )
    assert (name, args) == ("sagemaker_describe_training_job", {"job_name": "xgb-1"})


# ---- a pending question --------------------------------------------------------------------


def test_an_answer_fills_the_pending_tool_never_a_destructive_one(model: Any) -> None:
    ask = HumanMessage("batch transform with model churn-model")
    question = model.invoke([ask])
    assert meta(question)["pending"]["tool"] == "sagemaker_start_transform_job"
    answer = HumanMessage("input s3://churn-data/raw/churn.csv and output to s3://churn-data/out/")
    name, args = call_of(model.invoke([ask, question, answer]))  # type: ignore[misc]
    assert name == "sagemaker_start_transform_job"
    assert args["input_s3_uri"] == "s3://churn-data/raw/churn.csv"
    assert args["output_s3_uri"] == "s3://churn-data/out/"


def test_a_new_request_overrides_a_pending_question(model: Any) -> None:
    ask = HumanMessage("create a bucket")
    question = model.invoke([ask])
    msg = model.invoke([ask, question, HumanMessage("actually, just list what buckets I have")])
    assert call_of(msg) == ("s3_list_buckets", {})
    cancel = model.invoke([ask, question, HumanMessage("never mind")])
    assert cancel.tool_calls == [] and "nothing was run" in cancel.content


def test_an_unrelated_reply_asks_again(model: Any) -> None:
    ask = HumanMessage("create a bucket")
    question = model.invoke([ask])
    again = model.invoke([ask, question, HumanMessage("hmm not sure")])
    assert again.tool_calls == [] and meta(again)["pending"]["tool"] == "s3_create_bucket"


# ---- a reject reason is an edit ------------------------------------------------------------


def _rejected(msg: AIMessage, reason: str) -> ToolMessage:
    tc = msg.tool_calls[0]
    return ToolMessage(
        f"The person rejected this call to {tc['name']} (reason: {reason}). It did not run. "
        "Do not retry it unchanged; adjust or ask what they want.",
        tool_call_id=tc["id"],
        name=tc["name"],
        status="error",
        artifact={"sagecoach_status": "rejected"},
    )


def test_reject_reason_use_linear_learner_edits_the_call(model: Any) -> None:
    ask = HumanMessage(TRAIN)
    call = model.invoke([ask])
    msg = model.invoke([ask, call, _rejected(call, "use linear learner instead")])
    name, args = call_of(msg)  # type: ignore[misc]
    assert name == "sagemaker_start_training_job" and args["algorithm"] == "linear-learner"
    assert args["train_s3_uri"] == call_of(call)[1]["train_s3_uri"]  # type: ignore[index]


def test_reject_reason_into_raw_moves_the_upload(
    model: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "churn.csv").write_text("a,b\n1,2\n")
    ask = HumanMessage("upload churn.csv to s3://churn-data/tmp/churn.csv")
    call = model.invoke([ask])
    msg = model.invoke([ask, call, _rejected(call, "into raw/")])
    assert call_of(msg)[1]["s3_uri"] == "s3://churn-data/raw/churn.csv"  # type: ignore[index]


def test_a_plain_reject_is_reported_for_the_person(model: Any) -> None:
    ask = HumanMessage(TRAIN)
    call = model.invoke([ask])
    msg = model.invoke([ask, call, _rejected(call, "too expensive")])
    assert msg.tool_calls == []
    assert "you rejected it (too expensive)" in msg.content
    assert "Do not retry" not in msg.content


# ---- questions people can answer -----------------------------------------------------------


def test_questions_are_plain_words_not_field_dumps(model: Any) -> None:
    for text in (
        "create a databrew dataset named ds-1",
        "show endpoint metrics for churn-ep for 1 minute",
    ):
        msg = model.invoke([HumanMessage(text)])
        assert msg.tool_calls == []
        assert "(arguments)" not in msg.content and "Input should be" not in msg.content
        assert msg.content.rstrip().endswith("?")


def test_questions_offer_what_exists_in_the_account(sandbox: Any, aws: Any) -> None:
    from agent.offline.account import AccountLookup

    aws.client("s3").create_bucket(Bucket="churn-data-77")
    planner = OfflinePlanner(account=AccountLookup(aws)).bind_tools(all_tools())
    msg = planner.invoke([HumanMessage("upload churn.csv")])
    assert msg.tool_calls == [] and "s3://churn-data-77/" in msg.content


# ---- the best model ------------------------------------------------------------------------


def test_best_means_best_by_the_tuning_objective(model: Any) -> None:
    history: list[BaseMessage] = []
    ran(
        model,
        "how is my tuning job hpo-1 doing",
        history,
        "Best: hpo-1-003 with validation:auc=0.91.",
        {"data": {"best_job": "hpo-1-003", "best_metric": "validation:auc", "best_value": 0.91}},
    )
    msg = model.invoke([*history, HumanMessage("deploy the best model")])
    name, args = call_of(msg)  # type: ignore[misc]
    assert name == "sagemaker_create_model" and args["training_job_name"] == "hpo-1-003"
    assert "validation:auc" in msg.content


def test_best_of_two_runs_is_looked_up_then_ranked_by_its_metric(model: Any) -> None:
    history = _trained(model)
    ran(
        model,
        "train xgboost on s3://churn-data/raw/churn.csv named xgb-2 with max depth 3",
        history,
        "Started training job xgb-2.",
        {"resources": [{"kind": "sagemaker_training_job", "name": "xgb-2"}]},
    )
    deploy = HumanMessage("deploy the best model")
    look = model.invoke([*history, deploy])
    assert call_of(look) == (
        "sagemaker_compare_training_jobs",
        {"job_names": ["xgb-1", "xgb-2"]},
    )
    rows = [
        {"job": "xgb-1", "metric:validation:rmse": 0.40},
        {"job": "xgb-2", "metric:validation:rmse": 0.31},
    ]
    compared = result(look, "2 jobs.", {"data": {"rows": rows, "sort_by": "validation:rmse"}})
    name, args = call_of(model.invoke([*history, deploy, look, compared]))  # type: ignore[misc]
    assert name == "sagemaker_create_model" and args["training_job_name"] == "xgb-2"  # lowest


# ---- replies are for the person ------------------------------------------------------------


def test_text_for_the_model_stays_in_the_tool_message(model: Any) -> None:
    ask = HumanMessage("create a model from training job xgb-1")
    call = model.invoke([ask])
    edited = result(
        call,
        "Note: the person edited this call before it ran. Executed sagemaker_create_model with "
        'arguments {"training_job_name": "xgb-1"} (not the ones you proposed).\n\n'
        "Created model xgb-1-model from training job xgb-1. Deploy it with "
        "sagemaker_create_endpoint or run sagemaker_start_transform_job.",
    )
    reply = model.invoke([ask, call, edited]).content
    assert reply.startswith("✓ Created model xgb-1-model from training job xgb-1.")
    assert "Note:" not in reply and "sagemaker_create_endpoint" not in reply


def test_replies_quote_results_and_the_sandboxs_limits(model: Any) -> None:
    ask = HumanMessage("compare training jobs xgb-1 and xgb-2")
    call = model.invoke([ask])
    compared = result(
        call,
        "2 jobs sorted by validation:auc:\n1. xgb-2 (Completed): validation:auc=0.91\n"
        "2. xgb-1 (Completed): validation:auc=0.88\nSandbox: final metrics are moto placeholders.",
        {"data": {"rows": [{"job": "xgb-2"}, {"job": "xgb-1"}], "metrics": ["validation:auc"]}},
    )
    reply = model.invoke([ask, call, compared]).content
    assert "2 jobs sorted by validation:auc" in reply
    assert "Sandbox: final metrics are moto placeholders." in reply


# ---- asking which things exist -------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "tool", "args"),
    [
        ("got any feature groups?", "featurestore_list_feature_groups", {}),
        ("any kinesis streams running?", "kinesis_list_streams", {}),
        ("any tuning jobs fail?", "sagemaker_list_tuning_jobs", {"status": "Failed"}),
        ("did any endpoints get created?", "sagemaker_list_endpoints", {}),
        ("any alarms going off?", "cloudwatch_list_alarms", {}),
        ("any monitoring schedules set up?", "monitor_list_schedules", {}),
        (
            "did any of my training runs crash?",
            "sagemaker_list_training_jobs",
            {"status": "Failed"},
        ),
        ("any tuning jobs running?", "sagemaker_list_tuning_jobs", {"status": "InProgress"}),
        (
            "which training jobs are going right now",
            "sagemaker_list_training_jobs",
            {"status": "InProgress"},
        ),
    ],
)
def test_a_question_about_which_things_exist_lists_them(
    model: Any, text: str, tool: str, args: dict[str, Any]
) -> None:
    """'any X set up?' / 'any X going off?' asks which exist: the verbs describe the things,
    so no create, start or one-name describe is proposed (those would ask for names the person
    never gave, or open an approval)."""
    msg = model.invoke([HumanMessage(text)])
    assert call_of(msg) == (tool, args), (text, msg.content)


def test_a_question_about_which_things_exist_never_proposes_a_mutation(model: Any) -> None:
    registry = {t.name: t for t in all_tools()}
    for text in (
        "is there a crawler set up already?",
        "any autopilot runs going?",
        "are there any endpoints still up?",
        "what hyperparameter searches have I got going",
        "any transform jobs finished?",
    ):
        call = call_of(model.invoke([HumanMessage(text)]))
        assert call is None or registry[call[0]].risk == "read", (text, call)


# ---- the person's own verb, purpose clauses, questions about a service -----------------------
@pytest.mark.parametrize(
    ("text", "tool", "args"),
    [
        ("list everything you created", "session_list_resources", {}),
        ("delete everything you created", "session_cleanup", {}),
        (
            "show me training jobs that are still running",
            "sagemaker_list_training_jobs",
            {"status": "InProgress"},
        ),
        ("remind me what sagemaker clarify does", "describe_service", {"service": "clarify"}),
        ("what happens if i delete the bucket", "describe_service", {"service": "s3"}),
        ("show me how to deploy", "recommend_services", None),
    ],
)
def test_what_the_person_asks_for_is_what_runs(
    model: Any, text: str, tool: str, args: dict[str, Any] | None
) -> None:
    """A tool that deletes or bills is never proposed for a request whose only verbs are
    another tool's ('list everything you created' is not 'delete everything you created'); a
    kind named in the plural is listed by its own list tool, not by a generic one."""
    call = call_of(model.invoke([HumanMessage(text)]))
    assert call is not None and call[0] == tool, (text, call)
    if args is not None:
        assert call[1] == args


@pytest.mark.parametrize(
    ("text", "tool"),
    [
        ("crawl s3://churn-data/raw/ so athena can query it", "glue_create_crawler"),
        ("create a kinesis stream for clickstream events", "kinesis_create_stream"),
        ("turn on data capture", "sagemaker_update_endpoint"),
        ("can you check if training finished", "sagemaker_describe_training_job"),
    ],
)
def test_the_question_asked_is_for_the_tool_the_person_meant(
    model: Any, text: str, tool: str
) -> None:
    """'so athena can query it' says why, not what to run; a plural in a purpose ('for
    clickstream events') does not make it a list; 'turn on' is enable."""
    msg = model.invoke([HumanMessage(text)])
    assert not msg.tool_calls, (text, msg.tool_calls)
    assert meta(msg)["pending"]["tool"] == tool, (text, msg.content)


def test_a_hyperparameter_named_in_a_request_is_never_taken_for_a_name(model: Any) -> None:
    """'tune eta and max_depth' names what to tune, not the tuning job."""
    msg = model.invoke([HumanMessage("tune eta and max_depth for my xgboost model")])
    assert not msg.tool_calls
    pending = meta(msg)["pending"]
    assert pending["tool"] == "sagemaker_start_tuning_job"
    assert "max_depth" not in (pending.get("args") or {}).values()
    assert "max_depth' may contain only" not in msg.content
