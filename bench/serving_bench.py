"""Sandbox serving and tuning benchmarks (issue 16).

- InvokeEndpoint latency through boto3 against the sandbox, on an XGBoost endpoint (a model of
  100 rounds, depth 6, trained on 10k rows × 20 columns): p50 and p99 for 1 row and 100 rows
  per request (target: p50 under 20 ms for one row);
- hyperparameter tuning: 12 XGBoost training jobs on 10k rows × 20 columns, 4 at a time,
  against the same 12 one at a time (wall time of each, and the ratio). The sandbox runs at
  most max(2, CPUs) containers at once, so on a 2-core machine 4 "parallel" jobs run 2 by 2.

    python -m bench.serving_bench [--skip-tuning] [--json]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import tarfile
import time
from typing import Any

from bench.engine_bench import IMAGE, ROLE, _clients, _data

P50_TARGET_MS = 20.0


def _artifact(x: Any, y: Any) -> bytes:
    import xgboost as xgb

    booster = xgb.train({"objective": "binary:logistic", "max_depth": 6, "nthread": 1},
                        xgb.DMatrix(x, label=y), 100)  # fmt: skip
    raw = bytes(booster.save_raw("ubj"))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("xgboost-model")
        info.size = len(raw)
        tar.addfile(info, io.BytesIO(raw))
    return buffer.getvalue()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def bench_invoke(calls: int = 300) -> dict[str, Any]:
    from sandbox.server import Sandbox

    body, x, y = _data()
    rows = [",".join(line.split(",")[1:]) for line in body.decode().splitlines()]
    sandbox = Sandbox(seed=False)
    sandbox.start()
    try:
        sm, s3, rt = _clients(sandbox.endpoint, "sagemaker", "s3", "sagemaker-runtime")
        s3.create_bucket(Bucket="bench-serve")
        s3.put_object(Bucket="bench-serve", Key="model.tar.gz", Body=_artifact(x, y))
        sm.create_model(ModelName="bench", ExecutionRoleArn=ROLE,
                        PrimaryContainer={"Image": IMAGE, "ModelDataUrl": "s3://bench-serve/model.tar.gz"})  # fmt: skip
        sm.create_endpoint_config(EndpointConfigName="bench", ProductionVariants=[{
            "VariantName": "AllTraffic", "ModelName": "bench", "InstanceType": "ml.m5.large",
            "InitialInstanceCount": 1}])  # fmt: skip
        sm.create_endpoint(EndpointName="bench", EndpointConfigName="bench")
        while sm.describe_endpoint(EndpointName="bench")["EndpointStatus"] == "Creating":
            time.sleep(0.05)
        results: dict[str, Any] = {}
        for label, count in (("1 row", 1), ("100 rows", 100)):
            payload = "\n".join(rows[:count])
            for _ in range(20):  # warm-up: connections, first predictions
                rt.invoke_endpoint(EndpointName="bench", Body=payload, ContentType="text/csv")
            times = []
            for i in range(calls):
                payload = "\n".join(rows[i % 9000 : i % 9000 + count])
                started = time.perf_counter()
                answer = rt.invoke_endpoint(
                    EndpointName="bench", Body=payload, ContentType="text/csv"
                )
                answer["Body"].read()
                times.append((time.perf_counter() - started) * 1000)
            results[label] = {"p50_ms": round(statistics.median(times), 2),
                              "p99_ms": round(_percentile(times, 0.99), 2), "calls": calls}  # fmt: skip
        return results
    finally:
        sandbox.stop()


def _tuning_request(name: str, parallel: int) -> dict[str, Any]:
    return {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobConfig": {
            "Strategy": "Random", "RandomSeed": 1,
            "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "validation:auc"},
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 12, "MaxParallelTrainingJobs": parallel},
            "ParameterRanges": {
                "IntegerParameterRanges": [{"Name": "max_depth", "MinValue": "3", "MaxValue": "8"}],
                "ContinuousParameterRanges": [{"Name": "eta", "MinValue": "0.05", "MaxValue": "0.5"}]},
        },
        "TrainingJobDefinition": {
            "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File"},
            "RoleArn": ROLE,
            "StaticHyperParameters": {"num_round": "50", "objective": "binary:logistic"},
            "InputDataConfig": [{"ChannelName": name_, "ContentType": "text/csv", "DataSource": {
                "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://bench-tune/{name_}/"}}}
                for name_ in ("train", "validation")],
            "OutputDataConfig": {"S3OutputPath": "s3://bench-tune/out/"},
            "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 5},
            "StoppingCondition": {"MaxRuntimeInSeconds": 900},
        },
    }  # fmt: skip


def bench_tuning() -> dict[str, Any]:
    from sandbox.server import Sandbox

    body, _, _ = _data()
    lines = body.decode().splitlines(keepends=True)
    sandbox = Sandbox(seed=False, warm=True)
    sandbox.start()
    try:
        sm, s3 = _clients(sandbox.endpoint, "sagemaker", "s3")
        s3.create_bucket(Bucket="bench-tune")
        s3.put_object(Bucket="bench-tune", Key="train/a.csv", Body="".join(lines[:8000]).encode())
        s3.put_object(
            Bucket="bench-tune", Key="validation/a.csv", Body="".join(lines[8000:]).encode()
        )
        walls: dict[str, float] = {}
        for label, parallel in (("4 at a time", 4), ("one by one", 1)):
            name = f"bench-{parallel}"
            started = time.perf_counter()
            sm.create_hyper_parameter_tuning_job(**_tuning_request(name, parallel))
            while True:
                desc = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
                if desc["HyperParameterTuningJobStatus"] != "InProgress":
                    break
                time.sleep(0.2)
            walls[label] = round(time.perf_counter() - started, 1)
            assert desc["HyperParameterTuningJobStatus"] == "Completed", desc.get("FailureReason")
            assert desc["TrainingJobStatusCounters"]["Completed"] == 12
        walls["speed-up"] = round(walls["one by one"] / walls["4 at a time"], 2)
        walls["container slots"] = sandbox.engine.jobs.capacity._initial_value  # type: ignore[attr-defined]
        walls["cpus"] = os.cpu_count() or 1
        return walls
    finally:
        sandbox.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-tuning", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    figures: dict[str, Any] = {"invoke": bench_invoke()}
    if not args.skip_tuning:
        figures["tuning"] = bench_tuning()
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for label, item in figures["invoke"].items():
            print(
                f"invoke {label}: p50 {item['p50_ms']} ms, p99 {item['p99_ms']} ms ({item['calls']} calls)"
            )
        if "tuning" in figures:
            t = figures["tuning"]
            print(f"tuning 12 jobs: 4 at a time {t['4 at a time']} s, one by one {t['one by one']} s, "
                  f"speed-up {t['speed-up']}× ({t['container slots']} container slots, {t['cpus']} CPUs)")  # fmt: skip
    p50 = figures["invoke"]["1 row"]["p50_ms"]
    print(f"target: one-row p50 < {P50_TARGET_MS} ms: {'met' if p50 < P50_TARGET_MS else 'MISSED'}")
    return 0 if p50 < P50_TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
