"""Stage 4, model training: what it is for and the AWS services it uses, in our own words.

Catalog data, assembled by `tools.catalog.lookup`; the stage's tools live beside it.
"""

from __future__ import annotations

from tools.catalog.model import Service

PURPOSE = "Fit models on the prepared data."
# Words a person uses for this stage.
KEYWORDS: tuple[str, ...] = (
    "train",
    "training",
    "fit",
    "algorithm",
    "learn",
    "xgboost",
    "classifier",
)
# The stage's services in the order we present them: the seed's services first, then others
# that also help here. (A test checks this agrees with each service's `stages`.)
SERVICE_ORDER: tuple[str, ...] = (
    "training-jobs",
    "autopilot",
    "jumpstart",
    "sagemaker",
    "studio",
    "experiments",
    "debugger",
    "batch",
)

SERVICES: tuple[Service, ...] = (
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
        tools=(
            "autopilot_start_job",
            "autopilot_describe_job",
            "autopilot_list_candidates",
            "autopilot_create_model",
        ),
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
)
