"""Helpers for the serving tests: models, endpoint configs and endpoints through boto3, and a
small XGBoost artifact trained in the test process (for tests about the endpoint, not training)."""

from __future__ import annotations

import io
import tarfile
import time
from typing import Any

from tests.engine_helpers import ROLE, XGB_IMAGE, signal_rows

DONE_ENDPOINT = ("InService", "Failed")


def xgb_artifact(seed: int = 1, rows: int = 300, rounds: int = 10) -> bytes:
    """model.tar.gz holding `xgboost-model`, as the XGBoost container writes it."""
    import numpy as np
    import xgboost as xgb

    labels, features = signal_rows(rows, seed=seed)
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 3, "nthread": 1},
                        xgb.DMatrix(np.array(features), label=np.array(labels)), rounds)  # fmt: skip
    raw = bytes(booster.save_raw("ubj"))
    return tar_bytes({"xgboost-model": raw})


def tar_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def create_model(sm: Any, name: str, model_data: str, image: str = XGB_IMAGE,
                 environment: dict[str, str] | None = None, mode: str | None = None) -> None:  # fmt: skip
    container: dict[str, Any] = {"Image": image, "ModelDataUrl": model_data}
    if environment:
        container["Environment"] = environment
    if mode:
        container["Mode"] = mode
    sm.create_model(ModelName=name, ExecutionRoleArn=ROLE, PrimaryContainer=container)


def realtime_variant(model: str, name: str = "AllTraffic", weight: float = 1.0) -> dict[str, Any]:
    return {"VariantName": name, "ModelName": model, "InstanceType": "ml.m5.large",
            "InitialInstanceCount": 1, "InitialVariantWeight": weight}  # fmt: skip


def serverless_variant(model: str, name: str = "AllTraffic") -> dict[str, Any]:
    return {"VariantName": name, "ModelName": model,
            "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 2}}  # fmt: skip


def deploy(sm: Any, endpoint: str, variants: list[dict[str, Any]],
           capture: dict[str, Any] | None = None, wait: bool = True) -> dict[str, Any]:  # fmt: skip
    config: dict[str, Any] = {"EndpointConfigName": f"{endpoint}-config",
                              "ProductionVariants": variants}  # fmt: skip
    if capture:
        config["DataCaptureConfig"] = capture
    sm.create_endpoint_config(**config)
    sm.create_endpoint(EndpointName=endpoint, EndpointConfigName=f"{endpoint}-config")
    return wait_endpoint(sm, endpoint) if wait else sm.describe_endpoint(EndpointName=endpoint)


def wait_endpoint(sm: Any, endpoint: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        desc = sm.describe_endpoint(EndpointName=endpoint)
        if desc["EndpointStatus"] in DONE_ENDPOINT or time.monotonic() > deadline:
            return dict(desc)
        time.sleep(0.05)


def csv_rows(rows: list[list[float]]) -> str:
    return "\n".join(",".join(map(str, row)) for row in rows)


def held_out(
    seed: int = 1, count: int = 400, start: int = 300
) -> tuple[list[int], list[list[float]]]:
    labels, features = signal_rows(count, seed=seed)
    return labels[start:], features[start:]


def wait_for(fetch: Any, timeout: float = 10.0) -> Any:
    """Poll until `fetch()` returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        found = fetch()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)
