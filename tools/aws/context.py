"""The AWS access layer: one AwsContext per session, every call guarded and audited.

Tools never build their own boto3 clients; they ask the context, so the read-only guard
and the `aws_call` audit records cover every call any tool makes.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import botocore.session
from botocore.config import Config

from tools.aws.guard import ReadOnlyViolation, allowed_in_read_only, classify
from tools.core.redact import redact

try:
    from importlib.metadata import version as _pkg_version

    VERSION = _pkg_version("sagecoach")
except Exception:  # pragma: no cover - running from a source tree without install
    VERSION = "0.0.0"

USER_AGENT = f"sagecoach/{VERSION}"
SANDBOX_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"

AwsCallSink = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class CallerIdentity:
    account: str
    arn: str
    user_id: str


def running_on_ec2() -> bool:
    """True only where the instance metadata service can exist; avoids probing it elsewhere."""
    for path in ("/sys/hypervisor/uuid", "/sys/class/dmi/id/product_uuid"):
        try:
            if Path(path).read_text().strip().lower().startswith("ec2"):
                return True
        except OSError:
            continue
    try:
        vendor = Path("/sys/class/dmi/id/sys_vendor").read_text()
        return "amazon" in vendor.lower()
    except OSError:
        return False


def _botocore_session(profile: str | None) -> botocore.session.Session:
    """A botocore session whose credential chain skips the metadata service off EC2."""
    core = botocore.session.Session(profile=profile)
    if not running_on_ec2() and not os.environ.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"):
        resolver = core.get_component("credential_provider")
        try:
            resolver.remove("iam-role")
        except Exception:  # pragma: no cover - provider names are stable
            pass
    return core


def find_credentials_source(profile: str | None = None) -> str | None:
    """The name of the provider that would supply credentials ('env', 'shared-credentials-file',
    'sso', ...), or None when there are none. Never calls AWS."""
    try:
        creds = _botocore_session(profile).get_credentials()
    except Exception:
        return None
    if creds is None:
        return None
    return getattr(creds, "method", "unknown")


def endpoint_overrides() -> dict[str, str]:
    """AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> variables in effect (boto3 honours them)."""
    return {k: v for k, v in sorted(os.environ.items()) if k.startswith("AWS_ENDPOINT_URL") and v}


# Timeouts and retries (README: "Timeouts and retries"). A closed port or a dead host fails
# in seconds (connect timeout, connection errors retried); an endpoint that accepts and never
# answers fails after one read timeout for a call that changes something (it may have reached
# AWS: never sent twice), after two for a read. Bedrock answers can take longer to start.
CONNECT_TIMEOUT_S = 3.0
READ_TIMEOUT_S = 15.0
SANDBOX_READ_TIMEOUT_S = 30.0  # the local sandbox does real work behind some calls
BEDROCK_READ_TIMEOUT_S = 60.0
MAX_ATTEMPTS = 3  # in all, first try included (adaptive mode: throttling, 5xx, refused connects)
READ_TIMEOUT_RETRIES_FOR_READS = 1


class AwsContext:
    """A boto3 session, a cached client per service, a lazy identity, the guard and the audit hook."""

    def __init__(
        self,
        *,
        profile: str | None = None,
        region: str | None = None,
        sandbox_endpoint: str | None = None,
        read_only: bool = False,
        session_id: str = "",
        on_aws_call: AwsCallSink | None = None,
        max_attempts: int | None = None,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
    ) -> None:
        self.sandbox_endpoint = sandbox_endpoint
        self.session_id = session_id
        self.read_only = read_only
        self._sinks: list[AwsCallSink] = [on_aws_call] if on_aws_call else []
        self._listeners: list[Any] = []
        self._clients: dict[str, Any] = {}
        self._lock = threading.RLock()
        self._identity: CallerIdentity | None = None
        if sandbox_endpoint:
            # Never take a profile (not even AWS_PROFILE) or real credentials into the sandbox.
            core = botocore.session.Session(session_vars={"profile": (None, None, None, None)})
            self.profile = None
            self.session = boto3.Session(
                botocore_session=core,
                aws_access_key_id="sandbox",
                aws_secret_access_key="sandbox",
                aws_session_token="sandbox",
                region_name=region
                or os.environ.get("AWS_REGION")
                or os.environ.get("AWS_DEFAULT_REGION")
                or DEFAULT_REGION,
            )
            attempts = max_attempts or 2  # moto answers unimplemented operations with 500s
        else:
            self.profile = profile or os.environ.get("AWS_PROFILE") or None
            # AWS_REGION wins over AWS_DEFAULT_REGION and the profile, as in the other AWS SDKs.
            self.session = boto3.Session(
                botocore_session=_botocore_session(profile),
                region_name=region or os.environ.get("AWS_REGION") or None,
            )
            attempts = max_attempts or MAX_ATTEMPTS
        self.region: str = self.session.region_name or DEFAULT_REGION
        self.connect_timeout = connect_timeout or CONNECT_TIMEOUT_S
        self.read_timeout = read_timeout or (
            SANDBOX_READ_TIMEOUT_S if sandbox_endpoint else READ_TIMEOUT_S
        )
        self.max_attempts = attempts
        self._config = Config(
            retries={"mode": "adaptive", "total_max_attempts": attempts},
            user_agent_extra=USER_AGENT,
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
        )
        events = self.session._session.get_component("event_emitter")  # type: ignore[attr-defined]
        events.register(
            "provide-client-params.*.*", _remember_api_params, unique_id="sagecoach-params"
        )
        events.register("before-call.*.*", self._before_call, unique_id="sagecoach-guard")
        events.register("after-call.*.*", self._after_call, unique_id="sagecoach-audit")
        events.register(
            "after-call-error.*.*", self._after_call_error, unique_id="sagecoach-audit-error"
        )
        # Before botocore's own retry handler: a call that may have reached AWS is not resent.
        events.register_first("needs-retry.*.*", _no_blind_resend, unique_id="sagecoach-resend")

    # --- public API -------------------------------------------------------------------
    @property
    def is_sandbox(self) -> bool:
        return self.sandbox_endpoint is not None

    def add_sink(self, sink: AwsCallSink) -> None:
        self._sinks.append(sink)

    def set_read_only(self, value: bool) -> None:
        self.read_only = value

    def add_listener(self, listener: Any) -> None:
        """An object with `before_call(service, operation, params)` and
        `after_call(service, operation, params, outcome)` (the ledger's intents); its errors
        never break a call."""
        self._listeners.append(listener)

    def client(self, service: str, region: str | None = None) -> Any:
        """A cached client; in the sandbox every client talks to the loopback moto server."""
        key = f"{service}@{region or self.region}"
        with self._lock:
            cached = self._clients.get(key)
            if cached is None:
                config = self._config
                if service == "bedrock-runtime":  # a model may think before its first byte
                    config = config.merge(
                        Config(read_timeout=max(self.read_timeout, BEDROCK_READ_TIMEOUT_S))
                    )
                kwargs: dict[str, Any] = {"config": config, "region_name": region or self.region}
                if self.sandbox_endpoint:
                    kwargs["endpoint_url"] = self.sandbox_endpoint
                cached = self.session.client(service, **kwargs)
                self._clients[key] = cached
            return cached

    @property
    def identity(self) -> CallerIdentity:
        """The caller identity, looked up once on first use."""
        if self._identity is None:
            data = self.client("sts").get_caller_identity()
            self._identity = CallerIdentity(data["Account"], data["Arn"], data["UserId"])
        return self._identity

    @property
    def account_label(self) -> str:
        if self.is_sandbox:
            return "SANDBOX"
        try:
            return self.identity.account
        except Exception:
            return "unknown account"

    def credential_source(self) -> str | None:
        if self.is_sandbox:
            return "sandbox (dummy credentials)"
        creds = self.session.get_credentials()
        return getattr(creds, "method", None) if creds else None

    def tags(self) -> list[dict[str, str]]:
        """Tags for everything a session creates (AWS `Key`/`Value` list form)."""
        tags = [{"Key": "CreatedBy", "Value": "sagecoach"}]
        if self.session_id:
            tags.append({"Key": "sagecoach:session", "Value": self.session_id})
        return tags

    def tag_map(self) -> dict[str, str]:
        return {t["Key"]: t["Value"] for t in self.tags()}

    # --- hooks ----------------------------------------------------------------------------
    @staticmethod
    def _names(model: Any) -> tuple[str, str]:
        # The client's service name is what people type (sagemaker-runtime, not runtime.sagemaker).
        return model.service_model.service_name, model.name

    def _before_call(self, model: Any, context: dict, **_: Any) -> None:
        service, operation = self._names(model)
        context["sagecoach_started"] = time.perf_counter()
        context["sagecoach_operation"] = (service, operation)
        params = _request_params(context)
        if self.read_only and not allowed_in_read_only(service, operation, params):
            self._emit(
                service,
                operation,
                params,
                status=None,
                request_id=None,
                latency_ms=0.0,
                error="blocked by read-only mode",
                blocked=True,
            )
            raise ReadOnlyViolation(service, operation)
        self._notify("before_call", service, operation, params)

    def _after_call(
        self, model: Any, http_response: Any, parsed: dict, context: dict, **_: Any
    ) -> None:
        service, operation = self._names(model)
        meta = (parsed or {}).get("ResponseMetadata", {}) if isinstance(parsed, dict) else {}
        error = None
        code = ""
        if isinstance(parsed, dict) and "Error" in parsed and parsed["Error"].get("Code"):
            code = str(parsed["Error"].get("Code"))
            error = f"{code}: {parsed['Error'].get('Message', '')}".strip()
        status = getattr(http_response, "status_code", None) or meta.get("HTTPStatusCode")
        params = _request_params(context)
        self._emit(
            service,
            operation,
            params,
            status=status,
            request_id=meta.get("RequestId"),
            latency_ms=_elapsed_ms(context),
            error=error,
        )
        outcome = {"ok": error is None, "status": status, "code": code}
        outcome["retries"] = int(meta.get("RetryAttempts") or 0)
        self._notify("after_call", service, operation, params, outcome)

    def _after_call_error(
        self,
        exception: BaseException | None = None,
        context: dict | None = None,
        event_name: str = "",
        model: Any = None,
        **_: Any,
    ) -> None:
        """A call that got no answer (reset, refused, timed out). botocore sends this event
        without the operation model, so the operation comes from before-call's note (or the
        event name when before-call never ran)."""
        context = context if isinstance(context, dict) else {}
        if model is not None:
            service, operation = self._names(model)
        else:
            service, operation = context.get("sagecoach_operation") or _names_from_event(event_name)
        params = _request_params(context)
        self._emit(
            service,
            operation,
            params,
            status=None,
            request_id=None,
            latency_ms=_elapsed_ms(context),
            error=connection_error_text(exception, service, operation),
            no_answer=True,
        )
        self._notify("after_call", service, operation, params, {"ok": False, "no_answer": True})

    def _notify(self, hook: str, *args: Any) -> None:
        for listener in list(self._listeners):
            try:
                getattr(listener, hook)(*args)
            except Exception:  # a listener (the ledger) must never break the AWS call
                pass

    def _emit(self, service: str, operation: str, params: Any, **fields: Any) -> None:
        if not self._sinks:
            return
        if service == "bedrock-runtime":
            params = model_request_digest(params or {})
        record = {
            "service": service,
            "operation": operation,
            "op_class": classify(service, operation),
            "params": redact(params or {}),
            "sandbox": self.is_sandbox,
            "region": self.region,
            **fields,
        }
        for sink in list(self._sinks):
            try:
                sink(record)
            except Exception:  # an audit sink must never break the AWS call
                pass


def connection_error_text(exc: BaseException | None, service: str, operation: str) -> str:
    """What failed, for a person: which call, where, and whether it may have happened."""
    from botocore import exceptions as bx

    where = f"{service}:{operation}"
    if exc is None:
        return f"{where}: no answer"
    endpoint = getattr(exc, "kwargs", {}).get("endpoint_url") or ""
    at = f" at {endpoint}" if endpoint else ""
    if isinstance(exc, bx.ConnectTimeoutError):
        return (
            f"{where}: could not connect{at} within the connect timeout (host down or unreachable)"
        )
    if isinstance(exc, bx.ReadTimeoutError):
        return (
            f"{where}: connected{at} but got no answer within the read timeout; the call may "
            "or may not have taken effect"
        )
    if isinstance(exc, bx.ConnectionClosedError):
        return (
            f"{where}: the connection{at} was closed or reset before an answer; the call may "
            "or may not have taken effect"
        )
    if isinstance(exc, bx.EndpointConnectionError):
        return f"{where}: could not connect{at} (connection refused or no route)"
    return f"{where}: {type(exc).__name__}: {exc}"


def _names_from_event(event_name: str) -> tuple[str, str]:
    parts = event_name.split(".")
    return (parts[1], parts[2]) if len(parts) >= 3 else ("unknown", "unknown")


def _no_blind_resend(
    caught_exception: BaseException | None = None,
    operation: Any = None,
    attempts: int = 1,
    **_: Any,
) -> bool | None:
    """False (do not retry) when an answer never came back for a call that changes something
    (AWS may have done it: resending could create twice) or, for reads, after one resend.
    None leaves the decision to botocore's retry handler (throttling, 5xx, refused connects)."""
    from botocore import exceptions as bx

    if not isinstance(caught_exception, bx.ReadTimeoutError | bx.ConnectionClosedError):
        return None
    service = getattr(getattr(operation, "service_model", None), "service_name", "")
    name = getattr(operation, "name", "")
    if classify(service, name) == "mutating":
        return False
    return False if attempts > READ_TIMEOUT_RETRIES_FOR_READS else None


