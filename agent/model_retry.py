"""Retries throttling and transient Bedrock errors, including a throttlingException inside
ConverseStream (botocore does not retry those), and tells the front end to discard the
failed attempt's partial message.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from langchain.agents.middleware import AgentMiddleware
from langgraph.errors import GraphBubbleUp

RETRYABLE_CODES = {
    "throttlingexception",
    "throttling",
    "toomanyrequestsexception",
    "servicequotaexceededexception",
    "serviceunavailableexception",
    "modelstreamerrorexception",
    "internalserverexception",
    "modelnotreadyexception",
}


def is_retryable_model_error(exc: BaseException) -> bool:
    """Throttling and transient Bedrock errors, including ones inside an event stream."""
    from botocore import exceptions as bx

    if isinstance(exc, bx.ClientError):
        code = str((getattr(exc, "response", {}) or {}).get("Error", {}).get("Code", ""))
        return code.lower() in RETRYABLE_CODES
    if isinstance(exc, bx.ConnectionClosedError):
        return True  # reset mid-stream (botocore already retried connects and read timeouts)
    if isinstance(exc, ConnectionError) and "stream" in str(exc).lower():
        return True  # "Incomplete Bedrock response stream"
    if isinstance(exc, bx.ResponseStreamingError | bx.IncompleteReadError):
        return True  # the stream dropped after 200 OK
    try:
        from urllib3.exceptions import ProtocolError
    except ImportError:  # pragma: no cover
        return bool(getattr(exc, "retryable", False))
    if isinstance(exc, ProtocolError):
        return True  # "Response ended prematurely": a dropped ConverseStream, like a throttle
    return bool(getattr(exc, "retryable", False))


class ModelRetryMiddleware(AgentMiddleware):
    """Retries a failed model call; the partial message is discarded on screen."""

    name = "sagecoach_model_retry"

    def __init__(
        self,
        max_retries: int = 3,
        initial_delay: float = 1.0,
        backoff: float = 2.0,
        max_delay: float = 20.0,
        retry_on: Callable[[BaseException], bool] = is_retryable_model_error,
    ) -> None:
        super().__init__()
        self.max_retries = max_retries
        self.initial_delay = initial_delay
        self.backoff = backoff
        self.max_delay = max_delay
        self.retry_on = retry_on

    def _delay(self, attempt: int) -> float:
        return min(self.max_delay, self.initial_delay * (self.backoff**attempt))

    @staticmethod
    def _discard(request: Any, exc: BaseException, attempt: int) -> None:
        writer = getattr(getattr(request, "runtime", None), "stream_writer", None)
        if writer is not None:
            writer(
                {
                    "sagecoach": "discard",
                    "reason": f"{type(exc).__name__}: {exc}",
                    "attempt": attempt + 1,
                }
            )

    def wrap_model_call(self, request: Any, handler: Callable[[Any], Any]) -> Any:
        attempt = 0
        while True:
            try:
                return handler(request)
            except GraphBubbleUp:
                raise
            except Exception as exc:
                if attempt >= self.max_retries or not self.retry_on(exc):
                    raise
                self._discard(request, exc, attempt)
                time.sleep(self._delay(attempt))
                attempt += 1

    async def awrap_model_call(self, request: Any, handler: Callable[[Any], Awaitable[Any]]) -> Any:
        attempt = 0
        while True:
            try:
                return await handler(request)
            except GraphBubbleUp:
                raise
            except Exception as exc:
                if attempt >= self.max_retries or not self.retry_on(exc):
                    raise
                self._discard(request, exc, attempt)
                await asyncio.sleep(self._delay(attempt))
                attempt += 1
