"""Run every benchmark module: `python -m bench [name ...]` (e.g. `python -m bench audit`).

Each `bench/<name>_bench.py` has `main()` that prints its figures and returns an exit code
(non-zero when a target is missed).
"""

from __future__ import annotations

import importlib
import inspect
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def discover() -> list[str]:
    return sorted(p.stem for p in Path(__file__).parent.glob("*_bench.py"))


def run(names: list[str]) -> int:
    failed: list[str] = []
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        print(f"== {name} ==", flush=True)
        started = time.perf_counter()
        try:
            main = module.main
            code = main([]) if inspect.signature(main).parameters else main()
        except Exception as exc:  # one broken bench must not hide the others' figures
            print(f"{name}: crashed: {type(exc).__name__}: {exc}")
            code = 1
        print(f"({name}: {time.perf_counter() - started:.1f}s, exit {code or 0})\n", flush=True)
        if code:
            failed.append(name)
    if failed:
        print(f"missed targets or failed: {', '.join(failed)}")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    available = discover()
    names = [a if a.endswith("_bench") else f"{a}_bench" for a in args] or available
    unknown = [n for n in names if n not in available]
    if unknown:
        print(f"unknown bench: {', '.join(unknown)} (have: {', '.join(available)})")
        return 2
    return run(names)


if __name__ == "__main__":
    sys.exit(main())
