"""AWS Data Exchange: the third-party data sets this account is entitled to."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.errors import NotEmulated
from tools.core.results import ToolResult
from tools.stages.shared.listing import MAX_LIST, Strict, cut

# ============================================================== Data Exchange


class ListDataSetsArgs(BaseModel):
    model_config = Strict
    origin: Literal["all", "OWNED", "ENTITLED"] = "all"


@tool(
    name="dataexchange_list_data_sets",
    stage="collection",
    risk="read",
    operations=("dataexchange:ListDataSets",),
    phrases=(
        "list data exchange data sets",
        "third-party data subscriptions",
        "what data am I entitled to",
    ),
)
def dataexchange_list_data_sets(ctx: ToolContext, args: ListDataSetsArgs) -> ToolResult:
    """List AWS Data Exchange data sets you own or are entitled to (subscriptions)."""
    if ctx.aws.is_sandbox:
        raise NotEmulated(
            "AWS Data Exchange", "Subscribe to data sets in the AWS Data Exchange console."
        )
    client = ctx.client("dataexchange")
    origins = ["OWNED", "ENTITLED"] if args.origin == "all" else [args.origin]
    rows = []
    for origin in origins:
        for page in client.get_paginator("list_data_sets").paginate(Origin=origin):
            for d in page.get("DataSets", []):
                rows.append(
                    {
                        "name": d.get("Name"),
                        "id": d.get("Id"),
                        "origin": d.get("Origin", origin),
                        "asset_type": d.get("AssetType"),
                        "updated": str(d.get("UpdatedAt", ""))[:10],
                    }
                )
    if not rows:
        return ToolResult("No Data Exchange data sets (owned or entitled).", {"rows": []})
    shown = rows[:MAX_LIST]
    return ToolResult(
        f"{len(rows)} data sets: "
        + "; ".join(f"{r['name']} ({r['origin']}, {r['asset_type']})" for r in shown)
        + cut(len(rows), len(shown)),
        {"rows": rows},
    )
