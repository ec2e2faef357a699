"""SageMaker Random Cut Forest, with scikit-learn's IsolationForest standing in (both score
points by how easily random cuts isolate them; higher means more anomalous).

Contract: `feature_dim` required; the train channel must be `ShardedByS3Key`; CSV without a
label; a test channel with `text/csv;label_size=1` gives `test f1` (and precision, recall), an
anomaly being a score above mean + 3 standard deviations, as RCF's guidance has it.
"""

from __future__ import annotations

import logging

from sandbox.engine.algorithms.common import ContainerEnv, UserError
from sandbox.engine.algorithms.first_party import (
    Param,
    check_feature_dim,
    label_size,
    quality,
    read_strict_csv,
    require_channel,
    save_model,
    validate,
)

log = logging.getLogger("algorithm")

SCHEMA = {
    "feature_dim": Param("int", required=True, low=1, high=10000),
    "num_trees": Param("int", default=100, low=50, high=1000),
    "num_samples_per_tree": Param("int", default=256, low=1, high=2048),
    "eval_metrics": Param("text", default='["accuracy", "precision_recall_fscore"]'),
}


def train(env: ContainerEnv) -> None:
    import numpy as np
    from sklearn import metrics as skm
    from sklearn.ensemble import IsolationForest

    params = validate(env.hyperparameters, SCHEMA)
    config = require_channel(env, "train")
    distribution = config.get("S3DistributionType", "FullyReplicated")
    if distribution != "ShardedByS3Key":
        raise UserError(
            "Unable to initialize the algorithm. Failed to validate input data configuration. "
            f"(caused by ValidationError)\n\nCaused by: '{distribution}' is not one of "
            "['ShardedByS3Key']\n\nFailed validating 'enum' in "
            "schema['properties']['train']['properties']['S3DistributionType']"
        )
    x, _ = read_strict_csv(
        "train", env.channel_dir("train"), label_size(config.get("ContentType"), 0)
    )
    check_feature_dim(params["feature_dim"], x)
    log.info("Building %d trees of %d samples on %d rows", params["num_trees"],
             params["num_samples_per_tree"], x.shape[0])  # fmt: skip
    forest = IsolationForest(
        n_estimators=params["num_trees"],
        max_samples=min(params["num_samples_per_tree"], len(x)),
        random_state=0,
    ).fit(x)
    train_scores = -forest.score_samples(x)
    threshold = float(train_scores.mean() + 3 * train_scores.std())
    if "test" in env.data_config:
        content = env.data_config["test"].get("ContentType")
        tx, ty = read_strict_csv("test", env.channel_dir("test"), label_size(content, 1))
        if ty is None:
            raise UserError("The test channel needs labels: use text/csv;label_size=1.")
        predicted = (-forest.score_samples(tx) > threshold).astype(int)
        truth = (np.asarray(ty) > 0).astype(int)
        quality("test", "f1", float(skm.f1_score(truth, predicted, zero_division=0)))
        quality("test", "precision", float(skm.precision_score(truth, predicted, zero_division=0)))
        quality("test", "recall", float(skm.recall_score(truth, predicted, zero_division=0)))
    save_model(env, {"algorithm": "randomcutforest", "model": forest, "threshold": threshold,
                     "feature_dim": int(x.shape[1])})  # fmt: skip
