"""Prompt texts (markdown), shipped as package data and loaded with importlib.resources.
Imports nothing of ours; read by agent (and shown by tui).
"""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def load_prompt(name: str) -> str:
    """The text of prompts/<name>.md."""
    return resources.files(__name__).joinpath(f"{name}.md").read_text(encoding="utf-8")


def system_prompt(*, account: str, region: str, sandbox: bool) -> str:
    """The agent's system prompt with the session's facts filled in."""
    note = " — this is the SANDBOX: a local emulation, nothing reaches real AWS" if sandbox else ""
    return (
        load_prompt("system")
        .replace("{account}", account)
        .replace("{region}", region)
        .replace("{sandbox_note}", note)
        .strip()
    )
