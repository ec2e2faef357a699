"""Stage 2, data preparation & exploration: what it is for and the AWS services it uses, in our own words.

Catalog data, assembled by `tools.catalog.lookup`; the stage's tools live beside it.
"""

from __future__ import annotations

from tools.catalog.model import Service

PURPOSE = "Clean, explore and understand the data before modelling."
# Words a person uses for this stage.
KEYWORDS: tuple[str, ...] = ("clean", "explore", "eda", "prepare", "understand", "profile", "query")
# The stage's services in the order we present them: the seed's services first, then others
# that also help here. (A test checks this agrees with each service's `stages`.)
SERVICE_ORDER: tuple[str, ...] = (
    "data-wrangler",
    "databrew",
    "lambda",
    "athena",
    "quicksight",
    "glue",
    "processing",
    "studio-notebooks",
)

SERVICES: tuple[Service, ...] = (
    Service(
        id="data-wrangler",
        name="Amazon SageMaker Data Wrangler",
        stages=("preparation", "features"),
        purpose="A visual tool in SageMaker Studio (now SageMaker Canvas) to import, explore, "
        "clean and transform data with 300+ built-in transforms and quick charts.",
        use_when="You prefer clicking through data quality reports and transforms, then "
        "exporting the flow as a processing job or pipeline.",
        avoid_when="You want everything scripted from the terminal, or the data is tiny "
        "(a preview and a SQL query are enough).",
        billing="By the hour for the Studio/Canvas instance while it runs (e.g. ml.m5.4xlarge "
        "about $0.92/h), plus processing jobs when a flow is exported.",
        console="Open SageMaker Studio (or Canvas) > Data Wrangler, import from S3 or Athena, "
        "add transforms, then export to a processing job. sagecoach can preview the data "
        "(s3_preview_object) and run the exported job (sagemaker_start_processing_job).",
        traits=("no-code", "visual", "eda", "managed"),
        keywords=("clean", "explore", "transform", "wrangle", "visual", "chart", "quality"),
        aliases=("Data Wrangler", "SageMaker Data Wrangler"),
        cost_rank=4,
    ),
    Service(
        id="databrew",
        name="AWS Glue DataBrew",
        stages=("preparation",),
        purpose="Visual, no-code data cleaning and profiling: recipes of 250+ transforms and "
        "profile jobs that report nulls, distributions and correlations.",
        use_when="Analysts want to clean or profile data without code, and rerun the same "
        "recipe on new files.",
        avoid_when="The logic needs custom code or joins at scale (use a Glue job or a "
        "processing job).",
        billing="Per node-hour (about $0.48) for jobs, billed per minute; interactive sessions "
        "per 30-minute session.",
        tools=(
            "databrew_create_dataset",
            "databrew_create_profile_job",
            "databrew_start_job_run",
            "databrew_describe_job_run",
        ),
        console="Recipes are easiest to build in the DataBrew console; sagecoach creates "
        "datasets and runs profile jobs.",
        traits=("no-code", "visual", "eda", "profiling", "managed", "serverless"),
        keywords=("clean", "normalize", "profile", "recipe", "quality", "nulls", "missing"),
        aliases=("DataBrew", "Glue DataBrew"),
        cost_rank=2,
    ),
    Service(
        id="lambda",
        name="AWS Lambda",
        stages=("preparation", "features", "deployment"),
        purpose="Serverless functions: run a small piece of Python per event or request, with "
        "no servers and nothing billing while idle.",
        use_when="Light, short transformations (under 15 minutes, up to 10 GB memory) "
        "triggered by an upload or request, or a thin API in front of an endpoint.",
        avoid_when="Heavy jobs over large datasets (use Glue or processing jobs) or models "
        "that need a GPU.",
        billing="Per request (about $0.20 per million) plus per GB-second of run time; a "
        "generous free tier.",
        tools=(
            "lambda_create_function",
            "lambda_invoke",
            "lambda_list_functions",
            "lambda_create_endpoint_proxy",
        ),
        traits=("serverless", "cheapest", "code", "python", "realtime", "pay-per-request"),
        keywords=("function", "trigger", "event", "preprocess", "script", "small", "light"),
        aliases=("Lambda",),
        cost_rank=1,
        stage_roles={
            "preparation": "Small serverless preprocessing steps, e.g. run on each uploaded file.",
            "features": "Light on-demand feature transformations, e.g. at request time.",
            "deployment": "Serve a lightweight model, or proxy requests to an endpoint behind "
            "API Gateway.",
        },
    ),
    Service(
        id="athena",
        name="Amazon Athena",
        stages=("preparation", "features"),
        purpose="Serverless SQL over data in S3 through the Glue Data Catalog: explore, "
        "aggregate and sample without loading anything.",
        use_when="You want quick SQL answers (counts, distributions, joins) over CSV or "
        "Parquet in S3.",
        avoid_when="You need transactional updates or millisecond lookups.",
        billing="Per TB scanned ($5/TB, 10 MB minimum per query); DDL and failed queries are "
        "free. Parquet and partitions cut the scan.",
        tools=("athena_run_query", "athena_list_workgroups"),
        traits=("sql", "serverless", "eda", "cheapest", "pay-per-request", "batch"),
        keywords=("query", "select", "explore", "aggregate", "count", "analyze", "statistics"),
        aliases=("Athena",),
        cost_rank=1,
    ),
    Service(
        id="quicksight",
        name="Amazon QuickSight",
        stages=("preparation", "monitoring"),
        purpose="Business-intelligence dashboards over Athena, S3 and databases, for sharing "
        "charts with people who do not write SQL.",
        use_when="Stakeholders need interactive dashboards of the data or of model results.",
        avoid_when="You only need a quick look yourself: an Athena query or a preview is enough.",
        billing="Per user per month (authors more than readers) or capacity pricing; SPICE "
        "storage per GB.",
        tools=("quicksight_list_dashboards",),
        console="Build analyses and dashboards in the QuickSight console (point a dataset at "
        "an Athena table sagecoach created).",
        traits=("no-code", "visual", "dashboards", "eda", "managed"),
        keywords=("dashboard", "chart", "bi", "report", "visualize", "share", "plot"),
        aliases=("QuickSight",),
        cost_rank=3,
    ),
)
