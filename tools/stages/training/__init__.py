"""Stage 4, model training: training jobs, Autopilot, Experiments, JumpStart, AWS Batch, Studio.

`build_training_job_request` is the pure request builder the Pipelines tool reuses.
"""

from tools.training import autopilot, batch, experiments, jumpstart, studio
from tools.training.jobs import (
    StartTrainingArgs,
    TrainingDefinition,
    build_training_job_request,
    estimate_training,
    training_parts,
)

__all__ = [
    "StartTrainingArgs",
    "TrainingDefinition",
    "autopilot",
    "batch",
    "build_training_job_request",
    "estimate_training",
    "experiments",
    "jumpstart",
    "studio",
    "training_parts",
]
