"""Serving: stdio (one client, the usual way agent clients start a server), or streamable HTTP on
127.0.0.1 behind a bearer token (DNS-rebinding protection on, as the SDK sets it for loopback).

On stdio, stdout carries the protocol only: notices go to stderr (the SDK also points fd 1 at
stderr while serving, so a stray print cannot corrupt the stream).
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import socket
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from tui.mcp_server.front import McpOptions
from tui.mcp_server.server import build_server

HOST = "127.0.0.1"
DEFAULT_PORT = 8765
TOKEN_ENV = "SAGECOACH_MCP_TOKEN"
PATH = "/mcp"

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def setup_logging() -> None:
    """Notices (sandbox or real AWS, endpoints still billing) on stderr, one line each."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("sagecoach mcp: %(message)s"))
    logger = logging.getLogger("sagecoach")
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    logger.propagate = False


async def serve_stdio(options: McpOptions) -> None:
    from mcp.server.stdio import stdio_server

    server = build_server(options)
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


class BearerToken:
    """ASGI middleware: every HTTP request must carry `Authorization: Bearer <token>`."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(given, self._expected):
                body = (
                    b'{"error": "missing or wrong bearer token: send the token sagecoach mcp '
                    b'printed (or SAGECOACH_MCP_TOKEN) as Authorization: Bearer <token>"}'
                )
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"www-authenticate", b'Bearer realm="sagecoach"'),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def token_from_env() -> tuple[str, bool]:
    """(token, generated?): SAGECOACH_MCP_TOKEN when set, else a fresh random one."""
    given = os.environ.get(TOKEN_ENV, "").strip()
    if given:
        return given, False
    return secrets.token_urlsafe(32), True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def http_app(options: McpOptions, token: str) -> Any:
    server = build_server(options)
    app = server.streamable_http_app(streamable_http_path=PATH, host=HOST)
    return BearerToken(app, token)


async def serve_http(options: McpOptions, *, port: int, token: str) -> None:
    import uvicorn

    config = uvicorn.Config(
        http_app(options, token), host=HOST, port=port, log_level="warning", lifespan="on"
    )
    await uvicorn.Server(config).serve()
