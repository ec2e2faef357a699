"""Sandbox engine benchmarks.

- XGBoost CreateTrainingJob → Completed on 10k rows × 20 columns, 100 rounds, through boto3
  against the sandbox, against `xgboost.train` on the same data in this process
  (target: within 2×; medians of a few runs; the sandbox keeps a warm container process, as a
  running sandbox does);
- sandbox start-up with a restored state of 50 training jobs and 200 objects (target ≤ 2 s):
  the whole daemon process, from spawn until it answers;
- `sagecoach ask --sandbox "list my buckets"` end to end while the sandbox runs (target: median
  ≤ 2.5 s), as a whole process with the offline planner;
- the app's time until it can act (its session open on the running sandbox), as a whole
  process in a terminal (both as bench/startup_bench.py measures them; it also compares trees).

    python -m bench.engine_bench [--runs N] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

TRAIN_RATIO_TARGET = 2.0
START_TARGET_S = 2.0
ASK_TARGET_S = 2.5
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
ROLE = "arn:aws:iam::123456789012:role/sagecoach-sandbox-execution-role"


def _data(rows: int = 10_000, cols: int = 20) -> tuple[bytes, object, object]:
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, cols)).astype("float32")
    y = (x[:, 0] + x[:, 1] * x[:, 2] + 0.5 * rng.normal(size=rows) > 0).astype("float32")
    lines = [
        ",".join([str(int(label)), *(f"{v:.5f}" for v in row)])
        for label, row in zip(y, x, strict=True)
    ]
    return ("\n".join(lines) + "\n").encode(), x, y


def _request(name: str) -> dict:
    return {
        "TrainingJobName": name,
        "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        "RoleArn": ROLE,
        "HyperParameters": {"num_round": "100", "objective": "binary:logistic",
                            "max_depth": "6", "eval_metric": "auc"},
        "InputDataConfig": [{"ChannelName": "train", "ContentType": "text/csv", "DataSource": {
            "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://bench-data/train/"}}}],
        "OutputDataConfig": {"S3OutputPath": "s3://bench-data/out/"},
        "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 5},
        "StoppingCondition": {"MaxRuntimeInSeconds": 900},
    }  # fmt: skip


def _clients(endpoint: str, *services: str) -> list:
    import boto3

    session = boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="x",
                                    region_name="us-east-1")  # fmt: skip
    return [session.client(s, endpoint_url=endpoint) for s in services]


def bench_training(runs: int) -> dict:
    import xgboost as xgb

    from sandbox.server import Sandbox

    body, x, y = _data()
    sandbox = Sandbox(seed=False, warm=True)
    sandbox.start()
    try:
        sm, s3 = _clients(sandbox.endpoint, "sagemaker", "s3")
        s3.create_bucket(Bucket="bench-data")
        s3.put_object(Bucket="bench-data", Key="train/data.csv", Body=body)
        time.sleep(4)  # the warm container process finishes its imports, as in a running sandbox
        engine, direct = [], []
        for run in range(runs):  # interleaved, so both see the same machine load
            started = time.perf_counter()
            xgb.train({"objective": "binary:logistic", "max_depth": 6, "eval_metric": "auc",
                       "nthread": 1}, xgb.DMatrix(x, label=y), 100,
                      evals=[(xgb.DMatrix(x, label=y), "train")], verbose_eval=False)  # fmt: skip
            direct.append(time.perf_counter() - started)
            name = f"bench-xgb-{run}"
            started = time.perf_counter()
            sm.create_training_job(**_request(name))
            while True:
                status = sm.describe_training_job(TrainingJobName=name)["TrainingJobStatus"]
                if status in ("Completed", "Failed", "Stopped"):
                    break
                time.sleep(0.02)
            engine.append(time.perf_counter() - started)
            if status != "Completed":
                raise RuntimeError(f"{name} ended {status}")
            time.sleep(6)  # the next warm process (a running sandbox has one ready)
    finally:
        sandbox.stop()
    ratio = statistics.median(engine) / statistics.median(direct)
    return {"xgboost_train_s": round(statistics.median(direct), 3),
            "sandbox_job_s": round(statistics.median(engine), 3),
            "ratio": round(ratio, 2), "target_ratio": TRAIN_RATIO_TARGET,
            "ok": ratio <= TRAIN_RATIO_TARGET}  # fmt: skip


def _prepare_state(state: Path) -> None:
    from sandbox.server import Sandbox

    sandbox = Sandbox(state_dir=state, engine=False)
    sandbox.start()
    try:
        sm, s3 = _clients(sandbox.endpoint, "sagemaker", "s3")
        s3.create_bucket(Bucket="bench-state")
        for index in range(200):
            s3.put_object(
                Bucket="bench-state", Key=f"objects/{index:03d}.csv", Body=b"1,2,3\n" * 500
            )
        for index in range(50):
            request = _request(f"restored-{index:02d}")
            request["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] = (
                "s3://bench-state/objects/"
            )
            sm.create_training_job(**request)
    finally:
        sandbox.stop()


def bench_startup(runs: int) -> dict:
    from sandbox import daemon

    timings = []
    with tempfile.TemporaryDirectory(prefix="sagecoach-bench-") as tmp:
        state = Path(tmp)
        _prepare_state(state)
        for _ in range(runs):
            started = time.perf_counter()
            endpoint = daemon.connect(state, idle_timeout_s=60)
            timings.append(time.perf_counter() - started)
            (sm,) = _clients(endpoint, "sagemaker")
            count = len(sm.list_training_jobs(MaxResults=100)["TrainingJobSummaries"])
            daemon.stop(state)
            if count != 50:
                raise RuntimeError(f"restored {count} jobs, expected 50")
    median = statistics.median(timings)
    return {
        "startup_s": round(median, 3),
        "target_s": START_TARGET_S,
        "ok": median <= START_TARGET_S,
    }


def bench_ask(runs: int) -> dict:
    """As bench/startup_bench.py measures it (whole process, offline planner)."""
    from bench.startup_bench import ROOT, measure

    figures = measure({"this": ROOT}, ["ask"], runs)["ask"]["this"]
    median = figures["wall"]
    return {"ask_s": median, "ask_cpu_s": figures["cpu"], "target_s": ASK_TARGET_S,
            "ok": median <= ASK_TARGET_S}  # fmt: skip


def bench_app_ready(runs: int) -> dict:
    """`sagecoach --sandbox` in a terminal until its session is open (bench/startup_bench.py)."""
    from bench.startup_bench import ROOT, measure

    figures = measure({"this": ROOT}, ["app"], runs)["app"]["this"]
    return {"app_ready_s": figures["wall"], "app_cpu_s": figures["cpu"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.engine_bench")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    training = bench_training(args.runs)
    startup = bench_startup(args.runs)
    ask = bench_ask(args.runs)
    app = bench_app_ready(args.runs)
    if args.json:
        print(json.dumps({"training": training, "startup": startup, "ask": ask, "app": app}))
    else:
        print(f"XGBoost 10k×20, 100 rounds: xgboost.train {training['xgboost_train_s']} s, "
              f"sandbox job {training['sandbox_job_s']} s → {training['ratio']}× "
              f"(target ≤ {TRAIN_RATIO_TARGET}×)")  # fmt: skip
        print(f"sandbox start-up with 50 jobs + 200 objects restored: {startup['startup_s']} s "
              f"(target ≤ {START_TARGET_S} s)")  # fmt: skip
        print(f'sagecoach ask --sandbox "list my buckets" while the sandbox runs: '
              f"{ask['ask_s']} s median (target ≤ {ASK_TARGET_S} s)")  # fmt: skip
        print(f"the app can act (session open on the running sandbox) after {app['app_ready_s']} s")
    return 0 if training["ok"] and startup["ok"] and ask["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
