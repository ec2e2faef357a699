"""Secret redaction applied before anything is written to the audit log or shown."""

from __future__ import annotations

import re
from typing import Any

REDACTED = "***"

_SECRET_KEY = re.compile(
    r"(secret|password|passwd|token|credential|private[_-]?key|api[_-]?key|"
    r"authorization|signature|session[_-]?key|access[_-]?key)",
    re.IGNORECASE,
)
# Values that are secrets whatever key they sit under.
_SECRET_VALUES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b"), "AKIA" + REDACTED),
    # Presigned URL signatures (SigV4 and SigV2 query forms).
    (re.compile(r"(X-Amz-Signature=)[^&\s\"']+", re.IGNORECASE), r"\1" + REDACTED),
    (re.compile(r"(X-Amz-Credential=)[^&\s\"']+", re.IGNORECASE), r"\1" + REDACTED),
    (re.compile(r"(X-Amz-Security-Token=)[^&\s\"']+", re.IGNORECASE), r"\1" + REDACTED),
    (re.compile(r"([?&]Signature=)[^&\s\"']+"), r"\1" + REDACTED),
    # 40-char secret access keys appearing as key=value text.
    (
        re.compile(r"(aws_secret_access_key\s*[=:]\s*)[A-Za-z0-9/+=]{40}", re.IGNORECASE),
        r"\1" + REDACTED,
    ),
    (re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}"), r"\1" + REDACTED),
    # password=..., "token: ...", api_key=... written as text (e.g. in a user's message).
    (
        re.compile(
            r"\b((?:password|passwd|pwd|secret|api[_-]?key|session[_-]?token|secret[_-]?access[_-]?key)"
            r"\s*[=:]\s*)(?!\*\*\*)[^\s&,;\"']+",
            re.IGNORECASE,
        ),
        r"\1" + REDACTED,
    ),
)
# A bare 40-character secret access key: base64 letters with both cases and a digit or / +
# (git's lowercase-hex SHA-1s and other ids are left alone).
_BARE_SECRET = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")


def _bare_secret(match: re.Match[str]) -> str:
    text = match.group(0)
    mixed = any(c.islower() for c in text) and any(c.isupper() for c in text)
    if mixed and any(c.isdigit() or c in "/+" for c in text):
        return REDACTED
    return text


# Keys that look secret but are not (counts, ids of public things).
_NOT_SECRET = {
    "tokens",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "cached_tokens",
    "nexttoken",
    "next_token",
    "max_tokens",
    "token_usage",
}


def is_secret_key(key: str) -> bool:
    k = key.lower()
    if k in _NOT_SECRET or k.endswith("_tokens") or k.endswith("tokens"):
        return False
    return bool(_SECRET_KEY.search(key))


def redact_text(text: str) -> str:
    for pattern, repl in _SECRET_VALUES:
        text = pattern.sub(repl, text)
    return _BARE_SECRET.sub(_bare_secret, text)


def redact(value: Any, *, _depth: int = 0) -> Any:
    """Return a JSON-safe copy of value with secrets replaced; bytes become a size note."""
    if _depth > 20:
        return "…"
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            skey = str(key)
            if is_secret_key(skey) and item not in (None, "", [], {}):
                out[skey] = REDACTED
            else:
                out[skey] = redact(item, _depth=_depth + 1)
        return out
    if isinstance(value, (list, tuple, set)):
        return [redact(v, _depth=_depth + 1) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(value)} bytes>"
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if hasattr(value, "read"):
        return "<stream>"
    return redact_text(str(value))
