"""The sandbox's state on disk: every emulated resource (moto's backends, S3 object bytes
included) plus what engine extensions register, in one snapshot file.

- Saved atomically (temporary file, fsync, rename) a moment after any state-changing call
  (debounced, so a crash loses at most about `debounce_s` seconds) and again when the sandbox
  stops. The file is the user's own (mode 0600, in their state directory) and only ever loaded
  from there.
- Restored when the sandbox starts. A snapshot that cannot be read (another moto version, a
  damaged file) is set aside as `state.pickle.unreadable-<time>` and the sandbox starts empty,
  saying so; nothing else in the state directory (audit log, conversations) is touched.

Extensions keep their own state with `register(name, dump, load)`: `dump()` returns picklable
data saved with the snapshot; `load(data)` gets it back after a restore.
"""

from __future__ import annotations

import logging
import os
import pickle
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("sandbox.engine.persistence")

FORMAT = 1
SNAPSHOT = "state.pickle"
_BACKEND_DICT_FIELDS = {
    "backend",
    "service_name",
    "_use_boto3_regions",
    "_additional_regions",
    "_id",
}


@dataclass
class RestoreResult:
    restored: bool
    message: str
    services: list[str] = field(default_factory=list)


def _moto_version() -> str:
    from importlib.metadata import version

    return version("moto")


class Persistence:
    def __init__(self, directory: Path, debounce_s: float = 1.0) -> None:
        self.directory = directory
        self.debounce_s = debounce_s
        self._dirty = threading.Event()
        self._save_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._extensions: dict[str, tuple[Callable[[], Any], Callable[[Any], None]]] = {}
        self._pending_extensions: dict[str, Any] = {}
        self.last_saved: float | None = None
        self.last_error: str | None = None

    @property
    def path(self) -> Path:
        return self.directory / SNAPSHOT

    # --- extensions --------------------------------------------------------------------
    def register(self, name: str, dump: Callable[[], Any], load: Callable[[Any], None]) -> None:
        """Save `dump()` with every snapshot; call `load(data)` with it after a restore (at once
        when the snapshot was already restored before the extension registered)."""
        self._extensions[name] = (dump, load)
        if name in self._pending_extensions:
            load(self._pending_extensions.pop(name))

    # --- saving ------------------------------------------------------------------------
    def mark_dirty(self) -> None:
        self._dirty.set()

    def start_autosave(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._autosave, name="sandbox-autosave", daemon=True)
        self._thread.start()

    def _autosave(self) -> None:
        while not self._stop.is_set():
            if self._dirty.wait(timeout=0.5):
                if self._stop.wait(self.debounce_s):
                    break
                self.save()

    def stop(self) -> None:
        """Stop autosaving and write a final snapshot."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.save(force=True)

    def snapshot(self) -> dict[str, Any]:
        from moto.core.base_backend import BackendDict

        services: dict[str, Any] = {}
        for backend_dict in list(BackendDict._instances):
            regions = {
                account: dict(account_backends.items())
                for account, account_backends in list(backend_dict.items())
            }
            extra = {
                key: value
                for key, value in vars(backend_dict).items()
                if key not in _BACKEND_DICT_FIELDS
            }
            services[backend_dict.service_name] = {"regions": regions, "extra": extra}
        extensions = {name: dump() for name, (dump, _) in self._extensions.items()}
        return {
            "format": FORMAT,
            "moto": _moto_version(),
            "saved_at": time.time(),
            "services": services,
            "extensions": extensions,
        }

    def save(self, force: bool = False) -> bool:
        """Write the snapshot now if anything changed (or `force`); never raises."""
        if not force and not self._dirty.is_set():
            return False
        with self._save_lock:
            self._dirty.clear()
            for attempt in range(3):
                try:
                    data = pickle.dumps(self.snapshot(), protocol=pickle.HIGHEST_PROTOCOL)
                    break
                except RuntimeError:  # a request changed a dict while we walked it
                    time.sleep(0.05 * (attempt + 1))
                except Exception as exc:
                    self.last_error = f"could not save the sandbox state: {exc}"
                    log.error(self.last_error)
                    return False
            else:
                self._dirty.set()
                return False
            try:
                self._write_atomic(data)
            except OSError as exc:
                self.last_error = f"could not write {self.path}: {exc}"
                log.error(self.last_error)
                self._dirty.set()
                return False
            self.last_saved = time.time()
            self.last_error = None
            return True

    def _write_atomic(self, data: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        os.replace(tmp, self.path)
        try:
            dir_fd = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError:
            pass

    # --- restoring ---------------------------------------------------------------------
    def restore(self) -> RestoreResult:
        """Load the snapshot into moto's backends; on any problem start empty and say why."""
        if not self.path.exists():
            return RestoreResult(False, "no saved sandbox state (a fresh sandbox)")
        try:
            state = pickle.loads(self.path.read_bytes())
            if not isinstance(state, dict) or state.get("format") != FORMAT:
                raise ValueError("unknown snapshot format")
            if state.get("moto") != _moto_version():
                raise ValueError(
                    f"saved by moto {state.get('moto')}, this sandbox runs moto {_moto_version()}"
                )
            services = self._apply(state["services"])
        except Exception as exc:
            kept = self.path.with_name(f"{SNAPSHOT}.unreadable-{int(time.time())}")
            try:
                self.path.replace(kept)
            except OSError:
                kept = self.path
            self._reset_backends()
            return RestoreResult(
                False,
                f"the saved sandbox state could not be restored ({exc}); the sandbox starts "
                f"empty (the old file is kept as {kept.name}; the audit log and conversations "
                "are untouched)",
            )
        for name, data in (state.get("extensions") or {}).items():
            hooks = self._extensions.get(name)
            if hooks is None:
                self._pending_extensions[name] = data
            else:
                try:
                    hooks[1](data)
                except Exception:
                    log.exception("extension %s could not load its state", name)
        return RestoreResult(True, "sandbox state restored", services)

    @staticmethod
    def _apply(services: dict[str, Any]) -> list[str]:
        from moto.backends import get_backend

        restored = []
        for name, saved in services.items():
            backend_dict = get_backend(name)  # type: ignore[call-overload]
            for key, value in saved.get("extra", {}).items():
                setattr(backend_dict, key, value)
            for account, regions in saved["regions"].items():
                account_backends = backend_dict[account]
                for region, backend in regions.items():
                    account_backends[region] = backend
            restored.append(name)
        return sorted(restored)

    @staticmethod
    def _reset_backends() -> None:
        from moto.core.base_backend import BackendDict

        try:
            BackendDict.reset()
        except Exception:  # pragma: no cover - best effort after a half-applied restore
            log.exception("could not reset moto after a failed restore")
