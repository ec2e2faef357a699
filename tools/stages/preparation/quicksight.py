"""Amazon QuickSight: the dashboards in this account (building them stays in the console)."""

from __future__ import annotations

from botocore.exceptions import ClientError

from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.errors import ToolError
from tools.core.results import ToolResult
from tools.stages.shared.listing import MAX_LIST, NoArgs, cut

# ================================================================== QuickSight


@tool(
    name="quicksight_list_dashboards",
    stage="preparation",
    risk="read",
    operations=("quicksight:ListDashboards",),
    phrases=("list quicksight dashboards", "bi dashboards"),
)
def quicksight_list_dashboards(ctx: ToolContext, args: NoArgs) -> ToolResult:
    """List QuickSight dashboards in the account (QuickSight must be set up in the console)."""
    account = ctx.aws.identity.account
    client = ctx.client("quicksight")
    rows = []
    try:
        for page in client.get_paginator("list_dashboards").paginate(AwsAccountId=account):
            for d in page.get("DashboardSummaryList", []):
                rows.append(
                    {
                        "name": d.get("Name"),
                        "id": d.get("DashboardId"),
                        "published": d.get("PublishedVersionNumber"),
                        "updated": str(d.get("LastUpdatedTime", ""))[:10],
                    }
                )
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("UnsupportedUserEditionException", "ResourceNotFoundException"):
            raise ToolError(
                "QuickSight is not set up in this account/region; sign up in the QuickSight console first.",
                kind="not_found",
            ) from None
        raise
    if not rows:
        return ToolResult("No QuickSight dashboards.", {"rows": []})
    shown = rows[:MAX_LIST]
    return ToolResult(
        f"{len(rows)} dashboards: "
        + ", ".join(str(r["name"]) for r in shown)
        + cut(len(rows), len(shown)),
        {"rows": rows},
    )
