"""Models and endpoints as SageMaker runs them.

- CreateModel is refused, as on AWS, when its ModelDataUrl names no object.
- CreateEndpoint: the endpoint is `Creating` while each production variant's container starts
  (a model loaded in a host process, see `model_host`): the artifact is downloaded and unpacked, the model
  loaded the way its container loads it; then `InService`, or `Failed` with SageMaker's kind of
  reason (missing artifact, not a tar.gz, an image the sandbox cannot run, a model the
  container cannot load: "did not pass the ping health check").
- UpdateEndpoint (moto has none): `Updating` while the new config's variants start; they
  replace the old ones at once (the old config keeps serving until then); a failed update
  leaves the old config serving, with the reason in FailureReason.
- DeleteEndpoint stops the variants' processes.
- Each variant logs to `/aws/sagemaker/Endpoints/<endpoint>`, stream `<variant>/<instance id>`.

Invocations (`invoke.py`), data capture (`capture.py`) and invocation metrics
(`endpoint_metrics.py`) use the running deployments kept here: `serving(engine)`.
"""

from __future__ import annotations

import logging
import random
import secrets
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moto.core.utils import utcnow

from sandbox.engine.capture import CaptureConfig, CaptureWriter
from sandbox.engine.core import Engine
from sandbox.engine.cwlogs import JobLog
from sandbox.engine.dispatch import HOOKS, ApiError, Call, Reply
from sandbox.engine.endpoint_metrics import NAMESPACE, InvocationMetrics
from sandbox.engine.jobs import RunningJob
from sandbox.engine.model_data import (
    ContainerSpec,
    ModelSetupError,
    check_model_data,
    container_of,
    fetch_code,
    fetch_model,
)
from sandbox.engine.model_host import Hosts, LoadedModel
from sandbox.engine.ticker import ticker

log = logging.getLogger("sandbox.engine.endpoints")
KEY = "serving"
KIND = "endpoint"
PING_FAILED = (
    "The primary container for production variant {variant} did not pass the ping health "
    "check. Please check CloudWatch logs for this endpoint."
)


def log_group(endpoint: str) -> str:
    return f"/aws/sagemaker/Endpoints/{endpoint}"


@dataclass
class Variant:
    """One production variant's running container."""

    name: str
    model_name: str
    spec: ContainerSpec
    model: LoadedModel
    log: JobLog
    workdir: Path
    weight: float
    serverless: dict[str, Any] | None
    instance_count: int
    target_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def payload_limit(self) -> int:
        """6 MB real-time, 4 MB serverless."""
        return (4 if self.serverless else 6) * 1024 * 1024

    def close(self) -> None:
        self.model.unload()
        try:
            self.log.flush()
        except Exception:
            pass


@dataclass
class Deployment:
    """An endpoint's running config."""

    name: str
    region: str
    account: str
    config_name: str
    fake: Any
    variants: dict[str, Variant]
    capture: CaptureConfig | None

    def pick(self, wanted: str | None) -> Variant:
        """TargetVariant, else a variant chosen at random by weight."""
        if wanted:
            if wanted not in self.variants:
                raise ApiError(
                    "ValidationError",
                    f"Variant {wanted} does not exist for endpoint {self.name} of account "
                    f"{self.account}.",
                )
            return self.variants[wanted]
        weights = [max(0.0, _current_weight(self.fake, v)) for v in self.variants.values()]
        choices = list(self.variants.values())
        if sum(weights) <= 0:
            return choices[0]
        return random.choices(choices, weights=weights)[0]

    def close(self) -> None:
        for variant in self.variants.values():
            variant.close()
        for variant in self.variants.values():
            shutil.rmtree(variant.workdir, ignore_errors=True)


def _current_weight(fake: Any, variant: Variant) -> float:
    for entry in fake.production_variants or []:
        if entry.get("VariantName") == variant.name:
            return float(entry.get("CurrentWeight", entry.get("DesiredWeight", variant.weight)))
    return variant.weight


