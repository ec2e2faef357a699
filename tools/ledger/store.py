"""The resource ledger: everything sagecoach created, per session, persisted in the state dir.

It keeps people from paying for what they forgot: each entry has the kind, name, ARN, region,
when it was created, what it costs per hour while it exists (for endpoints and other
time-billed resources) and whether it is still there. The file is JSON, rewritten atomically
(temp file + fsync + rename) under a lock, and re-read before each change so two sagecoach
processes sharing a state directory do not lose each other's entries.

`ToolSpec.run` records every `ToolResult.resources` item here; `session_cleanup` reads it back.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tools.core.private_files import private_dir
from tools.core.redact import redact
from tools.core.results import Resource, utc_now

try:  # POSIX advisory lock between processes; threads use the RLock below
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

LEDGER_FILE = "ledger.json"
ACTIVE = "active"
DELETED = "deleted"
STOPPED = "stopped"
FINISHED = "finished"  # a job that ended by itself: nothing left to clean up
PENDING = "pending"  # a create call sent but not yet answered (tools/ledger_intents.py)
STATUSES = (ACTIVE, DELETED, STOPPED, FINISHED, PENDING)


def parse_time(value: Any) -> datetime | None:
    """An ISO time (with Z or an offset) or a datetime, as an aware UTC datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass
class LedgerEntry:
    """One created resource as the ledger keeps it."""

    id: str
    session_id: str
    kind: str
    name: str
    arn: str | None = None
    region: str | None = None
    hourly_usd: float | None = None
    created_at: str = field(default_factory=utc_now)
    status: str = ACTIVE
    ended_at: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return self.status == ACTIVE

    def hours(self, now: datetime | None = None) -> float:
        """Hours from creation to deletion (or to now while it still exists)."""
        start = parse_time(self.created_at)
        if start is None:
            return 0.0
        end = parse_time(self.ended_at) if self.ended_at else None
        end = end or now or datetime.now(UTC)
        return max(0.0, (end - start).total_seconds() / 3600)

    def cost_so_far(self, now: datetime | None = None) -> float:
        """hourly_usd × hours it has existed; 0 for resources that do not bill by time."""
        return round((self.hourly_usd or 0.0) * self.hours(now), 6)

    def to_dict(self, now: datetime | None = None) -> dict[str, Any]:
        data = asdict(self)
        data["hours"] = round(self.hours(now), 4)
        data["cost_so_far_usd"] = self.cost_so_far(now)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LedgerEntry:
        names = {f for f in cls.__dataclass_fields__}
        clean = {k: v for k, v in data.items() if k in names}
        clean.setdefault("id", uuid.uuid4().hex[:12])
        clean.setdefault("session_id", "")
        clean.setdefault("kind", "unknown")
        clean.setdefault("name", "")
        if clean.get("status") not in STATUSES:
            clean["status"] = ACTIVE
        if not isinstance(clean.get("extra"), dict):
            clean["extra"] = {}
        return cls(**clean)


