"""SageMaker K-Means, with scikit-learn's KMeans standing in.

Contract: `k` and `feature_dim` required; CSV without a label (`text/csv;label_size=0`, the
default); metrics `train msd`, and `test msd` / `test ssd` on a test channel.
"""

from __future__ import annotations

import logging

from sandbox.engine.algorithms.common import ContainerEnv
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
    "k": Param("int", required=True, low=2),
    "feature_dim": Param("int", required=True, low=1),
    "mini_batch_size": Param("int", default=5000, low=1),
    "epochs": Param("int", default=1, low=1),
    "init_method": Param("enum", default="random", choices=("random", "kmeans++")),
    "extra_center_factor": Param("text", default="auto"),
    "local_lloyd_max_iter": Param("int", default=300, low=1),
    "local_lloyd_tol": Param("float", default=0.0001, low=0),
    "local_lloyd_num_trials": Param("text", default="auto"),
    "local_lloyd_init_method": Param("enum", default="kmeans++", choices=("random", "kmeans++")),
    "half_life_time_size": Param("int", default=0, low=0),
    "eval_metrics": Param("text", default='["msd"]'),
}


def train(env: ContainerEnv) -> None:
    import numpy as np
    from sklearn.cluster import KMeans

    params = validate(env.hyperparameters, SCHEMA)
    config = require_channel(env, "train")
    x, _ = read_strict_csv(
        "train", env.channel_dir("train"), label_size(config.get("ContentType"), 0)
    )
    check_feature_dim(params["feature_dim"], x)
    log.info("Clustering %d rows with %d features into k=%d", x.shape[0], x.shape[1], params["k"])
    model = KMeans(
        n_clusters=params["k"],
        init="k-means++" if params["local_lloyd_init_method"] == "kmeans++" else "random",
        max_iter=params["local_lloyd_max_iter"],
        tol=params["local_lloyd_tol"],
        n_init=1,
        random_state=0,
    ).fit(x)
    quality("train", "msd", float(model.inertia_ / len(x)))
    if "test" in env.data_config:
        content = env.data_config["test"].get("ContentType")
        tx, _ = read_strict_csv("test", env.channel_dir("test"), label_size(content, 0))
        distances = np.min(model.transform(tx), axis=1) ** 2
        quality("test", "msd", float(distances.mean()))
        quality("test", "ssd", float(distances.sum()))
    save_model(env, {"algorithm": "kmeans", "model": model, "feature_dim": int(x.shape[1])})
