"""Look-ups for estimators, cached per session.

Estimators that need to look something up (Athena: the size of the tables a query reads;
Lambda: the function's memory) take the session's AwsContext as a third parameter. The
approval gate computes an estimate again when a turn resumes, so look-ups are cached per
AwsContext (a new session starts fresh) for LOOKUP_TTL_S seconds.
"""

from __future__ import annotations

import time
import weakref
from typing import Any

_LOOKUP_CACHE: weakref.WeakKeyDictionary[Any, dict[tuple[str, ...], tuple[float, Any]]] = (
    weakref.WeakKeyDictionary()
)
LOOKUP_TTL_S = 300.0


def cached_lookup(aws: Any, key: tuple[str, ...], compute: Any) -> Any:
    """compute() once per (aws, key) for LOOKUP_TTL_S seconds; errors are not cached."""
    now = time.monotonic()
    try:
        cache = _LOOKUP_CACHE.setdefault(aws, {})
    except TypeError:  # not weak-referenceable: no cache
        return compute()
    hit = cache.get(key)
    if hit is not None and now - hit[0] < LOOKUP_TTL_S:
        return hit[1]
    value = compute()
    cache[key] = (now, value)
    return value


def forget_lookups() -> None:
    _LOOKUP_CACHE.clear()
