"""Size of the tool schemas sent with every Bedrock Converse request.

Counts the characters of `toolConfig.tools` exactly as ChatBedrockConverse serialises the
agent's tools (langchain-aws `_format_tools`), and also ToolSpec.to_bedrock_tool_spec() for
comparison. Target: <= 24,000 characters for the whole tool set. Run: `python -m bench.schema_bench`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_CHARS = 24_000


def _size(obj: Any) -> int:
    return len(json.dumps(obj, separators=(",", ":"), ensure_ascii=False))


def measure() -> dict[str, Any]:
    from langchain_aws.chat_models.bedrock_converse import _format_tools

    from tools.core.langchain_adapter import to_langchain_tools
    from tools.core.registry import load_all

    specs = load_all().all()
    sent = _format_tools(to_langchain_tools(specs, None))
    per_tool = sorted(
        ((t["toolSpec"]["name"], _size(t)) for t in sent), key=lambda item: item[1], reverse=True
    )
    by_stage: dict[str, int] = {}
    for spec, tool in zip(specs, sent, strict=True):
        by_stage[spec.stage] = by_stage.get(spec.stage, 0) + _size(tool)
    from langchain_core.messages import HumanMessage

    from agent.tool_scope import ToolScopeMiddleware
    from tools.core.stages import STAGES

    scope = ToolScopeMiddleware(specs)
    all_tools = [*to_langchain_tools(specs, None), *scope.tools]
    scoped: dict[str, int] = {}
    for sid, _, title in STAGES:  # one request per stage, phrased with the stage's title
        chosen = scope.select(all_tools, [HumanMessage(f"help me with {title.lower()}")])
        scoped[sid] = _size(_format_tools(chosen))
    return {
        "scoped_max_chars": max(scoped.values()),
        "scoped_by_request": scoped,
        "tools": len(specs),
        "sent_chars": _size(sent),
        "toolspec_chars": _size([s.to_bedrock_tool_spec() for s in specs]),
        "description_chars": sum(len(s.description) for s in specs),
        "largest": per_tool[:8],
        "by_stage": dict(sorted(by_stage.items(), key=lambda item: -item[1])),
        "target_chars": TARGET_CHARS,
    }


def main(argv: list[str] | None = None) -> int:
    result = measure()
    verdict = "OK" if result["sent_chars"] <= TARGET_CHARS else "over target: scoped by stage"
    scoped_ok = "OK" if result["scoped_max_chars"] <= TARGET_CHARS else "OVER TARGET"
    print(f"schema_bench: {result['tools']} tools")
    print(
        f"  whole tool set (langchain-aws toolConfig):   {result['sent_chars']:,} chars "
        f"(target <= {TARGET_CHARS:,}): {verdict}"
    )
    print(
        f"  sent per request after stage scoping (max):  {result['scoped_max_chars']:,} chars: "
        f"{scoped_ok}"
    )
    print(
        "  scoped, per stage request: "
        + ", ".join(f"{s} {c}" for s, c in result["scoped_by_request"].items())
    )
    print(f"  ToolSpec.to_bedrock_tool_spec() total:       {result['toolspec_chars']:,} chars")
    print(f"  descriptions alone:                          {result['description_chars']:,} chars")
    print("  largest tools: " + ", ".join(f"{n} {c}" for n, c in result["largest"]))
    print("  by stage: " + ", ".join(f"{s} {c}" for s, c in result["by_stage"].items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