class Serving:
    """The engine's running endpoints, their data capture, metrics and logs."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.lock = threading.RLock()
        self.deployments: dict[tuple[str, str, str], Deployment] = {}
        self.hosts = Hosts()
        self.capture = CaptureWriter()
        self.metrics = InvocationMetrics()
        self._deploy_locks: dict[tuple[str, str, str], threading.Lock] = {}
        engine.shutdown_hooks.append(self.close)
        ticker(engine).add(KEY, self.tick)

    def get(self, account: str, region: str, name: str) -> Deployment | None:
        with self.lock:
            return self.deployments.get((account, region, name))

    def deploy_lock(self, account: str, region: str, name: str) -> threading.Lock:
        with self.lock:
            return self._deploy_locks.setdefault((account, region, name), threading.Lock())

    def install(self, deployment: Deployment) -> None:
        """Make the deployment the endpoint's (the one it replaces stops)."""
        key = (deployment.account, deployment.region, deployment.name)
        with self.lock:
            old = self.deployments.get(key)
            self.deployments[key] = deployment
        if old is not None and old is not deployment:
            old.close()

    def remove(self, account: str, region: str, name: str) -> None:
        with self.lock:
            old = self.deployments.pop((account, region, name), None)
        if old is not None:
            old.close()

    # --- periodic work -------------------------------------------------------------------
    def tick(self) -> None:
        self.reap()
        self.flush()

    def reap(self) -> None:
        """Let go of deployments whose endpoint is gone (deleted, or the sandbox was reset)."""
        with self.lock:
            items = list(self.deployments.items())
        for (account, region, name), deployment in items:
            current = self.engine.sagemaker(region, account).endpoints.get(name)
            if current is not deployment.fake:
                with self.lock:
                    if self.deployments.get((account, region, name)) is deployment:
                        del self.deployments[(account, region, name)]
                deployment.close()

    def flush(self) -> None:
        if self.engine.endpoint is None:
            return
        self.capture.flush(lambda region, uri, data: self.engine.s3(region).put_bytes(uri, data))
        self.metrics.flush(
            lambda region, data: self.engine.client("cloudwatch", region).put_metric_data(
                Namespace=NAMESPACE, MetricData=data
            )
        )
        with self.lock:
            variants = [v for d in self.deployments.values() for v in d.variants.values()]
        for variant in variants:
            try:
                variant.log.flush()
            except Exception:
                log.debug("endpoint log flush failed", exc_info=True)

    def close(self) -> None:
        """The sandbox stops: stop every model host, write what is buffered."""
        try:
            self.flush()
        except Exception:
            log.exception("final serving flush failed")
        with self.lock:
            deployments, self.deployments = list(self.deployments.values()), {}
        for deployment in deployments:
            deployment.close()
        self.hosts.close()


def serving(engine: Engine) -> Serving:
    with engine.lock:
        found = engine.extensions.get(KEY)
        if found is None:
            found = engine.extensions[KEY] = Serving(engine)
        return found  # type: ignore[no-any-return]


# --- starting a config's variants ----------------------------------------------------------
def start_variant(engine: Engine, hosts: Hosts, spec: ContainerSpec, workdir: Path,
                  region: str, job_log: JobLog, variant_name: str,
                  batch: bool = False) -> LoadedModel:  # fmt: skip
    """Download the model, start its container and load it (ModelSetupError if it cannot)."""
    s3 = engine.s3(region)
    model_dir = workdir / "model"
    if not spec.multi_model:
        if not spec.model_data_url:
            raise ModelSetupError(
                f"The model for production variant {variant_name} has no ModelDataUrl: the "
                "sandbox serves built-in and script-mode models from their artifact."
            )
        fetch_model(s3, spec.model_data_url, model_dir)
    code_dir = fetch_code(s3, spec, workdir) if spec.script_mode else None
    env = dict(spec.environment)
    if batch:
        env["SAGEMAKER_BATCH"] = "true"
    model, problem = hosts.load({
        "family": spec.family,
        "model_dir": None if spec.multi_model else str(model_dir),
        "code_dir": str(code_dir) if code_dir else None,
        "opt_ml_root": str(workdir),
        "env": env,
        "multi_model": spec.multi_model,
        "batch": batch,
    }, job_log.write, dedicated=spec.script_mode)  # fmt: skip
    if problem is not None:
        job_log.error(problem)
        job_log.flush()
        raise ModelSetupError(PING_FAILED.format(variant=variant_name))
    return model


