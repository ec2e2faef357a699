"""Settings precedence (flag > env > config.toml > default) and one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from agent.settings import SettingsError, default_config_file, load_settings


def write_config(text: str) -> Path:
    path = default_config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_defaults_come_from_platform_dirs(isolated_env: Path) -> None:
    s = load_settings()
    assert s.mode == "ask" and s.sandbox == "auto" and s.model is None
    assert s.budget_usd_per_call == 5.0
    assert str(s.state_dir).startswith(str(isolated_env / ".local/state"))
    assert s.audit_dir == s.state_dir / "audit"


def test_config_file_then_env_then_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    write_config('mode = "auto"\nregion = "eu-west-1"\nbudget_usd_per_call = 7.5\n')
    s = load_settings()
    assert (s.mode, s.region, s.budget_usd_per_call) == ("auto", "eu-west-1", 7.5)
    monkeypatch.setenv("SAGECOACH_MODE", "dry-run")
    monkeypatch.setenv("SAGECOACH_STATE_DIR", "/tmp/sc-state-x")
    s = load_settings()
    assert s.mode == "dry-run" and s.region == "eu-west-1" and str(s.state_dir) == "/tmp/sc-state-x"
    s = load_settings(mode="read-only", region=None)
    assert s.mode == "read-only" and s.region == "eu-west-1"


def test_table_form_of_config_file() -> None:
    write_config('[sagecoach]\nsandbox = "on"\n')
    assert load_settings().sandbox == "on"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("flag", "command-line flag --mode"),
        ("env", "SAGECOACH_MODE"),
        ("file", "config.toml"),
    ],
)
def test_unknown_mode_names_key_and_source(
    source: str, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    flags = {}
    if source == "flag":
        flags["mode"] = "sometimes"
    elif source == "env":
        monkeypatch.setenv("SAGECOACH_MODE", "sometimes")
    else:
        write_config('mode = "sometimes"\n')
    with pytest.raises(SettingsError) as err:
        load_settings(**flags)
    message = str(err.value)
    assert "'mode'" in message and expected in message and "\n" not in message


def test_negative_budget_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAGECOACH_BUDGET_USD_PER_SESSION", "-3")
    with pytest.raises(SettingsError, match="budget_usd_per_session"):
        load_settings()


def test_malformed_toml_names_file() -> None:
    path = write_config("mode = \n")
    with pytest.raises(SettingsError, match="not valid TOML") as err:
        load_settings()
    assert str(path) in str(err.value)


def test_unknown_key_in_file() -> None:
    write_config('moed = "ask"\n')
    with pytest.raises(SettingsError, match="unknown key 'moed'"):
        load_settings()


def test_bad_region() -> None:
    with pytest.raises(SettingsError, match="not an AWS region"):
        load_settings(region="useast1")


def test_cli_exits_2_with_one_line_no_traceback() -> None:
    for argv in (["doctor", "--mode", "never"], ["--mode", "never", "doctor"]):
        proc = subprocess.run(
            [sys.executable, "-m", "tui.cli", *argv], capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 2, argv
        assert "Traceback" not in proc.stderr
        assert proc.stderr.strip().count("\n") == 0
        assert "invalid value for 'mode'" in proc.stderr
