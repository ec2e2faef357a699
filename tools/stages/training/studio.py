"""SageMaker Studio: whether a domain exists (Studio itself is explained by the catalog)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from tools.core.context import ToolContext
from tools.core.declaration import tool
from tools.core.results import ToolResult


class ListDomainsArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_results: Annotated[int, Field(ge=1, le=100)] = 20


@tool(
    name="sagemaker_list_domains",
    stage="training",
    risk="read",
    operations=("sagemaker:ListDomains",),
    phrases=(
        "do I have a studio domain",
        "list sagemaker domains",
        "is sagemaker studio set up",
    ),
)
def sagemaker_list_domains(ctx: ToolContext, args: ListDomainsArgs) -> ToolResult:
    """SageMaker Studio domains in the region (name, id, status, URL)."""
    domains = ctx.client("sagemaker").list_domains(MaxResults=args.max_results).get("Domains", [])
    rows = [
        {
            "name": d.get("DomainName"),
            "id": d.get("DomainId"),
            "status": d.get("Status"),
            "url": d.get("Url"),
            "created": d["CreationTime"].isoformat(timespec="seconds")
            if isinstance(d.get("CreationTime"), datetime)
            else d.get("CreationTime"),
        }
        for d in domains
    ]
    if not rows:
        return ToolResult(
            f"No SageMaker Studio domain in {ctx.region}. Studio (notebooks, JupyterLab, "
            "Code Editor) needs a domain; create one in the SageMaker console (quick setup "
            "takes a few minutes). Studio apps bill per instance-hour while running.",
            {"rows": []},
        )
    text = "\n".join(
        f"{r['name']} ({r['id']}) {r['status']} {r['url'] or ''}".rstrip() for r in rows
    )
    return ToolResult(f"{len(rows)} Studio domains:\n{text}", {"rows": rows})
