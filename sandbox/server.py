"""The sandbox server: moto's app on 127.0.0.1 wrapped by the execution engine, with the state
restored from (and saved to) a state directory, and demo data in every fresh sandbox.

`Sandbox(state_dir=...)` runs it in this process (tests, the daemon); `sandbox.daemon` keeps
one per state directory in the background, shared by every client. moto loads lazily.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

DEMO_BUCKET = "sagecoach-demo"
DEMO_KEY = "churn/churn.csv"
DEMO_URI = f"s3://{DEMO_BUCKET}/{DEMO_KEY}"
DEMO_ROWS = 3000
IDENTITY_PATH = "/_sagecoach/sandbox"
RESET_PATH = "/_sagecoach/reset"
SANDBOX_ROLE_NAME = "sagecoach-sandbox-execution-role"
SANDBOX_ACCOUNT = "123456789012"
SANDBOX_ROLE_ARN = f"arn:aws:iam::{SANDBOX_ACCOUNT}:role/{SANDBOX_ROLE_NAME}"
_TRUSTED = ["sagemaker.amazonaws.com", "glue.amazonaws.com", "databrew.amazonaws.com",
            "lambda.amazonaws.com"]  # fmt: skip

log = logging.getLogger("sandbox")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Sandbox:
    """A moto server bound to 127.0.0.1 only, with the engine running the SageMaker work.

    state_dir: where the state is saved and restored (None: nothing persists).
    engine: run jobs for real (False: plain moto, everything completes at once).
    seed: put the demo data and execution role in a fresh (or reset) sandbox.
    warm: start a container process ahead of the first job (a long-lived sandbox wants this;
        otherwise the first built-in algorithm job starts one and a spare is kept from then on).
    """

    def __init__(
        self,
        port: int = 0,
        *,
        state_dir: Path | None = None,
        engine: bool = True,
        seed: bool = True,
        warm: bool = False,
    ) -> None:
        self.requested_port = port
        self.state_dir = Path(state_dir) if state_dir else None
        self.use_engine = engine
        self.seed_on_start = seed
        self.warm = warm
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.port: int | None = None
        self.engine: Any = None
        self.restore_message = ""
        self.restored = False
        self.started_at: float | None = None
        self.last_request = time.monotonic()

    @property
    def endpoint(self) -> str:
        if self.port is None:
            raise RuntimeError("the sandbox is not running")
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    # --- start and stop --------------------------------------------------------------------
    def start(self) -> str:
        if self._server is not None:
            return self.endpoint
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        from sandbox.engine import Engine, install
        from sandbox.engine.dispatch import EngineMiddleware

        install()
        self.engine = Engine(self.state_dir, prewarm=self.warm and self.use_engine)
        from sandbox.engine import attach

        attach(self.engine)
        fresh = True
        if self.engine.persistence is not None:
            result = self.engine.persistence.restore()
            self.restored, self.restore_message = result.restored, result.message
            fresh = not result.restored
            if fresh:  # this state directory's sandbox holds nothing else (even in-process)
                from moto.core.base_backend import BackendDict

                BackendDict.reset()
        from sandbox.engine.dispatch import HOOKS

        app: Any = DomainDispatcherApplication(create_backend_app)
        middleware = EngineMiddleware(
            app,
            self.engine,
            registry=HOOKS if self.use_engine else _EMPTY_REGISTRY,
            on_call=self._on_call,
            extra_routes={IDENTITY_PATH: self._identity_reply, RESET_PATH: self._reset_reply},
        )
        port = self.requested_port or _free_port()
        server = make_server("127.0.0.1", port, middleware, threaded=True,
                             request_handler=MotoRequestHandler)  # fmt: skip
        self._server = server
        self.port = int(server.server_address[1])
        self._thread = threading.Thread(target=server.serve_forever, name="sandbox-server",
                                        daemon=True)  # fmt: skip
        self._thread.start()
        self.started_at = time.time()
        self.engine.attach(self.endpoint)
        self.configure()
        if self.use_engine:
            from sandbox.engine import recover

            recover(self.engine)
        if fresh and self.seed_on_start:
            self.seed()
        if self.engine.persistence is not None:
            self.engine.persistence.start_autosave()
        return self.endpoint

    def stop(self) -> None:
        if self._server is None:
            return
        try:
            if self.engine is not None:
                self.engine.jobs.shutdown()
                if self.engine.persistence is not None:
                    self.engine.persistence.stop()
                self.engine.shutdown()
        finally:
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server = None
            self._thread = None
            self.port = None

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _on_call(self, call: Any) -> None:
        self.last_request = time.monotonic()
        if self.engine is not None:
            self.engine.on_call(call)

    def _identity_reply(self, environ: dict[str, Any]) -> Any:
        from sandbox.engine.dispatch import Reply

        return Reply(self.identity(), content_type="application/json")

    def _reset_reply(self, environ: dict[str, Any]) -> Any:
        from sandbox.engine.dispatch import Reply

        if environ.get("REQUEST_METHOD") != "POST":
            return Reply({"message": "POST to reset"}, status=400, content_type="application/json")
        self.reset(seed=True)
        return Reply({"reset": True}, content_type="application/json")

    def identity(self) -> dict[str, Any]:
        """What the identification route answers: a client learns it is talking to sagecoach's
        sandbox (not real AWS, not another moto) and which role jobs run as."""
        return {
            "service": "sagecoach-sandbox",
            "version": 1,
            "pid": os.getpid(),
            "state_dir": str(self.state_dir) if self.state_dir else None,
            "execution_role_arn": SANDBOX_ROLE_ARN,
            "account": SANDBOX_ACCOUNT,
            "demo_data": DEMO_URI,
            "engine": self.use_engine,
            "started_at": self.started_at,
            "restored": self.restored,
            "restore_message": self.restore_message,
            "running_jobs": [
                {"kind": job.kind, "name": job.name}
                for job in (self.engine.jobs.running() if self.engine else [])
            ],
        }

    # --- moto's control API ---------------------------------------------------------------
    def _post(self, path: str, payload: dict[str, Any] | None = None) -> bytes:
        data = json.dumps(payload or {}).encode()
        request = urllib.request.Request(
            self.endpoint + path, data=data, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return bytes(response.read())

    def configure(self) -> None:
        """No Docker here: Lambda echoes or returns queued results, Batch jobs just succeed."""
        self._post(
            "/moto-api/config", {"lambda": {"use_docker": False}, "batch": {"use_docker": False}}
        )

    def reset(self, *, seed: bool = False) -> None:
        """Wipe every emulated resource (jobs are stopped first); `seed` puts the demo back."""
        if self.engine is not None:
            self.engine.jobs.shutdown(wait_s=5)
            self.engine.jobs.closed = False
        self._post("/moto-api/reset")
        self.configure()
        if seed:
            self.seed()
        if self.engine is not None and self.engine.persistence is not None:
            self.engine.persistence.mark_dirty()

    def seed(self) -> str:
        """The demo churn CSV (as a user brings it) and the sandbox's execution role."""
        from sandbox.engine.s3io import client

        uri = seed_demo(client(self.endpoint, "s3"), rows=DEMO_ROWS)
        ensure_role(client(self.endpoint, "iam"))
        return uri

    def wait_idle(self, timeout_s: float = 60.0) -> bool:
        """Block until no job runs (tests)."""
        return self.engine.jobs.wait_idle(timeout_s) if self.engine else True

    def queue_endpoint_results(self, bodies: list[str], content_type: str = "text/csv") -> None:
        """What sagemaker-runtime InvokeEndpoint returns next (moto's static responses)."""
        self._post(
            "/moto-api/static/sagemaker/endpoint-results",
            {
                "results": [
                    {
                        "Body": body,
                        "ContentType": content_type,
                        "InvokedProductionVariant": "AllTraffic",
                        "CustomAttributes": "",
                    }
                    for body in bodies
                ],
                "region": "us-east-1",
            },
        )

    def queue_athena_results(self, rows: list[list[str]], region: str = "us-east-1") -> None:
        """Rows (header first) the next Athena query returns."""
        columns = [
            {"Name": name, "Type": "varchar", "CatalogName": "hive", "SchemaName": "",
             "TableName": "", "Label": name, "Precision": 0, "Scale": 0,
             "Nullable": "UNKNOWN", "CaseSensitive": True}
            for name in (rows[0] if rows else [])
        ]  # fmt: skip
        payload = {
            "results": [
                {
                    "rows": [{"Data": [{"VarCharValue": v} for v in row]} for row in rows],
                    "column_info": columns,
                }
            ],
            "region": region,
        }
        self._post("/moto-api/static/athena/query-results", payload)

    def set_transition(self, model_name: str, transition: dict[str, Any]) -> None:
        self._post(
            "/moto-api/state-manager/set-transition",
            {"model_name": model_name, "transition": transition},
        )


