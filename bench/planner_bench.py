"""The offline planner's speed: ranking and whole planning steps, after warm-up.

- model load: reading WordLlama's bundled weights and tokenizer (once per process);
- ranking: `Ranker.rank` (words + meaning) per request, p50 and p95 (target: p50 <= 20 ms);
- planning: `OfflinePlanner.invoke` for one request (ranking, argument extraction, the
  confidence floor), p50 and p95.

The requests are the shipped and new eval cases' texts, each run several times.

    python -m bench.planner_bench [--rounds N] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

RANK_P50_TARGET_MS = 20.0
ROOT = Path(__file__).resolve().parent.parent
CASE_FILES = (ROOT / "tests/eval/cases.jsonl", ROOT / "tests/eval/new_phrasings.jsonl")


def _requests() -> list[str]:
    out: list[str] = []
    for path in CASE_FILES:
        for line in path.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                out.append(json.loads(line)["request"])
    return out


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(rounds: int) -> dict[str, float]:
    from langchain_core.messages import HumanMessage

    from agent.offline import OfflinePlanner, semantic
    from agent.offline.entities import extract_entities
    from agent.offline.model import _default_tools, planner_for

    start = time.perf_counter()
    semantic.model()
    load_s = time.perf_counter() - start
    start = time.perf_counter()
    planner = planner_for(_default_tools())
    planner.ranker.semantic_scores("warm up")  # embeds the tool texts once
    index_s = time.perf_counter() - start
    from tools.core.registry import all_tools

    model = OfflinePlanner().bind_tools(all_tools())  # as the agent runtime binds it
    requests = _requests()
    for text in requests[:20]:  # warm-up: caches, first calls
        model.invoke([HumanMessage(text)])
    rank_ms: list[float] = []
    plan_ms: list[float] = []
    for _ in range(rounds):
        for text in requests:
            ranking_text = planner.ranker.typos.fix(extract_entities(text).ranking_text)
            t0 = time.perf_counter()
            planner.ranker.rank(ranking_text, limit=8)
            rank_ms.append((time.perf_counter() - t0) * 1000)
        for text in requests[::4]:
            t0 = time.perf_counter()
            model.invoke([HumanMessage(text)])
            plan_ms.append((time.perf_counter() - t0) * 1000)
    return {
        "semantic": semantic.status(),
        "model_load_s": round(load_s, 3),
        "tool_index_s": round(index_s, 3),
        "requests": len(requests),
        "rank_p50_ms": round(statistics.median(rank_ms), 2),
        "rank_p95_ms": round(_pct(rank_ms, 0.95), 2),
        "plan_p50_ms": round(statistics.median(plan_ms), 2),
        "plan_p95_ms": round(_pct(plan_ms, 0.95), 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.planner_bench")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv or [])
    figures = measure(args.rounds)
    ok = figures["rank_p50_ms"] <= RANK_P50_TARGET_MS
    if args.json:
        print(json.dumps({**figures, "ok": ok}))
    else:
        print(figures["semantic"])
        print(
            f"model load {figures['model_load_s']:.3f} s, tool index {figures['tool_index_s']:.3f} s"
        )
        print(
            f"ranking: p50 {figures['rank_p50_ms']:.2f} ms, p95 {figures['rank_p95_ms']:.2f} ms "
            f"over {figures['requests']} requests (target p50 <= {RANK_P50_TARGET_MS:.0f} ms)"
        )
        print(
            f"planning one request: p50 {figures['plan_p50_ms']:.2f} ms, "
            f"p95 {figures['plan_p95_ms']:.2f} ms"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
