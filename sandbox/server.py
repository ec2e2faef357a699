"""The sandbox: moto's server on loopback, so anyone can rehearse with no AWS account.

moto loads lazily (it costs ~0.2 s and is not needed for real AWS).
"""

from __future__ import annotations

import json
import logging
import socket
import urllib.request
from typing import Any

DEMO_BUCKET = "sagecoach-demo"
DEMO_KEY = "churn/churn.csv"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Sandbox:
    """A moto server bound to 127.0.0.1 only; Lambda and Batch run without Docker."""

    def __init__(self, port: int = 0) -> None:
        self.requested_port = port
        self._server: Any = None
        self.port: int | None = None

    @property
    def endpoint(self) -> str:
        if self.port is None:
            raise RuntimeError("the sandbox is not running")
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> str:
        if self._server is not None:
            return self.endpoint
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        from moto.server import ThreadedMotoServer

        port = self.requested_port or _free_port()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        self._server = server
        self.port = port
        self.configure()
        return self.endpoint

    def stop(self) -> None:
        if self._server is not None:
            try:
                self._server.stop()
            finally:
                self._server = None
                self.port = None

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- moto's control API ---------------------------------------------------------
    def _post(self, path: str, payload: dict[str, Any] | None = None) -> bytes:
        data = json.dumps(payload or {}).encode()
        request = urllib.request.Request(
            self.endpoint + path, data=data, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read()

    def configure(self) -> None:
        """No Docker here: Lambda echoes or returns queued results, Batch jobs just succeed."""
        self._post(
            "/moto-api/config", {"lambda": {"use_docker": False}, "batch": {"use_docker": False}}
        )

    def reset(self) -> None:
        """Wipe every emulated resource; moto keeps its config, re-applied to be sure."""
        self._post("/moto-api/reset")
        self.configure()

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
        payload = {
            "results": [
                {
                    "rows": [{"Data": [{"VarCharValue": v} for v in row]} for row in rows],
                    "column_info": [
                        {
                            "Name": name,
                            "Type": "varchar",
                            "CatalogName": "hive",
                            "SchemaName": "",
                            "TableName": "",
                            "Label": name,
                            "Precision": 0,
                            "Scale": 0,
                            "Nullable": "UNKNOWN",
                            "CaseSensitive": True,
                        }
                        for name in rows[0]
                    ]
                    if rows
                    else [],
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


def seed_demo(client_s3: Any, rows: int = 3000) -> str:
    """Put the synthetic churn CSV in the demo bucket; returns its s3:// URI."""
    from sandbox.demo_data import churn_csv

    try:
        client_s3.create_bucket(Bucket=DEMO_BUCKET)
    except client_s3.exceptions.BucketAlreadyOwnedByYou:  # pragma: no cover - moto returns 200
        pass
    client_s3.put_object(Bucket=DEMO_BUCKET, Key=DEMO_KEY, Body=churn_csv(rows).encode())
    return f"s3://{DEMO_BUCKET}/{DEMO_KEY}"
