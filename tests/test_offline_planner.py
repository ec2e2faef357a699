"""The offline planner's engine against test-only tools (not the registry's stage tools).

Each test calls the planner as LangGraph would: a list of messages in, one AIMessage out.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from pydantic import BaseModel, ConfigDict, Field

from agent.offline import LABEL, OfflinePlanner, split_steps
from agent.offline.entities import extract_entities
from agent.offline.planner import META_KEY
from tools.core.declaration import ToolSpec
from tools.core.results import ToolResult
from tools.core.validators import BucketName, InstanceType, LocalFile, RoleArn, S3Uri, SageMakerName


class CreateBucket(BaseModel):
    model_config = ConfigDict(extra="forbid")
    bucket: BucketName


class Upload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    local_path: Annotated[LocalFile, Field(description="Local file to upload")]
    destination: Annotated[S3Uri, Field(description="S3 URI to upload to")]


class Preview(BaseModel):
    model_config = ConfigDict(extra="forbid")
    s3_uri: S3Uri
    max_rows: Annotated[int, Field(ge=1, le=100)] = 10


class Train(BaseModel):
    model_config = ConfigDict(extra="forbid")
    algorithm: Literal["xgboost", "linear-learner", "kmeans"] = "xgboost"
    train_s3_uri: S3Uri
    instance_type: InstanceType = "ml.m5.xlarge"
    instance_count: Annotated[int, Field(ge=1, le=10)] = 1
    max_runtime_s: Annotated[int, Field(ge=60)] = 3600
    num_round: Annotated[int | None, Field(ge=1, le=10000)] = None
    use_spot: bool = False
    role_arn: RoleArn
    job_name: SageMakerName | None = None


class JobName(BaseModel):
    model_config = ConfigDict(extra="forbid")
    job_name: SageMakerName


class CreateEndpoint(BaseModel):
    model_config = ConfigDict(extra="forbid")
    endpoint_name: SageMakerName
    model_name: SageMakerName
    endpoint_type: Literal["realtime", "serverless"] = "realtime"
    instance_type: InstanceType = "ml.m5.large"


class EndpointName(BaseModel):
    model_config = ConfigDict(extra="forbid")
    endpoint_name: SageMakerName


class Recommend(BaseModel):
    model_config = ConfigDict(extra="forbid")
    goal: Annotated[str, Field(description="A stage or a goal in words")]
    stage: (
        Literal[
            "collection",
            "preparation",
            "features",
            "training",
            "tuning",
            "evaluation",
            "deployment",
            "monitoring",
            "orchestration",
        ]
        | None
    ) = None


class DescribeService(BaseModel):
    model_config = ConfigDict(extra="forbid")
    service: Annotated[str, Field(description="Service name")]


class Empty(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _noop(ctx: Any, args: Any) -> ToolResult:
    return ToolResult("ok")


def spec(
    name: str, stage: str, risk: str, model: type[BaseModel], desc: str, *phrases: str
) -> ToolSpec:
    return ToolSpec(
        name=name,
        stage=stage,
        description=desc,
        risk=risk,  # type: ignore[arg-type]
        operations=(),
        args_model=model,
        func=_noop,
        phrases=phrases,
    )


TOOLS = [
    spec("t_s3_create_bucket", "collection", "write", CreateBucket, "Create an S3 bucket.",
         "create a bucket", "make a new s3 bucket"),
    spec("t_s3_upload_file", "collection", "write", Upload, "Upload a local file to S3.",
         "upload a file", "put data in s3", "copy my csv to s3"),
    spec("t_s3_preview_object", "collection", "read", Preview,
         "Show the first rows of a CSV object in S3.", "preview a file", "show the first rows",
         "peek at the data"),
    spec("t_s3_list_buckets", "collection", "read", Empty, "List S3 buckets.", "list my buckets",
         "what buckets do i have"),
    spec("t_sagemaker_start_training_job", "training", "costly", Train,
         "Start a SageMaker training job with a built-in algorithm.", "train a model",
         "start a training job", "fit xgboost"),
    spec("t_sagemaker_describe_training_job", "training", "read", JobName,
         "Status and metrics of a training job.", "training job status", "how is my training going",
         "describe the training job"),
    spec("t_sagemaker_create_endpoint", "deployment", "costly", CreateEndpoint,
         "Deploy a model to a SageMaker endpoint.", "deploy the model", "create an endpoint",
         "host my model"),
    spec("t_sagemaker_delete_endpoint", "deployment", "destructive", EndpointName,
         "Delete a SageMaker endpoint.", "delete the endpoint", "tear down the endpoint"),
    spec("recommend_services", "general", "read", Recommend,
         "Recommend AWS services for a pipeline stage or goal.", "which service should i use",
         "what should i use for", "recommend a service"),
    spec("describe_service", "general", "read", DescribeService,
         "Explain one AWS service: purpose, when to use it, billing.", "how is it billed",
         "what is", "tell me about a service"),
]  # fmt: skip
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"


@pytest.fixture
def model() -> Any:
    return OfflinePlanner().bind_tools(TOOLS)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "data.csv").write_text("a,b\n1,2\n")
    (tmp_path / "churn.csv").write_text("a,churn\n1,0\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def call_of(msg: AIMessage) -> tuple[str, dict[str, Any]] | None:
    if not msg.tool_calls:
        return None
    assert len(msg.tool_calls) == 1
    return msg.tool_calls[0]["name"], msg.tool_calls[0]["args"]


def meta(msg: AIMessage) -> dict[str, Any]:
    return msg.additional_kwargs[META_KEY]


def tool_result(
    msg: AIMessage, content: str, artifact: dict | None = None, status: str = "success"
) -> ToolMessage:
    tc = msg.tool_calls[0]
    return ToolMessage(
        content, tool_call_id=tc["id"], name=tc["name"], artifact=artifact or {}, status=status
    )


# ---- routing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tool"),
    [
        ("create a bucket named ml-data-123", "t_s3_create_bucket"),
        ("pls make me a new bukcet called ml-data-123", "t_s3_create_bucket"),
        ("what buckets do I have?", "t_s3_list_buckets"),
        ("show me the first rows of s3://ml-data-123/raw/churn.csv", "t_s3_preview_object"),
        ("peek at s3://ml-data-123/raw/churn.csv", "t_s3_preview_object"),
        (
            f"train an xgboost model on s3://b1x/train.csv with role {ROLE}",
            "t_sagemaker_start_training_job",
        ),
        ("how is training job xgb-7 going", "t_sagemaker_describe_training_job"),
        ("deploy model churn-m1 to an endpoint called churn-ep", "t_sagemaker_create_endpoint"),
        ("tear down endpoint churn-ep", "t_sagemaker_delete_endpoint"),
        ("which service should I use for feature engineering?", "recommend_services"),
        ("how is autopilot billed?", "describe_service"),
    ],
)
def test_routes_requests_to_the_right_tool(model: Any, workdir: Path, text: str, tool: str) -> None:
    got = call_of(model.invoke([HumanMessage(text)]))
    assert got is not None, text
    assert got[0] == tool


def test_extracts_typed_arguments(model: Any, workdir: Path) -> None:
    msg = model.invoke(
        [
            HumanMessage(
                "train a linear learner on s3://b1x/train.csv using 2 ml.c5.2xlarge instances "
                f"for at most 3 hours, 50 rounds, spot please, role {ROLE}"
            )
        ]
    )
    name, args = call_of(msg)
    assert name == "t_sagemaker_start_training_job"
    assert args == {
        "algorithm": "linear-learner",
        "train_s3_uri": "s3://b1x/train.csv",
        "instance_type": "ml.c5.2xlarge",
        "instance_count": 2,
        "max_runtime_s": 10800,
        "num_round": 50,
        "use_spot": True,
        "role_arn": ROLE,
    }


def test_enum_and_names_for_deployment(model: Any, workdir: Path) -> None:
    name, args = call_of(
        model.invoke(
            [HumanMessage("deploy model churn-m1 as a serverless endpoint named churn-ep")]
        )
    )
    assert name == "t_sagemaker_create_endpoint"
    assert args == {
        "endpoint_name": "churn-ep",
        "model_name": "churn-m1",
        "endpoint_type": "serverless",
    }


def test_knowledge_question_fills_stage_and_goal(model: Any) -> None:
    name, args = call_of(model.invoke([HumanMessage("what should I use for feature engineering?")]))
    assert name == "recommend_services"
    assert args["stage"] == "features"
    assert "feature engineering" in args["goal"]


def test_missing_required_value_asks_instead_of_inventing(model: Any, workdir: Path) -> None:
    msg = model.invoke([HumanMessage("create a bucket")])
    assert msg.tool_calls == []
    assert "bucket" in msg.content and msg.content.rstrip().endswith("?")
    assert meta(msg)["kind"] == "ask"
    # the answer completes the call
    msg2 = model.invoke([HumanMessage("create a bucket"), msg, HumanMessage("ml-data-123")])
    assert call_of(msg2) == ("t_s3_create_bucket", {"bucket": "ml-data-123"})


def test_training_without_a_role_asks_for_it(model: Any) -> None:
    msg = model.invoke([HumanMessage("train xgboost on s3://b1x/train.csv")])
    assert msg.tool_calls == []
    assert "role arn (IAM role ARN SageMaker assumes)" in msg.content  # plain words, no dump
    answer = model.invoke(
        [HumanMessage("train xgboost on s3://b1x/train.csv"), msg, HumanMessage(ROLE)]
    )
    name, args = call_of(answer)
    assert name == "t_sagemaker_start_training_job"
    assert args["role_arn"] == ROLE and args["train_s3_uri"] == "s3://b1x/train.csv"


def test_invalid_value_is_named_not_sent(model: Any) -> None:
    msg = model.invoke([HumanMessage("create a bucket named My_Bucket")])
    assert msg.tool_calls == []
    assert "underscores" in msg.content or "lower case" in msg.content


def test_missing_local_file_is_reported(model: Any, workdir: Path) -> None:
    msg = model.invoke([HumanMessage("upload nothere.csv to s3://b1x/raw/")])
    assert msg.tool_calls == []
    assert "nothere.csv" in msg.content


# ---- context -------------------------------------------------------------------------------


def test_it_refers_to_the_last_resource(model: Any, workdir: Path) -> None:
    first = HumanMessage("deploy model churn-m1 to an endpoint called churn-ep")
    ai = model.invoke([first])
    result = tool_result(
        ai,
        "Endpoint churn-ep is InService.",
        {
            "data": {"status": "InService"},
            "resources": [{"kind": "sagemaker_endpoint", "name": "churn-ep", "hourly_usd": 0.115}],
        },
    )
    report = model.invoke([first, ai, result])
    assert report.tool_calls == []
    assert "churn-ep" in report.content and "Next stage" in report.content
    history = [first, ai, result, report]
    name, args = call_of(model.invoke([*history, HumanMessage("ok now delete it")]))
    assert (name, args) == ("t_sagemaker_delete_endpoint", {"endpoint_name": "churn-ep"})
    name, args = call_of(model.invoke([*history, HumanMessage("get rid of the endpoint")]))
    assert (name, args) == ("t_sagemaker_delete_endpoint", {"endpoint_name": "churn-ep"})


def test_that_job_refers_to_the_training_job(model: Any, workdir: Path) -> None:
    first = HumanMessage(f"train xgboost on s3://b1x/train.csv named xgb-1 with role {ROLE}")
    ai = model.invoke([first])
    assert call_of(ai)[1]["job_name"] == "xgb-1"
    result = tool_result(
        ai, "Started xgb-1.", {"resources": [{"kind": "sagemaker_training_job", "name": "xgb-1"}]}
    )
    report = model.invoke([first, ai, result])
    name, args = call_of(
        model.invoke([first, ai, result, report, HumanMessage("how's that job doing?")])
    )
    assert (name, args) == ("t_sagemaker_describe_training_job", {"job_name": "xgb-1"})


def test_do_the_same_for_repeats_the_last_call(model: Any, workdir: Path) -> None:
    first = HumanMessage("preview s3://b1x/raw/a.csv, 5 rows")
    ai = model.invoke([first])
    assert call_of(ai) == ("t_s3_preview_object", {"s3_uri": "s3://b1x/raw/a.csv", "max_rows": 5})
    result = tool_result(ai, "5 rows")
    report = model.invoke([first, ai, result])
    again = model.invoke(
        [first, ai, result, report, HumanMessage("do the same for s3://b1x/raw/b.csv")]
    )
    assert call_of(again) == (
        "t_s3_preview_object",
        {"s3_uri": "s3://b1x/raw/b.csv", "max_rows": 5},
    )


def test_several_steps_become_consecutive_calls(model: Any, workdir: Path) -> None:
    request = HumanMessage("upload data.csv to s3://b1x/raw/data.csv and then preview it")
    first = model.invoke([request])
    assert call_of(first) == (
        "t_s3_upload_file",
        {"local_path": "data.csv", "destination": "s3://b1x/raw/data.csv"},
    )
    assert first.content.startswith("Step 1 of 2")
    done = tool_result(first, "Uploaded data.csv (12 bytes).")
    second = model.invoke([request, first, done])
    assert call_of(second) == ("t_s3_preview_object", {"s3_uri": "s3://b1x/raw/data.csv"})
    done2 = tool_result(second, "a,b / 1,2")
    final = model.invoke([request, first, done, second, done2])
    assert final.tool_calls == []
    # one line per call, not the tool names again (the cards show those)
    assert final.content.splitlines()[:2] == ["✓ Uploaded data.csv (12 bytes).", "✓ a,b / 1,2"]


def test_a_failed_step_stops_the_rest(model: Any, workdir: Path) -> None:
    request = HumanMessage("upload data.csv to s3://b1x/raw/data.csv and then preview it")
    first = model.invoke([request])
    failed = tool_result(first, "User rejected the tool call", status="error")
    final = model.invoke([request, first, failed])
    assert final.tool_calls == []
    assert "not run" in final.content


def test_split_steps() -> None:
    assert split_steps("create a bucket named x and upload data.csv to it, then preview it") == [
        "create a bucket named x",
        "upload data.csv to it",
        "preview it",
    ]
    assert split_steps("train and evaluate the model") == ["train and evaluate the model"]


# ---- direct form, small talk, streaming ---------------------------------------------------


def test_direct_tool_form(model: Any) -> None:
    msg = model.invoke([HumanMessage("/tool t_s3_preview_object s3_uri=s3://b1x/a.csv max_rows=3")])
    assert call_of(msg) == ("t_s3_preview_object", {"s3_uri": "s3://b1x/a.csv", "max_rows": 3})
    bad = model.invoke([HumanMessage("/tool t_s3_preview_object s3_uri=nope")])
    assert bad.tool_calls == [] and "S3 URI" in bad.content
    unknown = model.invoke([HumanMessage("/tool s3_preveiw")])
    assert unknown.tool_calls == [] and "no tool named" in unknown.content


def test_small_talk_is_answered_honestly(model: Any) -> None:
    msg = model.invoke([HumanMessage("hi, what can you do?")])
    assert msg.tool_calls == []
    assert LABEL in msg.content


def test_streams_text_and_one_tool_call_chunk(model: Any) -> None:
    chunks = list(model.stream([HumanMessage("create a bucket named ml-data-123")]))
    text = "".join(c.content for c in chunks if isinstance(c.content, str))
    assert text == ""  # the tool card shows the call; the text would only repeat it
    calls = [tc for c in chunks for tc in c.tool_call_chunks]
    assert len(calls) == 1 and json.loads(calls[0]["args"]) == {"bucket": "ml-data-123"}
    merged = chunks[0]
    for c in chunks[1:]:
        merged = merged + c
    assert merged.tool_calls[0]["name"] == "t_s3_create_bucket"


def test_entities() -> None:
    ent = extract_entities(
        "upload ./data/x.csv to 's3://bkt-1/raw/' on ml.m5.xlarge in eu-west-1 for 90 minutes; "
        "SELECT * FROM t LIMIT 5"
    )
    assert ent.s3_uris == ["s3://bkt-1/raw/"]
    assert ent.instance_types == ["ml.m5.xlarge"]
    assert ent.regions == ["eu-west-1"]
    assert ent.files == ["./data/x.csv"]
    assert ent.sql == "SELECT * FROM t LIMIT 5"
    assert [(n.value, n.unit) for n in ent.numbers] == [(90.0, "minutes")]
