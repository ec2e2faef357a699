"""SageMaker Pipelines executions that run their steps in the sandbox.

moto stores pipelines and "succeeds" every execution at once. Here CreatePipeline and
UpdatePipeline refuse a definition SageMaker would refuse (with every problem named);
StartPipelineExecution checks the parameters and runs the steps in dependency order
(`runner`); ListPipelineExecutionSteps and StopPipelineExecution, which moto lacks, are answered
from the execution's records; DescribePipelineExecution carries the real status and reason.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sandbox.engine.core import Engine
from sandbox.engine.dispatch import HOOKS, ApiError, Call, Reply
from sandbox.engine.jobs import RunningJob
from sandbox.engine.pipelines.definition import DefinitionError, parse, resolve_parameters

KEY = "sandbox.engine.pipelines"
KIND = "pipeline"
INTERRUPTED = "The sandbox stopped while this execution was running, so it ended here."


def _records(engine: Engine) -> dict[str, dict[str, Any]]:
    return engine.persisted_dict(KEY)


def attach(engine: Engine) -> None:
    _records(engine)  # kept with the sandbox's state from the start


def recover(engine: Engine) -> None:
    """Executions that were running when the sandbox stopped end as Failed."""
    for record in _records(engine).values():
        if record.get("status") in ("Executing", "Stopping"):
            record["status"], record["failure"] = "Failed", INTERRUPTED
            for step in record["steps"].values():
                if step.get("StepStatus") in ("Starting", "Executing", "Stopping"):
                    step["StepStatus"], step["FailureReason"] = "Failed", INTERRUPTED
            fake = _fake(engine, record)
            if fake is not None:
                fake.pipeline_execution_status = "Failed"
                fake.pipeline_execution_failure_reason = INTERRUPTED


def _fake(engine: Engine, record: dict[str, Any]) -> Any:
    backend = engine.sagemaker(record["region"], record["account"])
    pipeline = backend.pipelines.get(record["pipeline"])
    return pipeline.pipeline_executions.get(record["arn"]) if pipeline else None


def _definition_text(engine: Engine, call: Call) -> str | None:
    if call.params.get("PipelineDefinition"):
        return str(call.params["PipelineDefinition"])
    location = call.params.get("PipelineDefinitionS3Location")
    if location:
        uri = f"s3://{location.get('Bucket')}/{location.get('ObjectKey')}"
        try:
            return engine.s3(call.region).get_bytes(uri).decode()
        except Exception:
            raise ApiError(
                "ValidationException", f"Could not read the pipeline definition at {uri}."
            ) from None
    return None


@HOOKS.before("sagemaker", "CreatePipeline")
@HOOKS.before("sagemaker", "UpdatePipeline")
def check_definition(engine: Engine, call: Call) -> None:
    text = _definition_text(engine, call)
    if text is None:
        return None
    try:
        parse(text)
    except DefinitionError as exc:
        raise ApiError("ValidationException", str(exc)) from None
    return None


@HOOKS.before("sagemaker", "StartPipelineExecution")
def check_parameters(engine: Engine, call: Call) -> None:
    pipeline = engine.sagemaker(call.region, call.account).pipelines.get(
        call.params.get("PipelineName", "")
    )
    if pipeline is None:
        return None  # moto answers with its not-found error
    try:
        resolve_parameters(
            parse(pipeline.pipeline_definition), call.params.get("PipelineParameters")
        )
    except DefinitionError as exc:
        raise ApiError("ValidationException", str(exc)) from None
    return None


@HOOKS.after("sagemaker", "StartPipelineExecution")
def start_execution(engine: Engine, call: Call, response: dict[str, Any]) -> None:
    from sandbox.engine.pipelines.runner import Execution

    arn = response["PipelineExecutionArn"]
    backend = engine.sagemaker(call.region, call.account)
    pipeline = backend.pipelines[call.params["PipelineName"]]
    fake = pipeline.pipeline_executions[arn]
    definition = parse(fake.pipeline_definition_for_execution)
    parameters = resolve_parameters(definition, call.params.get("PipelineParameters"))
    fake.pipeline_execution_status = "Executing"
    fake.pipeline_parameters = [{"Name": k, "Value": str(v)} for k, v in parameters.items()]
    record = {"arn": arn, "pipeline": pipeline.pipeline_name, "pipeline_arn": pipeline.arn,
              "region": call.region, "account": call.account, "status": "Executing",
              "failure": None, "started": datetime.now(UTC), "steps": {}, "properties": {}}  # fmt: skip
    _records(engine)[arn] = record
    job = RunningJob(kind=KIND, name=arn.rsplit("/", 1)[-1], region=call.region,
                     account=call.account, workdir=engine.work_root)  # fmt: skip
    execution = Execution(engine, job, record, definition, parameters, fake)

    def body(_: RunningJob) -> None:
        try:
            execution.run()
        except Exception as exc:  # the engine's own failure ends this execution alone
            execution._finish("Failed", f"InternalServerError: sandbox engine: {exc}")

    engine.jobs.start(job, body)
    return None


@HOOKS.after("sagemaker", "DescribePipelineExecution")
def describe_execution(engine: Engine, call: Call, response: dict[str, Any]) -> dict[str, Any]:
    record = _records(engine).get(response.get("PipelineExecutionArn", ""))
    if record is None:
        response.pop("FailureReason", None)
        return response
    response["PipelineExecutionStatus"] = record["status"]
    if record.get("failure"):
        response["FailureReason"] = record["failure"]
    else:
        response.pop("FailureReason", None)
    return response


@HOOKS.after("sagemaker", "ListPipelineExecutions")
def list_executions(engine: Engine, call: Call, response: dict[str, Any]) -> dict[str, Any]:
    records = _records(engine)
    for summary in response.get("PipelineExecutionSummaries", []):
        record = records.get(summary.get("PipelineExecutionArn", ""))
        summary.pop("PipelineExecutionFailureReason", None)
        if record is not None:
            summary["PipelineExecutionStatus"] = record["status"]
            if record.get("failure"):
                summary["PipelineExecutionFailureReason"] = record["failure"]
    return response


@HOOKS.before("sagemaker", "ListPipelineExecutionSteps")
def list_steps(engine: Engine, call: Call) -> Reply:
    arn = call.params.get("PipelineExecutionArn", "")
    record = _records(engine).get(arn)
    if record is None:
        backend = engine.sagemaker(call.region, call.account)
        name = arn.split("/")[1] if "/" in arn else ""
        pipeline = backend.pipelines.get(name)
        if pipeline is None or arn not in pipeline.pipeline_executions:
            raise ApiError("ResourceNotFound", f"Pipeline execution {arn} does not exist.")
        return Reply({"PipelineExecutionSteps": []})
    steps = sorted(record["steps"].values(), key=lambda s: s.get("StartTime") or datetime.max.replace(tzinfo=UTC),
                   reverse=call.params.get("SortOrder", "Descending") == "Descending")  # fmt: skip
    start = int(call.params.get("NextToken") or 0)
    size = int(call.params.get("MaxResults") or 50)
    body: dict[str, Any] = {
        "PipelineExecutionSteps": [dict(s) for s in steps[start : start + size]]
    }
    if start + size < len(steps):
        body["NextToken"] = str(start + size)
    return Reply(body)


@HOOKS.before("sagemaker", "StopPipelineExecution")
def stop_execution(engine: Engine, call: Call) -> Reply:
    arn = call.params.get("PipelineExecutionArn", "")
    record = _records(engine).get(arn)
    if record is None:
        raise ApiError("ResourceNotFound", f"Pipeline execution {arn} does not exist.")
    if record["status"] != "Executing":
        raise ApiError("ValidationException",
                       f"Pipeline execution {arn} is {record['status']}; only an Executing execution can be stopped.")  # fmt: skip
    record["status"] = "Stopping"
    fake = _fake(engine, record)
    if fake is not None:
        fake.pipeline_execution_status = "Stopping"
    engine.jobs.stop(KIND, call.region, arn.rsplit("/", 1)[-1])
    return Reply({"PipelineExecutionArn": arn})
