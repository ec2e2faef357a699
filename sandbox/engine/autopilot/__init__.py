"""Autopilot (AutoML v2, tabular) in the sandbox.

CreateAutoMLJobV2 is answered here (moto insists on a ProblemType; Autopilot infers it): the
job record is moto's, the work is `job.AutoMLRun` on its own thread. DescribeAutoMLJobV2
shows the real status, resolved problem type and objective, and BestCandidate;
ListCandidatesForAutoMLJob (which moto lacks) lists the real candidates; StopAutoMLJob stops the
job and its training jobs. The data analysis runs as a processing job with the
`sagemaker-sklearn-automl` image (`prepare`); candidates deploy with `inference.py`.
"""

from __future__ import annotations

from typing import Any

from sandbox.engine.autopilot import candidates as ladder
from sandbox.engine.autopilot.job import DATA_BUILDER_IMAGE, AutoMLRun, public
from sandbox.engine.core import Engine
from sandbox.engine.dispatch import HOOKS, ApiError, Call, Reply
from sandbox.engine.jobs import RunningJob
from sandbox.engine.processing import BUILTIN_CONTAINERS, WARM

KEY = "sandbox.engine.autopilot"
KIND = "automl"
INTERRUPTED = (
    "InternalServerError: The sandbox stopped while this job was running, so it ended here."
)


def _runs(engine: Engine) -> dict[tuple[str, str, str], list[dict[str, Any]]]:
    """(account, region, job) → its candidates (kept with the sandbox's state)."""
    return engine.persisted_dict(KEY)


def attach(engine: Engine) -> None:
    _runs(engine)  # kept with the sandbox's state from the start


def recover(engine: Engine) -> None:
    from moto.backends import get_backend

    for _, _, backend in get_backend("sagemaker").iter_backends():
        for fake in backend.auto_ml_jobs.values():
            if fake.auto_ml_job_status in ("InProgress", "Stopping"):
                fake.auto_ml_job_status, fake.auto_ml_job_secondary_status = "Failed", "Failed"
                fake.failure_reason = INTERRUPTED


def build_data_builder(
    engine: Any, job: Any, request: dict[str, Any]
) -> tuple[list[str], dict[str, str]]:
    env = {str(k): str(v) for k, v in (request.get("Environment") or {}).items()}
    return [WARM, "sandbox.engine.autopilot.prepare"], env


BUILTIN_CONTAINERS[DATA_BUILDER_IMAGE] = build_data_builder


@HOOKS.before("sagemaker", "CreateAutoMLJobV2")
def create_job(engine: Engine, call: Call) -> Reply | None:
    params = call.params
    config = (params.get("AutoMLProblemTypeConfig") or {}).get("TabularJobConfig")
    if config is None:
        return None  # other problem types: moto's record only
    name = params.get("AutoMLJobName", "")
    problem = config.get("ProblemType")
    objective = (params.get("AutoMLJobObjective") or {}).get("MetricName")
    if problem and objective and objective not in ladder.ALLOWED.get(problem, set()):
        raise ApiError("ValidationException",
                       f"The objective metric {objective} is not valid for problem type {problem}; "
                       f"use one of: {', '.join(sorted(ladder.ALLOWED[problem]))}.")  # fmt: skip
    if not config.get("TargetAttributeName"):
        raise ApiError("ValidationException", "TabularJobConfig.TargetAttributeName is required.")
    channels = params.get("AutoMLJobInputDataConfig") or []
    for channel in channels:
        uri = ((channel.get("DataSource") or {}).get("S3DataSource") or {}).get("S3Uri", "")
        if not engine.s3(call.region).list_prefix(uri):
            raise ApiError("ValidationException",
                           f"No S3 objects found under S3 URL \"{uri}\" given in input data source. "
                           "Check that the objects exist under that prefix.")  # fmt: skip
    backend = engine.sagemaker(call.region, call.account)
    stand_in = {"TabularJobConfig": {**config, "ProblemType": problem or "BinaryClassification"}}
    try:
        arn = backend.create_auto_ml_job_v2(
            auto_ml_job_name=name, auto_ml_job_input_data_config=channels,
            output_data_config=params.get("OutputDataConfig"), auto_ml_problem_type_config=stand_in,
            role_arn=params.get("RoleArn"), tags=params.get("Tags"),
            security_config=params.get("SecurityConfig"), auto_ml_job_objective=params.get("AutoMLJobObjective"),
            model_deploy_config=params.get("ModelDeployConfig"), data_split_config=params.get("DataSplitConfig"),
        )  # fmt: skip
    except Exception as exc:
        code = getattr(exc, "error_type", "ValidationException")
        raise ApiError(code, getattr(exc, "message", str(exc))) from None
    fake = backend.auto_ml_jobs[name]
    fake.auto_ml_problem_type_config = params.get("AutoMLProblemTypeConfig")
    fake.auto_ml_job_objective = params.get("AutoMLJobObjective")
    fake.resolved_attributes = None
    fake.best_candidate = None
    fake.failure_reason = None
    fake.partial_failure_reasons = None
    fake.auto_ml_job_artifacts = None
    fake.end_time = None
    fake.auto_ml_job_status, fake.auto_ml_job_secondary_status = "InProgress", "Starting"
    if not params.get("ModelDeployConfig"):
        fake.model_deploy_config, fake.model_deploy_result = None, None
    criteria = config.get("CompletionCriteria") or {}
    job = RunningJob(kind=KIND, name=name, region=call.region, account=call.account,
                     workdir=engine.work_root,
                     max_runtime_s=float(criteria.get("MaxAutoMLJobRuntimeInSeconds") or 2592000))  # fmt: skip
    run = AutoMLRun(engine, job, fake, dict(params))
    _runs(engine)[(call.account, call.region, name)] = run.candidates

    def body(_: RunningJob) -> None:
        try:
            run.run()
        except Exception as exc:  # the engine's own failure ends this job alone
            run.status("Failed", "Failed", f"InternalServerError: sandbox engine: {exc}")

    engine.jobs.start(job, body)
    return Reply({"AutoMLJobArn": arn})


