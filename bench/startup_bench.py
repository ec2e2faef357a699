"""Start-up benchmarks of whole processes against a running shared sandbox, for this tree and,
optionally, another checkout run in alternation (the machine may be shared and loaded: runs
of both trees interleave so each sees the same load).

- `sagecoach ask --sandbox --json "list my buckets"` end to end while the sandbox runs
  (target: median ≤ 2.5 s), with the offline planner;
- the app's time until it can act: `sagecoach --sandbox` in a pseudo-terminal, from process
  start until its session is open on the running sandbox (SAGECOACH_EXIT_WHEN_READY=1);
- `sagecoach --help` (target ≤ 0.3 s) and the app's first frame in a pseudo-terminal
  (target ≤ 0.5 s), as bench/cli_bench.py measures them.

Each figure is the median wall time (for the app: the process's age at that point); `cpu` is
the process's own user+system CPU time until it exited (what an idle machine would roughly
show as wall time). Byte-code is written as for an installed
package (PYTHONDONTWRITEBYTECODE is dropped) and one warm-up run per tree is not counted.

    python -m bench.startup_bench [--runs N] [--baseline DIR] [--only ask,app,help,frame] [--json]

`--baseline DIR` is another checkout of the repository (e.g. `git archive main | tar -x -C DIR`),
run with this tree's interpreter and packages.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.isolated import isolated_env

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ASK_TARGET_S = 2.5
HELP_TARGET_S = 0.3
FIRST_FRAME_TARGET_S = 0.5
ASK_COMMAND = ["-m", "tui.cli", "ask", "--sandbox", "--json", "list my buckets"]


def bench_env(home: str) -> dict[str, str]:
    """An isolated user: no AWS configuration, a temporary state directory."""
    return isolated_env(home, write_bytecode=True)


def state_dir(home: str) -> Path:
    return Path(home) / "state" / "sagecoach"


def run_process(
    args: list[str], tree: Path, env: dict[str, str], timeout: float = 120
) -> tuple[float, float, int, str, str]:
    """(wall s, own CPU s, exit code, stdout, stderr) of `python ARGS` run in `tree`."""
    env = {**env, "PYTHONPATH": str(tree)}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, *args], cwd=tree, env=env, stdin=subprocess.DEVNULL,
            stdout=out, stderr=err,
        )  # fmt: skip
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.005)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return (
            wall,
            usage.ru_utime + usage.ru_stime,
            proc.returncode,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
        )


def ask_once(tree: Path, env: dict[str, str]) -> tuple[float, float]:
    wall, cpu, code, out, err = run_process(ASK_COMMAND, tree, env)
    if code != 0 or "sagecoach-demo" not in out:
        raise RuntimeError(f"ask failed in {tree} (exit {code}): {err[-400:] or out[-400:]}")
    return wall, cpu


def app_ready_once(tree: Path, env: dict[str, str]) -> tuple[float, float]:
    """`sagecoach --sandbox` in a pseudo-terminal until its session is open (it can act)."""
    from bench.cli_bench import app_in_pty

    ready, _, cpu = app_in_pty(
        {**env, "PYTHONPATH": str(tree)}, "SAGECOACH_EXIT_WHEN_READY", "ready", 120, tree
    )
    return ready, cpu


def help_once(tree: Path, env: dict[str, str]) -> tuple[float, float]:
    wall, cpu, code, out, err = run_process(["-m", "tui.cli", "--help"], tree, env)
    if code != 0 or "Usage" not in out:
        raise RuntimeError(f"--help failed in {tree}: {err[-400:]}")
    return wall, cpu


def first_frame_once(tree: Path, env: dict[str, str]) -> tuple[float, float]:

    from bench.cli_bench import app_in_pty

    frame, _, cpu = app_in_pty(
        {**env, "PYTHONPATH": str(tree)},
        "SAGECOACH_EXIT_AFTER_FIRST_FRAME",
        "first frame",
        30,
        tree,
    )
    return frame, cpu


MEASURES: dict[str, Callable[[Path, dict[str, str]], tuple[float, float]]] = {
    "ask": ask_once,
    "app": app_ready_once,
    "help": help_once,
    "frame": first_frame_once,
}
NEEDS_SANDBOX = {"ask", "app"}


def measure(trees: dict[str, Path], only: list[str], runs: int) -> dict[str, dict[str, dict]]:
    """{measure: {tree label: {"wall": median, "cpu": median}}}, runs interleaved by tree."""
    from sandbox import daemon

    results: dict[str, dict[str, dict]] = {}
    with tempfile.TemporaryDirectory(prefix="sagecoach-bench-") as home:
        env = bench_env(home)
        started = False
        if NEEDS_SANDBOX & set(only):
            daemon.connect(state_dir(home), idle_timeout_s=600)
            started = True
        try:
            for name in only:
                fn = MEASURES[name]
                samples: dict[str, list[tuple[float, float]]] = {label: [] for label in trees}
                for tree in trees.values():
                    fn(tree, env)  # warm-up: byte-code, file cache
                for _ in range(runs):
                    for label, tree in trees.items():
                        samples[label].append(fn(tree, env))
                results[name] = {
                    label: {
                        "wall": round(statistics.median(w for w, _ in got), 3),
                        "cpu": round(statistics.median(c for _, c in got), 3),
                    }
                    for label, got in samples.items()
                }
        finally:
            if started:
                daemon.stop(state_dir(home))
    return results


TARGETS = {"ask": ASK_TARGET_S, "help": HELP_TARGET_S, "frame": FIRST_FRAME_TARGET_S}
LABELS = {
    "ask": 'sagecoach ask --sandbox "list my buckets" (sandbox running)',
    "app": "app can act (session open on the running sandbox)",
    "help": "sagecoach --help",
    "frame": "app first frame",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.startup_bench")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline", type=Path, help="another checkout to compare against")
    parser.add_argument("--only", default="ask,app,help,frame")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    only = [name for name in args.only.split(",") if name]
    unknown = [name for name in only if name not in MEASURES]
    if unknown:
        parser.error(f"unknown measure: {', '.join(unknown)}")
    trees = {"this": ROOT}
    if args.baseline:
        trees["baseline"] = args.baseline.resolve()
    results = measure(trees, only, args.runs)
    ok = all(results[name]["this"]["wall"] <= TARGETS[name] for name in only if name in TARGETS)
    if args.json:
        print(json.dumps({"runs": args.runs, "results": results, "ok": ok}))
        return 0 if ok else 1
    for name in only:
        target = f" (target ≤ {TARGETS[name]} s)" if name in TARGETS else ""
        print(f"{LABELS[name]}{target}, median of {args.runs}:")
        for label, figures in results[name].items():
            cpu = "" if figures["cpu"] != figures["cpu"] else f", cpu {figures['cpu']:.3f} s"
            print(f"  {label:8} {figures['wall']:.3f} s{cpu}")
        if "baseline" in results[name]:
            ratio = results[name]["this"]["wall"] / max(results[name]["baseline"]["wall"], 1e-9)
            print(f"  this/baseline: {ratio:.2f}×")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
