"""The sandbox's execution engine: moto keeps the control-plane records, the engine makes the
work happen (jobs with real statuses, containers' data contracts, logs, metrics, artifacts).

Extension points (for the modules that add endpoints, transform, tuning, Autopilot, Clarify,
monitoring, Pipelines):

1. Hook an operation. In a new module under `sandbox/engine/`, register hooks on `HOOKS`::

       from sandbox.engine.dispatch import HOOKS, ApiError, Call, Reply

       @HOOKS.before("sagemaker", "CreateEndpoint")   # check, reject (raise ApiError) or answer
       def check(engine, call: Call) -> Reply | None: ...

       @HOOKS.after("sagemaker", "CreateEndpoint")    # moto stored it; start the work
       def start(engine, call: Call, response: dict) -> dict | None: ...

       HOOKS.route("sagemaker-runtime", "InvokeEndpoint", "POST",
                   r"^/endpoints/(?P<EndpointName>[^/]+)/invocations$")
       @HOOKS.before("sagemaker-runtime", "InvokeEndpoint")
       def invoke(engine, call: Call) -> Reply: ...   # Reply(body=bytes, content_type=...)

   then add the module's name to `MODULES` below (a module may also define `attach(engine)`,
   run before the state is restored, and `recover(engine)`, run after). `call.params` is the JSON request (or the
   route's named groups), `call.region`/`call.account` say whose state; a 2xx JSON answer of
   moto is what `after` hooks receive. moto's own objects are the API state: change them through
   `engine.sagemaker(region)` (e.g. `.endpoints[name].endpoint_status = "InService"`).

2. Run a job on the worker pool: build a `jobs.RunningJob(kind, name, region, account,
   workdir=engine.job_dir(kind, name), max_runtime_s=...)` and `engine.jobs.start(job, body)`.
   The body runs on its own thread: `with engine.jobs.slot(job):` waits for a container slot,
   `job.check()` raises `JobInterrupted("stop"|"timeout")`, `job.run_process(cmd, env=, cwd=,
   on_line=)` runs a container subprocess (killed on stop/time-out); `engine.jobs.stop(kind,
   region, name)` stops it. `training.py` and `processing.py` are the worked examples.

3. Sandbox S3, logs, metrics: `engine.s3(region)` (list/download/upload prefixes, bytes),
   `engine.client(service, region)` (a boto3 client on this sandbox),
   `engine.job_log(group, job_name, region)` (a `<job>/algo-1-<epoch>` stream; `.write(line)`,
   `.info(text)`, `.flush()`), `cwlogs.MetricCollector` (metric regexes → FinalMetricDataList and
   CloudWatch datapoints).

4. State: everything in moto's backends is saved and restored with the sandbox. State of your
   own (e.g. loaded models) goes in `engine.extensions[<your module>]`; to keep it across
   restarts, `engine.persistence.register(name, dump, load)` (when `engine.persistence` is not
   None). A restored snapshot never holds running work: `mark_interrupted` fails what was
   running when the sandbox stopped.
"""

from __future__ import annotations

import importlib

from sandbox.engine.core import Engine
from sandbox.engine.dispatch import HOOKS, ApiError, Call, Reply

#: Modules whose import registers hooks (add yours here).
MODULES = (
    "sandbox.engine.training",
    "sandbox.engine.processing",
    "sandbox.engine.metrics_api",
    "sandbox.engine.endpoints",
    "sandbox.engine.invoke",
    "sandbox.engine.tuning.job",
    "sandbox.engine.transform",
    "sandbox.engine.clarify",
    "sandbox.engine.monitor",
    "sandbox.engine.alarms",
    "sandbox.engine.pipelines",
    "sandbox.engine.autopilot",
)


def install() -> None:
    """Import every hook module once (hooks register on import)."""
    for name in MODULES:
        importlib.import_module(name)


def attach(engine: Engine) -> None:
    """Before a restore: each module's `attach(engine)` sets up its state (and registers it
    with persistence)."""
    for name in MODULES:
        setup = getattr(importlib.import_module(name), "attach", None)
        if setup is not None:
            setup(engine)


def recover(engine: Engine) -> None:
    """After a restore: each module's `recover(engine)` settles work that was running when the
    sandbox stopped (nothing resumes by itself)."""
    for name in MODULES:
        settle = getattr(importlib.import_module(name), "recover", None)
        if settle is not None:
            settle(engine)


__all__ = [
    "HOOKS",
    "MODULES",
    "ApiError",
    "Call",
    "Engine",
    "Reply",
    "attach",
    "install",
    "recover",
]
