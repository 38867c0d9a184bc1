"""The server's settings: command-line options over ``MEMLANE_*`` variables over the config file.

The config file is memlane's JSON config (``Memory.from_config``'s dict) with an optional
``"server"`` section holding the fields below (``{"server": {"max_body_bytes": 2097152,
"cors_origins": ["https://app.example"]}}``); the section is taken out before the rest builds the
tenants' memories. Every field can also come from ``MEMLANE_<FIELD>`` (``MEMLANE_PORT=8080``,
``MEMLANE_CORS_ORIGINS=https://a.example,https://b.example``, ``MEMLANE_NO_AUTH=1``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from memlane import ConfigError
from memlane.redact import redact_text

__all__ = ["SETTINGS_ENV", "ServerSettings", "check_binding", "load_settings"]

_LOOPBACK = "127.0.0.1"
SETTINGS_ENV = "MEMLANE_SERVER_SETTINGS"
"""Where ``memlane serve`` hands the resolved settings to its worker processes (JSON)."""


class ServerSettings(BaseModel):
    """What ``memlane serve`` runs with."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    host: str = _LOOPBACK
    port: int = Field(default=8000, ge=0, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    db: str | None = Field(default=None, description="SQLite database of the default tenant")
    no_auth: bool = Field(default=False, description="serve without keys (127.0.0.1 only)")
    keys: str | None = Field(default=None, description="keys database; default $MEMLANE_DIR/keys.db")
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024, description="larger bodies get 413")
    cors_origins: list[str] = Field(default_factory=list, description="origins allowed by CORS; none: off")
    log_level: str = Field(default="info", pattern="^(critical|error|warning|info|debug)$")
    graceful_timeout: float = Field(default=30.0, ge=0, description="seconds in-flight requests get at exit")
    memory_config: dict[str, Any] = Field(default_factory=dict, description="the base Memory config")

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    def keys_path(self) -> Path:
        from memlane.server.keys import default_keys_path

        return Path(self.keys) if self.keys else default_keys_path()

    def base_config(self) -> dict[str, Any]:
        """The base Memory config, with ``db`` (when given) as the SQLite store's path."""
        config = dict(self.memory_config)
        if self.db is None:
            return config
        section = dict(config.get("vector_store") or {})
        if section.get("provider", "sqlite") != "sqlite":
            raise ConfigError(
                f"--db applies to the sqlite store, but the config chooses {section['provider']!r}"
            )
        section["config"] = {**(section.get("config") or {}), "path": self.db}
        config["vector_store"] = {**section, "provider": "sqlite"}
        return config


_FIELDS = tuple(name for name in ServerSettings.model_fields if name != "memory_config")


def _from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _FIELDS:
        value = environ.get(f"MEMLANE_{name.upper()}")
        if value is not None and value != "":
            out[name] = value
    if "no_auth" in out:
        out["no_auth"] = out["no_auth"].strip().lower() in ("1", "true", "yes", "on")
    return out


def _read_file(path: str) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read the config file {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"the config file {path} must hold a JSON object")
    return data


def load_settings(
    options: Mapping[str, Any], config_file: str | None = None, environ: Mapping[str, str] | None = None
) -> ServerSettings:
    """Settings from ``options`` (those not None), then ``MEMLANE_*``, then the file's ``server`` section."""
    memory_config = _read_file(config_file) if config_file else {}
    server_section = memory_config.pop("server", None) or {}
    if not isinstance(server_section, dict):
        raise ConfigError("the config file's 'server' section must be a JSON object")
    fields = {**server_section, **_from_env(os.environ if environ is None else environ)}
    fields.update({k: v for k, v in options.items() if v is not None})
    try:
        return ServerSettings(**fields, memory_config=memory_config)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(redact_text(f"invalid server settings: {problems}")) from None


def check_binding(settings: ServerSettings, has_keys: bool) -> None:
    """Refuse to serve without keys (unless --no-auth), and without auth anywhere but loopback."""
    if settings.no_auth:
        if settings.host not in (_LOOPBACK, "localhost", "::1"):
            raise ConfigError(
                f"--no-auth serves every tenant's memories to anyone who can connect: it listens on "
                f"{_LOOPBACK} only (got --host {settings.host}); create a key with "
                "`memlane keys create --tenant default` to serve other hosts"
            )
        return
    if not has_keys:
        raise ConfigError(
            f"no API key in {settings.keys_path()}: create one with `memlane keys create --tenant NAME` "
            "(or serve on 127.0.0.1 without keys with --no-auth)"
        )
