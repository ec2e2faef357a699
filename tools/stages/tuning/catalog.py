"""Stage 5, hyperparameter tuning: what it is for and the AWS services it uses, in our own words.

Catalog data, assembled by `tools.catalog.lookup`; the stage's tools live beside it.
"""

from __future__ import annotations

from tools.catalog.model import Service

PURPOSE = "Search hyperparameters for the best-performing model."
# Words a person uses for this stage.
KEYWORDS: tuple[str, ...] = (
    "tune",
    "tuning",
    "hyperparameter",
    "hyperparameters",
    "optimize",
    "hpo",
)
# The stage's services in the order we present them: the seed's services first, then others
# that also help here. (A test checks this agrees with each service's `stages`.)
SERVICE_ORDER: tuple[str, ...] = ("automatic-model-tuning",)

SERVICES: tuple[Service, ...] = (
    Service(
        id="automatic-model-tuning",
        name="Amazon SageMaker Automatic Model Tuning",
        stages=("tuning",),
        purpose="Runs many training jobs over hyperparameter ranges (Bayesian, random, "
        "Hyperband or grid search) and keeps the one with the best objective metric.",
        use_when="A model trains fine but you want the best settings, and can afford several jobs.",
        avoid_when="You have not got one working training job yet, or budget allows only one run.",
        billing="The sum of its training jobs' instance time: max jobs × one job's cost at "
        "worst; early stopping and Hyperband cut it.",
        tools=(
            "sagemaker_start_tuning_job",
            "sagemaker_describe_tuning_job",
            "sagemaker_list_tuning_jobs",
            "sagemaker_stop_tuning_job",
        ),
        traits=("managed", "automl", "batch", "large-scale"),
        keywords=("hyperparameter", "tune", "tuning", "optimize", "search", "hpo", "bayesian"),
        aliases=(
            "Automatic Model Tuning",
            "SageMaker Automatic Model Tuning",
            "Hyperparameter Tuning",
            "AMT",
        ),
        cost_rank=4,
    ),
)
