"""One settings object: flags override SAGECOACH_* variables, which override config.toml.

Kept free of heavy imports: the command line loads it before the first frame.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

import platformdirs
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

APP_NAME = "sagecoach"

Mode = Literal["ask", "read-only", "dry-run", "auto", "yes"]
SandboxChoice = Literal["auto", "on", "off"]
MODES: tuple[str, ...] = ("ask", "read-only", "dry-run", "auto", "yes")


class SettingsError(Exception):
    """A configuration value a person has to fix; the message names the key and where it came from."""


def default_config_file() -> Path:
    """`config.toml` in the platform's user config directory (honours XDG_CONFIG_HOME)."""
    override = os.environ.get("SAGECOACH_CONFIG")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def _default_state_dir() -> Path:
    return Path(platformdirs.user_state_dir(APP_NAME))


def _default_log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_NAME))


class _TomlSource(PydanticBaseSettingsSource):
    """Reads config.toml; a malformed file raises SettingsError naming the file."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path) -> None:
        super().__init__(settings_cls)
        self.path = path

    def get_field_value(
        self, field: Any, field_name: str
    ) -> tuple[Any, str, bool]:  # pragma: no cover
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        if not self.path.is_file():
            return {}
        try:
            data = tomllib.loads(self.path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SettingsError(f"{self.path}: not valid TOML ({exc})") from exc
        # Accept both a flat file and a [sagecoach] table.
        table = data.get(APP_NAME, data)
        known = set(self.settings_cls.model_fields)
        unknown = sorted(k for k in table if k not in known and not isinstance(table[k], dict))
        if unknown:
            raise SettingsError(
                f"{self.path}: unknown key '{unknown[0]}' (known keys: {', '.join(sorted(known))})"
            )
        return {k: v for k, v in table.items() if k in known}


class Settings(BaseSettings):
    """Everything a session needs to know before it starts."""

    model_config = SettingsConfigDict(
        env_prefix="SAGECOACH_", extra="ignore", validate_default=True
    )

    model: Annotated[
        str | None,
        Field(
            description="Chat model: 'offline', 'bedrock_converse:<model id>' or any "
            "'provider:model' init_chat_model understands. Empty: chosen by credentials."
        ),
    ] = None
    region: Annotated[
        str | None, Field(description="AWS region; empty uses the AWS default chain.")
    ] = None
    profile: Annotated[str | None, Field(description="AWS named profile.")] = None
    sandbox: Annotated[
        SandboxChoice, Field(description="auto: sandbox when no AWS credentials are found.")
    ] = "auto"
    mode: Annotated[Mode, Field(description="Approval mode.")] = "ask"
    budget_usd_per_call: Annotated[
        float, Field(ge=0, description="auto mode: largest estimate (USD) that runs unasked.")
    ] = 5.0
    budget_usd_per_session: Annotated[
        float,
        Field(
            ge=0, description="auto mode: total estimated spend (USD) a session may run unasked."
        ),
    ] = 20.0
    turn_model_calls: Annotated[
        int,
        Field(
            ge=1,
            le=1000,
            description="Model calls one turn may make, approval rounds included; then it stops.",
        ),
    ] = 25
    turn_seconds: Annotated[
        float,
        Field(
            gt=0,
            le=86_400,
            description="Wall time (s) after which a turn makes no further model calls.",
        ),
    ] = 900.0
    role_arn: Annotated[
        str | None,
        Field(
            description="Default IAM execution role for SageMaker, Glue, DataBrew and Lambda "
            "(tools use it when a request names none). Empty: none, or in the sandbox a role "
            "sagecoach creates there."
        ),
    ] = None
    state_dir: Annotated[Path, Field(description="Audit log, conversations, ledger, caches.")] = (
        Field(default_factory=_default_state_dir)
    )
    log_dir: Annotated[Path, Field(description="Diagnostic logs.")] = Field(
        default_factory=_default_log_dir
    )
    aws_connect_timeout_s: Annotated[
        float,
        Field(gt=0, le=120, description="Seconds to wait for a connection to an AWS endpoint."),
    ] = 3.0
    aws_read_timeout_s: Annotated[
        float,
        Field(
            gt=0,
            le=900,
            description="Seconds to wait for an AWS answer (Bedrock gets at least 60).",
        ),
    ] = 15.0
    audit_key_file: Annotated[
        Path | None,
        Field(
            description="Key for the audit log's keyed (HMAC) chain, kept outside the state "
            "directory. Empty: ~/.config/sagecoach/audit.key when it exists (`sagecoach log "
            "init-key` creates it)."
        ),
    ] = None

    @field_validator("region")
    @classmethod
    def _region_shape(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        import re

        if not re.fullmatch(r"[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d", value):
            raise ValueError(f"'{value}' is not an AWS region name (for example us-east-1)")
        return value

    @field_validator("role_arn")
    @classmethod
    def _role_shape(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        from tools.core.validators import check_role_arn

        return check_role_arn(value.strip())

    @field_validator("state_dir", "log_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return Path(value).expanduser()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlSource(settings_cls, default_config_file()))

    @property
    def audit_dir(self) -> Path:
        return self.state_dir / "audit"

    @property
    def audit_key_path(self) -> Path:
        from agent.audit_head import default_key_file

        return Path(self.audit_key_file).expanduser() if self.audit_key_file else default_key_file()


def _source_of(key: str) -> str:
    if f"SAGECOACH_{key.upper()}" in os.environ:
        return f"environment variable SAGECOACH_{key.upper()}"
    return str(default_config_file())


def load_settings(**flags: Any) -> Settings:
    """Build settings; flags whose value is None are treated as not given.

    Raises SettingsError with a one-line message naming the key and its source.
    """
    given = {k: v for k, v in flags.items() if v is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = str(err["loc"][0]) if err["loc"] else "?"
        where = "command-line flag --" + key.replace("_", "-") if key in given else _source_of(key)
        msg = err["msg"].removeprefix("Value error, ")
        raise SettingsError(f"invalid value for '{key}' ({where}): {msg}") from None
