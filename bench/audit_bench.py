"""Audit log: append latency with fsync, and verify over 100k records.

Targets (issue 3): append p50 <= 2 ms (flushed and fsynced), verify 100k records <= 1 s.
Runs in a temporary directory on the same file system as the state directory would be
(override with SAGECOACH_BENCH_DIR). Run: `python -m bench audit`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

APPEND_P50_TARGET_MS = 2.0
VERIFY_TARGET_S = 1.0

# A typical aws_call record: what the guard emits for one S3 call.
PAYLOAD = {
    "service": "s3",
    "operation": "PutObject",
    "op_class": "write",
    "params": {"Bucket": "churn-data-123", "Key": "raw/churn.csv", "ContentType": "text/csv"},
    "sandbox": False,
    "region": "us-east-1",
    "status": 200,
    "request_id": "4442587FB7D0A2F9",
    "latency_ms": 41.7,
    "error": None,
}


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def bench_append(directory: Path, n: int) -> dict[str, float]:
    from agent.audit import AuditLog

    log = AuditLog(directory, "bench-append")
    log.append("session_start", {"model": "bench"})  # file creation outside the timing
    times = []
    for i in range(n):
        payload = dict(PAYLOAD, latency_ms=float(i % 97))
        started = time.perf_counter()
        log.append("aws_call", payload)
        times.append((time.perf_counter() - started) * 1000)
    log.close()
    return {
        "n": n,
        "p50_ms": statistics.median(times),
        "p99_ms": percentile(times, 99),
        "max_ms": max(times),
        "mean_ms": statistics.fmean(times),
    }


def build_log(directory: Path, n: int) -> float:
    """n chained records written without fsync (setup only); returns seconds taken."""
    from agent.audit import AuditLog

    started = time.perf_counter()
    log = AuditLog(directory, "bench-verify", durable=False)
    for i in range(n):
        log.append("aws_call", dict(PAYLOAD, latency_ms=float(i % 97)))
    log.close()
    return time.perf_counter() - started


def bench_verify(directory: Path, repeats: int = 3) -> dict[str, float]:
    from agent.audit import verify

    runs = []
    report = None
    for _ in range(repeats):
        started = time.perf_counter()
        report = verify(directory)
        runs.append(time.perf_counter() - started)
    assert report is not None and report.ok, report.problems[:3] if report else None
    size = sum(p.stat().st_size for p in directory.glob("audit-*.jsonl"))
    return {
        "records": report.count,
        "best_s": min(runs),
        "median_s": statistics.median(runs),
        "mb": size / 1e6,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.audit_bench")
    parser.add_argument("--appends", type=int, default=2000)
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args(argv)
    base = os.environ.get("SAGECOACH_BENCH_DIR")
    with tempfile.TemporaryDirectory(prefix="sagecoach-audit-bench-", dir=base) as tmp:
        root = Path(tmp)
        append = bench_append(root / "append", args.appends)
        print(
            f"append with fsync: {append['n']} records, p50 {append['p50_ms']:.3f} ms, "
            f"p99 {append['p99_ms']:.3f} ms, max {append['max_ms']:.2f} ms "
            f"(target p50 <= {APPEND_P50_TARGET_MS} ms) in {root}"
        )
        setup = build_log(root / "verify", args.records)
        result = bench_verify(root / "verify")
        print(
            f"verify: {result['records']:,} records ({result['mb']:.1f} MB) in "
            f"{result['best_s']:.3f} s best, {result['median_s']:.3f} s median "
            f"(target <= {VERIFY_TARGET_S} s for 100k; setup {setup:.1f} s without fsync)"
        )
    ok = append["p50_ms"] <= APPEND_P50_TARGET_MS and (
        result["best_s"] <= VERIFY_TARGET_S * args.records / 100_000
    )
    print("targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
