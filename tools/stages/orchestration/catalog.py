"""Stage 9, automation & orchestration: what it is for and the AWS services it uses, in our own words.

Catalog data, assembled by `tools.catalog.lookup`; the stage's tools live beside it.
"""

from __future__ import annotations

from tools.catalog.model import Service

PURPOSE = "Make the whole workflow repeatable without manual steps."
# Words a person uses for this stage.
KEYWORDS: tuple[str, ...] = ("automate", "orchestrate", "pipeline", "workflow", "retrain", "cicd")
# The stage's services in the order we present them: the seed's services first, then others
# that also help here. (A test checks this agrees with each service's `stages`.)
SERVICE_ORDER: tuple[str, ...] = ("pipelines",)

SERVICES: tuple[Service, ...] = (
    Service(
        id="pipelines",
        name="Amazon SageMaker Pipelines",
        stages=("orchestration",),
        purpose="Workflows of ML steps (processing, training, tuning, evaluation, model "
        "registration, batch transform) defined once and run again on new data, with lineage.",
        use_when="You repeat the same steps on new data (weekly retraining) or want CI/CD for "
        "models.",
        avoid_when="A one-off experiment: run the steps directly first, then export them.",
        billing="No charge for the pipeline itself; each step bills as its own job.",
        tools=(
            "pipelines_build_definition",
            "pipelines_create_pipeline",
            "pipelines_start_execution",
            "pipelines_list_executions",
            "pipelines_describe_execution",
        ),
        traits=("ci-cd", "automation", "managed", "serverless", "batch"),
        keywords=("pipeline", "automate", "workflow", "retrain", "schedule", "mlops", "cicd"),
        aliases=("Pipelines", "SageMaker Pipelines"),
        cost_rank=2,
    ),
)
