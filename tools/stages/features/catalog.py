"""Stage 3, feature engineering: what it is for and the AWS services it uses, in our own words.

Catalog data, assembled by `tools.catalog.lookup`; the stage's tools live beside it.
"""

from __future__ import annotations

from tools.catalog.model import Service

PURPOSE = "Turn raw columns into features that help a model, and share them."
# Words a person uses for this stage.
KEYWORDS: tuple[str, ...] = ("feature", "features", "engineer", "engineering", "encode", "derive")
# The stage's services in the order we present them: the seed's services first, then others
# that also help here. (A test checks this agrees with each service's `stages`.)
SERVICE_ORDER: tuple[str, ...] = (
    "feature-store",
    "processing",
    "lambda",
    "data-wrangler",
    "athena",
)

SERVICES: tuple[Service, ...] = (
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
)
