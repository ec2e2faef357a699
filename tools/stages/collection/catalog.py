"""Stage 1, data collection: what it is for and the AWS services it uses, in our own words.

Catalog data, assembled by `tools.catalog.lookup`; the stage's tools live beside it.
"""

from __future__ import annotations

from tools.catalog.model import Service

PURPOSE = "Gather raw data from its sources and store it where the pipeline can use it."
# Words a person uses for this stage.
KEYWORDS: tuple[str, ...] = (
    "collect",
    "ingest",
    "gather",
    "store",
    "raw",
    "upload",
    "source",
    "land",
)
# The stage's services in the order we present them: the seed's services first, then others
# that also help here. (A test checks this agrees with each service's `stages`.)
SERVICE_ORDER: tuple[str, ...] = ("s3", "glue", "kinesis", "data-exchange")

SERVICES: tuple[Service, ...] = (
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
)
