"""Settings of the regional functions, read once per container from the environment.

The variable names are a contract with the ``trading-region`` Pulumi project, which sets them:

``TABLE_NAME``            DynamoDB global table (orders, control record)
``DB_SECRET_ARN``         Secrets Manager secret, JSON ``{"username", "password", "dbname", "port"}``
``DB_WRITER_ENDPOINT``    Aurora *global* writer endpoint (follows the writer after a promotion)
``DB_READER_ENDPOINT``    this region's reader endpoint
``DB_PORT``               default: the secret's ``port``, else 5432
``DB_NAME``               default: the secret's ``dbname``, else ``trading``
``REGION_NAME``           this function's region; falls back to ``AWS_REGION`` (set by Lambda)
``ENVIRONMENT``           environment name, for logs only
``POWERTOOLS_SERVICE_NAME`` read by powertools itself
``DB_CONNECT_TIMEOUT``    seconds, default 5
``DB_SSL``                ``require`` (TLS, libpq semantics: encrypted, not verified),
                          ``verify-full`` (TLS verified against ``DB_SSL_ROOT_CERT`` or the system
                          store), ``disable`` (tests only)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_DB_NAME = "trading"
DEFAULT_DB_PORT = 5432
DEFAULT_CONNECT_TIMEOUT_SECONDS = 5.0
SSL_MODES = ("require", "verify-full", "disable")


class SettingsError(RuntimeError):
    """An environment variable is missing or has a value the functions cannot use."""


@dataclass(frozen=True, slots=True)
class RuntimeSettings:
    """Typed view of the function environment; see the module docstring for each variable."""

    table_name: str
    region: str
    environment: str
    db_secret_arn: str
    db_writer_endpoint: str
    db_reader_endpoint: str
    db_port: int | None
    db_name: str | None
    db_connect_timeout: float
    db_ssl: str
    db_ssl_root_cert: str | None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RuntimeSettings:
        """Parse settings from ``env`` (default ``os.environ``); errors name the variable."""
        env = os.environ if env is None else env

        def required(name: str) -> str:
            value = env.get(name, "").strip()
            if not value:
                raise SettingsError(f"environment variable {name} is required and is empty")
            return value

        region = env.get("REGION_NAME", "").strip() or env.get("AWS_REGION", "").strip()
        if not region:
            raise SettingsError("environment variable REGION_NAME (or AWS_REGION) is required")

        db_port: int | None = None
        raw_port = env.get("DB_PORT", "").strip()
        if raw_port:
            if not raw_port.isdigit() or not 0 < int(raw_port) < 65536:
                raise SettingsError(f"DB_PORT={raw_port!r} is not a TCP port (1-65535)")
            db_port = int(raw_port)

        raw_timeout = env.get("DB_CONNECT_TIMEOUT", "").strip()
        timeout = DEFAULT_CONNECT_TIMEOUT_SECONDS
        if raw_timeout:
            try:
                timeout = float(raw_timeout)
            except ValueError:
                timeout = -1.0
            if not 0 < timeout <= 60:
                raise SettingsError(
                    f"DB_CONNECT_TIMEOUT={raw_timeout!r} must be a number of seconds in (0, 60]"
                )

        db_ssl = env.get("DB_SSL", "").strip() or "require"
        if db_ssl not in SSL_MODES:
            raise SettingsError(f"DB_SSL={db_ssl!r} is not one of {', '.join(SSL_MODES)}")

        return cls(
            table_name=required("TABLE_NAME"),
            region=region,
            environment=env.get("ENVIRONMENT", "").strip() or "unknown",
            # The database variables are checked where they are used: the API's order routes
            # must keep working (and /health must report "database": "error") without them.
            db_secret_arn=env.get("DB_SECRET_ARN", "").strip(),
            db_writer_endpoint=env.get("DB_WRITER_ENDPOINT", "").strip(),
            db_reader_endpoint=env.get("DB_READER_ENDPOINT", "").strip(),
            db_port=db_port,
            db_name=env.get("DB_NAME", "").strip() or None,
            db_connect_timeout=timeout,
            db_ssl=db_ssl,
            db_ssl_root_cert=env.get("DB_SSL_ROOT_CERT", "").strip() or None,
        )


_settings: RuntimeSettings | None = None


def get_settings() -> RuntimeSettings:
    """The settings of this container, parsed on first use."""
    global _settings
    if _settings is None:
        _settings = RuntimeSettings.from_env()
    return _settings


def reset() -> None:
    """Drop the cached settings (tests change the environment between cases)."""
    global _settings
    _settings = None
