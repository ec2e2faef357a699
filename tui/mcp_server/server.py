"""The MCP handlers and the low-level Server they make up.

The low-level `Server` (not `MCPServer`) because the tools already have exact JSON schemas (the
pydantic models the app sends Bedrock), and each call needs full control of its result: the
same structured content on every answer and readable tool errors for refusals.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from mcp import types
from mcp.server import Server, ServerRequestContext
from mcp.server.request_state import RequestStateBoundary, RequestStateSecurity
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS

from tui.mcp_server import catalog
from tui.mcp_server.calls import ToolCalls
from tui.mcp_server.front import FrontEnd, McpOptions
from tui.mcp_server.results import error_result

log = logging.getLogger("sagecoach.mcp")
SERVER_NAME = "sagecoach"


def _version() -> str:
    """The installed version (tools.aws has it too, but importing that loads boto3)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("sagecoach")
    except PackageNotFoundError:  # pragma: no cover - a source tree without install
        return "0.0.0"


INSTRUCTIONS = (
    "sagecoach: typed tools for machine learning on AWS (S3, Glue, Athena, DataBrew, Feature "
    "Store, SageMaker training, tuning, deployment, monitoring, Pipelines), by pipeline stage. "
    "Start with list_stages and recommend_services when unsure which service fits. Every call "
    "goes through sagecoach's approval policy (server mode: {mode}): a call that costs money, "
    "changes or deletes something asks the user through your client's elicitation, with a cost "
    "estimate, or is refused with the reason. A refused or rejected call did not run; do not "
    "retry it unchanged. Every call is written to sagecoach's audit log."
)


class ClientIdentity:
    """Middleware: note who the client is and start opening the session on first contact."""

    def __init__(self, front: FrontEnd) -> None:
        self.front = front

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: Any) -> Any:
        if ctx.request_id is not None:
            self.front.note_client(ctx)
        # The session (sandbox, AWS clients, the agent's middleware) opens in the background
        # once the first answer is out: after the handshake, or with any later request.
        if ctx.method not in ("initialize", "server/discover") and ctx.method != "ping":
            self.front.warm_up()
        return await call_next(ctx)


def build_server(options: McpOptions) -> Server[FrontEnd]:
    front = FrontEnd(options)
    calls = ToolCalls(front)

    @asynccontextmanager
    async def lifespan(_server: Server[FrontEnd]) -> AsyncIterator[FrontEnd]:
        front.enter()
        try:
            yield front
        finally:
            await front.close()

    async def list_tools(
        ctx: ServerRequestContext[FrontEnd], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=await front.tools())

    async def call_tool(
        ctx: ServerRequestContext[FrontEnd], params: types.CallToolRequestParams
    ) -> types.CallToolResult | types.InputRequiredResult:
        try:
            return await calls.call(ctx, params)
        except MCPError:
            raise
        except Exception as exc:  # never a crash, never a sanitised -32603 for a tool call
            log.exception("tools/call %s failed", params.name)
            return error_result(params.name, "", f"sagecoach failed inside the call: {exc}")

    async def list_resources(
        ctx: ServerRequestContext[FrontEnd], params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        return types.ListResourcesResult(resources=catalog.resource_list())

    async def list_templates(
        ctx: ServerRequestContext[FrontEnd], params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(resource_templates=catalog.resource_templates())

    async def read_resource(
        ctx: ServerRequestContext[FrontEnd], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        uri = str(params.uri)
        if uri in (catalog.SESSION_URI, catalog.SESSION_RESOURCES_URI):
            session = await front.session()
            if uri == catalog.SESSION_URI:
                value: Any = await anyio.to_thread.run_sync(front.session_summary, session)
            else:
                value = {"resources": session.resources()}
            return _text(uri, catalog.JSON, catalog.as_json(value))
        found = catalog.read_catalog(uri, front.served_names())
        if found is None:
            raise MCPError(
                INVALID_PARAMS,
                f"Unknown resource: {uri} (see resources/list; services: "
                f"{catalog.SERVICE_TEMPLATE})",
            )
        return _text(uri, *found)

    async def list_prompts(
        ctx: ServerRequestContext[FrontEnd], params: types.PaginatedRequestParams | None
    ) -> types.ListPromptsResult:
        return types.ListPromptsResult(prompts=list(catalog.PROMPTS.values()))

    async def get_prompt(
        ctx: ServerRequestContext[FrontEnd], params: types.GetPromptRequestParams
    ) -> types.GetPromptResult:
        try:
            return catalog.prompt_messages(params.name, dict(params.arguments or {}))
        except catalog.PromptError as exc:
            raise MCPError(INVALID_PARAMS, str(exc)) from None

    server: Server[FrontEnd] = Server(
        SERVER_NAME,
        version=_version(),
        title="sagecoach",
        description="ML on AWS with an approval gate, cost estimates and an audit log",
        instructions=INSTRUCTIONS.format(mode=options.settings.mode),
        lifespan=lifespan,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_list_resource_templates=list_templates,
        on_read_resource=read_resource,
        on_list_prompts=list_prompts,
        on_get_prompt=get_prompt,
    )
    server.middleware.append(ClientIdentity(front))
    # 2026-07-28 retries echo `requestState`: sealed here, verified on the way back in.
    security = RequestStateSecurity.ephemeral(ttl=options.approval_ttl_s)
    server.middleware.append(RequestStateBoundary(security, default_audience=SERVER_NAME))
    server.front = front  # type: ignore[attr-defined]  # tests and the runners reach it here
    return server


def _text(uri: str, mime: str, text: str) -> types.ReadResourceResult:
    return types.ReadResourceResult(
        contents=[types.TextResourceContents(uri=uri, mime_type=mime, text=text)]
    )
