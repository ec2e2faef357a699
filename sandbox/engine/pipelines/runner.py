"""One pipeline execution, run on its own thread: steps start when every step they depend on
has succeeded, each through the engine like any client's call (CreateProcessingJob,
CreateTrainingJob, CreateHyperParameterTuningJob, CreateModel, CreateTransformJob,
CreateModelPackage), with their Get / Std:Join / Std:JsonGet arguments resolved first.

Step records hold what ListPipelineExecutionSteps answers: status (Starting, Executing,
Succeeded, Failed, Stopping, Stopped), times, failure reason and metadata (the job's ARN, a
condition's outcome, a Fail step's message). A failed step fails the execution ("Step failure:
One or multiple steps failed."); steps in a condition's branch not taken never run.
"""

from __future__ import annotations

import json
import random
import string
import threading
import time
from datetime import UTC, datetime
from typing import Any

from sandbox.engine.jobs import JobInterrupted, RunningJob
from sandbox.engine.pipelines.definition import Definition, Step
from sandbox.engine.pipelines.expressions import ResolveError, Resolver

POLL_S = 0.2
STEP_FAILURE = "Step failure: One or multiple steps failed."
_DONE = {"Completed", "Failed", "Stopped"}
# step type → (create operation, name key, describe operation, status key, metadata key, max name)
_JOBS = {
    "Processing": ("create_processing_job", "ProcessingJobName", "describe_processing_job",
                   "ProcessingJobStatus", "ProcessingJob", 63),
    "Training": ("create_training_job", "TrainingJobName", "describe_training_job",
                 "TrainingJobStatus", "TrainingJob", 63),
    "Transform": ("create_transform_job", "TransformJobName", "describe_transform_job",
                  "TransformJobStatus", "TransformJob", 63),
    "Tuning": ("create_hyper_parameter_tuning_job", "HyperParameterTuningJobName",
               "describe_hyper_parameter_tuning_job", "HyperParameterTuningJobStatus",
               "TuningJob", 32),
}  # fmt: skip
_ARN_KEYS = {"Processing": "ProcessingJobArn", "Training": "TrainingJobArn",
             "Transform": "TransformJobArn", "Tuning": "HyperParameterTuningJobArn"}  # fmt: skip


class StepFailed(Exception):
    """The step ends Failed with this reason."""


def _now() -> datetime:
    return datetime.now(UTC)


def _suffix(length: int = 10) -> str:
    return "".join(random.choices(string.ascii_letters + string.digits, k=length))


