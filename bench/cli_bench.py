"""Start-up benchmarks, measured as whole processes.

- `sagecoach --help` wall time (target: median <= 0.3 s);
- time to the app's first frame (target: median <= 0.5 s): the app runs in a pseudo-terminal
  with SAGECOACH_EXIT_AFTER_FIRST_FRAME=1, quits right after its first frame and prints the
  process age at that frame; the whole process's wall time (start to exit) is reported too.

    python -m bench.cli_bench [--runs N] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import re
import select
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.isolated import isolated_env

HELP_TARGET_S = 0.3
FIRST_FRAME_TARGET_S = 0.5
ROOT = Path(__file__).resolve().parent.parent


def _env() -> dict[str, str]:
    return isolated_env()


def help_wall_time(env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "tui.cli", "--help"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
    )
    return time.perf_counter() - start


def first_frame(
    env: dict[str, str], timeout: float = 30.0, root: Path = ROOT
) -> tuple[float, float]:
    """(process age at the first frame, wall time of the whole process) in a pseudo-terminal,
    of the checkout at `root`."""
    age, wall, _ = app_in_pty(env, "SAGECOACH_EXIT_AFTER_FIRST_FRAME", "first frame", timeout, root)
    return age, wall


def app_in_pty(
    env: dict[str, str], flag: str, label: str, timeout: float = 30.0, root: Path = ROOT
) -> tuple[float, float, float]:
    """Run `sagecoach --sandbox` in a pseudo-terminal with `flag` set (the app quits at that
    point and prints `<label>: <process age>`): (that age, wall time of the whole process,
    its user+system CPU time)."""
    env = {**env, flag: "1"}
    master, slave = pty.openpty()
    os.set_blocking(master, False)
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "--sandbox"],
        cwd=root,
        env=env,
        stdin=slave,
        stdout=slave,
        stderr=subprocess.PIPE,
    )
    os.close(slave)
    deadline = start + timeout
    try:
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                proc.returncode = os.waitstatus_to_exitcode(status)
                break
            if time.perf_counter() > deadline:
                proc.kill()
                proc.wait()
                raise TimeoutError(f"the app did not exit after its {label}")
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    os.read(master, 65536)  # drain the screen output
                except OSError:
                    pass
        wall = time.perf_counter() - start
    finally:
        os.close(master)
    err = proc.stderr.read().decode() if proc.stderr else ""
    match = re.search(label + r": ([0-9.]+)", err)
    if proc.returncode != 0 or not match:
        raise RuntimeError(f"the app failed (exit {proc.returncode}): {err[-500:]}")
    return float(match.group(1)), wall, usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    env = _env()
    help_wall_time(env)  # warm the file cache and byte-code
    helps = [help_wall_time(env) for _ in range(args.runs)]
    first_frame(env)
    frames = [first_frame(env) for _ in range(args.runs)]
    result = {
        "runs": args.runs,
        "help_median_s": round(statistics.median(helps), 3),
        "help_target_s": HELP_TARGET_S,
        "first_frame_median_s": round(statistics.median(f for f, _ in frames), 3),
        "first_frame_target_s": FIRST_FRAME_TARGET_S,
        "app_process_to_exit_median_s": round(statistics.median(w for _, w in frames), 3),
    }
    result["ok"] = (
        result["help_median_s"] <= HELP_TARGET_S
        and result["first_frame_median_s"] <= FIRST_FRAME_TARGET_S
    )
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"sagecoach --help: median {result['help_median_s']:.3f} s "
            f"(target <= {HELP_TARGET_S} s) over {args.runs} runs"
        )
        print(
            f"app first frame: median {result['first_frame_median_s']:.3f} s after process start "
            f"(target <= {FIRST_FRAME_TARGET_S} s); whole process to exit "
            f"{result['app_process_to_exit_median_s']:.3f} s"
        )
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
