"""The stage catalog: the nine pipeline stages and the AWS services for each, in our own words.

Covers every stage and service named in the seed document (`shared/seed/aws-ml-pipeline-stages.md`).
For each service: what it is for, when to use it and when not, how it bills, which sagecoach
tools act on it (or what to do in the console when nothing programmatic helps), and traits the
recommender ranks by. Plain data: no AWS calls, no imports above `tools.base`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tools.base import STAGES


@dataclass(frozen=True, eq=False)  # one object per service: compared and hashed by identity
class Service:
    id: str
    name: str
    stages: tuple[str, ...]  # where the pipeline uses it, most important first
    purpose: str
    use_when: str
    avoid_when: str
    billing: str
    tools: tuple[str, ...] = ()  # sagecoach tools that act on it
    console: str = ""  # what to do in the console when sagecoach has no (full) programmatic path
    traits: tuple[str, ...] = ()  # ranking vocabulary: no-code, streaming, sql, serverless, ...
    keywords: tuple[str, ...] = ()  # other words a person may use for it
    aliases: tuple[str, ...] = ()  # other names (as the seed or people write them)
    cost_rank: int = 3  # 1 = pay per use, nearly free at small scale ... 5 = bills by time, big
    stage_roles: dict[str, str] = field(default_factory=dict)  # its job in a given stage

    @property
    def console_only(self) -> bool:
        return not self.tools and bool(self.console)

    def role_in(self, stage: str) -> str:
        return self.stage_roles.get(stage, self.purpose)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "stages": list(self.stages),
            "purpose": self.purpose,
            "use_when": self.use_when,
            "avoid_when": self.avoid_when,
            "billing": self.billing,
            "tools": list(self.tools),
            "console": self.console,
            "console_only": self.console_only,
            "traits": list(self.traits),
            "cost_rank": self.cost_rank,
        }


@dataclass(frozen=True)
class Stage:
    id: str
    number: int
    title: str
    purpose: str
    services: tuple[str, ...]  # service ids, in the order we would suggest them
    keywords: tuple[str, ...] = ()


SERVICES: tuple[Service, ...] = (
    # --- 1. collection ------------------------------------------------------------------------
    Service(
        id="s3",
        name="Amazon S3",
        stages=("collection",),
        purpose="Object storage: the landing zone for raw data and where every later stage "
        "reads inputs and writes outputs (datasets, model artifacts, reports).",
        use_when="Always: SageMaker jobs, Athena, Glue and Feature Store's offline store all "
        "read from and write to S3.",
        avoid_when="You need row-level updates or low-latency lookups (use a database or the "
        "Feature Store online store).",
        billing="Per GB-month stored (about $0.023 standard) plus per request; transfer into "
        "AWS is free.",
        tools=(
            "s3_list_buckets",
            "s3_create_bucket",
            "s3_list_objects",
            "s3_upload_file",
            "s3_preview_object",
            "s3_delete_objects",
        ),
        traits=("storage", "cheapest", "serverless", "batch", "managed"),
        keywords=("bucket", "upload", "file", "csv", "parquet", "object", "store", "raw", "lake"),
        aliases=("S3", "Simple Storage Service"),
        cost_rank=1,
    ),
    Service(
        id="glue",
        name="AWS Glue",
        stages=("collection", "preparation"),
        purpose="Serverless ETL and the Data Catalog: crawlers discover the schema of data in "
        "S3, jobs (Spark or Python) transform it, and the catalog makes it queryable.",
        use_when="You want tables over S3 data for Athena, or repeatable Spark/Python ETL "
        "without running clusters.",
        avoid_when="The data is a single small file (create the table from its preview instead "
        "of running a crawler) or you need sub-second streaming.",
        billing="Per DPU-hour (about $0.44) for crawlers and jobs, billed per second with a "
        "minimum (10 min for crawlers, 1 min for jobs); the catalog is free for the first "
        "million objects.",
        tools=(
            "glue_create_database",
            "glue_create_crawler",
            "glue_start_crawler",
            "glue_get_crawler",
            "glue_create_table",
            "glue_list_tables",
            "glue_get_table_schema",
            "glue_create_job",
            "glue_start_job_run",
            "glue_get_job_run",
        ),
        traits=("etl", "catalog", "serverless", "batch", "spark", "code", "managed"),
        keywords=("crawler", "schema", "table", "transform", "database", "discover", "ingest"),
        aliases=("Glue", "Glue Data Catalog", "Glue ETL"),
        cost_rank=3,
    ),
    Service(
        id="kinesis",
        name="Amazon Kinesis",
        stages=("collection",),
        purpose="Streaming ingestion: Kinesis Data Streams takes records as they happen "
        "(clicks, sensors, logs) for consumers to process within seconds.",
        use_when="Data arrives continuously and you need it within seconds, or several "
        "consumers read the same stream.",
        avoid_when="Data arrives as files or in daily batches: upload to S3 instead, it is "
        "far cheaper.",
        billing="Provisioned: per shard-hour (about $0.015) plus per million PUT units; "
        "on-demand: per stream-hour plus per GB in and out. Bills while the stream exists.",
        tools=("kinesis_create_stream", "kinesis_list_streams", "kinesis_put_sample_records"),
        traits=("streaming", "realtime", "managed", "code"),
        keywords=("stream", "events", "clickstream", "iot", "sensor", "firehose", "ingest"),
        aliases=("Kinesis", "Kinesis Data Streams", "Amazon Kinesis Data Streams"),
        cost_rank=3,
    ),
    Service(
        id="data-exchange",
        name="AWS Data Exchange",
        stages=("collection",),
        purpose="A marketplace of third-party datasets (finance, weather, demographics) you "
        "subscribe to and export into your own S3 bucket.",
        use_when="You need external data to enrich your own (e.g. weather or economic "
        "indicators for a forecast).",
        avoid_when="All the data you need is your own.",
        billing="The provider's subscription price (some sets are free); exports to S3 incur "
        "normal S3 charges.",
        tools=("dataexchange_list_data_sets",),
        console="Find and subscribe to products in the AWS Data Exchange console; sagecoach "
        "lists the data sets you are entitled to.",
        traits=("third-party-data", "managed"),
        keywords=("marketplace", "external", "subscribe", "vendor", "enrich", "buy", "public"),
        aliases=("Data Exchange",),
        cost_rank=3,
    ),
    # --- 2. preparation -----------------------------------------------------------------------
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
    # --- 3. features --------------------------------------------------------------------------
    Service(
        id="feature-store",
        name="Amazon SageMaker Feature Store",
        stages=("features",),
        purpose="A central store of features: an online store for low-latency lookups at "
        "inference and an offline store in S3 for building training sets, shared across teams.",
        use_when="Several models or teams reuse the same features, or training and inference "
        "must see identical feature values.",
        avoid_when="One model, one dataset: a CSV or Parquet file in S3 is simpler.",
        billing="Online store per million read/write units plus storage per GB-month; offline "
        "store is S3 (and Glue/Athena) pricing.",
        tools=(
            "featurestore_create_feature_group",
            "featurestore_describe_feature_group",
            "featurestore_list_feature_groups",
            "featurestore_ingest",
            "featurestore_get_record",
        ),
        traits=("feature-sharing", "online-store", "realtime", "managed", "serverless"),
        keywords=("feature", "group", "share", "reuse", "lookup", "online", "offline", "store"),
        aliases=("Feature Store", "SageMaker Feature Store"),
        cost_rank=2,
    ),
    Service(
        id="processing",
        name="SageMaker Processing Jobs",
        stages=("features", "preparation", "evaluation"),
        purpose="Run your own script (scikit-learn, Spark, or any container) on managed "
        "instances that start, process S3 inputs into S3 outputs, and stop.",
        use_when="Feature engineering or evaluation code in Python or Spark that is too big "
        "or too slow for a laptop or Lambda.",
        avoid_when="A SQL query does it (Athena), or the data fits in memory on your machine.",
        billing="Per instance-second while the job runs (e.g. ml.m5.xlarge about $0.23/h), "
        "no charge when idle.",
        tools=(
            "prepare_training_data",
            "sagemaker_start_processing_job",
            "sagemaker_describe_processing_job",
            "sagemaker_wait_for_job",
        ),
        traits=("code", "python", "spark", "batch", "managed", "large-scale"),
        keywords=("script", "sklearn", "scikit", "preprocess", "transform", "feature", "job"),
        aliases=("Processing Jobs", "Processing", "SageMaker Processing"),
        cost_rank=3,
    ),
    # --- 4. training --------------------------------------------------------------------------
    Service(
        id="sagemaker",
        name="Amazon SageMaker",
        stages=("training",),
        purpose="The managed ML platform that holds most of this pipeline: training jobs, "
        "tuning, Studio, Experiments, Debugger, endpoints, pipelines.",
        use_when="You want managed infrastructure for building, training and hosting models "
        "at scale; pick the specific feature below.",
        avoid_when="A model trains in minutes on your laptop and never needs hosting.",
        billing="Each feature bills on its own (mostly per instance-second); nothing bills "
        "when no job, endpoint or notebook is running.",
        tools=("sagemaker_list_training_jobs", "sagemaker_list_domains"),
        traits=("managed", "large-scale"),
        keywords=("platform", "ml", "machine", "learning", "build", "train", "host"),
        aliases=("SageMaker", "SageMaker AI", "Amazon SageMaker AI"),
        cost_rank=3,
    ),
    Service(
        id="training-jobs",
        name="Amazon SageMaker Training Jobs",
        stages=("training",),
        purpose="Managed training: a container (a built-in algorithm like XGBoost, a "
        "framework image with your script, or your own image) runs on instances you choose, "
        "reads S3 channels and writes the model artifact to S3.",
        use_when="You know which algorithm to train and want reproducible runs, GPUs or "
        "distributed training, with managed spot to save money.",
        avoid_when="You do not know which algorithm fits (try Autopilot) or only need a "
        "pretrained model (JumpStart).",
        billing="Per instance-second from start to finish (e.g. ml.m5.xlarge about $0.23/h); "
        "managed spot saves 50-90 %.",
        tools=(
            "sagemaker_start_training_job",
            "sagemaker_describe_training_job",
            "sagemaker_list_training_jobs",
            "sagemaker_stop_training_job",
            "sagemaker_get_training_metrics",
            "sagemaker_wait_for_job",
        ),
        traits=("code", "managed", "gpu", "distributed", "spot", "large-scale", "batch"),
        keywords=("train", "fit", "xgboost", "algorithm", "model", "linear", "kmeans", "job"),
        aliases=("Training Jobs", "SageMaker Training Jobs", "SageMaker Training"),
        cost_rank=3,
    ),
    Service(
        id="autopilot",
        name="Amazon SageMaker Autopilot",
        stages=("training",),
        purpose="AutoML for tabular data: give it a table and a target column; it explores "
        "preprocessing, algorithms and hyperparameters and ranks the candidate models.",
        use_when="You have a labelled table and want a strong baseline without choosing an "
        "algorithm or writing code.",
        avoid_when="You already know the algorithm (a single training job is far cheaper), "
        "or the data is images or text outside its supported problem types.",
        billing="The training and processing instance time of every candidate it tries; a "
        "full run can take hours across many jobs (cap candidates and runtime).",
        tools=("autopilot_start_job", "autopilot_describe_job", "autopilot_list_candidates"),
        traits=("automl", "no-code", "managed", "tabular"),
        keywords=("automl", "automatic", "best", "baseline", "candidate", "auto", "tabular"),
        aliases=("Autopilot", "SageMaker Autopilot", "AutoML"),
        cost_rank=4,
    ),
    Service(
        id="jumpstart",
        name="SageMaker JumpStart",
        stages=("training", "deployment"),
        purpose="A hub of pretrained models (foundation models, vision, NLP, tabular) and "
        "solution templates you deploy or fine-tune in a few steps.",
        use_when="A pretrained model already does most of the task, or you want to fine-tune "
        "an open model rather than train from scratch.",
        avoid_when="Your problem is ordinary tabular prediction on your own data (train "
        "XGBoost or use Autopilot).",
        billing="No charge for the hub; you pay for the training and hosting instances the "
        "model runs on (often GPUs) and any model licence.",
        tools=("jumpstart_list_models",),
        console="Deploy or fine-tune from SageMaker Studio > JumpStart; sagecoach lists the "
        "models for a task.",
        traits=("pretrained", "foundation-models", "gpu", "managed"),
        keywords=("pretrained", "foundation", "llm", "hub", "template", "finetune", "bert"),
        aliases=("JumpStart", "SageMaker JumpStart"),
        cost_rank=4,
    ),
    Service(
        id="studio",
        name="SageMaker Studio",
        stages=("training", "evaluation"),
        purpose="The web IDE for ML: JupyterLab and Code Editor spaces, plus views of jobs, "
        "experiments, pipelines and endpoints.",
        use_when="You want notebooks and a visual view of SageMaker resources in the browser.",
        avoid_when="You work from the terminal (sagecoach does the same jobs directly).",
        billing="The domain is free; each running space bills per instance-hour (ml.t3.medium "
        "about $0.05/h) until stopped, plus EFS/EBS storage.",
        tools=("sagemaker_list_domains",),
        console="Create a domain in the SageMaker console, then open Studio from it; stop idle "
        "spaces to stop the bill.",
        traits=("ide", "notebook", "visual", "managed"),
        keywords=("ide", "jupyter", "notebook", "browser", "lab", "space", "domain"),
        aliases=("Studio", "SageMaker Studio", "SageMaker Studio Classic"),
        cost_rank=2,
    ),
    Service(
        id="experiments",
        name="Amazon SageMaker Experiments",
        stages=("training", "evaluation"),
        purpose="Tracks runs: the parameters, inputs, metrics and artifacts of each training "
        "run, grouped into experiments so you can compare them.",
        use_when="You train many variants and need to know which settings produced which result.",
        avoid_when="A single run (its job description already has the metrics).",
        billing="No extra charge; you pay for the jobs it tracks (managed MLflow tracking "
        "servers are billed separately by the hour).",
        tools=(
            "experiments_create_experiment",
            "experiments_list_runs",
            "sagemaker_compare_training_jobs",
        ),
        traits=("experiment-tracking", "managed", "cheapest"),
        keywords=("track", "compare", "runs", "metrics", "parameters", "lineage", "mlflow"),
        aliases=("Experiments", "SageMaker Experiments"),
        cost_rank=1,
        stage_roles={
            "training": "Record each training run's parameters and metrics as it happens.",
            "evaluation": "Compare runs side by side and pick the best by a metric.",
        },
    ),
    Service(
        id="debugger",
        name="SageMaker Debugger",
        stages=("training",),
        purpose="Watches a training job as it runs: built-in rules flag problems such as loss "
        "not decreasing, overfitting or vanishing gradients, and profiles resource use.",
        use_when="Long or expensive training runs where you want to catch a bad run early.",
        avoid_when="Short runs on built-in algorithms where the final metric is enough.",
        billing="Built-in rules run as small processing jobs (usually free-tier sized "
        "instances); you pay for any instance time beyond that.",
        tools=("sagemaker_start_training_job", "sagemaker_describe_training_job"),
        traits=("realtime", "managed", "profiling"),
        keywords=("debug", "overfit", "loss", "gradient", "rule", "profile", "watch"),
        aliases=("Debugger", "SageMaker Debugger"),
        cost_rank=1,
    ),
    Service(
        id="batch",
        name="AWS Batch",
        stages=("training",),
        purpose="Runs queues of containerized batch jobs on EC2 or Fargate, scaling compute "
        "to the queue: for large parallel or HPC workloads.",
        use_when="You already have containers and want many parallel jobs or HPC-style "
        "array jobs outside SageMaker.",
        avoid_when="Ordinary model training: SageMaker training jobs handle data channels, "
        "artifacts and metrics for you.",
        billing="No charge for Batch itself; you pay for the EC2 or Fargate capacity it "
        "launches (spot capacity is cheaper).",
        tools=(
            "batch_submit_job",
            "batch_describe_job",
            "batch_list_job_queues",
            "batch_list_job_definitions",
        ),
        traits=("hpc", "batch", "containers", "large-scale", "code", "spot"),
        keywords=("parallel", "hpc", "array", "queue", "container", "simulation", "ec2"),
        aliases=("Batch",),
        cost_rank=3,
    ),
    # --- 5. tuning ----------------------------------------------------------------------------
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
    # --- 6. evaluation ------------------------------------------------------------------------
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
            "monitor_create_schedule",
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
            "clarify_create_bias_job_definition",
        ),
        traits=("bias", "explainability", "managed", "batch"),
        keywords=("bias", "fairness", "explain", "shap", "facet", "attribution", "why"),
        aliases=("Clarify", "SageMaker Clarify"),
        cost_rank=3,
    ),
    # --- 7. deployment ------------------------------------------------------------------------
    Service(
        id="endpoints",
        name="Amazon SageMaker Endpoints (real-time)",
        stages=("deployment",),
        purpose="Hosts a model on always-on instances behind an HTTPS endpoint for "
        "low-latency predictions, with autoscaling and variants.",
        use_when="Steady traffic that needs answers in milliseconds, or a model that needs a "
        "GPU or more memory than serverless offers.",
        avoid_when="Traffic is rare or spiky (serverless) or predictions are needed for a "
        "whole dataset at once (batch transform).",
        billing="Per instance-hour for every hour the endpoint exists, used or not (e.g. "
        "ml.m5.large about $0.115/h ≈ $83/month). Delete it when done.",
        tools=(
            "sagemaker_create_model",
            "sagemaker_list_models",
            "sagemaker_create_endpoint",
            "sagemaker_update_endpoint",
            "sagemaker_describe_endpoint",
            "sagemaker_list_endpoints",
            "sagemaker_invoke_endpoint",
            "sagemaker_delete_endpoint",
        ),
        traits=("realtime", "managed", "gpu", "low-latency", "always-on"),
        keywords=("deploy", "endpoint", "host", "serve", "predict", "inference", "api", "online"),
        aliases=(
            "Endpoints",
            "SageMaker Endpoints",
            "Real-time Inference",
            "Real-time Endpoints",
        ),
        cost_rank=5,
    ),
    Service(
        id="batch-transform",
        name="Amazon SageMaker Batch Transform",
        stages=("deployment",),
        purpose="Offline predictions for a whole dataset in S3: instances start, score every "
        "record, write results to S3, and stop.",
        use_when="You score a file or table periodically (nightly churn scores) and nobody "
        "waits for an answer.",
        avoid_when="Someone needs a prediction per request in real time.",
        billing="Per instance-second only while the job runs; nothing after.",
        tools=("sagemaker_start_transform_job", "sagemaker_describe_transform_job"),
        traits=("batch", "cheapest", "managed", "large-scale", "offline"),
        keywords=("batch", "score", "offline", "bulk", "dataset", "nightly", "predictions"),
        aliases=("Batch Transform", "SageMaker Batch Transform"),
        cost_rank=2,
    ),
    Service(
        id="multi-model-endpoints",
        name="Amazon SageMaker Multi-Model Endpoints",
        stages=("deployment",),
        purpose="One endpoint that serves many models from an S3 prefix, loading each on "
        "demand: many small models share the same instances.",
        use_when="Many similar models (one per customer or region) with modest traffic each.",
        avoid_when="One model, or models that need different containers or steady low "
        "latency on first call (cold loads take time).",
        billing="Per instance-hour of the shared endpoint, like a real-time endpoint, but "
        "spread across all its models.",
        tools=("sagemaker_create_endpoint", "sagemaker_invoke_endpoint"),
        traits=("realtime", "multi-model", "managed", "cost-efficient"),
        keywords=("many", "hundreds", "multi", "tenant", "customer", "share", "mme"),
        aliases=("Multi-Model Endpoints", "SageMaker Multi-Model Endpoints", "MME"),
        cost_rank=4,
    ),
    Service(
        id="serverless-inference",
        name="SageMaker Serverless Inference",
        stages=("deployment",),
        purpose="An endpoint without instances to manage: capacity scales with requests and "
        "down to zero when idle.",
        use_when="Intermittent or unpredictable traffic where a cold start of a few seconds "
        "is acceptable.",
        avoid_when="The model needs a GPU, more than 6 GB memory, or steady millisecond latency.",
        billing="Per GB-second of compute while handling requests (about $0.00002) plus per "
        "GB processed; nothing while idle.",
        tools=(
            "sagemaker_create_endpoint",
            "sagemaker_invoke_endpoint",
            "sagemaker_delete_endpoint",
        ),
        traits=("serverless", "realtime", "cheapest", "scale-to-zero", "pay-per-request"),
        keywords=("serverless", "idle", "spiky", "intermittent", "occasional", "deploy"),
        aliases=("Serverless Inference", "Serverless", "SageMaker Serverless"),
        cost_rank=1,
    ),
    Service(
        id="api-gateway",
        name="Amazon API Gateway",
        stages=("deployment",),
        purpose="A public REST (or HTTP) API with auth, throttling and keys, here in front "
        "of a Lambda that calls the model endpoint.",
        use_when="Applications outside AWS must call the model over plain HTTPS without AWS "
        "signatures.",
        avoid_when="Callers are inside AWS and can sign requests to the endpoint directly.",
        billing="Per million API calls (REST about $3.50) plus data transfer.",
        tools=("apigateway_create_rest_api", "lambda_create_endpoint_proxy"),
        traits=("rest-api", "serverless", "realtime", "pay-per-request"),
        keywords=("api", "rest", "http", "public", "url", "gateway", "web", "app"),
        aliases=("API Gateway",),
        cost_rank=2,
    ),
    # --- 8. monitoring ------------------------------------------------------------------------
    Service(
        id="cloudwatch",
        name="Amazon CloudWatch",
        stages=("monitoring",),
        purpose="Metrics, logs and alarms: endpoint invocations, latency and errors, training "
        "logs, and alarms that notify when a threshold is crossed.",
        use_when="Always for live models: watch latency and errors and alarm on them.",
        avoid_when="You need who-did-what API history (CloudTrail).",
        billing="Per custom metric, per alarm per month, per GB of logs ingested and stored; "
        "SageMaker's basic metrics are free.",
        tools=(
            "cloudwatch_get_endpoint_metrics",
            "cloudwatch_put_alarm",
            "cloudwatch_list_alarms",
            "cloudwatch_get_log_events",
        ),
        traits=("metrics", "logs", "alarms", "realtime", "managed", "cheapest"),
        keywords=("metric", "log", "alarm", "latency", "error", "dashboard", "alert", "watch"),
        aliases=("CloudWatch",),
        cost_rank=1,
    ),
    Service(
        id="cloudtrail",
        name="AWS CloudTrail",
        stages=("monitoring",),
        purpose="The record of API calls in the account: who created, changed, invoked or "
        "deleted a model or endpoint, and when.",
        use_when="Auditing access and changes to models, endpoints and data.",
        avoid_when="You want performance metrics (CloudWatch).",
        billing="The last 90 days of management events are free to look up; trails and data "
        "events bill per 100,000 events.",
        tools=("cloudtrail_lookup_events",),
        traits=("audit", "security", "managed", "cheapest"),
        keywords=("audit", "api", "calls", "history", "access", "deleted", "changed", "trail"),
        aliases=("CloudTrail",),
        cost_rank=1,
    ),
    # --- 9. orchestration ---------------------------------------------------------------------
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

_STAGE_PURPOSES = {
    "collection": "Gather raw data from its sources and store it where the pipeline can use it.",
    "preparation": "Clean, explore and understand the data before modelling.",
    "features": "Turn raw columns into features that help a model, and share them.",
    "training": "Fit models on the prepared data.",
    "tuning": "Search hyperparameters for the best-performing model.",
    "evaluation": "Measure quality, compare runs, check bias and explain predictions.",
    "deployment": "Make the model answer: in real time, serverless, or in batches.",
    "monitoring": "Watch the live model: latency, errors, data drift, who changed what.",
    "orchestration": "Make the whole workflow repeatable without manual steps.",
}
_STAGE_KEYWORDS = {
    "collection": ("collect", "ingest", "gather", "store", "raw", "upload", "source", "land"),
    "preparation": ("clean", "explore", "eda", "prepare", "understand", "profile", "query"),
    "features": ("feature", "features", "engineer", "engineering", "encode", "derive"),
    "training": ("train", "training", "fit", "algorithm", "learn", "xgboost", "classifier"),
    "tuning": ("tune", "tuning", "hyperparameter", "hyperparameters", "optimize", "hpo"),
    "evaluation": ("evaluate", "evaluation", "compare", "metric", "accuracy", "bias", "explain"),
    "deployment": (
        "deploy",
        "deployment",
        "serve",
        "host",
        "endpoint",
        "inference",
        "predict",
        "prediction",
        "score",
    ),
    "monitoring": ("monitor", "monitoring", "drift", "alarm", "latency", "audit", "watch"),
    "orchestration": ("automate", "orchestrate", "pipeline", "workflow", "retrain", "cicd"),
}

_BY_ID: dict[str, Service] = {s.id: s for s in SERVICES}


# Each stage's services in the order we present them: the seed's services first, then others
# that also help there. (A test checks this agrees with each service's `stages`.)
_STAGE_ORDER: dict[str, tuple[str, ...]] = {
    "collection": ("s3", "glue", "kinesis", "data-exchange"),
    "preparation": (
        "data-wrangler",
        "databrew",
        "lambda",
        "athena",
        "quicksight",
        "glue",
        "processing",
        "studio-notebooks",
    ),
    "features": ("feature-store", "processing", "lambda", "data-wrangler", "athena"),
    "training": (
        "training-jobs",
        "autopilot",
        "jumpstart",
        "sagemaker",
        "studio",
        "experiments",
        "debugger",
        "batch",
    ),
    "tuning": ("automatic-model-tuning",),
    "evaluation": (
        "experiments",
        "studio-notebooks",
        "model-monitor",
        "clarify",
        "processing",
        "studio",
    ),
    "deployment": (
        "endpoints",
        "serverless-inference",
        "batch-transform",
        "multi-model-endpoints",
        "lambda",
        "api-gateway",
        "jumpstart",
    ),
    "monitoring": ("model-monitor", "cloudwatch", "cloudtrail", "clarify", "quicksight"),
    "orchestration": ("pipelines",),
}


STAGE_CATALOG: tuple[Stage, ...] = tuple(
    Stage(
        id=sid,
        number=number,
        title=title,
        purpose=_STAGE_PURPOSES[sid],
        services=_STAGE_ORDER[sid],
        keywords=_STAGE_KEYWORDS[sid],
    )
    for sid, number, title in STAGES
)
_STAGES_BY_ID: dict[str, Stage] = {s.id: s for s in STAGE_CATALOG}


def services() -> tuple[Service, ...]:
    return SERVICES


def stages() -> tuple[Stage, ...]:
    return STAGE_CATALOG


def get_stage(stage: str) -> Stage | None:
    """A stage by id ('training'), number ('4') or title words ('model training')."""
    key = stage.strip().lower()
    if key in _STAGES_BY_ID:
        return _STAGES_BY_ID[key]
    for st in STAGE_CATALOG:
        if key in (str(st.number), st.title.lower()) or _norm(st.title) == _norm(key):
            return st
    for st in STAGE_CATALOG:  # loose: "feature engineering" -> features, "eda" -> preparation
        words = set(_words(key))
        if words and (words & set(st.keywords) or words <= set(_words(st.title))):
            return st
    return None


def get_service(service_id: str) -> Service:
    return _BY_ID[service_id]


def stage_services(stage: str) -> list[Service]:
    st = get_stage(stage)
    return [_BY_ID[i] for i in st.services] if st else []


_PREFIXES = ("amazon ", "aws ", "sagemaker ")


def _norm(name: str) -> str:
    text = re.sub(r"\(.*?\)", " ", name.lower())
    text = re.sub(r"[^a-z0-9]+", " ", text).strip()
    changed = True
    while changed:
        changed = False
        for prefix in _PREFIXES:
            if text.startswith(prefix):
                text = text[len(prefix) :]
                changed = True
    return text.strip()


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def find_service(name: str) -> Service | None:
    """A service by id, name or alias, with or without 'Amazon'/'AWS'/'SageMaker' in front."""
    raw = name.strip().lower()
    if raw in _BY_ID:
        return _BY_ID[raw]
    for svc in SERVICES:
        if raw == svc.name.lower() or raw in (a.lower() for a in svc.aliases):
            return svc
    key = _norm(name)
    if not key:
        return _BY_ID["sagemaker"] if "sagemaker" in raw else None
    for svc in SERVICES:
        if key == _norm(svc.name) or key in (_norm(a) for a in svc.aliases) or key == svc.id:
            return svc
    stems = _stem_key(key)  # "endpoint" finds "Endpoints", "processing job" finds "Processing Jobs"
    for svc in SERVICES:
        if stems in (_stem_key(_norm(n)) for n in (svc.name, *svc.aliases)):
            return svc
    return None


def _stem_key(text: str) -> str:
    return " ".join(stem(w) for w in _words(text))


def suggest_services(name: str, limit: int = 3) -> list[Service]:
    """Closest services for a name that did not match, by shared words and then spelling."""
    import difflib

    words = set(_words(_norm(name)))
    scored = []
    for svc in SERVICES:
        names = [svc.name, *svc.aliases]
        overlap = max(len(words & set(_words(_norm(n)))) for n in names)
        ratio = max(difflib.SequenceMatcher(None, _norm(name), _norm(n)).ratio() for n in names)
        scored.append((overlap, ratio, svc))
    scored.sort(key=lambda t: (-t[0], -t[1]))
    return [svc for overlap, ratio, svc in scored[:limit] if overlap or ratio > 0.5]


def services_using_tool(tool_name: str) -> list[Service]:
    return [s for s in SERVICES if tool_name in s.tools]


def all_tool_names() -> set[str]:
    return {t for s in SERVICES for t in s.tools}


# --- recommending ---------------------------------------------------------------------------
# Words and phrases a person uses for a constraint -> the trait it means.
CONSTRAINTS: dict[str, tuple[str, ...]] = {
    "no-code": (
        "no code",
        "no-code",
        "nocode",
        "without code",
        "without coding",
        "without writing code",
        "low code",
        "low-code",
        "visual",
        "point and click",
        "gui",
        "not a programmer",
    ),
    "code": ("my own code", "custom code", "my script", "own script", "python script"),
    "streaming": ("streaming", "stream", "continuous", "real-time data", "live data", "events"),
    "realtime": (
        "realtime",
        "real-time",
        "real time",
        "low latency",
        "low-latency",
        "online",
        "instant",
        "per request",
        "milliseconds",
    ),
    "batch": ("batch", "offline", "bulk", "nightly", "daily", "weekly", "once a", "whole dataset"),
    "cheapest": (
        "cheapest",
        "cheap",
        "cheaply",
        "cheaper",
        "low cost",
        "low-cost",
        "lowest cost",
        "budget",
        "inexpensive",
        "cost-effective",
        "cost effective",
        "save money",
        "free",
        "minimal cost",
    ),
    "serverless": (
        "serverless",
        "no servers",
        "no infrastructure",
        "scale to zero",
        "pay per use",
        "pay-per-use",
        "idle",
        "intermittent",
        "occasional",
        "spiky",
    ),
    "sql": ("sql", "query", "queries"),
    "gpu": ("gpu", "deep learning", "cuda"),
    "automl": ("automl", "auto ml", "automatically", "which algorithm"),
    "pretrained": ("pretrained", "pre-trained", "foundation model", "llm"),
    "dashboards": ("dashboard", "dashboards", "business intelligence"),
    "bias": ("bias", "fairness", "fair"),
    "explainability": ("explain", "explainability", "shap", "interpret"),
    "drift": ("drift",),
    "audit": (
        "audit",
        "who changed",
        "who did",
        "who deleted",
        "who created",
        "who modified",
        "who accessed",
        "compliance",
    ),
    "ci-cd": ("ci/cd", "cicd", "ci-cd", "automate", "automation", "repeatable"),
    "third-party-data": ("third-party", "third party", "external data", "buy data"),
    "experiment-tracking": ("track experiments", "experiment tracking", "compare runs"),
    "multi-model": (
        "many models",
        "multi-model",
        "multiple models",
        "per customer",
        "per-customer",
        "models per",
    ),
    "large-scale": ("large scale", "large-scale", "big data", "terabytes", "at scale"),
    "notebook": ("notebook", "jupyter"),
}
# Trait pairs that rule each other out: a service with the second and not the first fits badly.
_CONFLICTS: dict[str, tuple[str, ...]] = {
    "no-code": ("code",),
    "serverless": ("always-on",),
    "cheapest": ("always-on",),
    "batch": ("always-on",),
    "realtime": ("offline",),
    "streaming": (),
}
_STOP_WORDS = (
    "a an and are as at be by can do does for from get have how i in into is it its me my "
    "of on or our should so some that the their them then this to use used using want we "
    "what when where which who why will with would you your best good service services aws "
    "amazon sagemaker need help like"
)
_STOP = set(_STOP_WORDS.split())


def stem(word: str) -> str:
    word = word.lower()
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    for suffix in ("ing", "ed", "es"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is", "as")):
        return word[:-1]
    return word


def _stems(text: str) -> set[str]:
    text = re.sub(r"fine[- ]?tun", "finetun", text.lower())  # fine-tuning is not tuning
    return {stem(w) for w in _words(text) if w not in _STOP}


def normalize_constraints(items: list[str] | tuple[str, ...] | str) -> list[str]:
    """Free-text constraints ("no code", "cheap", "low latency") -> known traits, in order."""
    texts = [items] if isinstance(items, str) else list(items)
    found: list[str] = []
    for text in texts:
        low = f" {text.lower().strip()} "
        hit = False
        for trait, phrases in CONSTRAINTS.items():
            if (
                trait == low.strip()
                or any(re.search(rf"(?<![a-z-]){re.escape(p)}(?![a-z-])", low) for p in phrases)
            ) and trait not in found:
                found.append(trait)
                hit = True
        if not hit and isinstance(items, (list, tuple)) and text.strip():
            word = text.strip().lower().replace(" ", "-")
            if word not in found:
                found.append(word)  # an unknown constraint still matches a trait of that name
    return found


# Constraints that say which stage a request is about.
_TRAIT_STAGE = {
    "audit": "monitoring",
    "drift": "monitoring",
    "bias": "evaluation",
    "explainability": "evaluation",
    "automl": "training",
    "pretrained": "training",
    "ci-cd": "orchestration",
    "streaming": "collection",
    "third-party-data": "collection",
    "dashboards": "preparation",
    "experiment-tracking": "evaluation",
}
# Words too generic to count as naming a service ("endpoint" does not name one endpoint kind).
_GENERIC = {
    "model",
    "data",
    "job",
    "inference",
    "endpoint",
    "serverless",
    "batch",
    "train",
    "training",
    "process",
    "processing",
    "real",
    "time",
}


def infer_stages(goal: str, traits: list[str] | tuple[str, ...] = ()) -> list[str]:
    """Stages a goal talks about, most hits first ("train and deploy" -> training, deployment)."""
    words = _stems(goal)
    hits = []
    for st in STAGE_CATALOG:
        count = len(words & {stem(k) for k in st.keywords})
        count += 2 * sum(1 for t in traits if _TRAIT_STAGE.get(t) == st.id)
        if count:
            hits.append((count, st.number, st.id))
    hits.sort(key=lambda t: (-t[0], t[1]))
    return [sid for _, _, sid in hits]


def _named(svc: Service, goal_stems: set[str]) -> bool:
    for name in (svc.name, *svc.aliases):
        stems = {stem(w) for w in _words(_norm(name))} - _GENERIC
        if stems and stems <= goal_stems:
            return True
    return False


@dataclass
class Recommendation:
    service: Service
    score: float
    reasons: list[str]
    stage: str | None = None  # the stage it is recommended for

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service.name,
            "id": self.service.id,
            "score": round(self.score, 1),
            "stage": self.stage,
            "reasons": self.reasons,
            "tools": list(self.service.tools),
            "console_only": self.service.console_only,
            "billing": self.service.billing,
        }


def first_sentence(text: str) -> str:
    return re.split(r"(?<=[.;])\s", text, maxsplit=1)[0].rstrip(".;")


def short(text: str, limit: int = 100) -> str:
    """The first clause of a description, cut at a word boundary."""
    text = re.split(r"(?<=[.;:])\s+(?=[A-Z(])", text, maxsplit=1)[0].rstrip(".;:")
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def recommend(
    goal: str = "",
    *,
    stage: str | None = None,
    constraints: list[str] | tuple[str, ...] = (),
    limit: int = 5,
) -> tuple[list[Recommendation], dict[str, Any]]:
    """Rank services for a goal and/or stage under constraints. Deterministic, no model.

    Returns the ranked recommendations and what was understood (stages, constraints).
    """
    explicit_stage = get_stage(stage) if stage else None
    if stage and explicit_stage is None:
        raise ValueError(
            f"unknown stage '{stage}' (stages: {', '.join(s.id for s in STAGE_CATALOG)})"
        )
    wanted = normalize_constraints(list(constraints))
    for trait in normalize_constraints(goal) if goal else []:
        if trait not in wanted:
            wanted.append(trait)
    inferred = [] if explicit_stage else infer_stages(goal, wanted) if goal else []
    stage_ids = [explicit_stage.id] if explicit_stage else inferred
    goal_stems = _stems(goal) if goal else set()

    results: list[Recommendation] = []
    for svc in SERVICES:
        score = 0.0
        reasons: list[str] = []
        fit_stage = next((s for s in stage_ids if s in svc.stages), None)
        if explicit_stage is not None and fit_stage is None:
            continue
        if fit_stage is not None:
            order = _STAGE_ORDER[fit_stage]
            main = svc.stages[0] == fit_stage or order.index(svc.id) < 4
            score += (30 if explicit_stage else 20) + (len(order) - order.index(svc.id)) * 0.5
            score += 5 if main else 0
            title = _STAGES_BY_ID[fit_stage].title
            reasons.append(f"stage {title}")
        if goal_stems:
            if _named(svc, goal_stems):
                score += 25
                reasons.append("named in the request")
            keys = {stem(k) for k in (*svc.keywords, *svc.traits)}
            matched = sorted(goal_stems & keys)
            if matched:
                score += 6 * len(matched)
                reasons.append("matches: " + ", ".join(matched))
            purpose_hits = goal_stems & _stems(svc.purpose + " " + svc.use_when)
            score += 1.0 * len(purpose_hits - set(matched))  # a tie-breaker, not a reason
        for trait in wanted:
            if trait == "cheapest":
                bonus = (5 - svc.cost_rank) * 4
                score += bonus
                if svc.cost_rank <= 2:
                    reasons.append(f"low cost: {first_sentence(svc.billing)}")
                elif svc.cost_rank >= 4:
                    reasons.append(f"costly: {first_sentence(svc.billing)}")
                continue
            if trait in svc.traits:
                score += 12
                reasons.append(f"fits '{trait}'")
            conflicts = [c for c in _CONFLICTS.get(trait, ()) if c in svc.traits]
            if conflicts and trait not in svc.traits:
                score -= 15
                reasons.append(f"does not fit '{trait}' ({', '.join(conflicts)})")
        if score <= 0 or not reasons:
            continue
        if svc.console_only:
            reasons.append("console only: " + first_sentence(svc.console))
        results.append(Recommendation(svc, score, reasons, fit_stage or svc.stages[0]))
    stage_rank = {s.id: s.number for s in STAGE_CATALOG}
    results.sort(
        key=lambda r: (
            -r.score,
            stage_rank.get(r.stage or "", 99),
            [s.id for s in SERVICES].index(r.service.id),
        )
    )
    understood = {"stages": stage_ids, "constraints": wanted}
    return results[: max(1, limit)], understood