def model_request_digest(params: dict) -> dict:
    """A Bedrock request as sizes and hashes: the audit log proves what was sent (compare the
    hash) without keeping a copy of the conversation in every record."""
    import hashlib
    import json

    out: dict[str, Any] = {}
    for key, value in params.items():
        if key in ("messages", "system", "toolConfig", "body"):
            raw = value if isinstance(value, bytes) else json.dumps(value, default=str).encode()
            digest: dict[str, Any] = {
                "bytes": len(raw),
                "sha256": hashlib.sha256(raw).hexdigest(),
            }
            if isinstance(value, list):
                digest["count"] = len(value)
            if key == "toolConfig" and isinstance(value, dict):
                digest["tools"] = len(value.get("tools") or [])
            out[key] = digest
        else:
            out[key] = value
    return out


def _elapsed_ms(context: dict) -> float:
    started = context.get("sagecoach_started")
    return round((time.perf_counter() - started) * 1000, 2) if started else 0.0


def _request_params(context: dict) -> dict:
    """The caller's API parameters, captured by the provide-client-params hook."""
    params = context.get("sagecoach_params")
    return params if isinstance(params, dict) else {}


def _remember_api_params(params: dict, context: dict, **_: Any) -> None:
    context["sagecoach_params"] = dict(params)
