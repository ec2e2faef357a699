"""`sagecoach mcp` over stdio, measured as a client sees it: raw JSON-RPC lines to a real
subprocess (no client SDK in the measured path).

- start to first response: process spawn to the `initialize` answer (target: median <= 1.5 s);
- `tools/list` round trip, warm (target: p50 <= 50 ms);
- a read tool call round trip, warm: `s3_list_buckets` against the sandbox (target: p50 <= 50 ms),
  and `list_stages` (no AWS call) for comparison.

    python -m bench.mcp_bench [--starts N] [--rounds N] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.isolated import isolated_env

START_TARGET_S = 1.5
ROUND_TRIP_TARGET_MS = 50.0
ROOT = Path(__file__).resolve().parent.parent


def _env() -> dict[str, str]:
    return isolated_env()


class StdioPeer:
    """One `sagecoach mcp --sandbox` process and a line-based JSON-RPC client for it."""

    def __init__(self, env: dict[str, str]) -> None:
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tui.cli", "mcp", "--sandbox"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self._next = 0

    def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self._next += 1
        message = {"jsonrpc": "2.0", "id": self._next, "method": method}
        if params is not None:
            message["params"] = params
        self._send(message)
        while True:  # skip notifications until our answer
            line = self.proc.stdout.readline()  # type: ignore[union-attr]
            if not line:
                raise RuntimeError(f"sagecoach mcp closed its stdout during {method}")
            answer = json.loads(line)
            if answer.get("id") == self._next:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer["result"]

    def notify(self, method: str) -> None:
        self._send({"jsonrpc": "2.0", "method": method})

    def _send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")
        self.proc.stdin.flush()

    def initialize(self) -> float:
        """Seconds from spawn to the initialize answer."""
        self.request(
            "initialize",
            {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "mcp-bench", "version": "1"},
            },
        )
        age = time.perf_counter() - self.started
        self.notify("notifications/initialized")
        return age

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def timed(peer: StdioPeer, rounds: int, method: str, params: dict[str, Any]) -> list[float]:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        result = peer.request(method, params)
        times.append((time.perf_counter() - start) * 1000)
        if result.get("isError"):
            raise RuntimeError(f"{method} {params}: {result['content'][0]['text']}")
    return times


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50": round(statistics.median(ordered), 2),
        "p90": round(ordered[int(0.9 * (len(ordered) - 1))], 2),
        "min": round(ordered[0], 2),
    }


def sdk_import_s(env: dict[str, str]) -> float:
    """A bare `python -c "import mcp"`: the floor any server on this SDK pays (the machine's load
    shows in it, so the start figure is also given as a ratio to it)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import mcp"], cwd=ROOT, env=env, check=True)
    return time.perf_counter() - start


def run(starts: int, rounds: int) -> dict[str, Any]:
    env = _env()
    start_ages, sdk_imports = [], []
    for _ in range(starts):  # interleaved, so both see the same load
        sdk_imports.append(sdk_import_s(env))
        peer = StdioPeer(env)
        try:
            start_ages.append(peer.initialize())
        finally:
            peer.close()
    peer = StdioPeer(env)
    try:
        peer.initialize()
        call = {"name": "s3_list_buckets", "arguments": {}}
        timed(peer, 3, "tools/list", {})  # warm: registry, session, sandbox, clients
        timed(peer, 3, "tools/call", call)
        listing = timed(peer, rounds, "tools/list", {})
        read = timed(peer, rounds, "tools/call", call)
        local = timed(peer, rounds, "tools/call", {"name": "list_stages", "arguments": {}})
    finally:
        peer.close()
    return {
        "start_to_first_response_s": {
            "median": round(statistics.median(start_ages), 3),
            "runs": [round(a, 3) for a in start_ages],
            "sdk_import_median": round(statistics.median(sdk_imports), 3),
            "ratio_to_sdk_import": round(
                statistics.median(start_ages) / statistics.median(sdk_imports), 2
            ),
        },
        "tools_list_ms": summary(listing),
        "read_call_s3_list_buckets_ms": summary(read),
        "read_call_list_stages_ms": summary(local),
        "rounds": rounds,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    figures = run(args.starts, args.rounds)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        start = figures["start_to_first_response_s"]
        print(
            f"start to first response: median {start['median']:.2f} s (target <= "
            f"{START_TARGET_S} s); `import mcp` alone {start['sdk_import_median']:.2f} s "
            f"(ratio {start['ratio_to_sdk_import']:.2f})"
        )
        for key, label in (
            ("tools_list_ms", "tools/list"),
            ("read_call_s3_list_buckets_ms", "tools/call s3_list_buckets"),
            ("read_call_list_stages_ms", "tools/call list_stages"),
        ):
            f = figures[key]
            print(f"{label}: p50 {f['p50']:.1f} ms, p90 {f['p90']:.1f} ms, min {f['min']:.1f} ms")
    missed = (
        figures["start_to_first_response_s"]["median"] > START_TARGET_S
        or figures["tools_list_ms"]["p50"] > ROUND_TRIP_TARGET_MS
        or figures["read_call_s3_list_buckets_ms"]["p50"] > ROUND_TRIP_TARGET_MS
    )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