def build_deployment(engine: Engine, fake: Any, region: str, account: str,
                     config_name: str, token: str) -> Deployment:  # fmt: skip
    backend = engine.sagemaker(region, account)
    config = backend.endpoint_configs.get(config_name)
    if config is None:
        raise ModelSetupError(f"Could not find endpoint configuration '{config_name}'.")
    hosts = serving(engine).hosts
    variants: dict[str, Variant] = {}
    try:
        for entry in config.production_variants:
            name = entry["VariantName"]
            model = backend._models.get(entry["ModelName"])
            if model is None:
                raise ModelSetupError(f'Could not find model "{entry["ModelName"]}".')
            spec = container_of(model)
            workdir = engine.job_dir("endpoints", f"{fake.endpoint_name}-{token}-{name}")
            instance = f"i-0{secrets.token_hex(8)}"
            job_log = JobLog(engine._require_endpoint(), region, log_group(fake.endpoint_name),
                             f"{name}/{instance}", flush_every=20)  # fmt: skip
            model = start_variant(engine, hosts, spec, workdir, region, job_log, name)
            variants[name] = Variant(
                name=name, model_name=entry["ModelName"], spec=spec, model=model, log=job_log,
                workdir=workdir, weight=float(entry.get("InitialVariantWeight", 1.0)),
                serverless=entry.get("ServerlessConfig"),
                instance_count=int(entry.get("InitialInstanceCount") or 1),
            )  # fmt: skip
    except Exception:
        for variant in variants.values():
            variant.close()
        raise
    return Deployment(fake.endpoint_name, region, account, config_name, fake, variants,
                      CaptureConfig.from_api(config.data_capture_config))  # fmt: skip


def _describe_variants(fake: Any, config: Any, deployment: Deployment) -> None:
    """ProductionVariants as DescribeEndpoint shows them once the variants run."""
    now = utcnow()
    entries = fake._process_production_variants(config.production_variants)
    for entry in entries:
        variant = deployment.variants.get(entry["VariantName"])
        entry.setdefault("CurrentWeight", 1.0)
        entry.setdefault("DesiredWeight", 1.0)
        if variant is not None:
            entry["DeployedImages"] = [{"SpecifiedImage": variant.spec.image,
                                        "ResolvedImage": variant.spec.image,
                                        "ResolutionTime": now}]  # fmt: skip
    fake.production_variants = entries
    capture = deployment.capture
    if capture is not None:
        fake.data_capture_config = {
            "EnableCapture": True, "CaptureStatus": "Started",
            "CurrentSamplingPercentage": int(capture.sampling_percentage),
            "DestinationS3Uri": capture.destination,
        }  # fmt: skip
    else:
        fake.data_capture_config = None


def run_deployment(engine: Engine, fake: Any, region: str, account: str, config_name: str,
                   *, updating: bool) -> Deployment | None:  # fmt: skip
    """Start the config's variants for the endpoint and put it InService (or Failed)."""
    state = serving(engine)
    with state.deploy_lock(account, region, fake.endpoint_name):
        try:
            deployment = build_deployment(engine, fake, region, account, config_name,
                                          secrets.token_hex(3))  # fmt: skip
        except ModelSetupError as exc:
            _settle_failure(fake, str(exc), updating)
            return None
        except Exception as exc:  # the engine's own failure ends this deployment alone
            log.exception("deploying endpoint %s failed", fake.endpoint_name)
            _settle_failure(fake, f"InternalServerError: sandbox engine: {exc}", updating)
            return None
        backend = engine.sagemaker(region, account)
        if backend.endpoints.get(fake.endpoint_name) is not fake:  # deleted meanwhile
            deployment.close()
            return None
        state.install(deployment)
        _describe_variants(fake, backend.endpoint_configs[config_name], deployment)
        fake.endpoint_config_name = config_name
        fake.endpoint_status = "InService"
        fake.failure_reason = None
        fake.last_modified_time = utcnow()
        return deployment


def _settle_failure(fake: Any, reason: str, updating: bool) -> None:
    fake.failure_reason = reason
    fake.endpoint_status = "InService" if updating else "Failed"
    fake.last_modified_time = utcnow()


def start_deployment(engine: Engine, fake: Any, region: str, account: str, config_name: str,
                     *, updating: bool) -> None:  # fmt: skip
    job = RunningJob(kind=KIND, name=fake.endpoint_name, region=region, account=account,
                     workdir=engine.work_root)  # fmt: skip
    engine.jobs.start(job, lambda _: run_deployment(engine, fake, region, account, config_name,
                                                    updating=updating))  # fmt: skip


