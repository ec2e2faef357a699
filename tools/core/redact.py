"""Secret redaction applied before anything is written to the audit log, the ledger or history.

Two layers: a value under a key that names a secret (`password`, `SessionToken`, `api_key`)
is replaced whole; any string is scanned for secrets that give themselves away by shape (AWS
keys and session tokens, private-key blocks, GitHub/Slack/Stripe/OpenAI-style tokens, JWTs,
passwords in connection strings, `password is X` in prose, secret columns of CSV text).
Redaction errs towards hiding: a false positive costs a `***` in a log line.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

REDACTED = "***"

_SECRET_KEY = re.compile(
    r"(secret|password|passwd|passphrase|token|credential|private[_-]?key|api[_-]?key|apikey|"
    r"authorization|signature|session[_-]?key|access[_-]?key|account[_-]?key|client[_-]?secret)",
    re.IGNORECASE,
)
# Keys that look secret but are not (counts, pagination, idempotency, model settings).
_NOT_SECRET = {
    "tokens",
    "nexttoken",
    "next_token",
    "continuationtoken",
    "paginationtoken",
    "starttoken",
    "max_tokens",
    "maxtokens",
    "token_usage",
    "clienttoken",
    "clientrequesttoken",
    "idempotencytoken",
    "tokenizer",
}
_NOT_SECRET_SUFFIXES = ("tokens", "_token_details", "token_count", "tokencount", "_tokens_used")


def is_secret_key(key: str) -> bool:
    k = key.lower().strip().strip("\"'")
    if k in _NOT_SECRET or k.endswith(_NOT_SECRET_SUFFIXES):
        return False
    return bool(_SECRET_KEY.search(k))


def _keep_prefix(match: re.Match[str]) -> str:
    return match.group(1) + REDACTED


# Secrets recognisable by their shape, wherever they appear.
_SHAPES: tuple[tuple[re.Pattern[str], Any], ...] = (
    # PEM private keys (RSA, EC, DSA, OPENSSH, ENCRYPTED, PGP blocks); an unterminated block to the end.
    (
        re.compile(
            r"(-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----)"
            r".*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|\Z)",
            re.DOTALL,
        ),
        lambda m: m.group(1) + REDACTED + m.group(1).replace("BEGIN", "END"),
    ),
    # AWS access key ids (long-term and temporary).
    (re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b"), lambda m: m.group(1) + REDACTED),
    # AWS session tokens by their well-known base64 prefixes.
    (
        re.compile(r"(?:IQoJb3JpZ2lu|FwoGZXIvYXdz|AQoDYXdz|AgoJb3JpZ2lu|IQoJ)[A-Za-z0-9/+=%]{16,}"),
        REDACTED,
    ),
    # Presigned URL signatures and credentials (SigV4 and SigV2 query forms), Azure SAS sig=.
    (
        re.compile(
            r"((?:X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|[?&]Signature|[?&]sig)=)"
            r"[^&\s\"']+",
            re.IGNORECASE,
        ),
        _keep_prefix,
    ),
    # Tokens with a vendor prefix.
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,255}\b"), REDACTED),
    (re.compile(r"\bgithub_pat_[A-Za-z0-9_]{22,255}\b"), REDACTED),
    (re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}\b"), REDACTED),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), REDACTED),
    (re.compile(r"\b[rsp]k_(?:live|test)_[A-Za-z0-9]{16,}\b"), REDACTED),
    (re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"), REDACTED),
    (re.compile(r"\bsk-(?:ant-|proj-|svcacct-)?[A-Za-z0-9_-]{20,}"), REDACTED),
    (re.compile(r"\bhf_[A-Za-z0-9]{30,}\b"), REDACTED),
    (re.compile(r"\bnpm_[A-Za-z0-9]{36}\b"), REDACTED),
    (re.compile(r"\bpypi-[A-Za-z0-9_-]{50,}"), REDACTED),
    (re.compile(r"\bABSK[A-Za-z0-9+/=]{40,}"), REDACTED),  # Bedrock API keys
    # JSON Web Tokens.
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), REDACTED),
    # HTTP authorization schemes.
    (re.compile(r"\b((?:Bearer|Basic|Token)\s+)[A-Za-z0-9._~+/=-]{8,}"), _keep_prefix),
    # user:password@ in any URL or connection string (postgres://, mongodb+srv://, https://).
    (
        re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@\"']+:)[^@\s/\"']+(?=@)", re.IGNORECASE),
        _keep_prefix,
    ),
)
# key=value / key: value / "key": "value" / --key value where the key names a secret.
_KEY_VALUE = re.compile(
    r"""(?P<key>[A-Za-z0-9_.-]*(?:pass(?:word|wd|phrase)?|pwd|secret|token|credential|api[_-]?key|apikey|
        access[_-]?key|account[_-]?key|private[_-]?key|auth)[A-Za-z0-9_.-]*)
        (?P<sep>["']?\s*[=:]\s*["']?)
        (?P<value>(?!\*\*\*)[^\s&,;"'}\]]+)""",
    re.IGNORECASE | re.VERBOSE,
)
# --password hunter2 on a command line.
_CLI_FLAG = re.compile(
    r"(\s--?[A-Za-z0-9_-]*(?:password|passwd|secret|token|api-?key)[A-Za-z0-9_-]*\s+)"
    r"(?![-*])[^\s\"']+",
    re.IGNORECASE,
)
# "my password is hunter2", "the token was abc", "secret key -> xyz".
_PROSE = re.compile(
    r"""\b(?P<lead>(?:password|passwd|passphrase|pass\s?code|pin|secret(?:\s+(?:access\s+)?key)?|
        (?:session\s+|access\s+|api\s+|auth\s+|bearer\s+)?token|api\s+key|access\s+key)
        \s+(?:is|was|=|:|->|is\s+now|should\s+be)\s+["'`]?)(?P<value>[^\s"'`,;]+)""",
    re.IGNORECASE | re.VERBOSE,
)
# A bare 40-character secret access key: base64 letters with both cases and a digit or / +
# (git's lowercase-hex SHA-1s and other ids are left alone).
_BARE_SECRET = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
# Long opaque tokens (session tokens without a known prefix, signed blobs): 80+ base64 chars
# mixing upper, lower and digits.
_LONG_TOKEN = re.compile(r"(?<![A-Za-z0-9/+=_-])[A-Za-z0-9/+_-]{80,}={0,2}(?![A-Za-z0-9/+=_-])")
_WORDS_NOT_VALUES = {"is", "was", "the", "a", "an", "not", "none", "null", "required", "set"}


def _bare_secret(match: re.Match[str]) -> str:
    text = match.group(0)
    mixed = any(c.islower() for c in text) and any(c.isupper() for c in text)
    if mixed and any(c.isdigit() or c in "/+" for c in text):
        return REDACTED
    return text


def _long_token(match: re.Match[str]) -> str:
    text = match.group(0)
    mixed = (
        any(c.islower() for c in text)
        and any(c.isupper() for c in text)
        and any(c.isdigit() for c in text)
    )
    # A path (s3 keys, folders) has short segments between slashes; base64 has long runs.
    longest = max(len(part) for part in text.split("/"))
    return REDACTED if mixed and ("+" in text or longest >= 40) else text


def _key_value(match: re.Match[str]) -> str:
    key, sep, value = match.group("key"), match.group("sep"), match.group("value")
    short = key.lower() in ("pwd", "pass", "pw")  # ODBC Pwd=, URL pass=
    if not (is_secret_key(key) or short) or value.lower() in _WORDS_NOT_VALUES:
        return match.group(0)
    if short and value.startswith("/"):
        return match.group(0)  # PWD=/home/... is a directory
    return key + sep + REDACTED


def _prose(match: re.Match[str]) -> str:
    if match.group("value").lower() in _WORDS_NOT_VALUES:
        return match.group(0)
    return match.group("lead") + REDACTED


def _redact_csv(text: str) -> str:
    """Blank the cells of secret-named columns in delimited text (CSV, TSV, pipe tables)."""
    lines = text.split("\n")
    out: list[str] = []
    secret_cols: list[int] = []
    delimiter = ""
    width = 0
    for line in lines:
        if secret_cols and delimiter in line:
            cells = _split(line, delimiter)
            if len(cells) == width:
                for index in secret_cols:
                    cell = cells[index]
                    if cell.strip() and cell.strip(" -:"):  # not a markdown separator row
                        pad_left = cell[: len(cell) - len(cell.lstrip())]
                        pad_right = cell[len(cell.rstrip()) :]
                        cells[index] = pad_left + REDACTED + pad_right
                out.append(_join(cells, delimiter))
                continue
        secret_cols = []
        for candidate in (",", "\t", ";", "|"):
            if candidate in line:
                cells = _split(line, candidate)
                cols = [i for i, c in enumerate(cells) if c.strip() and is_secret_key(c.strip())]
                if cols and len(cells) >= 2:
                    secret_cols, delimiter, width = cols, candidate, len(cells)
                    break
        out.append(line)
    return "\n".join(out)


def _split(line: str, delimiter: str) -> list[str]:
    if '"' not in line:
        return line.split(delimiter)
    return next(csv.reader([line], delimiter=delimiter), [])


def _join(cells: list[str], delimiter: str) -> str:
    if not any(delimiter in c or '"' in c or "\n" in c for c in cells):
        return delimiter.join(cells)
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="").writerow(cells)
    return buffer.getvalue()


def redact_text(text: str) -> str:
    for pattern, repl in _SHAPES:
        text = pattern.sub(repl, text)
    text = _KEY_VALUE.sub(_key_value, text)
    text = _CLI_FLAG.sub(_keep_prefix, text)
    text = _PROSE.sub(_prose, text)
    if "\n" in text:
        text = _redact_csv(text)
    text = _LONG_TOKEN.sub(_long_token, text)
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
    if isinstance(value, list | tuple | set):
        return [redact(v, _depth=_depth + 1) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value)} bytes>"
    if value is None or isinstance(value, bool | int | float):
        return value
    if hasattr(value, "read"):
        return "<stream>"
    return redact_text(str(value))