@HOOKS.after("sagemaker", "DescribeAutoMLJobV2")
def describe_job(engine: Engine, call: Call, response: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in response.items() if v not in (None, "", [], {})}


@HOOKS.before("sagemaker", "ListCandidatesForAutoMLJob")
def list_candidates(engine: Engine, call: Call) -> Reply:
    params = call.params
    name = params.get("AutoMLJobName", "")
    if name not in engine.sagemaker(call.region, call.account).auto_ml_jobs:
        raise ApiError("ResourceNotFound", f"Could not find AutoML job with name {name}.")
    found = [public(c) for c in _runs(engine).get((call.account, call.region, name), [])]
    if params.get("StatusEquals"):
        found = [c for c in found if c["CandidateStatus"] == params["StatusEquals"]]
    if params.get("CandidateNameEquals"):
        found = [c for c in found if c["CandidateName"] == params["CandidateNameEquals"]]
    descending = params.get("SortOrder", "Descending") == "Descending"
    sort_by = params.get("SortBy", "CreationTime")
    if sort_by == "FinalObjectiveMetricValue":
        scored = [c for c in found if "FinalAutoMLJobObjectiveMetric" in c]
        scored.sort(key=lambda c: c["FinalAutoMLJobObjectiveMetric"]["Value"], reverse=descending)
        found = scored + [c for c in found if "FinalAutoMLJobObjectiveMetric" not in c]
    else:
        key = "CandidateStatus" if sort_by == "Status" else "CreationTime"
        found.sort(key=lambda c: c[key], reverse=descending)
    start = int(params.get("NextToken") or 0)
    size = int(params.get("MaxResults") or 10)
    body: dict[str, Any] = {"Candidates": found[start : start + size]}
    if start + size < len(found):
        body["NextToken"] = str(start + size)
    return Reply(body)


@HOOKS.before("sagemaker", "StopAutoMLJob")
def stop_job(engine: Engine, call: Call) -> Reply | None:
    name = call.params.get("AutoMLJobName", "")
    fake = engine.sagemaker(call.region, call.account).auto_ml_jobs.get(name)
    if fake is None:
        return None
    if fake.auto_ml_job_status != "InProgress":
        raise ApiError("ValidationException",
                       f"The AutoML job {name} is {fake.auto_ml_job_status}; only an InProgress job can be stopped.")  # fmt: skip
    fake.auto_ml_job_status, fake.auto_ml_job_secondary_status = "Stopping", "Stopping"
    engine.jobs.stop(KIND, call.region, name)
    return Reply({})
