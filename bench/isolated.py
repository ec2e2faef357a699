"""The environment of a benchmarked process: a new user with no AWS configuration and a
temporary home and state directory, in a 120×40 terminal (shared by the process benchmarks)."""

from __future__ import annotations

import os
import tempfile


def isolated_env(home: str | None = None, *, write_bytecode: bool = False) -> dict[str, str]:
    """`write_bytecode`: write byte-code as an installed package does (drop
    PYTHONDONTWRITEBYTECODE), for start-up figures a user would see after the first run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SAGECOACH_"))}
    if write_bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    home = home or tempfile.mkdtemp(prefix="sagecoach-bench-")
    env.update(
        HOME=home,
        XDG_STATE_HOME=f"{home}/state",
        XDG_CONFIG_HOME=f"{home}/config",
        AWS_CONFIG_FILE=f"{home}/absent",
        AWS_SHARED_CREDENTIALS_FILE=f"{home}/absent",
        AWS_EC2_METADATA_DISABLED="true",
        TERM="xterm-256color",
        COLUMNS="120",
        LINES="40",
    )
    return env
