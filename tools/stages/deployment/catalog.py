"""Stage 7, model deployment: what it is for and the AWS services it uses, in our own words.

Catalog data, assembled by `tools.catalog.lookup`; the stage's tools live beside it.
"""

from __future__ import annotations

from tools.catalog.model import Service

PURPOSE = "Make the model answer: in real time, serverless, or in batches."
# Words a person uses for this stage.
KEYWORDS: tuple[str, ...] = (
    "deploy",
    "deployment",
    "serve",
    "host",
    "endpoint",
    "inference",
    "predict",
    "prediction",
    "score",
)
# The stage's services in the order we present them: the seed's services first, then others
# that also help here. (A test checks this agrees with each service's `stages`.)
SERVICE_ORDER: tuple[str, ...] = (
    "endpoints",
    "serverless-inference",
    "batch-transform",
    "multi-model-endpoints",
    "lambda",
    "api-gateway",
    "jumpstart",
)

SERVICES: tuple[Service, ...] = (
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
)