class Execution:
    def __init__(self, engine: Any, job: RunningJob, record: dict[str, Any],
                 definition: Definition, parameters: dict[str, Any], fake: Any) -> None:  # fmt: skip
        self.engine = engine
        self.job = job
        self.record = record  # persisted: status, failure, steps, properties
        self.definition = definition
        self.fake = fake
        self.sm = engine.client("sagemaker", job.region)
        self.lock = threading.Lock()
        self.children: dict[str, tuple[str, str]] = {}  # step → (stop operation, job name)
        arn = record["arn"]
        self.resolver = Resolver(
            parameters,
            {"PipelineExecutionId": arn.rsplit("/", 1)[-1], "PipelineExecutionArn": arn,
             "StartDateTime": record["started"].isoformat(),
             "CurrentDateTime": _now().isoformat(),
             "PipelineName": record["pipeline"], "PipelineArn": record["pipeline_arn"]},
            self._properties, self._property_file,
        )  # fmt: skip

    # --- records -----------------------------------------------------------------------
    def _step(self, name: str) -> dict[str, Any]:
        return self.record["steps"][name]

    def _set(self, name: str, **fields: Any) -> None:
        with self.lock:
            step = self.record["steps"].setdefault(name, {
                "StepName": name, "StepDisplayName": self.definition.steps[name].raw.get("DisplayName", name),
                "AttemptCount": 1, "Metadata": {},
            })  # fmt: skip
            description = self.definition.steps[name].raw.get("Description")
            if description:
                step["StepDescription"] = description
            step.update(fields)
        if self.engine.persistence is not None:
            self.engine.persistence.mark_dirty()

    def _properties(self, name: str) -> dict[str, Any]:
        found = self.record["properties"].get(name)
        if found is None:
            raise ResolveError(f"step {name} has not run (its properties are not available)")
        return found

    def _property_file(self, step: str, name: str) -> Any:
        spec = next((p for p in self.definition.steps[step].raw.get("PropertyFiles") or []
                     if p.get("PropertyFileName") == name), None)  # fmt: skip
        if spec is None:
            raise ResolveError(f"step {step} declares no property file {name}")
        outputs = self._properties(step).get("ProcessingOutputConfig", {}).get("Outputs", [])
        output = next((o for o in outputs if o.get("OutputName") == spec.get("OutputName")), None)
        if output is None:
            raise ResolveError(f"step {step} has no output {spec.get('OutputName')}")
        uri = output["S3Output"]["S3Uri"].rstrip("/") + "/" + spec.get("FilePath", "").lstrip("/")
        try:
            return json.loads(self.engine.s3(self.job.region).get_bytes(uri))
        except Exception as exc:
            raise ResolveError(f"could not read property file {name} at {uri}: {exc}") from None

    # --- the loop ----------------------------------------------------------------------------
    def run(self) -> None:
        steps = self.definition.steps
        active = {n for n, s in steps.items() if s.branch_of is None}
        threads: dict[str, threading.Thread] = {}
        try:
            while True:
                self.job.check()
                states = {n: self.record["steps"].get(n, {}).get("StepStatus") for n in steps}
                failed = [n for n, s in states.items() if s == "Failed"]
                for name, step in steps.items():
                    if step.kind == "Condition" and states[name] == "Succeeded":
                        outcome = self.record["properties"][name]["Outcome"] == "True"
                        key = "IfSteps" if outcome else "ElseSteps"
                        active |= {s["Name"] for s in step.arguments.get(key) or []}
                ready = [
                    n for n in active
                    if n not in threads and states[n] is None and not failed
                    and all(states.get(d) == "Succeeded" for d in steps[n].depends_on)
                ]  # fmt: skip
                for name in sorted(ready, key=list(steps).index):
                    self._set(name, StepStatus="Starting", StartTime=_now())
                    thread = threading.Thread(target=self._run_step, args=(steps[name],),
                                              name=f"pipeline-step-{name}", daemon=True)  # fmt: skip
                    threads[name] = thread
                    thread.start()
                if not any(t.is_alive() for t in threads.values()) and not ready:
                    break
                time.sleep(POLL_S)
        except JobInterrupted:
            self._stop_children(threads)
            self._finish("Stopped")
            return
        states = {n: self.record["steps"].get(n, {}).get("StepStatus") for n in steps}
        failed = [n for n in steps if states[n] == "Failed"]
        if not failed:
            self._finish("Succeeded")
            return
        fail_steps = [n for n in failed if steps[n].kind == "Fail"]
        reason = self._step(fail_steps[0]).get("FailureReason") if fail_steps else STEP_FAILURE
        self._finish("Failed", reason)

    def _finish(self, status: str, reason: str | None = None) -> None:
        now = _now()
        self.record["status"] = status
        self.record["failure"] = reason
        self.record["ended"] = now
        self.fake.pipeline_execution_status = status
        self.fake.pipeline_execution_failure_reason = reason
        self.fake.last_modified_time = now
        if self.engine.persistence is not None:
            self.engine.persistence.mark_dirty()

    def _stop_children(self, threads: dict[str, threading.Thread]) -> None:
        for name, (operation, job_name) in list(self.children.items()):
            if self._step(name).get("StepStatus") in ("Starting", "Executing"):
                self._set(name, StepStatus="Stopping")
                try:
                    getattr(self.sm, operation)(**{_stop_key(operation): job_name})
                except Exception:
                    pass
        deadline = time.monotonic() + 30
        for thread in threads.values():
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        for name in threads:
            if self._step(name).get("StepStatus") in ("Starting", "Executing", "Stopping"):
                self._set(name, StepStatus="Stopped", EndTime=_now())

    # --- one step ------------------------------------------------------------------------------
    def _run_step(self, step: Step) -> None:
        try:
            self._set(step.name, StepStatus="Executing")
            if step.kind in _JOBS:
                self._run_job(step)
            elif step.kind in ("Model", "CreateModel"):
                self._run_model(step)
            elif step.kind == "RegisterModel":
                self._run_register(step)
            elif step.kind == "Condition":
                outcome = all(
                    self.resolver.condition(c) for c in step.arguments.get("Conditions") or []
                )
                self.record["properties"][step.name] = {"Outcome": str(outcome)}
                self._set(step.name, Metadata={"Condition": {"Outcome": str(outcome)}})
            elif step.kind == "Fail":
                message = str(self.resolver.value(step.arguments.get("ErrorMessage", "")))
                self._set(step.name, Metadata={"Fail": {"ErrorMessage": message}})
                raise StepFailed(message)
            else:
                raise StepFailed(
                    f"The sandbox does not run {step.kind} steps (it runs Processing, Training, "
                    "Tuning, Model, Transform, RegisterModel, Condition and Fail steps); run this "
                    "pipeline on AWS."
                )
            if self._step(step.name).get("StepStatus") == "Executing":
                self._set(step.name, StepStatus="Succeeded", EndTime=_now())
        except (StepFailed, ResolveError) as exc:
            self._set(step.name, StepStatus="Failed", EndTime=_now(), FailureReason=str(exc)[:1024])
        except Exception as exc:  # a client error from the call, or the engine's own
            reason = getattr(exc, "response", {}).get("Error", {}).get("Message") or str(exc)
            self._set(step.name, StepStatus="Failed", EndTime=_now(),
                      FailureReason=f"ClientError: {reason}"[:1024])  # fmt: skip

    def _name(self, step: Step, limit: int) -> str:
        execution = self.resolver.variables["PipelineExecutionId"]
        if limit <= 32:
            return f"{execution[:8]}-{step.name[:10]}-{_suffix(8)}"[:limit]
        return f"pipelines-{execution}-{step.name[:26]}-{_suffix()}"[:limit]

    def _run_job(self, step: Step) -> None:
        create, name_key, describe, status_key, meta_key, limit = _JOBS[step.kind]
        arguments = self.resolver.value(step.arguments)
        name = self._name(step, limit)
        arguments[name_key] = name
        answer = getattr(self.sm, create)(**arguments)
        arn = answer.get(_ARN_KEYS[step.kind], "")
        self.children[step.name] = (create.replace("create_", "stop_"), name)
        self._set(step.name, Metadata={meta_key: {"Arn": arn}})
        while True:
            desc = getattr(self.sm, describe)(**{name_key: name})
            status = desc.get(status_key)
            if status in _DONE:
                break
            if self.job.interrupted():
                return  # the loop stops the children and marks the step
            time.sleep(POLL_S)
        desc.pop("ResponseMetadata", None)
        if step.kind == "Tuning":
            desc["TrainingJobSummaries"] = _ranked_children(self.sm, name, desc)
        self.record["properties"][step.name] = desc
        if status == "Failed":
            raise StepFailed(desc.get("FailureReason") or f"{step.kind} job {name} failed")
        if status == "Stopped":
            self._set(step.name, StepStatus="Stopped", EndTime=_now())

    def _run_model(self, step: Step) -> None:
        arguments = self.resolver.value(step.arguments)
        name = arguments.pop("ModelName", None) or self._name(step, 63)
        arn = self.sm.create_model(ModelName=name, **arguments)["ModelArn"]
        desc = self.sm.describe_model(ModelName=name)
        desc.pop("ResponseMetadata", None)
        self.record["properties"][step.name] = desc
        self._set(step.name, Metadata={"Model": {"Arn": arn}})

    def _run_register(self, step: Step) -> None:
        arguments = self.resolver.value(step.arguments)
        group = arguments.get("ModelPackageGroupName")
        if group:
            try:
                self.sm.describe_model_package_group(ModelPackageGroupName=group)
            except Exception:
                self.sm.create_model_package_group(ModelPackageGroupName=group)
        arn = self.sm.create_model_package(**arguments)["ModelPackageArn"]
        desc = self.sm.describe_model_package(ModelPackageName=arn)
        desc.pop("ResponseMetadata", None)
        self.record["properties"][step.name] = desc
        self._set(step.name, Metadata={"RegisterModel": {"Arn": arn}})


def _stop_key(operation: str) -> str:
    return {"stop_processing_job": "ProcessingJobName", "stop_training_job": "TrainingJobName",
            "stop_transform_job": "TransformJobName",
            "stop_hyper_parameter_tuning_job": "HyperParameterTuningJobName"}[operation]  # fmt: skip


def _ranked_children(sm: Any, name: str, desc: dict[str, Any]) -> list[dict[str, Any]]:
    """The tuning job's training jobs, best objective first (TrainingJobSummaries[i])."""
    try:
        summaries = sm.list_training_jobs_for_hyper_parameter_tuning_job(
            HyperParameterTuningJobName=name, MaxResults=100
        ).get("TrainingJobSummaries", [])
    except Exception:
        return []
    objective = (desc.get("HyperParameterTuningJobConfig") or {}).get(
        "HyperParameterTuningJobObjective"
    ) or {}
    maximize = objective.get("Type", "Maximize") == "Maximize"

    def score(item: dict[str, Any]) -> float:
        value = (item.get("FinalHyperParameterTuningJobObjectiveMetric") or {}).get("Value")
        if value is None:
            return float("inf")
        return -float(value) if maximize else float(value)

    return sorted(summaries, key=score)
