"""An Autopilot (AutoML v2, tabular) job as it runs: a data-analysis processing job, then real
candidate training jobs on its train/validation split, each scored on the validation set with
the job's objective; candidates ranked; the best one's inference container (the candidate's
model with the fitted feature transform, served by the scikit-learn container) set as
BestCandidate. Statuses follow Autopilot's: InProgress (AnalyzingData → FeatureEngineering →
ModelTuning) → Completed (Completed or MaxCandidatesReached) / Failed / Stopped."""

from __future__ import annotations

import io
import json
import random
import string
import tarfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sandbox.engine.autopilot import candidates as ladder
from sandbox.engine.jobs import JobInterrupted, RunningJob

DATA_BUILDER_IMAGE = "sagemaker-sklearn-automl"
POLL_S = 0.2
_DONE = ("Completed", "Failed", "Stopped")


def _hex(length: int = 8) -> str:
    return "".join(random.choices(string.hexdigits.lower()[:16], k=length))


def _now() -> datetime:
    return datetime.now(UTC)


class AutoMLRun:
    def __init__(self, engine: Any, job: RunningJob, fake: Any, request: dict[str, Any]) -> None:
        self.engine = engine
        self.job = job
        self.fake = fake
        self.request = request
        self.sm = engine.client("sagemaker", job.region)
        self.s3 = engine.s3(job.region)
        config = (request.get("AutoMLProblemTypeConfig") or {}).get("TabularJobConfig") or {}
        self.config = config
        self.criteria = config.get("CompletionCriteria") or {}
        self.name = request["AutoMLJobName"]
        base = (request.get("OutputDataConfig") or {}).get("S3OutputPath", "").rstrip("/")
        self.base = f"{base}/{self.name}"
        self.children: list[tuple[str, str]] = []  # (kind, name) of running child jobs
        self.candidates: list[dict[str, Any]] = []
        self.data_builder = ""

    # --- status ------------------------------------------------------------------------
    def status(self, primary: str, secondary: str, reason: str | None = None) -> None:
        now = _now()
        self.fake.auto_ml_job_status = primary
        self.fake.auto_ml_job_secondary_status = secondary
        self.fake.last_modified_time = now
        if primary in ("Completed", "Failed", "Stopped"):
            self.fake.end_time = now
        if reason:
            self.fake.failure_reason = reason
        if self.engine.persistence is not None:
            self.engine.persistence.mark_dirty()

    # --- the run -----------------------------------------------------------------------
    def run(self) -> None:
        try:
            self.status("InProgress", "AnalyzingData")
            spec = self._analyze()
            self.status("InProgress", "FeatureEngineering")
            problem = spec["problem_type"]
            objective = (self.request.get("AutoMLJobObjective") or {}).get(
                "MetricName"
            ) or ladder.DEFAULT_OBJECTIVE[problem]
            if objective not in ladder.ALLOWED[problem]:
                raise _Failure(f"ClientError: The objective metric {objective} does not apply to {problem} "
                               f"(use one of: {', '.join(sorted(ladder.ALLOWED[problem]))}).")  # fmt: skip
            self.fake.auto_ml_job_objective = {"MetricName": objective}
            self.fake.resolved_attributes = {
                "AutoMLJobObjective": {"MetricName": objective},
                "CompletionCriteria": self.criteria,
                "AutoMLProblemTypeResolvedAttributes": {"TabularResolvedAttributes": {"ProblemType": problem}},
            }  # fmt: skip
            mode = self.config.get("Mode", "AUTO")
            self.status("InProgress", "TrainingModels" if mode == "ENSEMBLING" else "ModelTuning")
            self._train(spec, objective)
            done = [c for c in self.candidates if c["CandidateStatus"] == "Completed"]
            if not done:
                reasons = "; ".join(c.get("FailureReason", "") for c in self.candidates)[:900]
                raise _Failure(f"AlgorithmError: All candidates failed: {reasons}")
            best = self._rank(objective)
            self.fake.best_candidate = best
            limit = int(self.criteria.get("MaxCandidates") or 250)
            self.status(
                "Completed",
                "MaxCandidatesReached" if len(self.candidates) >= limit else "Completed",
            )
        except JobInterrupted as stop:
            self._stop_children()
            done = [c for c in self.candidates if c["CandidateStatus"] == "Completed"]
            if stop.reason == "timeout" and done:
                self.fake.best_candidate = self._rank(self.fake.auto_ml_job_objective["MetricName"])
                self.status("Completed", "MaxAutoMLJobRuntimeReached")
            else:
                self.status("Stopped", "Stopped")
        except _Failure as exc:
            self.status("Failed", "Failed", str(exc))

    def _wait(self, describe: str, key: str, name: str, status_key: str) -> dict[str, Any]:
        while True:
            desc = getattr(self.sm, describe)(**{key: name})
            if desc[status_key] in _DONE:
                return dict(desc)
            self.job.check()
            time.sleep(POLL_S)

    def _analyze(self) -> dict[str, Any]:
        channels = self.request.get("AutoMLJobInputDataConfig") or []
        training = next(
            (c for c in channels if c.get("ChannelType", "training") == "training"), None
        )
        if training is None:
            raise _Failure("ClientError: AutoMLJobInputDataConfig needs a training channel.")
        uri = training["DataSource"]["S3DataSource"]["S3Uri"]
        self.data_builder = f"{self.name[:20]}-db-1-{_hex(12)}"
        problem = self.config.get("ProblemType")
        fraction = (self.request.get("DataSplitConfig") or {}).get("ValidationFraction", 0.2)
        environment = {"AUTOML_TARGET": self.config.get("TargetAttributeName", ""),
                       "AUTOML_VALIDATION_FRACTION": str(fraction)}  # fmt: skip
        if problem:
            environment["AUTOML_PROBLEM_TYPE"] = problem
        self.sm.create_processing_job(
            ProcessingJobName=self.data_builder,
            RoleArn=self.request.get("RoleArn"),
            AppSpecification={"ImageUri": f"{ladder.SKLEARN_ACCOUNT}.dkr.ecr.{self.job.region}.amazonaws.com/{DATA_BUILDER_IMAGE}:2.5"},
            ProcessingResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.2xlarge", "VolumeSizeInGB": 30}},
            ProcessingInputs=[{"InputName": "data", "S3Input": {
                "S3Uri": uri, "LocalPath": "/opt/ml/processing/input/data", "S3DataType": "S3Prefix",
                "S3InputMode": "File"}}],
            ProcessingOutputConfig={"Outputs": [{"OutputName": "preprocessed", "S3Output": {
                "S3Uri": f"{self.base}/preprocessed-data", "LocalPath": "/opt/ml/processing/output",
                "S3UploadMode": "EndOfJob"}}]},
            Environment=environment,
            StoppingCondition={"MaxRuntimeInSeconds": 3600},
        )  # fmt: skip
        self.children.append(("processing", self.data_builder))
        desc = self._wait(
            "describe_processing_job", "ProcessingJobName", self.data_builder, "ProcessingJobStatus"
        )
        self.children.remove(("processing", self.data_builder))
        if desc["ProcessingJobStatus"] != "Completed":
            raise _Failure(desc.get("FailureReason") or "ClientError: the data analysis failed")
        spec = json.loads(self.s3.get_bytes(f"{self.base}/preprocessed-data/transform.json"))
        self.fake.auto_ml_job_artifacts = {
            "DataExplorationNotebookLocation": f"{self.base}/sagemaker-automl-candidates/notebooks/SageMakerAutopilotDataExplorationNotebook.ipynb",
            "CandidateDefinitionNotebookLocation": f"{self.base}/sagemaker-automl-candidates/notebooks/SageMakerAutopilotCandidateDefinitionNotebook.ipynb",
        }  # fmt: skip
        return spec

    def _train(self, spec: dict[str, Any], objective: str) -> None:
        count = min(int(self.criteria.get("MaxCandidates") or 250), 4)
        runtime = int(self.criteria.get("MaxRuntimePerTrainingJobInSeconds") or 86400)
        trial = _hex(17)
        plans = ladder.plan(
            spec["problem_type"], spec.get("classes") or [], objective, count, self.job.region
        )
        for number, step in enumerate(plans, start=1):
            name = f"{self.name[:20]}-{trial}-{number:03d}-{_hex(8)}"
            data = f"{self.base}/preprocessed-data"
            self.sm.create_training_job(
                TrainingJobName=name,
                AlgorithmSpecification={"TrainingImage": step["image"], "TrainingInputMode": "File"},
                RoleArn=self.request.get("RoleArn"),
                HyperParameters=step["hyperparameters"],
                InputDataConfig=[
                    {"ChannelName": channel, "ContentType": "text/csv", "DataSource": {"S3DataSource": {
                        "S3DataType": "S3Prefix", "S3Uri": f"{data}/{channel}/",
                        "S3DataDistributionType": "FullyReplicated"}}}
                    for channel in ("train", "validation")
                ],
                OutputDataConfig={"S3OutputPath": f"{self.base}/tuning"},
                ResourceConfig={"InstanceType": "ml.m5.4xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
                StoppingCondition={"MaxRuntimeInSeconds": runtime},
            )  # fmt: skip
            self.children.append(("training", name))
            self.candidates.append({"CandidateName": name, "CandidateStatus": "InProgress",
                                    "CreationTime": _now(), "LastModifiedTime": _now(),
                                    "_family": step["family"], "ObjectiveStatus": "Pending",
                                    "CandidateSteps": self._steps(name)})  # fmt: skip
        for candidate in self.candidates:
            desc = self._wait(
                "describe_training_job",
                "TrainingJobName",
                candidate["CandidateName"],
                "TrainingJobStatus",
            )
            self.children.remove(("training", candidate["CandidateName"]))
            self._finish_candidate(candidate, desc, spec, objective)

    def _steps(self, training: str) -> list[dict[str, str]]:
        account, region = self.job.account, self.job.region
        return [
            {"CandidateStepType": "AWS::SageMaker::ProcessingJob", "CandidateStepName": self.data_builder,
             "CandidateStepArn": f"arn:aws:sagemaker:{region}:{account}:processing-job/{self.data_builder}"},
            {"CandidateStepType": "AWS::SageMaker::TrainingJob", "CandidateStepName": training,
             "CandidateStepArn": f"arn:aws:sagemaker:{region}:{account}:training-job/{training}"},
        ]  # fmt: skip

    def _finish_candidate(self, candidate: dict[str, Any], desc: dict[str, Any], spec: dict[str, Any],
                          objective: str) -> None:  # fmt: skip
        now = _now()
        candidate.update(
            LastModifiedTime=now, EndTime=now, CandidateStatus=desc["TrainingJobStatus"]
        )
        if desc["TrainingJobStatus"] != "Completed":
            candidate["ObjectiveStatus"] = "Failed"
            candidate["FailureReason"] = (
                desc.get("FailureReason") or f"Training job {desc['TrainingJobStatus']}"
            )
            return
        metrics = ladder.standard_metrics(candidate["_family"], desc.get("FinalMetricDataList") or [],
                                          spec["problem_type"])  # fmt: skip
        candidate["CandidateProperties"] = {"CandidateMetrics": metrics}
        found = next((m for m in metrics if m["MetricName"] == objective), None)
        if found is None:
            candidate["ObjectiveStatus"] = "Failed"
            candidate["FailureReason"] = (
                f"The candidate did not report {objective} on the validation set."
            )
        else:
            candidate["ObjectiveStatus"] = "Succeeded"
            candidate["FinalAutoMLJobObjectiveMetric"] = {
                "Type": ladder.direction(objective), "MetricName": objective,
                "Value": found["Value"], "StandardMetricName": objective,
            }  # fmt: skip
        candidate["InferenceContainers"] = [self._bundle(candidate["CandidateName"], desc, spec)]
        candidate["InferenceContainerDefinitions"] = {"CPU": candidate["InferenceContainers"]}

    def _bundle(self, name: str, desc: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
        """The candidate's serving artifact: its model, the fitted transform and inference.py."""
        trained = self.s3.get_bytes(desc["ModelArtifacts"]["S3ModelArtifacts"])
        script = (Path(__file__).parent / "inference.py").read_bytes()
        out = io.BytesIO()
        with tarfile.open(fileobj=io.BytesIO(trained), mode="r:*") as source, \
                tarfile.open(fileobj=out, mode="w:gz") as target:  # fmt: skip
            for member in source.getmembers():
                if member.isfile():
                    target.addfile(member, source.extractfile(member))
            for arcname, data in (("transform.json", json.dumps(spec).encode()),
                                  ("code/inference.py", script)):  # fmt: skip
                info = tarfile.TarInfo(arcname)
                info.size = len(data)
                target.addfile(info, io.BytesIO(data))
        folder = f"{self.base}/sagemaker-automl-candidates/{name}"
        self.s3.put_bytes(f"{folder}/model.tar.gz", out.getvalue())
        source_dir = io.BytesIO()
        with tarfile.open(fileobj=source_dir, mode="w:gz") as archive:
            info = tarfile.TarInfo("inference.py")
            info.size = len(script)
            archive.addfile(info, io.BytesIO(script))
        self.s3.put_bytes(f"{folder}/sourcedir.tar.gz", source_dir.getvalue())
        output = (
            "predicted_label"
            if spec["problem_type"] == "Regression"
            else "predicted_label,probability"
        )
        return {
            "Image": ladder.inference_image(self.job.region),
            "ModelDataUrl": f"{folder}/model.tar.gz",
            "Environment": {
                "SAGEMAKER_PROGRAM": "inference.py",
                "SAGEMAKER_SUBMIT_DIRECTORY": f"{folder}/sourcedir.tar.gz",
                "SAGEMAKER_INFERENCE_OUTPUT": output,
                "SAGEMAKER_INFERENCE_SUPPORTED": "predicted_label,probability,probabilities,labels"
                if spec["problem_type"] != "Regression" else "predicted_label",
                "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/csv",
            },
        }  # fmt: skip

    def _rank(self, objective: str) -> dict[str, Any]:
        maximize = ladder.direction(objective) == "Maximize"
        scored = [c for c in self.candidates if "FinalAutoMLJobObjectiveMetric" in c]
        if not scored:
            raise _Failure(
                f"AlgorithmError: no candidate reported the objective metric {objective}."
            )
        scored.sort(key=lambda c: c["FinalAutoMLJobObjectiveMetric"]["Value"], reverse=maximize)
        return public(scored[0])

    def _stop_children(self) -> None:
        for kind, name in list(self.children):
            try:
                if kind == "training":
                    self.sm.stop_training_job(TrainingJobName=name)
                else:
                    self.sm.stop_processing_job(ProcessingJobName=name)
            except Exception:
                pass
        for candidate in self.candidates:
            if candidate["CandidateStatus"] == "InProgress":
                candidate["CandidateStatus"] = "Stopped"


class _Failure(Exception):
    pass


def public(candidate: dict[str, Any]) -> dict[str, Any]:
    """A candidate as the API shows it (the engine's own notes removed)."""
    return {k: v for k, v in candidate.items() if not k.startswith("_")}