class _NoHooks:
    before_hooks: dict[Any, Any] = {}
    after_hooks: dict[Any, Any] = {}
    routes: list[Any] = []


_EMPTY_REGISTRY: Any = _NoHooks()


def seed_demo(client_s3: Any, rows: int = DEMO_ROWS) -> str:
    """Put the synthetic churn CSV in the demo bucket; returns its s3:// URI."""
    from sandbox.demo_data import churn_csv

    try:
        client_s3.create_bucket(Bucket=DEMO_BUCKET)
    except client_s3.exceptions.BucketAlreadyOwnedByYou:  # pragma: no cover - moto returns 200
        pass
    client_s3.put_object(Bucket=DEMO_BUCKET, Key=DEMO_KEY, Body=churn_csv(rows).encode())
    return DEMO_URI


def ensure_role(iam: Any) -> str:
    """The sandbox's execution role (trusted by SageMaker, Glue, DataBrew, Lambda)."""
    try:
        return str(iam.get_role(RoleName=SANDBOX_ROLE_NAME)["Role"]["Arn"])
    except iam.exceptions.NoSuchEntityException:
        pass
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": _TRUSTED}, "Action": "sts:AssumeRole"}]}  # fmt: skip
    try:
        role = iam.create_role(
            RoleName=SANDBOX_ROLE_NAME,
            AssumeRolePolicyDocument=json.dumps(policy),
            Description="sagecoach sandbox: default execution role for SageMaker, Glue, DataBrew and Lambda",
            Tags=[{"Key": "CreatedBy", "Value": "sagecoach"}],
        )["Role"]
    except iam.exceptions.EntityAlreadyExistsException:
        role = iam.get_role(RoleName=SANDBOX_ROLE_NAME)["Role"]
    return str(role["Arn"])


def probe(endpoint: str, timeout: float = 0.5) -> dict[str, Any] | None:
    """The sandbox's identity at an endpoint, or None when it is not sagecoach's sandbox."""
    try:
        with urllib.request.urlopen(endpoint.rstrip("/") + IDENTITY_PATH, timeout=timeout) as r:
            data = json.loads(r.read())
    except Exception:
        return None
    return data if isinstance(data, dict) and data.get("service") == "sagecoach-sandbox" else None
