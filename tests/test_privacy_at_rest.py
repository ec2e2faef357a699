"""Privacy at rest: redaction of a corpus of realistic secrets, owner-only state files.

The corpus (tests/data/secrets_corpus.jsonl) holds the kinds of secrets people paste: AWS
keys and session tokens, passwords in prose, connection strings and CSV columns, private-key
blocks, vendor tokens. Every one must be gone from what is written; the control list
(tests/data/not_secrets.json) must come through unchanged.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from agent.audit import AuditLog, verify
from tools.core.private_files import is_private, secure_tree
from tools.core.redact import redact, redact_text
from tools.core.results import Resource
from tools.ledger.store import ResourceLedger
from tui.history import PromptHistory

DATA = Path(__file__).parent / "data"
CORPUS = [json.loads(line) for line in (DATA / "secrets_corpus.jsonl").read_text().splitlines()]
NOT_SECRETS = json.loads((DATA / "not_secrets.json").read_text())


def leaks(text: str) -> list[str]:
    return [f"{e['kind']}: {s}" for e in CORPUS for s in e["secrets"] if s in text]


@pytest.mark.parametrize("entry", CORPUS, ids=[e["kind"] for e in CORPUS])
def test_each_corpus_secret_is_redacted(entry: dict[str, Any]) -> None:
    as_text = redact_text(entry["text"])
    as_value = json.dumps(redact({"note": entry["text"], "rows": [{"cell": entry["text"]}]}))
    for secret in entry["secrets"]:
        assert secret not in as_text, (secret, as_text)
        assert secret not in as_value, (secret, as_value)
    assert "***" in as_text


def test_ordinary_values_are_left_alone() -> None:
    for text in NOT_SECRETS:
        assert redact_text(text) == text


def test_the_audit_log_on_disk_holds_none_of_the_corpus(tmp_path: Path) -> None:
    log = AuditLog(tmp_path, "s")
    for entry in CORPUS:
        log.append("user_message", {"text": entry["text"]})
        log.append("tool_call", {"name": "x", "args": {"body": entry["text"]}})
    log.close()
    on_disk = "".join(p.read_text() for p in tmp_path.iterdir() if p.is_file())
    assert leaks(on_disk) == []
    assert verify(tmp_path).ok


def test_the_ledger_keeps_no_environment_secrets(tmp_path: Path) -> None:
    ledger = ResourceLedger.in_state_dir(tmp_path / "state")
    request = {
        "ModelName": "m",
        "PrimaryContainer": {
            "Environment": {
                "DB_PASSWORD": "hunter2-env",
                "HF_TOKEN": "hf_AbCdEfGhIjKlMnOpQrStUvWxYz01234567",
                "DATABASE_URL": "postgresql://u:pg-Pa55w0rd!@db:5432/x",
                "MODEL_NAME": "churn",
            }
        },
    }
    ledger.record(Resource("sagemaker_model", "m", extra={"request": request}), session_id="s")
    text = (tmp_path / "state" / "ledger.json").read_text()
    for secret in ("hunter2-env", "hf_AbCdEfGhIjKlMnOpQrStUvWxYz01234567", "pg-Pa55w0rd!"):
        assert secret not in text
    assert '"MODEL_NAME": "churn"' in text
    assert is_private(tmp_path / "state" / "ledger.json")
    assert is_private(tmp_path / "state")


def test_prompt_history_is_private_and_redacted(tmp_path: Path) -> None:
    path = tmp_path / "state" / "prompt_history.jsonl"
    history = PromptHistory(path)
    history.add("connect with password: hunter2-typed")
    history.add("list my buckets")
    assert history.entries[-2] == "connect with password: hunter2-typed"  # this session's Up
    assert "hunter2-typed" not in path.read_text()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert PromptHistory(path).entries == ["connect with password: ***", "list my buckets"]


def test_secure_tree_repairs_modes_left_open(tmp_path: Path) -> None:
    state = tmp_path / "state"
    (state / "exports").mkdir(parents=True)
    os.chmod(state, 0o755)
    os.chmod(state / "exports", 0o777)
    for name, mode in (("conversations.sqlite", 0o644), ("exports/c.md", 0o666), ("run.sh", 0o755)):
        (state / name).write_text("x")
        os.chmod(state / name, mode)
    fixed = secure_tree(state)
    assert len(fixed) == 5
    modes = {
        p.relative_to(state).as_posix(): stat.S_IMODE(os.stat(p).st_mode)
        for p in [state, *state.rglob("*")]
    }
    assert modes == {
        ".": 0o700,
        "exports": 0o700,
        "conversations.sqlite": 0o600,
        "exports/c.md": 0o600,
        "run.sh": 0o700,  # the owner keeps the execute bit
    }
    assert secure_tree(state) == []


async def test_a_session_keeps_every_state_file_private(
    tmp_path: Path, sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agent.settings import Settings
    from agent.startup import open_session
    from tests.scripted_model import ScriptedChatModel
    from tests.test_runtime import TOOLS, collect

    state = tmp_path / "state"
    state.mkdir(mode=0o755)
    os.chmod(state, 0o755)
    (state / "conversations.sqlite").touch(mode=0o644)
    os.chmod(state / "conversations.sqlite", 0o644)  # as an older version left it
    settings = Settings(state_dir=state, sandbox="on")
    model = ScriptedChatModel(script=["Noted."])
    session = await open_session(
        settings, model=model, sandbox_endpoint=sandbox.endpoint, tools=TOOLS, retry_delay=0.0
    )
    try:
        await collect(session.send("my password is hunter2-chat"))
    finally:
        await session.aclose()
    paths = [state, *state.rglob("*")]
    assert {p.name for p in paths} >= {"conversations.sqlite", "audit", "audit-head.json"}
    assert [str(p) for p in paths if not is_private(p)] == []
    audit_text = "".join(p.read_text() for p in (state / "audit").glob("audit-*.jsonl"))
    assert "hunter2-chat" not in audit_text and "my password is ***" in audit_text
