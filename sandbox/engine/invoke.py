"""sagemaker-runtime InvokeEndpoint against the sandbox's running endpoints.

The request goes to a production variant (TargetVariant, else by weight) and its container
answers with its own inference contract; the reply carries `x-Amzn-Invoked-Production-Variant`.
Errors are SageMaker's:

- ValidationError (400): no such endpoint ("Endpoint X of account Y not found."), an endpoint
  that is not InService, a payload over 6 MB (4 MB serverless), an unknown TargetVariant, a
  multi-model endpoint without TargetModel or whose target has no artifact;
- ModelError (424): the container answered 4xx/5xx; OriginalStatusCode, OriginalMessage and
  LogStreamArn say what it answered and where its log is.

Each answered request feeds the invocation metrics and, when sampled, data capture.
"""

from __future__ import annotations

import shutil
import time
from urllib.parse import unquote

from sandbox.engine.core import Engine
from sandbox.engine.dispatch import HOOKS, ApiError, Call, Reply
from sandbox.engine.endpoints import Deployment, Variant, ensure_deployment, log_group, serving
from sandbox.engine.model_data import ModelSetupError, fetch_model, missing_artifact_reason
from sandbox.engine.model_host import HostDied, HostReply

HOOKS.route("sagemaker-runtime", "InvokeEndpoint", "POST",
            r"^/endpoints/(?P<EndpointName>[^/]+)/invocations$")  # fmt: skip

_TARGET_MODEL = "x-amzn-sagemaker-target-model"
_TARGET_VARIANT = "x-amzn-sagemaker-target-variant"
_INFERENCE_ID = "x-amzn-sagemaker-inference-id"


def _validation(message: str) -> ApiError:
    return ApiError("ValidationError", message, 400)


def model_error(call: Call, endpoint: str, variant: Variant, reply: HostReply) -> Reply:
    """What SageMaker returns when the container answers an error."""
    original = reply.body.decode("utf-8", "replace")
    kind = "client" if reply.status < 500 else "server"
    region, account = call.region, call.account
    message = (
        f'Received {kind} error ({reply.status}) from primary with message "{original}". See '
        f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
        f"#logEventViewer:group={log_group(endpoint)} in account {account} for more information."
    )
    stream_arn = (f"arn:aws:logs:{region}:{account}:log-group:{log_group(endpoint)}"
                  f":log-stream:{variant.log.stream}")  # fmt: skip
    body = {"__type": "ModelError", "message": message, "OriginalStatusCode": reply.status,
            "OriginalMessage": original, "LogStreamArn": stream_arn}  # fmt: skip
    return Reply(body, status=424, headers={"x-amzn-ErrorType": "ModelError"},
                 content_type="application/json")  # fmt: skip


def _deployment(engine: Engine, call: Call, name: str) -> Deployment:
    fake = engine.sagemaker(call.region, call.account).endpoints.get(name)
    if fake is None:
        raise _validation(f"Endpoint {name} of account {call.account} not found.")
    if fake.endpoint_status not in ("InService", "Updating"):
        failed = fake.endpoint_status == "Failed" and fake.failure_reason
        raise _validation(
            f"Endpoint {name} of account {call.account} is not in service: its status is "
            f"{fake.endpoint_status}. "
            + (f"It failed: {fake.failure_reason}" if failed else "Wait until it is InService.")
        )
    deployment = ensure_deployment(engine, fake, call.region, call.account)
    if deployment is None:
        raise _validation(
            f"Endpoint {name} of account {call.account} could not start its model: "
            f"{fake.failure_reason or 'see its log'}"
        )
    return deployment


def _ensure_target(engine: Engine, call: Call, deployment: Deployment, variant: Variant,
                   target: str) -> None:  # fmt: skip
    """A multi-model endpoint loads `<ModelDataUrl prefix>/<TargetModel>` on first use."""
    with variant.target_lock:
        if target in variant.model.targets:
            return
        prefix = str(variant.spec.model_data_url or "")
        uri = prefix.rstrip("/") + "/" + target.lstrip("/")
        local = variant.workdir / "targets" / target.replace("/", "_")
        shutil.rmtree(local, ignore_errors=True)
        try:
            fetch_model(engine.s3(call.region), uri, local)
        except ModelSetupError as exc:
            raise _validation(
                str(exc) if "extract" in str(exc) else missing_artifact_reason(uri)
            ) from None
        problem = variant.model.load_target(target, local)
        if problem:
            raise _validation(f"Failed to load model {target} on the multi-model endpoint "
                              f"{deployment.name}: {problem}")  # fmt: skip


@HOOKS.before("sagemaker-runtime", "InvokeEndpoint")
def invoke_endpoint(engine: Engine, call: Call) -> Reply:
    started = time.perf_counter()
    name = unquote(str(call.params.get("EndpointName", "")))
    deployment = _deployment(engine, call, name)
    variant = deployment.pick(call.headers.get(_TARGET_VARIANT))
    if len(call.body) > variant.payload_limit:
        kind = "serverless" if variant.serverless else "real-time"
        raise _validation(
            f"Request payload of {len(call.body)} bytes exceeds the maximum allowed for a "
            f"{kind} endpoint ({variant.payload_limit // (1024 * 1024)} MB)."
        )
    target = call.headers.get(_TARGET_MODEL, "")
    if variant.spec.multi_model:
        if not target:
            raise _validation(f"Endpoint {name} is a multi-model endpoint: name the model to "
                              "invoke with TargetModel.")  # fmt: skip
        _ensure_target(engine, call, deployment, variant, target)
    elif target:
        raise _validation(f"TargetModel is only valid for multi-model endpoints; endpoint {name} "
                          "hosts a single model.")  # fmt: skip
    content_type = call.headers.get("content-type") or None
    accept = call.headers.get("accept") or None
    state = serving(engine)
    try:
        reply = variant.model.invoke(call.body, content_type, accept, target)
    except HostDied as exc:
        variant.log.error(f"The model container stopped: {exc}")
        reply = HostReply(500, "text/plain", str(exc).encode(), 0)
    total_us = (time.perf_counter() - started) * 1e6
    state.metrics.add(call.region, name, variant.name, model_us=reply.model_us or None,
                      overhead_us=max(0.0, total_us - reply.model_us), status=reply.status,
                      instances=variant.instance_count)  # fmt: skip
    if reply.status >= 400:
        return model_error(call, name, variant, reply)
    capture = deployment.capture
    response_type = reply.content_type or accept or "application/octet-stream"
    if capture is not None and capture.sampled():
        record = capture.record(call.body, content_type or "application/octet-stream",
                                reply.body, response_type, call.headers.get(_INFERENCE_ID))  # fmt: skip
        state.capture.add(call.region, name, variant.name, capture, record)
    return Reply(reply.body, status=200, content_type=response_type,
                 headers={"x-Amzn-Invoked-Production-Variant": variant.name})  # fmt: skip


def flush(engine: Engine) -> None:
    """Write buffered data capture, metrics and endpoint logs now (tests, shutdown)."""
    serving(engine).flush()


__all__ = ["flush", "invoke_endpoint", "model_error"]
