"""The hook layer: a WSGI middleware around moto's app that lets the engine see, answer or
amend any AWS operation, keyed by service and operation name.

Three kinds of hook (register them with the decorators; see `sandbox.engine` for examples):

- `before(service, operation)`: runs before moto. Raise `ApiError` to reject the call the way
  AWS would (e.g. a duplicate job name), return a `Reply` to answer it yourself (moto never sees
  it: operations moto lacks, such as StopTrainingJob), or return None to let moto handle it.
- `after(service, operation)`: runs after moto answered 2xx with JSON; receives the parsed
  response, may return a replacement dict, and is where jobs get started.
- `route(service, operation, method, path_regex)`: names a REST operation by its path (e.g.
  sagemaker-runtime's `POST /endpoints/<name>/invocations`), so `before`/`after` hooks can key on
  it; named groups of the regex land in `Call.params`.

A hook that raises anything but `ApiError` fails that call alone with a 500 InternalFailure; the
server keeps serving.
"""

from __future__ import annotations

import io
import json
import logging
import re
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

log = logging.getLogger("sandbox.engine")

DEFAULT_ACCOUNT = "123456789012"
_READ_PREFIXES = ("Describe", "List", "Get", "Search", "BatchGet", "BatchDescribe", "Head")


class ApiError(Exception):
    """An AWS error response: `code` becomes `__type`/`x-amzn-ErrorType`, as botocore parses it."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@dataclass
class Reply:
    """A response a hook writes itself (JSON dicts are serialised with the AWS JSON content type)."""

    body: dict[str, Any] | bytes = field(default_factory=dict)
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/x-amz-json-1.1"


@dataclass
class Call:
    """One AWS request as the engine sees it."""

    service: str
    operation: str
    region: str
    method: str
    path: str
    headers: dict[str, str]
    query: dict[str, list[str]]
    body: bytes
    params: dict[str, Any] = field(default_factory=dict)
    account: str = DEFAULT_ACCOUNT

    @property
    def read_only(self) -> bool:
        """True when the call cannot change state (so persistence need not save after it)."""
        if self.operation:
            return self.operation.startswith(_READ_PREFIXES)
        return self.method in ("GET", "HEAD", "OPTIONS")


BeforeHook = Callable[[Any, Call], "Reply | None"]
AfterHook = Callable[[Any, Call, dict[str, Any]], "dict[str, Any] | None"]


@dataclass
class _Route:
    service: str
    operation: str
    method: str
    pattern: re.Pattern[str]


class HookRegistry:
    """Which hooks run for which (service, operation)."""

    def __init__(self) -> None:
        self.before_hooks: dict[tuple[str, str], list[BeforeHook]] = {}
        self.after_hooks: dict[tuple[str, str], list[AfterHook]] = {}
        self.routes: list[_Route] = []
        #: Sandbox-only HTTP routes (no AWS signature), by path prefix: `handler(engine, environ)`.
        self.local_routes: dict[str, Callable[[Any, dict[str, Any]], Reply]] = {}

    def before(self, service: str, operation: str) -> Callable[[BeforeHook], BeforeHook]:
        def register(fn: BeforeHook) -> BeforeHook:
            self.before_hooks.setdefault((service, operation), []).append(fn)
            return fn

        return register

    def after(self, service: str, operation: str) -> Callable[[AfterHook], AfterHook]:
        def register(fn: AfterHook) -> AfterHook:
            self.after_hooks.setdefault((service, operation), []).append(fn)
            return fn

        return register

    def route(self, service: str, operation: str, method: str, path_regex: str) -> None:
        self.routes.append(_Route(service, operation, method.upper(), re.compile(path_regex)))

    def local(self, prefix: str) -> Callable[[Any], Any]:
        """Register a sandbox-only route under /_sagecoach/ (e.g. "run this schedule now")."""

        def register(fn: Any) -> Any:
            self.local_routes[prefix] = fn
            return fn

        return register

    def hooked(self, service: str, operation: str) -> bool:
        key = (service, operation)
        return key in self.before_hooks or key in self.after_hooks


#: The engine's registry: modules register on import (see `sandbox.engine.install`).
HOOKS = HookRegistry()


def _signing_scope(environ: dict[str, Any]) -> tuple[str, str]:
    """(service signing name, region) from a SigV4 Authorization header."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    try:
        scope = auth.split(",")[0].split()[1]
        _, _, region, service, _ = scope.split("/")
        return service.lower(), region
    except (IndexError, ValueError):
        return "", "us-east-1"


def _operation(environ: dict[str, Any], body: bytes) -> str:
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return target.rsplit(".", 1)[-1]
    if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        action = parse_qs(body.decode("utf-8", "replace")).get("Action")
        if action:
            return action[0]
    return ""


def _is_json(environ: dict[str, Any]) -> bool:
    return "json" in environ.get("CONTENT_TYPE", "")


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body) if body else {}
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


