"""Script mode as the SageMaker training toolkit runs it (scikit-learn and XGBoost framework
images): the user's `sagemaker_program` from the `sagemaker_submit_directory` archive runs as
`python <program> --<hp> <value> ...` with the toolkit's SM_* environment, in a subprocess with
the user's own permissions, its output going to the job's log.

No Docker here: /opt/ml/... is the job's directory. The SM_* variables hold the real paths, and
the script runs under `sandbox.engine.pathmap`, so hard-coded /opt/ml/... paths used through
Python's file functions land in the job directory too.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sandbox.engine.s3io import extract_tar_gz, split_uri

FRAMEWORK_PREFIX = "sagemaker_"


class ScriptSetupError(Exception):
    """The job cannot start the script (archive or program missing): a ClientError."""


def decode_hyperparameters(raw: dict[str, str]) -> dict[str, Any]:
    """The toolkit JSON-decodes each value and keeps the text when that fails."""
    decoded: dict[str, Any] = {}
    for key, value in raw.items():
        try:
            decoded[key] = json.loads(value)
        except (TypeError, ValueError):
            decoded[key] = value
    return decoded


def cmd_args(hyperparameters: dict[str, Any]) -> list[str]:
    """`--name value` pairs, sorted by name (one-letter names get a single dash)."""
    args: list[str] = []
    for key in sorted(hyperparameters):
        args.append(f"--{key}" if len(key) > 1 else f"-{key}")
        value = hyperparameters[key]
        if isinstance(value, dict):
            args.append(",".join(f"{k}={v}" for k, v in sorted(value.items())))
        elif isinstance(value, str):
            args.append(value)
        else:
            args.append(json.dumps(value))
    return args


def _env_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def sandbox_aws_env(endpoint: str, region: str) -> dict[str, str]:
    """AWS settings a user script gets: boto3 in it reaches this sandbox, never real AWS."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "sandbox",
        "AWS_SECRET_ACCESS_KEY": "sandbox",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def base_env(root: Path) -> dict[str, str]:
    from sandbox.engine.warm import container_env

    env = container_env()
    env["SAGECOACH_OPT_ML"] = str(root)
    return env


def prepare_training(
    engine: Any, job: Any, request: dict[str, Any], on_line: Callable[[str], None]
) -> tuple[list[str], dict[str, str], Path]:
    """Download and unpack the source, build the toolkit environment and the command."""
    root: Path = job.workdir
    hyperparameters = decode_hyperparameters(request.get("HyperParameters") or {})
    framework = {k: v for k, v in hyperparameters.items() if k.startswith(FRAMEWORK_PREFIX)}
    user = {k: v for k, v in hyperparameters.items() if not k.startswith(FRAMEWORK_PREFIX)}
    program = str(framework.get("sagemaker_program") or "")
    source = str(framework.get("sagemaker_submit_directory") or "")
    if not program:
        raise ScriptSetupError(
            "script mode needs the hyperparameter sagemaker_program (the entry point file name)"
        )
    code_dir = root / "code"
    code_dir.mkdir(parents=True, exist_ok=True)
    if source.startswith("s3://"):
        archive = root / "upload" / "sourcedir.tar.gz"
        archive.parent.mkdir(parents=True, exist_ok=True)
        bucket, key = split_uri(source)
        try:
            engine.s3(job.region).s3.download_file(bucket, key, str(archive))
        except Exception as exc:
            raise ScriptSetupError(f"could not download {source}: {exc}") from None
        extract_tar_gz(archive, code_dir)
    elif source:
        raise ScriptSetupError(
            f"sagemaker_submit_directory must be an s3:// URI of a .tar.gz (got {source})"
        )
    entry = code_dir / program
    if not entry.is_file():
        raise ScriptSetupError(
            f"entry point {program} is not in {source or 'the source directory'}"
        )
    if (code_dir / "requirements.txt").exists():
        on_line(
            "[sandbox] requirements.txt found: the sandbox does not install packages; the "
            "script runs with the sandbox's own Python packages."
        )
    channels = sorted(
        c["ChannelName"] for c in request.get("InputDataConfig") or [] if "ChannelName" in c
    )
    resources = request.get("ResourceConfig") or {}
    instance_type = resources.get("InstanceType", "ml.m5.large")
    cpus = os.cpu_count() or 1
    args = cmd_args(user)
    facts: dict[str, Any] = {
        "hosts": ["algo-1"],
        "network_interface_name": "eth0",
        "hps": user,
        "user_entry_point": program,
        "framework_params": {},
        "resource_config": {"current_host": "algo-1", "hosts": ["algo-1"],
                            "current_instance_type": instance_type},
        "input_data_config": json.loads((root / "input/config/inputdataconfig.json").read_text()),
        "output_data_dir": str(root / "output" / "data"),
        "channels": channels,
        "current_host": "algo-1",
        "current_instance_type": instance_type,
        "module_name": Path(program).stem,
        "log_level": int(framework.get("sagemaker_container_log_level", 20) or 20),
        "framework_module": None,
        "input_dir": str(root / "input"),
        "input_config_dir": str(root / "input" / "config"),
        "output_dir": str(root / "output"),
        "num_cpus": cpus,
        "num_gpus": 0,
        "num_neurons": 0,
        "model_dir": str(root / "model"),
        "module_dir": source,
        "user_args": args,
        "output_intermediate_dir": str(root / "output" / "intermediate"),
    }  # fmt: skip
    facts["training_env"] = {k: v for k, v in facts.items() if k != "user_args"}
    for name in channels:
        facts[f"channel_{name}"] = str(root / "input" / "data" / name)
    for key, value in user.items():
        facts[f"hp_{key}"] = value
    env = base_env(root)
    env.update({f"SM_{key.upper()}": _env_value(value) for key, value in facts.items()})
    env.update(sandbox_aws_env(engine._require_endpoint(), job.region))
    env["TRAINING_JOB_NAME"] = job.name
    env["SAGEMAKER_JOB_NAME"] = job.name
    env["SAGEMAKER_PROGRAM"] = program
    env["SAGEMAKER_SUBMIT_DIRECTORY"] = source
    env["SAGEMAKER_REGION"] = job.region
    env.update({str(k): str(v) for k, v in (request.get("Environment") or {}).items()})
    command = [sys.executable, "-m", "sandbox.engine.pathmap", str(root), str(entry), *args]
    return command, env, code_dir


_ERROR_LINE = re.compile(r"^[\w.]*(Error|Exception|Interrupt|Exit)\b.*")


def write_failure(root: Path, command: list[str], exit_code: int, tail: list[str]) -> None:
    """output/failure as the toolkit writes it for a failed user script."""
    errors = [line for line in tail if _ERROR_LINE.match(line.strip())]
    message = "\n".join(errors[-3:]) if errors else "\n".join(tail[-3:])
    shown = ["python", Path(command[4]).name, *command[5:]] if len(command) > 4 else command
    text = (
        f'ExecuteUserScriptError:\nExitCode {exit_code}\nErrorMessage "{message}"\n'
        f'Command "{" ".join(shown)}", exit code: {exit_code}'
    )
    out = root / "output"
    out.mkdir(parents=True, exist_ok=True)
    (out / "failure").write_text(text)
