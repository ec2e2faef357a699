"""CreateHyperParameterTuningJob runs for real: the job launches its training jobs through the
engine (ordinary jobs: listed, described with their TuningJobArn, logged), at most
MaxParallelTrainingJobs at a time, up to MaxNumberOfTrainingJobs (Grid: every combination),
and follows them: TrainingJobStatusCounters, ObjectiveStatusCounters and BestTrainingJob (by
the objective's direction) change as they finish. StopHyperParameterTuningJob stops the
running ones; ListTrainingJobsForHyperParameterTuningJob lists them with their
TunedHyperParameters and FinalHyperParameterTuningJobObjectiveMetric.

Children are named `<tuning job>-<NNN>-<8 hex>`, as SageMaker names them. A tuning job whose
first training jobs all fail ends Failed, saying so.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from moto.core.utils import utcnow

from sandbox.engine import training
from sandbox.engine.core import Engine
from sandbox.engine.cwlogs import MetricCollector
from sandbox.engine.dispatch import HOOKS, ApiError, Call, Reply
from sandbox.engine.images import resolve
from sandbox.engine.jobs import RunningJob
from sandbox.engine.tuning import objectives
from sandbox.engine.tuning.early_stopping import Rungs, better, median_rule
from sandbox.engine.tuning.space import RangeError, grid, parse_ranges
from sandbox.engine.tuning.strategies import STRATEGIES, Strategy, make

log = logging.getLogger("sandbox.engine.tuning")
KIND = "tuning"
POLL_S = 0.1
#: A tuning job gives up when this many training jobs failed and none succeeded.
FAILURES_BEFORE_GIVING_UP = 5
_RESOURCE_HYPERPARAMETER = {"xgboost": "num_round", "linear-learner": "epochs", "kmeans": "epochs"}
_DONE = ("Completed", "Failed", "Stopped")


def _config(call: Call) -> dict[str, Any]:
    return dict(call.params.get("HyperParameterTuningJobConfig") or {})


def _definition(params: dict[str, Any]) -> dict[str, Any]:
    definition = params.get("TrainingJobDefinition")
    if not definition:
        definitions = params.get("TrainingJobDefinitions") or []
        if len(definitions) != 1:
            raise ApiError("ValidationException", "The sandbox runs tuning jobs with one "
                           "TrainingJobDefinition (several definitions are not emulated).")  # fmt: skip
        definition = definitions[0]
    return dict(definition)


@HOOKS.before("sagemaker", "CreateHyperParameterTuningJob")
def check_create(engine: Engine, call: Call) -> Reply | None:
    """What AWS refuses: an objective the algorithm does not emit, bad ranges, a Grid with
    numeric ranges, Hyperband with TrainingJobEarlyStoppingType Auto."""
    name = call.params.get("HyperParameterTuningJobName", "")
    if name in engine.sagemaker(call.region, call.account).hyper_parameter_tuning_jobs:
        return None  # moto answers ResourceInUse
    config = _config(call)
    definition = _definition(call.params)
    strategy = str(config.get("Strategy") or "Bayesian")
    if strategy not in STRATEGIES:
        raise ApiError(
            "ValidationException", f"Strategy {strategy} is not one of {sorted(STRATEGIES)}."
        )
    try:
        objectives.check(definition, config.get("HyperParameterTuningJobObjective") or {})
        ranges = parse_ranges(config.get("ParameterRanges"))
        if strategy == "Grid":
            grid(ranges)
    except (objectives.ObjectiveError, RangeError) as exc:
        raise ApiError("ValidationException", str(exc)) from None
    static = definition.get("StaticHyperParameters") or {}
    both = sorted({r.name for r in ranges} & set(static))
    if both:
        raise ApiError("ValidationException", f"Hyperparameters {both} are both static and "
                       "tunable; a hyperparameter can be one or the other.")  # fmt: skip
    if strategy == "Hyperband" and config.get("TrainingJobEarlyStoppingType", "Off") != "Off":
        raise ApiError("ValidationException", "TrainingJobEarlyStoppingType must be Off with the "
                       "Hyperband strategy (it stops training jobs early itself).")  # fmt: skip
    limits = config.get("ResourceLimits") or {}
    if strategy != "Grid" and not limits.get("MaxNumberOfTrainingJobs"):
        raise ApiError("ValidationException", "ResourceLimits.MaxNumberOfTrainingJobs is required "
                       f"for the {strategy} strategy.")  # fmt: skip
    return None


@dataclass
class Child:
    name: str
    arn: str
    token: Any
    tuned: dict[str, str]
    created: datetime
    status: str = "InProgress"
    objective: float | None = None
    collector: MetricCollector | None = None
    stopped_early: bool = False
    failure: str | None = None
    fake: Any = None


class TuningRun:
    """The tuning job's coordinator, on its own thread."""

    def __init__(self, engine: Engine, call: Call, fake: Any) -> None:
        self.engine = engine
        self.region, self.account = call.region, call.account
        self.fake = fake
        self.name = call.params["HyperParameterTuningJobName"]
        config = _config(call)
        self.definition = _definition(call.params)
        objective = config.get("HyperParameterTuningJobObjective") or {}
        self.metric = str(objective.get("MetricName"))
        self.maximize = objective.get("Type") == "Maximize"
        limits = config.get("ResourceLimits") or {}
        self.parallel = max(1, int(limits.get("MaxParallelTrainingJobs") or 1))
        ranges = parse_ranges(config.get("ParameterRanges"))
        seed = config.get("RandomSeed")
        self.strategy: Strategy = make(str(config.get("Strategy") or "Bayesian"), ranges,
                                       self.maximize, int(seed) if seed is not None else None)  # fmt: skip
        self.total = self.strategy.total(int(limits.get("MaxNumberOfTrainingJobs") or 0))
        self.early_stopping = config.get("TrainingJobEarlyStoppingType", "Off") == "Auto"
        criteria = config.get("TuningJobCompletionCriteria") or {}
        self.target = criteria.get("TargetObjectiveMetricValue")
        self.children: list[Child] = []
        self.static = {
            str(k): str(v) for k, v in (self.definition.get("StaticHyperParameters") or {}).items()
        }
        image = resolve(
            str((self.definition.get("AlgorithmSpecification") or {}).get("TrainingImage") or "")
        )
        if image.builtin and "sagemaker_program" not in self.static:
            self.static["_tuning_objective_metric"] = self.metric
        self.rungs: Rungs | None = None
        if self.strategy.name == "Hyperband":
            hb = (config.get("StrategyConfig") or {}).get("HyperbandStrategyConfig") or {}
            resource = _RESOURCE_HYPERPARAMETER.get(image.family)
            max_resource = int(hb.get("MaxResource") or self.static.get(resource or "", 0) or 100)
            if resource and resource not in {r.name for r in ranges}:
                self.static[resource] = str(max_resource)
            self.rungs = Rungs(int(hb.get("MinResource") or 1), max_resource, self.maximize)
        self.started = time.monotonic()

    # --- the loop ----------------------------------------------------------------------------
    def run(self, job: RunningJob) -> None:
        try:
            while True:
                self._refresh()
                if job.interrupted():
                    self._stop_children()
                    self._wait_children()
                    self._finish("Stopped")
                    return
                self._early_stop()
                reason = self._given_up()
                if reason:
                    self._stop_children()
                    self._wait_children()
                    self._finish("Failed", reason)
                    return
                while self._may_launch():
                    self._launch()
                if not self._running() and (len(self.children) >= self.total or self._reached()):
                    self._finish("Completed")
                    return
                self._publish()
                time.sleep(POLL_S)
        except _LaunchFailed as exc:
            self._stop_children()
            self._wait_children()
            self._finish("Failed", str(exc))
        except Exception as exc:  # the engine's own failure ends this tuning job alone
            log.exception("tuning job %s failed", self.name)
            self._stop_children()
            self._finish("Failed", f"InternalServerError: sandbox engine: {exc}")

    def _running(self) -> list[Child]:
        return [c for c in self.children if c.status not in _DONE]

    def _may_launch(self) -> bool:
        return (len(self.children) < self.total and len(self._running()) < self.parallel
                and not self._reached())  # fmt: skip

    def _reached(self) -> bool:
        best = self._best()
        return (
            self.target is not None
            and best is not None
            and not better(float(self.target), float(best.objective or 0.0), self.maximize)
        )

    def _launch(self) -> None:
        index = len(self.children) + 1
        name = f"{self.name}-{index:03d}-{secrets.token_hex(4)}"
        token, tuned = self.strategy.ask()
        request = self._request(name, tuned)
        sm = self.engine.client("sagemaker", self.region)
        try:
            arn = sm.create_training_job(**request)["TrainingJobArn"]
        except Exception as exc:
            self.strategy.tell(token, None)
            raise _LaunchFailed(f"ClientError: the training job {name} could not be created: "
                                f"{getattr(exc, 'response', {}).get('Error', {}).get('Message', exc)}") from None  # fmt: skip
        fake = self.engine.sagemaker(self.region, self.account).training_jobs[name]
        fake.tuning_job_arn = self.fake.arn
        self.children.append(Child(name, arn, token, tuned, utcnow(), fake=fake))

    def _request(self, name: str, tuned: dict[str, str]) -> dict[str, Any]:
        d = self.definition
        spec = dict(d.get("AlgorithmSpecification") or {})
        spec.pop("AlgorithmName", None)
        request: dict[str, Any] = {
            "TrainingJobName": name,
            "AlgorithmSpecification": spec,
            "RoleArn": d.get("RoleArn"),
            "HyperParameters": {**self.static, **tuned},
            "InputDataConfig": d.get("InputDataConfig") or [],
            "OutputDataConfig": d.get("OutputDataConfig") or {},
            "ResourceConfig": d.get("ResourceConfig") or {},
            "StoppingCondition": d.get("StoppingCondition") or {"MaxRuntimeInSeconds": 86400},
        }
        for key in ("VpcConfig", "EnableManagedSpotTraining", "EnableNetworkIsolation",
                    "EnableInterContainerTrafficEncryption", "Environment", "RetryStrategy"):  # fmt: skip
            if d.get(key) is not None:
                request[key] = d[key]
        checkpoint = d.get("CheckpointConfig")
        if checkpoint and checkpoint.get("S3Uri"):
            request["CheckpointConfig"] = {**checkpoint,
                                           "S3Uri": checkpoint["S3Uri"].rstrip("/") + f"/{name}"}  # fmt: skip
        return request

    def _refresh(self) -> None:
        for child in self._running():
            fake = child.fake
            if child.collector is None:
                child.collector = training.LIVE_METRICS.get((self.region, child.name))
            if fake.training_job_status not in _DONE:
                continue
            child.status = fake.training_job_status
            child.failure = getattr(fake, "failure_reason", None)
            child.objective = self._final_value(child)
            self.strategy.tell(child.token, child.objective)

    def _final_value(self, child: Child) -> float | None:
        fake = child.fake
        for metric in fake.final_metric_data_list or []:
            if metric.get("MetricName") == self.metric:
                return float(metric["Value"])
        values = self._values(child)
        if child.status == "Stopped" and values and child.collector is not None:
            fake.final_metric_data_list = child.collector.final()  # what the job reached
            return values[-1]
        return None

    def _values(self, child: Child) -> list[float]:
        if child.collector is None:
            return []
        return [value for _, value in list(child.collector.series.get(self.metric, []))]

    def _early_stop(self) -> None:
        if not self.early_stopping and self.rungs is None:
            return
        finished = [self._values(c) for c in self.children
                    if c.status == "Completed" and not c.stopped_early]  # fmt: skip
        for child in self._running():
            values = self._values(child)
            if not values or child.stopped_early:
                continue
            if self.rungs is not None:
                stop = self.rungs.should_stop(child.name, values)
            else:
                stop = median_rule(values, finished, self.maximize)
            if stop:
                child.stopped_early = True
                self._stop(child)

    def _stop(self, child: Child) -> None:
        try:
            self.engine.client("sagemaker", self.region).stop_training_job(
                TrainingJobName=child.name
            )
        except Exception:  # it finished meanwhile
            pass

    def _stop_children(self) -> None:
        for child in self._running():
            self._stop(child)

    def _wait_children(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while self._running() and time.monotonic() < deadline:
            time.sleep(POLL_S)
            self._refresh()

    def _given_up(self) -> str | None:
        failed = [c for c in self.children if c.status == "Failed"]
        if self._best() is None and len(failed) >= min(FAILURES_BEFORE_GIVING_UP, self.total):
            return (f"No training job succeeded after {len(failed)} attempts. For additional "
                    "details, please take a look at the training job failures by listing training "
                    f"jobs for the hyperparameter tuning job. First failure: {failed[0].failure}")  # fmt: skip
        return None

    # --- what DescribeHyperParameterTuningJob shows ----------------------------------------
    def _best(self) -> Child | None:
        scored = [c for c in self.children if c.objective is not None]
        if not scored:
            return None
        pick = max if self.maximize else min
        return pick(scored, key=lambda c: float(c.objective or 0.0))

    def summary(self, child: Child) -> dict[str, Any]:
        fake = child.fake
        item: dict[str, Any] = {
            "TrainingJobName": child.name,
            "TrainingJobArn": child.arn,
            "TuningJobName": self.name,
            "CreationTime": child.created,
            "TrainingJobStatus": fake.training_job_status,
            "TunedHyperParameters": dict(child.tuned),
            "ObjectiveStatus": "Pending" if child.status not in _DONE
            else ("Succeeded" if child.objective is not None else "Failed"),
        }  # fmt: skip
        if fake.training_start_time:
            item["TrainingStartTime"] = fake.training_start_time
        if fake.training_end_time:
            item["TrainingEndTime"] = fake.training_end_time
        if child.failure:
            item["FailureReason"] = child.failure
        if child.objective is not None:
            item["FinalHyperParameterTuningJobObjectiveMetric"] = {
                "Type": "Maximize" if self.maximize else "Minimize",
                "MetricName": self.metric, "Value": child.objective,
            }  # fmt: skip
        return item

    def _publish(self) -> None:
        fake = self.fake
        statuses = [c.status for c in self.children]
        fake.training_job_status_counters = {
            "Completed": statuses.count("Completed"), "InProgress": statuses.count("InProgress"),
            "RetryableError": 0, "NonRetryableError": statuses.count("Failed"),
            "Stopped": statuses.count("Stopped"),
        }  # fmt: skip
        summaries = [self.summary(c) for c in self.children]
        objective = [s["ObjectiveStatus"] for s in summaries]
        fake.objective_status_counters = {"Succeeded": objective.count("Succeeded"),
                                          "Pending": objective.count("Pending"),
                                          "Failed": objective.count("Failed")}  # fmt: skip
        best = self._best()
        fake.best_training_job = self.summary(best) if best is not None else None
        fake.sandbox_children = summaries
        fake.consumed_resources = {"RuntimeInSeconds": int(time.monotonic() - self.started)}
        fake.last_modified_time = utcnow()

    def _finish(self, status: str, reason: str | None = None) -> None:
        self._publish()
        fake = self.fake
        fake.hyper_parameter_tuning_job_status = status
        fake.hyper_parameter_tuning_end_time = utcnow()
        fake.failure_reason = reason or ""
        fake.last_modified_time = utcnow()


class _LaunchFailed(Exception):
    pass


@HOOKS.after("sagemaker", "CreateHyperParameterTuningJob")
def start_tuning(engine: Engine, call: Call, response: dict[str, Any]) -> None:
    name = call.params["HyperParameterTuningJobName"]
    fake = engine.sagemaker(call.region, call.account).hyper_parameter_tuning_jobs[name]
    fake.hyper_parameter_tuning_job_status = "InProgress"
    fake.hyper_parameter_tuning_end_time = None
    fake.best_training_job = None
    fake.OverallBestTrainingJob = None
    fake.tuning_job_completion_details = None
    fake.failure_reason = ""
    fake.sandbox_children = []
    run = TuningRun(engine, call, fake)
    run._publish()
    limit = (_config(call).get("ResourceLimits") or {}).get("MaxRuntimeInSeconds")
    job = RunningJob(kind=KIND, name=name, region=call.region, account=call.account,
                     workdir=engine.work_root, max_runtime_s=float(limit) if limit else None)  # fmt: skip
    engine.jobs.start(job, run.run)


@HOOKS.before("sagemaker", "StopHyperParameterTuningJob")
def stop_tuning(engine: Engine, call: Call) -> Reply:
    name = call.params.get("HyperParameterTuningJobName", "")
    fake = engine.sagemaker(call.region, call.account).hyper_parameter_tuning_jobs.get(name)
    if fake is None:
        raise ApiError(
            "ResourceNotFound", f"Amazon SageMaker can't find a tuning job named {name}."
        )
    if fake.hyper_parameter_tuning_job_status != "InProgress":
        raise ApiError("ValidationException", f"The hyperparameter tuning job {name} is in status "
                       f"{fake.hyper_parameter_tuning_job_status}; only InProgress jobs can be stopped.")  # fmt: skip
    fake.hyper_parameter_tuning_job_status = "Stopping"
    if not engine.jobs.stop(KIND, call.region, name):
        fake.hyper_parameter_tuning_job_status = "Stopped"
    return Reply({})


_SORT_KEYS = {
    "Name": lambda s: s["TrainingJobName"],
    "CreationTime": lambda s: s["CreationTime"],
    "Status": lambda s: s["TrainingJobStatus"],
    "FinalObjectiveMetricValue": lambda s: (s.get("FinalHyperParameterTuningJobObjectiveMetric") or {}).get("Value", float("-inf")),
}  # fmt: skip


@HOOKS.before("sagemaker", "ListTrainingJobsForHyperParameterTuningJob")
def list_children(engine: Engine, call: Call) -> Reply:
    name = call.params.get("HyperParameterTuningJobName", "")
    fake = engine.sagemaker(call.region, call.account).hyper_parameter_tuning_jobs.get(name)
    if fake is None:
        raise ApiError(
            "ResourceNotFound", f"Amazon SageMaker can't find a tuning job named {name}."
        )
    items = list(getattr(fake, "sandbox_children", None) or [])
    wanted = call.params.get("StatusEquals")
    if wanted:
        items = [s for s in items if s["TrainingJobStatus"] == wanted]
    sort_by = call.params.get("SortBy", "Name")
    if sort_by == "FinalObjectiveMetricValue":
        items = [s for s in items if "FinalHyperParameterTuningJobObjectiveMetric" in s]
    items.sort(key=_SORT_KEYS.get(sort_by, _SORT_KEYS["Name"]),
               reverse=call.params.get("SortOrder", "Descending") == "Descending")  # fmt: skip
    start = int(call.params.get("NextToken") or 0)
    size = int(call.params.get("MaxResults") or 10)
    page = items[start : start + size]
    body: dict[str, Any] = {"TrainingJobSummaries": page}
    if start + size < len(items):
        body["NextToken"] = str(start + size)
    return Reply(body)


INTERRUPTED = ("InternalServerError: The sandbox stopped while this tuning job was running, so it "
               "ended here. Start it again.")  # fmt: skip


def recover(engine: Engine) -> None:
    """Tuning jobs that were running when the sandbox stopped end as Failed."""
    from moto.backends import get_backend

    for _, _, backend in get_backend("sagemaker").iter_backends():
        for fake in list(backend.hyper_parameter_tuning_jobs.values()):
            if fake.hyper_parameter_tuning_job_status in ("InProgress", "Stopping"):
                fake.hyper_parameter_tuning_job_status = "Failed"
                fake.failure_reason = INTERRUPTED
                fake.hyper_parameter_tuning_end_time = utcnow()
