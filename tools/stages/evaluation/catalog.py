"""Stage 6, model evaluation: what it is for and the AWS services it uses, in our own words.

Catalog data, assembled by `tools.catalog.lookup`; the stage's tools live beside it.
"""

from __future__ import annotations

from tools.catalog.model import Service

PURPOSE = "Measure quality, compare runs, check bias and explain predictions."
# Words a person uses for this stage.
KEYWORDS: tuple[str, ...] = (
    "evaluate",
    "evaluation",
    "compare",
    "metric",
    "accuracy",
    "bias",
    "explain",
)
# The stage's services in the order we present them: the seed's services first, then others
# that also help here. (A test checks this agrees with each service's `stages`.)
SERVICE_ORDER: tuple[str, ...] = (
    "experiments",
    "studio-notebooks",
    "model-monitor",
    "clarify",
    "processing",
    "studio",
)

SERVICES: tuple[Service, ...] = (
    Service(
        id="studio-notebooks",
        name="SageMaker Studio Notebooks",
        stages=("evaluation", "preparation"),
        purpose="Jupyter notebooks in Studio for interactive analysis: plot metrics, confusion "
        "matrices and ROC curves, and dig into errors.",
        use_when="You want to explore results interactively and keep the analysis as a notebook.",
        avoid_when="You only need the final metrics or a comparison table (sagecoach shows "
        "those directly).",
        billing="Per instance-hour of the running notebook space until you stop it.",
        console="Open a JupyterLab space in SageMaker Studio; sagecoach's comparison table and "
        "metric series cover the common charts without a notebook.",
        traits=("notebook", "visual", "ide", "eda", "code"),
        keywords=("notebook", "jupyter", "plot", "accuracy", "precision", "recall", "analysis"),
        aliases=("Studio Notebooks", "SageMaker Studio Notebooks", "Notebooks"),
        cost_rank=2,
    ),
    Service(
        id="model-monitor",
        name="Amazon SageMaker Model Monitor",
        stages=("monitoring", "evaluation"),
        purpose="Compares what an endpoint sees and predicts against a baseline on a "
        "schedule: data quality, model quality, bias drift and feature attribution drift.",
        use_when="A model is live and the input data or accuracy may drift over time.",
        avoid_when="The model is not deployed yet (a one-off evaluation is enough), or the "
        "endpoint has no data capture.",
        billing="Each baseline and scheduled run is a processing job billed per "
        "instance-second, plus the S3 storage of captured data.",
        tools=(
            "monitor_suggest_baseline",
            "monitor_get_baseline",
            "monitor_create_schedule",
            "monitor_run_now",
            "monitor_list_schedules",
            "monitor_list_executions",
        ),
        traits=("drift", "managed", "batch"),
        keywords=("drift", "quality", "baseline", "skew", "violation", "schedule", "monitor"),
        aliases=("Model Monitor", "SageMaker Model Monitor"),
        cost_rank=3,
        stage_roles={
            "evaluation": "Suggest a baseline (statistics and constraints) from training data.",
            "monitoring": "Scheduled checks of live traffic against the baseline.",
        },
    ),
    Service(
        id="clarify",
        name="Amazon SageMaker Clarify",
        stages=("evaluation", "monitoring"),
        purpose="Measures bias in data and predictions across groups (facets) and explains "
        "predictions with SHAP feature attributions.",
        use_when="Decisions affect people (credit, hiring, churn offers) or you must explain "
        "which features drive predictions.",
        avoid_when="No sensitive groups and no need to explain: accuracy metrics suffice.",
        billing="Runs as a processing job billed per instance-second (explainability with "
        "many rows can take hours; sample the data).",
        tools=(
            "clarify_start_bias_job",
            "clarify_start_explainability_job",
            "clarify_get_results",
            "clarify_create_bias_job_definition",
        ),
        traits=("bias", "explainability", "managed", "batch"),
        keywords=("bias", "fairness", "explain", "shap", "facet", "attribution", "why"),
        aliases=("Clarify", "SageMaker Clarify"),
        cost_rank=3,
    ),
)
