"""How a serving container answers a request it cannot serve: an HTTP status and a body (what
InvokeEndpoint reports as the ModelError's OriginalStatusCode / OriginalMessage)."""

from __future__ import annotations

FLASK_500 = (
    '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">\n'
    "<title>500 Internal Server Error</title>\n"
    "<h1>Internal Server Error</h1>\n"
    "<p>The server encountered an internal error and was unable to complete your request. "
    "Either the server is overloaded or there is an error in the application.</p>\n"
)


class InferenceError(Exception):
    """The container's error response (status, body); `log` is what it writes to its log."""

    def __init__(self, status: int, body: str, log: str | None = None) -> None:
        super().__init__(body)
        self.status = status
        self.body = body
        self.log = log if log is not None else body


class LoadError(Exception):
    """The model could not be loaded: the container never passes its ping health check."""


def parse_media_type(value: str | None) -> tuple[str, dict[str, str]]:
    """('text/csv', {'label_size': '0'}) from 'text/csv; label_size=0' (cgi.parse_header's job)."""
    if not value:
        return "", {}
    base, *rest = value.split(";")
    params: dict[str, str] = {}
    for part in rest:
        key, _, val = part.partition("=")
        if key.strip():
            params[key.strip().lower()] = val.strip().strip('"')
    return base.strip(), params
