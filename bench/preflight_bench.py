"""What pre-flight adds to a costly call against the sandbox (target: ≤ 300 ms at the median).

Times, against a fresh sandbox with the demo table prepared: the pre-flight of a training job
on the prepared channels, of an endpoint from its model, of an invoke with raw rows, and of
prepare_training_data itself (which reads a sample to show its plan); and a training call with
and without its pre-flight, end to end.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

TARGET_MS = 300.0
RUNS = 25


def _median_ms(func: Callable[[], Any], runs: int = RUNS) -> float:
    func()  # warm: imports, clients, the price table
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        func()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> int:
    from sandbox.demo_data import churn_csv
    from sandbox.server import Sandbox
    from tools.aws.context import AwsContext
    from tools.aws.roles import ensure_sandbox_role
    from tools.core.context import ToolContext
    from tools.core.registry import get_tool
    from tools.preflight import run_preflight

    sandbox = Sandbox()
    sandbox.start()
    try:
        aws = AwsContext(sandbox_endpoint=sandbox.endpoint, session_id="bench")
        ctx = ToolContext(aws, session_id="bench")
        role = ensure_sandbox_role(aws)
        s3 = aws.client("s3")
        s3.create_bucket(Bucket="bench-data")
        s3.put_object(Bucket="bench-data", Key="raw/churn.csv", Body=churn_csv(3000).encode())
        prepare = get_tool("prepare_training_data")
        prepare_args = prepare.validate(
            {"source_s3_uri": "s3://bench-data/raw/churn.csv", "target_column": "churned"}
        )
        prepare.run(ctx, prepare_args)
        out = "s3://bench-data/sagecoach/prepared/churn/"
        train = get_tool("sagemaker_start_training_job")
        train_args = train.validate(
            {
                "train_s3_uri": f"{out}train/",
                "validation_s3_uri": f"{out}validation/",
                "role_arn": role,
            }
        )
        job = train.run(ctx, train_args).data["job_name"]
        artifact = aws.client("sagemaker").describe_training_job(TrainingJobName=job)
        bucket, key = artifact["ModelArtifacts"]["S3ModelArtifacts"][5:].split("/", 1)
        s3.put_object(Bucket=bucket, Key=key, Body=b"artifact")
        get_tool("sagemaker_create_model").run(
            ctx, {"model_name": "bench-model", "training_job_name": job}
        )
        endpoint = get_tool("sagemaker_create_endpoint")
        endpoint_args = endpoint.validate(
            {
                "endpoint_name": "bench-ep",
                "model_name": "bench-model",
                "endpoint_type": "serverless",
            }
        )
        endpoint.run(ctx, endpoint_args)
        invoke = get_tool("sagemaker_invoke_endpoint")
        rows = "\n".join(churn_csv(4).splitlines()[1:4])
        invoke_args = invoke.validate({"endpoint_name": "bench-ep", "payload": rows})

        figures = {
            "training": _median_ms(lambda: run_preflight(train.name, train_args, aws)),
            "endpoint": _median_ms(lambda: run_preflight(endpoint.name, endpoint_args, aws)),
            "invoke (raw rows)": _median_ms(lambda: run_preflight(invoke.name, invoke_args, aws)),
            "prepare (plan preview)": _median_ms(
                lambda: run_preflight(prepare.name, prepare_args, aws)
            ),
        }
        bare = _median_ms(lambda: train.run(ctx, train_args), runs=10)
        with_checks = _median_ms(
            lambda: (run_preflight(train.name, train_args, aws), train.run(ctx, train_args)),
            runs=10,
        )
    finally:
        sandbox.stop()
    worst = max(figures.values())
    for name, value in figures.items():
        print(f"pre-flight p50, {name}: {value:.1f} ms")
    print(
        f"training call p50: {bare:.1f} ms bare, {with_checks:.1f} ms with pre-flight "
        f"(+{with_checks - bare:.1f} ms, ×{with_checks / bare:.2f})"
    )
    print(
        f"target: ≤ {TARGET_MS:.0f} ms added at the median -> {'met' if worst <= TARGET_MS else 'MISSED'}"
    )
    return 0 if worst <= TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
