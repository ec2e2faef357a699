"""The Engine object every hook receives: where the sandbox runs, its job runner, warm
container pool, S3/Logs helpers, moto's SageMaker state, persistence and extension state."""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sandbox.engine.cwlogs import JobLog, stream_name
from sandbox.engine.dispatch import DEFAULT_ACCOUNT, Call
from sandbox.engine.jobs import JobRunner
from sandbox.engine.s3io import S3, client
from sandbox.engine.warm import WarmPool

log = logging.getLogger("sandbox.engine")


class Engine:
    """One per sandbox process. Created before the server; `attach` gives it the endpoint."""

    def __init__(
        self,
        state_dir: Path | None = None,
        *,
        prewarm: bool = False,
        max_concurrent: int | None = None,
    ) -> None:
        self.state_dir = state_dir
        self.endpoint: str | None = None
        self.jobs = JobRunner(max_concurrent)
        self.warm = WarmPool()
        self.prewarm = prewarm
        self._scratch: Path | None = None
        self.lock = threading.RLock()
        #: Per-extension state, keyed by a module's own name (issue 16/18 modules keep theirs here).
        self.extensions: dict[str, Any] = {}
        #: Set when the sandbox stops: periodic work (alarm evaluation, schedules) ends with it.
        self.stopping = threading.Event()
        #: Called first in `shutdown` (modules that keep processes or buffers stop them here).
        self.shutdown_hooks: list[Callable[[], None]] = []
        from sandbox.engine.persistence import Persistence

        self.persistence = Persistence(state_dir / "sandbox") if state_dir else None

    # --- lifecycle ---------------------------------------------------------------------
    def attach(self, endpoint: str) -> None:
        self.endpoint = endpoint
        if self.prewarm:
            self.warm.prewarm()

    def shutdown(self) -> None:
        self.stopping.set()
        for hook in list(self.shutdown_hooks):
            try:
                hook()
            except Exception:
                log.exception("an engine shutdown hook failed")
        self.jobs.shutdown()
        self.warm.close()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)

    def persisted_dict(self, key: str) -> dict[Any, Any]:
        """An extension's own records under `key`, kept with the sandbox's state: saved with
        every snapshot and filled again after a restore (the same dict object throughout)."""
        fresh = key not in self.extensions
        records: dict[Any, Any] = self.extensions.setdefault(key, {})
        if fresh and self.persistence is not None:

            def load(data: Any) -> None:
                records.clear()
                records.update(data or {})

            self.persistence.register(key, lambda: dict(records), load)
        return records

    def on_call(self, call: Call) -> None:
        """Every answered call: a state change makes the next snapshot due."""
        if self.persistence is not None and not call.read_only:
            self.persistence.mark_dirty()

    # --- where things go -----------------------------------------------------------------
    @property
    def work_root(self) -> Path:
        if self.state_dir is not None:
            root = self.state_dir / "sandbox" / "jobs"
        else:
            if self._scratch is None:
                self._scratch = Path(tempfile.mkdtemp(prefix="sagecoach-sandbox-"))
            root = self._scratch
        root.mkdir(parents=True, exist_ok=True)
        return root

    def job_dir(self, kind: str, name: str) -> Path:
        """A fresh directory standing for the job's /opt/ml."""
        path = self.work_root / kind / name
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    # --- AWS, as seen from inside the sandbox ---------------------------------------------
    def _require_endpoint(self) -> str:
        if self.endpoint is None:
            raise RuntimeError("the engine is not attached to a running sandbox")
        return self.endpoint

    def client(self, service: str, region: str = "us-east-1") -> Any:
        """A boto3 client on this sandbox (what a job's role would reach on AWS)."""
        return client(self._require_endpoint(), service, region)

    def s3(self, region: str = "us-east-1") -> S3:
        return S3(self._require_endpoint(), region)

    def job_log(self, group: str, job_name: str, region: str) -> JobLog:
        """A new CloudWatch Logs stream `<job>/algo-1-<epoch>` in the group."""
        return JobLog(self._require_endpoint(), region, group, stream_name(job_name))

    @staticmethod
    def sagemaker(region: str, account: str = DEFAULT_ACCOUNT) -> Any:
        """moto's SageMaker backend for the account and region (its objects are the API state)."""
        from moto.backends import get_backend

        return get_backend("sagemaker")[account][region]
