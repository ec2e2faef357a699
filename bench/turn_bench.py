"""Per-turn overhead of the agent runtime with a zero-latency scripted model.

Measures, per turn (send → model asks for a tool → tool runs → model answers):
- send → tool start (ToolCallStarted seen by the front end),
- tool end (ToolCallFinished) → turn end (TurnFinished),
- the whole turn (one model + tool round trip plus the final model call).
Target: p50 <= 15 ms per model+tool round trip. Run: `python -m bench.turn_bench`.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_P50_MS = 15.0


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = "x"


def _noop(ctx: Any, args: _Args) -> Any:
    from tools.core.results import ToolResult

    return ToolResult(f"ok {args.name}", data={"rows": [{"name": args.name}]})


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def _stats(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(statistics.median(values), 3),
        "p99": round(_percentile(values, 99), 3),
        "mean": round(statistics.fmean(values), 3),
    }


async def measure(turns: int = 50, warmup: int = 3) -> dict[str, Any]:
    from agent.events import ToolCallFinished, ToolCallStarted, TurnFinished
    from agent.settings import Settings
    from agent.startup import open_session
    from tests.scripted_model import ScriptedChatModel, tool_turn
    from tools.core.declaration import ToolSpec

    spec = ToolSpec("bench_noop", "general", "Do nothing.", "read", (), _Args, _noop)
    total = turns + warmup
    script: list[Any] = []
    for i in range(total):
        script += [tool_turn("bench_noop", {"name": f"n{i}"}), "done"]
    model = ScriptedChatModel(script=script, chunk_size=1000)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(state_dir=Path(tmp) / "state", sandbox="on")
        # The tool never calls AWS, so no sandbox server is needed behind this endpoint.
        session = await open_session(
            settings, model=model, sandbox_endpoint="http://127.0.0.1:9", tools=[spec]
        )
        to_start: list[float] = []
        to_end: list[float] = []
        whole: list[float] = []
        try:
            for i in range(total):
                t0 = time.perf_counter()
                t_start = t_finish = t_done = 0.0
                async for event in session.send(f"turn {i}"):
                    now = time.perf_counter()
                    if isinstance(event, ToolCallStarted):
                        t_start = now
                    elif isinstance(event, ToolCallFinished):
                        t_finish = now
                    elif isinstance(event, TurnFinished):
                        t_done = now
                if i < warmup:
                    continue
                to_start.append((t_start - t0) * 1000)
                to_end.append((t_done - t_finish) * 1000)
                whole.append((t_done - t0) * 1000)
        finally:
            await session.aclose()
    return {
        "turns": turns,
        "send_to_tool_start_ms": _stats(to_start),
        "tool_end_to_turn_end_ms": _stats(to_end),
        "turn_ms": _stats(whole),
        "target_p50_ms": TARGET_P50_MS,
    }


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    turns = next((int(a) for a in args if a.isdigit()), 50)
    result = asyncio.run(measure(turns=turns))
    print(f"turn_bench: {result['turns']} turns, zero-latency scripted model, one no-op tool each")
    for key in ("send_to_tool_start_ms", "tool_end_to_turn_end_ms", "turn_ms"):
        s = result[key]
        print(f"  {key:<26} p50 {s['p50']:8.2f}  p99 {s['p99']:8.2f}  mean {s['mean']:8.2f}")
    p50 = result["send_to_tool_start_ms"]["p50"]
    verdict = "OK" if p50 <= TARGET_P50_MS else "OVER TARGET"
    print(f"  model+tool round trip p50 {p50:.2f} ms (target <= {TARGET_P50_MS} ms): {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