def ensure_deployment(engine: Engine, fake: Any, region: str, account: str) -> Deployment | None:
    """The endpoint's running deployment; one restored with the sandbox's state starts now."""
    state = serving(engine)
    found = state.get(account, region, fake.endpoint_name)
    if found is not None and found.fake is fake:
        return found
    if fake.endpoint_status not in ("InService", "Updating"):
        return None
    with state.deploy_lock(account, region, fake.endpoint_name):
        found = state.get(account, region, fake.endpoint_name)
        if found is not None and found.fake is fake:
            return found
    return run_deployment(engine, fake, region, account, fake.endpoint_config_name,
                          updating=False)  # fmt: skip


# --- hooks -------------------------------------------------------------------------------------
@HOOKS.before("sagemaker", "CreateModel")
def check_model(engine: Engine, call: Call) -> Reply | None:
    """CreateModel refuses a ModelDataUrl that names no object (as SageMaker does)."""
    containers = list(call.params.get("Containers") or [])
    primary = call.params.get("PrimaryContainer")
    for container in ([primary] if primary else []) + containers:
        url = container.get("ModelDataUrl")
        if not url:
            continue
        try:
            check_model_data(
                engine.s3(call.region), str(url), container.get("Mode") == "MultiModel"
            )
        except ModelSetupError as exc:
            raise ApiError("ValidationException", str(exc)) from None
        except ValueError as exc:
            raise ApiError("ValidationException", str(exc)) from None
    return None


@HOOKS.after("sagemaker", "CreateEndpoint")
def create_endpoint(engine: Engine, call: Call, response: dict[str, Any]) -> None:
    name = call.params["EndpointName"]
    fake = engine.sagemaker(call.region, call.account).endpoints[name]
    fake.endpoint_status = "Creating"
    fake.failure_reason = None
    serving(engine).remove(call.account, call.region, name)  # a leftover of a reset sandbox
    start_deployment(engine, fake, call.region, call.account, call.params["EndpointConfigName"],
                     updating=False)  # fmt: skip


@HOOKS.before("sagemaker", "UpdateEndpoint")
def update_endpoint(engine: Engine, call: Call) -> Reply:
    name = call.params.get("EndpointName", "")
    config_name = call.params.get("EndpointConfigName", "")
    backend = engine.sagemaker(call.region, call.account)
    fake = backend.endpoints.get(name)
    if fake is None:
        arn = f"arn:aws:sagemaker:{call.region}:{call.account}:endpoint/{name.lower()}"
        raise ApiError("ValidationException", f'Could not find endpoint "{arn}".')
    if config_name not in backend.endpoint_configs:
        arn = (
            f"arn:aws:sagemaker:{call.region}:{call.account}:endpoint-config/{config_name.lower()}"
        )
        raise ApiError("ValidationException", f'Could not find endpoint configuration "{arn}".')
    if fake.endpoint_status != "InService":
        raise ApiError(
            "ValidationException",
            f'Cannot update in-progress endpoint "{fake.arn}" (its status is '
            f"{fake.endpoint_status}); wait until it is InService.",
        )
    fake.endpoint_status = "Updating"
    fake.last_modified_time = utcnow()
    start_deployment(engine, fake, call.region, call.account, config_name, updating=True)
    return Reply({"EndpointArn": fake.arn})


@HOOKS.after("sagemaker", "DeleteEndpoint")
def delete_endpoint(engine: Engine, call: Call, response: dict[str, Any]) -> None:
    state = serving(engine)
    state.flush()
    state.remove(call.account, call.region, call.params.get("EndpointName", ""))


def recover(engine: Engine) -> None:
    """After a restore: endpoints being created start again; InService ones load their model
    on their first invocation (an endpoint keeps serving across a sandbox restart)."""
    from moto.backends import get_backend

    for account, region, backend in get_backend("sagemaker").iter_backends():
        for fake in list(backend.endpoints.values()):
            if fake.endpoint_status == "Creating":
                start_deployment(engine, fake, region, account, fake.endpoint_config_name,
                                 updating=False)  # fmt: skip
            elif fake.endpoint_status == "Updating":
                fake.endpoint_status = "InService"
