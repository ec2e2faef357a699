"""The model host process: `python -m sandbox.engine.inference.host`.

One process can host many models (the built-in algorithms' containers share one, so the
libraries load once per sandbox); a script-mode model, which runs user code, gets its own.
It serves frames from stdin (see `protocol.py`), each naming a `model_id`:

- {"op": "load", "family", "model_dir", "code_dir", "env", "multi_model", "batch"} loads the
  model as the family's container does and answers 200, or 500 with why it cannot (the
  container would fail its ping health check); {"op": "unload"} forgets it;
- {"op": "load_target", "target", "model_dir"}: a multi-model endpoint's model, on demand;
- {"op": "invoke", "content_type", "accept", "target"} + body: the container's answer (status,
  content type, body) and the time the model took, in microseconds.

Every reply carries the log lines the container wrote while handling it ("log"). Its own
stdout is kept for the protocol; anything else printed (user code included) goes to stderr.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any, BinaryIO

from sandbox.engine.inference.errors import InferenceError, LoadError
from sandbox.engine.inference.protocol import read_frame, write_frame

log = logging.getLogger("sagemaker-serving")


def _configure_logging() -> None:
    root = logging.getLogger()
    root.handlers[:] = []
    root.setLevel(logging.INFO)


def load(spec: dict[str, Any]) -> Any:
    family = spec.get("family", "")
    env = {str(k): str(v) for k, v in (spec.get("env") or {}).items()}
    model_dir = Path(spec["model_dir"]) if spec.get("model_dir") else None
    code_dir = Path(spec["code_dir"]) if spec.get("code_dir") else None
    if env.get("SAGEMAKER_PROGRAM") and family in ("sklearn", "xgboost"):
        from sandbox.engine import pathmap
        from sandbox.engine.inference.script import ScriptHandler

        os.environ.update(env)  # a script-mode model has this process to itself
        if spec.get("opt_ml_root"):
            pathmap.install(spec["opt_ml_root"])  # /opt/ml/model in user code: the model dir
        assert model_dir is not None and code_dir is not None
        if family == "xgboost":
            return ScriptHandler(model_dir, code_dir, env, _xgb_input, _xgb_predict)
        return ScriptHandler(model_dir, code_dir, env)
    if family == "sklearn":
        raise LoadError("the scikit-learn container needs SAGEMAKER_PROGRAM (the script with "
                        "model_fn) in the model's Environment")  # fmt: skip
    if family == "xgboost":
        from sandbox.engine.inference.xgboost import XGBoostHandler

        return XGBoostHandler(model_dir, env, multi_model=bool(spec.get("multi_model")),
                              batch=bool(spec.get("batch")))  # fmt: skip
    if family in ("linear-learner", "kmeans", "randomcutforest"):
        from sandbox.engine.inference.first_party import FirstPartyHandler

        assert model_dir is not None
        return FirstPartyHandler(model_dir)
    raise LoadError(f"no serving container for {family}")


def _xgb_input(body: Any, content_type: str) -> Any:
    from sandbox.engine.inference.xgboost import parse_payload

    return parse_payload(body if isinstance(body, bytes) else body.encode(), content_type)[0]


def _xgb_predict(data: Any, model: Any) -> Any:
    return model.predict(data, validate_features=False)


class _RequestLog(logging.Handler):
    """Collects the log lines written while one request is handled: they travel back with the
    reply, so the server writes them to the right endpoint's (or job's) log stream even when
    one process hosts many models."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.setFormatter(
            logging.Formatter("[%(asctime)s:%(levelname)s] %(message)s", "%Y-%m-%d:%H:%M:%S")
        )

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # pragma: no cover - a log line must not fail a request
            pass

    def take(self) -> list[str]:
        lines, self.lines = self.lines, []
        return lines


def _handle(
    handlers: dict[str, Any], header: dict[str, Any], body: bytes
) -> tuple[dict[str, Any], bytes]:
    op = header.get("op")
    model_id = str(header.get("model_id") or "")
    if op == "load":
        log.info("Starting the model server (pid %s)", os.getpid())
        handlers[model_id] = load(header)
        log.info("Model loaded successfully for worker : %s", os.getpid())
        return {"status": 200}, b""
    if op == "unload":
        handlers.pop(model_id, None)
        return {"status": 200}, b""
    handler = handlers.get(model_id)
    if handler is None:
        return {"status": 500, "message": f"model {model_id} is not loaded"}, b""
    if op == "load_target":
        handler.load_target(header["target"], Path(header["model_dir"]))
        log.info("Loaded model %s", header["target"])
        return {"status": 200}, b""
    if op == "invoke":
        started = time.perf_counter()
        try:
            content_type, data = handler.invoke(body, header.get("content_type"),
                                                header.get("accept"), header.get("target") or "")  # fmt: skip
            status = 200
        except InferenceError as exc:
            if exc.status >= 400:
                log.error(exc.log)
            status, data = exc.status, exc.body.encode()
            content_type = "application/json" if exc.body.startswith("{") else "text/html"
        elapsed = int((time.perf_counter() - started) * 1e6)
        return {"status": status, "content_type": content_type, "model_us": elapsed}, data
    return {"status": 400, "message": f"unknown op {op}"}, b""


def serve(inp: BinaryIO, out: BinaryIO) -> None:
    handlers: dict[str, Any] = {}
    request_log = _RequestLog()
    logging.getLogger().addHandler(request_log)
    while True:
        frame = read_frame(inp)
        if frame is None:
            return
        header, body = frame
        try:
            reply, data = _handle(handlers, header, body)
        except LoadError as exc:
            log.error("%s", exc)
            reply, data = {"status": 500, "message": str(exc)}, b""
        except Exception as exc:
            log.error("%s", traceback.format_exc())
            reply, data = {"status": 500, "message": f"{type(exc).__name__}: {exc}"}, b""
        reply["log"] = request_log.take()
        write_frame(out, reply, data)


def main() -> int:
    protocol_out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)  # prints (user code's too) go to the log, never into the protocol
    sys.stdout = sys.stderr
    _configure_logging()
    serve(sys.stdin.buffer, protocol_out)
    return 0


if __name__ == "__main__":
    code = main()
    sys.stderr.flush()
    os._exit(code)
