"""The words argument filling reads: which words refer back to the conversation, which are
never names, what each kind of thing is called, and what enum values sound like in people's
words. Kept apart from the code so tuning the vocabulary touches one file."""

from __future__ import annotations

import re

REFERENCE = re.compile(
    r"(?i)\b(it|its|that|this|them|those|same|the|my|our|last|latest|previous|previously|above|"
    r"just|new|recent|current)\b"
)
PRONOUN = re.compile(r"(?i)\b(it|that|this|them|there|those|same|one)\b")
TIME_UNITS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400, "ms": 0.001}
METRIC_NAMES = re.compile(
    r"(?i)\b((?:validation|train|test):[a-z0-9_@-]+|auc|rmse|mse|mae|accuracy|f1|logloss|"
    r"error|precision|recall|mape|r2|binary_f1|macro_f1|balanced_accuracy|ndcg|map|merror|mlogloss)\b"
)

# Optional arguments that change what a call means: only ever from the request's own words (a
# TargetModel sent to a single-model endpoint is refused).
ONLY_WHEN_SAID = {"target_model", "target_variant"}
FREE_TEXT = {
    "description", "command", "script", "environment", "content_type", "accept", "text", "goal",
    "payload", "payload_file", "query", "sql", "contains", "version", "schedule", "headers",
    "baseline", "label", "facet", "target_column", "predicted_label", "task", "framework",
    "inference_attribute", "statistic", "comparison", "service", "origin", "status", "state",
    "mode", "frequency", "strategy", "metric", "sort_by", "objective_metric", "image_uri",
    "entry_point", "path", "stage_name", "partition_key_column", "agg_method", "treat_missing_data",
    "variant_name", "target_variant", "target_model", "split_type", "assemble_with", "join_input",
    "code_s3_uri", "worker_type", "problem_type", "objective_type", "source", "created_after",
}  # fmt: skip
NOT_NAMES = {
    "the", "a", "an", "it", "that", "this", "to", "for", "on", "in", "with", "and", "or", "from",
    "named", "called", "is", "of", "at", "as", "by", "please", "status", "name", "now", "again",
    "then", "list", "all", "my", "our", "job", "jobs", "s3", "using", "into", "data", "file", "new",
}  # fmt: skip
# Words that are things, not names ("create an endpoint config for ...").
NOUNS = {
    "config", "configuration", "job", "run", "group", "definition", "schedule", "policy",
    "proxy", "api", "function", "alarm", "record", "records", "file", "files", "name", "over",
    "table", "database", "bucket", "endpoint", "model", "pipeline", "crawler", "stream",
    "dataset", "experiment", "feature", "features", "monitor", "queue", "workgroup", "role",
    "first", "last", "latest", "new", "one", "here", "there", "please", "now", "also",
    "gateway", "https", "http", "lambda", "service", "instance", "object", "objects", "data",
}  # fmt: skip
KIND_NOUNS = {
    "model", "endpoint", "bucket", "job", "pipeline", "table", "database", "crawler", "function",
    "stream", "schedule", "alarm", "experiment", "group", "dataset", "queue", "definition",
}  # fmt: skip
KIND_ENUM = {("autopilot", "automl_job"), ("pipeline_execution", "execution")}
REPORT_WORDS = {"report", "job", "check", "analysis", "run", "monitoring", "metrics", "detection"}
KIND_ALIASES: dict[str, set[str]] = {
    "training_job": {"training job", "job", "training", "train job"},
    "tuning_job": {"tuning job", "job", "tuning", "hpo job"},
    "processing_job": {"processing job", "job"},
    "transform_job": {"transform job", "batch transform", "job"},
    "automl_job": {"autopilot job", "automl job", "autopilot", "job"},
    "endpoint": {"endpoint", "ep"},
    "resource": {"resource", "endpoint", "bucket", "model", "job", "table", "pipeline"},
    "bucket": {"bucket", "bkt"},
    "feature_group": {"feature group", "group"},
    "database": {"database", "db"},
    "table": {"table"},
    "model": {"model"},
    "crawler": {"crawler"},
    "function": {"function", "lambda"},
    "pipeline": {"pipeline"},
    "experiment": {"experiment"},
    "stream": {"stream"},
    "schedule": {"schedule"},
    "alarm": {"alarm"},
}
ENUM_SYNONYMS: dict[str, tuple[str, ...]] = {
    "realtime": ("realtime", "instance", "provisioned"),
    "real_time": ("realtime", "instance", "provisioned"),
    "serverless": ("serverless",),
    "multi_model": ("multimodel", "multi"),
    "xgboost": ("xgb", "xgboost", "gbm", "boosted"),
    "linear-learner": ("linearlearner", "linear", "logistic"),
    "linear_learner": ("linearlearner", "linear", "logistic"),
    "kmeans": ("kmeans", "clustering", "cluster"),
    "random-cut-forest": ("rcf", "anomaly"),
    "randomcutforest": ("rcf", "anomaly"),
    "sklearn": ("sklearn", "scikit"),
    "bayesian": ("bayes", "bayesian"),
    "hyperband": ("hyperband",),
    "maximize": ("maximise", "maximize", "higher", "highest"),
    "minimize": ("minimise", "minimize", "lower", "lowest"),
    "binaryclassification": ("binary",),
    "multiclassclassification": ("multiclass",),
    "regression": ("regression", "numeric"),
    "hourly": ("hourly", "hour"),
    "daily": ("daily", "day"),
    "data_quality": ("data", "drift"),
    "model_quality": ("quality", "accuracy"),
    # job statuses in people's words ("blew up" folds to "fail")
    "failed": (
        "fail",
        "fails",
        "failed",
        "failing",
        "crash",
        "crashed",
        "errored",
        "broke",
        "broken",
    ),
    "completed": ("finished", "succeeded", "successful", "completed"),
    "inprogress": ("running", "ongoing", "active", "going"),
}