class EngineMiddleware:
    """WSGI app: identifies each call, runs the engine's hooks around moto, never raises."""

    def __init__(
        self,
        app: Callable[..., Iterable[bytes]],
        engine: Any,
        registry: HookRegistry = HOOKS,
        on_call: Callable[[Call], None] | None = None,
        extra_routes: dict[str, Callable[[dict[str, Any]], Reply]] | None = None,
    ) -> None:
        self.app = app
        self.engine = engine
        self.registry = registry
        self.on_call = on_call
        self.extra_routes = extra_routes or {}

    # --- WSGI --------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        local = self.extra_routes.get(path)
        if local is not None:
            return self._send(start_response, local(environ))
        for prefix, handler in getattr(self.registry, "local_routes", {}).items():
            if path.startswith(prefix):
                self._read_body(environ)
                try:
                    reply = handler(self.engine, environ)
                except ApiError as exc:
                    reply = error_reply(exc)
                return self._send(start_response, reply)
        body = self._read_body(environ)
        call = self._identify(environ, body)
        try:
            reply = self._run_before(call)
        except ApiError as exc:
            return self._send(start_response, error_reply(exc))
        except Exception:  # a broken hook fails this call alone
            log.error("engine hook failed for %s.%s\n%s", call.service, call.operation,
                      traceback.format_exc())  # fmt: skip
            return self._send(start_response, internal_error())
        if reply is not None:
            self._notify(call)
            return self._send(start_response, reply)
        after = self.registry.after_hooks.get((call.service, call.operation))
        if not after:
            self._notify(call)
            return self.app(environ, start_response)
        return self._run_with_after(environ, start_response, call, after)

    # --- helpers -------------------------------------------------------------------------
    @staticmethod
    def _read_body(environ: dict[str, Any]) -> bytes:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        stream = environ.get("wsgi.input")
        if stream is None:
            return b""
        if length > 0:
            body = stream.read(length)
        elif environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked":
            body = stream.read()
        else:
            body = b""
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return body

    def _identify(self, environ: dict[str, Any], body: bytes) -> Call:
        service, region = _signing_scope(environ)
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = environ.get("PATH_INFO", "")
        operation = _operation(environ, body)
        params: dict[str, Any] = {}
        if not operation:
            for route in self.registry.routes:
                if route.method != method:
                    continue
                found = route.pattern.match(path)
                if found and service in (route.service, route.service.split("-")[0]):
                    service, operation = route.service, route.operation
                    params = _json_object(body) if _is_json(environ) else {}
                    params.update(found.groupdict())
                    break
        elif environ.get("HTTP_X_AMZ_TARGET") and body:
            params = _json_object(body)
        headers = {
            key[5:].replace("_", "-").lower(): str(value)
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        return Call(
            service=service,
            operation=operation,
            region=region,
            method=method,
            path=path,
            headers=headers,
            query=parse_qs(environ.get("QUERY_STRING", "")),
            body=body,
            params=params,
        )

    def _run_before(self, call: Call) -> Reply | None:
        for hook in self.registry.before_hooks.get((call.service, call.operation), []):
            reply = hook(self.engine, call)
            if reply is not None:
                return reply
        return None

    def _run_with_after(
        self,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
        call: Call,
        hooks: list[AfterHook],
    ) -> Iterable[bytes]:
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        chunks = self.app(environ, capture)
        try:
            raw = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close:
                close()
        status = captured.get("status", "500 INTERNAL SERVER ERROR")
        headers = [h for h in captured.get("headers", []) if h[0].lower() != "content-length"]
        if status.startswith("2"):
            try:
                response = json.loads(raw) if raw else {}
                for hook in hooks:
                    changed = hook(self.engine, call, response)
                    if changed is not None:
                        response = changed
                raw = json.dumps(response, default=_json_default).encode()
            except ApiError as exc:
                return self._send(start_response, error_reply(exc))
            except Exception:
                log.error("engine after-hook failed for %s.%s\n%s", call.service,
                          call.operation, traceback.format_exc())  # fmt: skip
                return self._send(start_response, internal_error())
            self._notify(call)
        headers.append(("Content-Length", str(len(raw))))
        start_response(status, headers)
        return [raw]

    def _notify(self, call: Call) -> None:
        if self.on_call is not None:
            try:
                self.on_call(call)
            except Exception:  # pragma: no cover - observers must not break calls
                log.exception("call observer failed")

    @staticmethod
    def _send(start_response: Callable[..., Any], reply: Reply) -> list[bytes]:
        if isinstance(reply.body, bytes):
            raw = reply.body
        else:
            raw = json.dumps(reply.body, default=_json_default).encode()
        headers = {"Content-Type": reply.content_type, **reply.headers}
        headers["Content-Length"] = str(len(raw))
        start_response(f"{reply.status} {_REASONS.get(reply.status, 'OK')}", list(headers.items()))
        return [raw]


_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 424: "Failed Dependency",
            500: "Internal Server Error"}  # fmt: skip


def _json_default(value: Any) -> Any:
    from datetime import datetime

    if isinstance(value, datetime):
        return value.timestamp()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def error_reply(exc: ApiError) -> Reply:
    """The AWS JSON protocol error shape (botocore reads `__type` and `message`)."""
    return Reply(
        {"__type": exc.code, "message": exc.message},
        status=exc.status,
        headers={"x-amzn-ErrorType": exc.code},
    )


def internal_error() -> Reply:
    return error_reply(
        ApiError("InternalFailure", "The sandbox engine failed on this request; see its log.", 500)
    )