class ResourceLedger:
    """Implements tools.core.context.Ledger; persisted as JSON at `path`, survives restarts."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._entries: list[LedgerEntry] = []
        self.load_error: str | None = None
        with self._lock:
            self._entries = self._read()

    @classmethod
    def in_state_dir(cls, state_dir: Path | str) -> ResourceLedger:
        return cls(Path(state_dir) / LEDGER_FILE)

    # --- the Ledger protocol -------------------------------------------------------------
    def record(self, resource: Resource, *, session_id: str) -> LedgerEntry:
        """Add a created resource; re-recording a live one of the same kind/name updates it."""
        with self._mutate() as entries:
            # The same Resource recorded twice (a tool records early, ToolSpec.run again at the
            # end) keeps its status; a live one of the same kind/name is updated in place.
            existing = next(
                (
                    e
                    for e in reversed(entries)
                    if e.kind == resource.kind
                    and e.name == resource.name
                    and e.created_at == resource.created_at
                    and (resource.region is None or e.region in (None, resource.region))
                ),
                None,
            ) or _find(entries, resource.kind, resource.name, resource.region)
            if existing is not None:
                existing.region = existing.region or resource.region
                existing.arn = resource.arn or existing.arn
                if resource.hourly_usd is not None:
                    existing.hourly_usd = resource.hourly_usd
                existing.extra = {**existing.extra, **_jsonable(resource.extra)}
                return existing
            entry = LedgerEntry(
                id=uuid.uuid4().hex[:12],
                session_id=session_id,
                kind=resource.kind,
                name=resource.name,
                arn=resource.arn,
                region=resource.region,
                hourly_usd=resource.hourly_usd,
                created_at=resource.created_at or utc_now(),
                extra=_jsonable(resource.extra),
            )
            entries.append(entry)
            return entry

    # --- intents (tools/ledger_intents.py) ----------------------------------------------------
    def record_intent(
        self,
        kind: str,
        name: str,
        *,
        session_id: str,
        region: str | None,
        extra: dict[str, Any] | None = None,
    ) -> LedgerEntry:
        """A create about to be sent: a pending entry, written before the call."""
        with self._mutate() as entries:
            entry = LedgerEntry(
                id=uuid.uuid4().hex[:12],
                session_id=session_id,
                kind=kind,
                name=name,
                region=region,
                status=PENDING,
                extra=_jsonable(extra or {}),
            )
            entries.append(entry)
            return entry

    def _pending(
        self, entries: list[LedgerEntry], kind: str, name: str, session_id: str
    ) -> LedgerEntry | None:
        return next(
            (
                e
                for e in reversed(entries)
                if e.status == PENDING
                and e.kind == kind
                and e.name == name
                and e.session_id == session_id
            ),
            None,
        )

    def confirm_intent(self, kind: str, name: str, session_id: str) -> None:
        """AWS answered the create: the resource exists from now on."""
        with self._mutate() as entries:
            entry = self._pending(entries, kind, name, session_id)
            if entry is not None:
                entry.status = ACTIVE
                entry.created_at = utc_now()

    def drop_intent(self, kind: str, name: str, session_id: str) -> None:
        """AWS refused the create: nothing was made."""
        with self._mutate() as entries:
            entry = self._pending(entries, kind, name, session_id)
            if entry is not None:
                entries.remove(entry)

    def confirm_entry(self, entry_id: str) -> bool:
        return self.mark_entry(entry_id, ACTIVE)

    def remove_entry(self, entry_id: str) -> bool:
        with self._mutate() as entries:
            for entry in entries:
                if entry.id == entry_id:
                    entries.remove(entry)
                    return True
        return False

    # --- queries -------------------------------------------------------------------------
    def entries(
        self,
        *,
        session_id: str | None = None,
        status: str | Iterable[str] | None = None,
        kinds: Iterable[str] | None = None,
    ) -> list[LedgerEntry]:
        """Entries oldest first, filtered by session, status and kind."""
        with self._lock:
            self._entries = self._read()
            rows = list(self._entries)
        if session_id is not None:
            rows = [e for e in rows if e.session_id == session_id]
        if status is not None:
            wanted = {status} if isinstance(status, str) else set(status)
            rows = [e for e in rows if e.status in wanted]
        if kinds is not None:
            kind_set = set(kinds)
            rows = [e for e in rows if e.kind in kind_set]
        return rows

    def active(self, session_id: str | None = None) -> list[LedgerEntry]:
        return self.entries(session_id=session_id, status=ACTIVE)

    def find(self, kind: str, name: str, region: str | None = None) -> LedgerEntry | None:
        """The newest live entry of that kind and name, else the newest of any status."""
        rows = [e for e in self.entries(kinds=[kind]) if e.name == name]
        if region:
            rows = [e for e in rows if e.region in (None, region)]
        live = [e for e in rows if e.active]
        return (live or rows or [None])[-1]

    def summary(self, session_id: str | None = None, now: datetime | None = None) -> dict[str, Any]:
        """Counts, the hourly burn of what still exists, and the cost so far."""
        now = now or datetime.now(UTC)
        rows = self.entries(session_id=session_id)
        live = [e for e in rows if e.active]
        return {
            "entries": len(rows),
            "active": len(live),
            "hourly_usd": round(sum(e.hourly_usd or 0.0 for e in live), 6),
            "cost_so_far_usd": round(sum(e.cost_so_far(now) for e in rows), 6),
        }

    # --- changes ------------------------------------------------------------------------
    def mark(
        self,
        kind: str,
        name: str,
        status: str,
        *,
        region: str | None = None,
        when: str | None = None,
    ) -> bool:
        """Mark the live entry of that kind/name deleted, stopped or finished."""
        if status not in STATUSES:
            raise ValueError(f"unknown ledger status {status!r}")
        with self._mutate() as entries:
            entry = _find(entries, kind, name, region)
            if entry is None:
                return False
            entry.status = status
            entry.ended_at = None if status == ACTIVE else (when or utc_now())
            return True

    def mark_entry(self, entry_id: str, status: str, *, when: str | None = None) -> bool:
        if status not in STATUSES:
            raise ValueError(f"unknown ledger status {status!r}")
        with self._mutate() as entries:
            for entry in entries:
                if entry.id == entry_id:
                    entry.status = status
                    entry.ended_at = None if status == ACTIVE else (when or utc_now())
                    return True
        return False

    # --- persistence ----------------------------------------------------------------------
    @contextlib.contextmanager
    def _mutate(self) -> Iterator[list[LedgerEntry]]:
        with self._lock, self._file_lock():
            entries = self._read()
            yield entries
            self._write(entries)
            self._entries = entries

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        if fcntl is None:
            yield
            return
        private_dir(self.path.parent)
        lock_path = self.path.with_name(self.path.name + ".lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def _read(self) -> list[LedgerEntry]:
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except OSError as exc:
            self.load_error = f"could not read {self.path}: {exc}"
            return list(self._entries)
        try:
            data = json.loads(raw)
            rows = data.get("entries", []) if isinstance(data, dict) else data
            return [LedgerEntry.from_dict(r) for r in rows if isinstance(r, dict)]
        except (ValueError, TypeError, AttributeError) as exc:
            # Keep the damaged file for a person to look at; never lose it silently.
            backup = self.path.with_name(f"{self.path.name}.corrupt-{uuid.uuid4().hex[:6]}")
            with contextlib.suppress(OSError):
                self.path.replace(backup)
            self.load_error = f"the ledger file was unreadable ({exc}); kept as {backup.name}"
            return []

    def _write(self, entries: list[LedgerEntry]) -> None:
        private_dir(self.path.parent)
        payload = json.dumps(
            {"version": 1, "entries": [asdict(e) for e in entries]},
            indent=1,
            default=str,
        )
        fd, tmp = tempfile.mkstemp(prefix=".ledger-", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


def _find(
    entries: list[LedgerEntry], kind: str, name: str, region: str | None
) -> LedgerEntry | None:
    for entry in reversed(entries):
        if (
            entry.active
            and entry.kind == kind
            and entry.name == name
            and (region is None or entry.region in (None, region))
        ):
            return entry
    return None


def _jsonable(value: Any) -> Any:
    """Request dicts may hold datetimes, bytes and secrets (environment values, passwords):
    keep the ledger file plain JSON with secrets redacted."""
    return redact(json.loads(json.dumps(value, default=str)))


def find_running_endpoints(
    aws: Any, *, current_session: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Endpoints tagged CreatedBy=sagecoach by another session that are still InService.

    For the start-up warning: one ListEndpoints page walk plus one ListTags per endpoint.
    """
    client = aws.client("sagemaker")
    found: list[dict[str, Any]] = []
    now = datetime.now(UTC)
    paginator = client.get_paginator("list_endpoints")
    seen = 0
    for page in paginator.paginate(StatusEquals="InService", PaginationConfig={"PageSize": 100}):
        for summary in page.get("Endpoints", []):
            seen += 1
            if seen > limit:
                return found
            try:
                tags = client.list_tags(ResourceArn=summary["EndpointArn"]).get("Tags", [])
            except Exception:
                continue
            tag_map = {t.get("Key"): t.get("Value") for t in tags}
            if tag_map.get("CreatedBy") != "sagecoach":
                continue
            session = tag_map.get("sagecoach:session", "")
            if current_session and session == current_session:
                continue
            created = parse_time(summary.get("CreationTime"))
            found.append(
                {
                    "name": summary["EndpointName"],
                    "arn": summary["EndpointArn"],
                    "session": session,
                    "created_at": created.isoformat() if created else None,
                    "hours_running": round((now - created).total_seconds() / 3600, 2)
                    if created
                    else None,
                }
            )
    return found


def running_endpoints_warning(endpoints: list[dict[str, Any]]) -> str:
    """One sentence for the start-up banner, or '' when nothing is running."""
    if not endpoints:
        return ""
    names = ", ".join(e["name"] for e in endpoints[:5])
    more = f" and {len(endpoints) - 5} more" if len(endpoints) > 5 else ""
    plural = "s" if len(endpoints) != 1 else ""
    return (
        f"{len(endpoints)} endpoint{plural} created by sagecoach in earlier sessions "
        f"{'are' if plural else 'is'} still running and billing: {names}{more}. "
        "Delete with sagemaker_delete_endpoint if no longer needed."
    )


def startup_endpoint_warning(aws: Any, current_session: str | None = None) -> str:
    """The start-up banner line about endpoints left running; '' when none or on any error.

    Safe to call from a front end at start: it never raises (no permission, no network, the
    read-only guard) and makes only ListEndpoints + ListTags calls.
    """
    try:
        return running_endpoints_warning(
            find_running_endpoints(aws, current_session=current_session)
        )
    except Exception:
        return ""
