"""The container process of a built-in algorithm: `python -m sandbox.engine.container`.

It imports the numeric libraries first (so the engine can keep one process warm, ready before a
job arrives), then reads one JSON line from stdin: {"job_dir", "algorithm", "version",
"job_name"}. It runs the algorithm against the job directory (laid out as /opt/ml), prints its
log on stdout, and, as the SageMaker containers do, writes `output/failure` with the reason and
exits 1 when training fails, or writes `output/success` and exits 0.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import traceback
from pathlib import Path

ALGORITHMS = {
    "xgboost": "sandbox.engine.algorithms.xgboost",
    "linear-learner": "sandbox.engine.algorithms.linear_learner",
    "kmeans": "sandbox.engine.algorithms.kmeans",
    "randomcutforest": "sandbox.engine.algorithms.rcf",
}
#: Families whose containers report user errors as ClientError (the closed-source 1P algorithms).
FIRST_PARTY = {"linear-learner", "kmeans", "randomcutforest"}


def warm_up() -> None:
    """Load what every algorithm needs before the job is known (the warm pool's head start)."""
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import xgboost  # noqa: F401  (imports scikit-learn too)


def failure_text(algorithm: str, exc: BaseException) -> str:
    """What the container writes to output/failure for this exception."""
    from sandbox.engine.algorithms.common import UserError

    message = str(exc) or type(exc).__name__
    if algorithm in FIRST_PARTY:
        kind = "ClientError" if isinstance(exc, UserError) else "AlgorithmError"
        return f"{kind}: {message}"
    frames = traceback.format_exception(type(exc), exc, exc.__traceback__)
    short = "".join([frames[0], *frames[-3:]]) if len(frames) > 4 else "".join(frames)
    return f"framework error: \n{short.rstrip()}\n{message}"


def run(spec: dict[str, str]) -> int:
    from sandbox.engine.algorithms.common import ContainerEnv, configure_logging

    configure_logging()
    root = Path(spec["job_dir"])
    env = ContainerEnv(
        root=root,
        job_name=spec.get("job_name", ""),
        algorithm=spec["algorithm"],
        version=spec.get("version", ""),
    )
    output = env.output_dir
    output.mkdir(parents=True, exist_ok=True)
    try:
        module = importlib.import_module(ALGORITHMS[env.algorithm])
        module.train(env)
    except Exception as exc:
        text = failure_text(env.algorithm, exc)
        (output / "failure").write_text(text)
        logging.getLogger("algorithm").error("Reporting training FAILURE")
        logging.getLogger("algorithm").error(text)
        return 1
    (output / "success").write_text("")
    logging.getLogger("algorithm").info("Reporting training SUCCESS")
    return 0


def main() -> int:
    warm_up()
    line = sys.stdin.readline()
    if not line.strip():
        return 0  # a warm process that was never used
    spec = json.loads(line)
    if "module" in spec:  # a processing container of SageMaker's own (Clarify, Model Monitor)
        os.environ.update(spec.get("env") or {})
        return int(importlib.import_module(spec["module"]).main([spec["job_dir"]]))
    code = run(spec)
    sys.stdout.flush()
    return code


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # skip interpreter teardown (~0.7 s with xgboost and scikit-learn loaded)
