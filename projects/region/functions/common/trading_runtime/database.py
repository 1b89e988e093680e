"""PostgreSQL connections (pg8000, pure Python) to the Aurora writer and the local reader.

One connection per endpoint and container, opened lazily and reused across invocations; any
error on it discards it so the next use reconnects (Aurora promotions and reboots drop
connections, and the global writer endpoint moves to another region's writer).

Credentials come from the Secrets Manager secret named by ``DB_SECRET_ARN`` (JSON
``{"username", "password", "dbname", "port"}``), read once per container. A failed connection
also drops the cached secret, so a rotated password is picked up on the next attempt.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pg8000.native

from trading_runtime import aws
from trading_runtime.settings import DEFAULT_DB_NAME, DEFAULT_DB_PORT, RuntimeSettings

WRITER = "writer"
READER = "reader"
APPLICATION_NAME = "trading-region"

T = TypeVar("T")


class DatabaseConfigError(RuntimeError):
    """The database settings or the secret are unusable (names what is wrong)."""


@dataclass(frozen=True, slots=True)
class DatabaseCredentials:
    """The parts of the database secret the functions use."""

    username: str
    password: str = field(repr=False)  # never in a log line or a traceback's repr
    dbname: str | None
    port: int | None

    @classmethod
    def from_secret_string(cls, secret_string: str) -> DatabaseCredentials:
        """Parse the secret's JSON; errors name the key but never echo the value."""
        try:
            data = json.loads(secret_string)
        except ValueError as exc:
            raise DatabaseConfigError("database secret is not JSON") from exc
        if not isinstance(data, dict):
            raise DatabaseConfigError("database secret is not a JSON object")
        for key in ("username", "password"):
            if not isinstance(data.get(key), str) or not data[key]:
                raise DatabaseConfigError(f"database secret lacks a string {key!r}")
        port = data.get("port")
        if port is not None:
            try:
                port = int(port)
            except (TypeError, ValueError) as exc:
                raise DatabaseConfigError("database secret 'port' is not an integer") from exc
        dbname = data.get("dbname")
        return cls(
            username=data["username"],
            password=data["password"],
            dbname=dbname if isinstance(dbname, str) and dbname else None,
            port=port,
        )


_credentials: DatabaseCredentials | None = None
_connections: dict[str, pg8000.native.Connection] = {}


def get_credentials(settings: RuntimeSettings) -> DatabaseCredentials:
    """The database credentials of this container (fetched on first use)."""
    global _credentials
    if _credentials is None:
        if not settings.db_secret_arn:
            raise DatabaseConfigError("environment variable DB_SECRET_ARN is required")
        response = aws.secretsmanager().get_secret_value(SecretId=settings.db_secret_arn)
        _credentials = DatabaseCredentials.from_secret_string(response["SecretString"])
    return _credentials


def ssl_context_for(settings: RuntimeSettings) -> ssl.SSLContext | bool:
    """pg8000's ``ssl_context`` for ``DB_SSL``.

    ``require`` follows libpq: encrypted but not verified (Aurora's certificates chain to the
    RDS CAs, which are not in the Lambda trust store); ``verify-full`` verifies the chain and
    host name against ``DB_SSL_ROOT_CERT`` (the RDS bundle) or the system store.
    """
    if settings.db_ssl == "disable":
        return False
    if settings.db_ssl == "verify-full":
        return ssl.create_default_context(cafile=settings.db_ssl_root_cert)
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def connect(settings: RuntimeSettings, role: str, timeout: float | None = None) -> pg8000.native.Connection:
    """A new connection to the writer (global writer endpoint) or the local reader."""
    host = settings.db_writer_endpoint if role == WRITER else settings.db_reader_endpoint
    variable = "DB_WRITER_ENDPOINT" if role == WRITER else "DB_READER_ENDPOINT"
    if not host:
        raise DatabaseConfigError(f"environment variable {variable} is required")
    credentials = get_credentials(settings)
    timeout = timeout if timeout is not None else settings.db_connect_timeout
    try:
        return pg8000.native.Connection(
            user=credentials.username,
            password=credentials.password,
            host=host,
            port=settings.db_port or credentials.port or DEFAULT_DB_PORT,
            database=settings.db_name or credentials.dbname or DEFAULT_DB_NAME,
            ssl_context=ssl_context_for(settings),
            # The socket timeout bounds the connect and every round trip; the server-side
            # statement timeout stops work the client has given up on.
            timeout=timeout,
            application_name=APPLICATION_NAME,
            startup_params={"statement_timeout": str(int(timeout * 1000))},
        )
    except Exception:
        _drop_credentials()
        raise


def run(
    settings: RuntimeSettings,
    role: str,
    work: Callable[[pg8000.native.Connection], T],
    timeout: float | None = None,
) -> T:
    """Run ``work`` on this container's cached ``role`` connection (opened if needed).

    ``timeout`` (seconds) applies when a new connection is opened; default
    ``DB_CONNECT_TIMEOUT``.

    Any exception discards the connection (it may be broken or mid-transaction) and is
    re-raised; the caller decides whether to retry.
    """
    connection = _connections.get(role)
    if connection is None:
        connection = connect(settings, role, timeout)
        _connections[role] = connection
    try:
        return work(connection)
    except Exception:
        discard(role)
        raise


def run_with_reconnect(
    settings: RuntimeSettings,
    role: str,
    work: Callable[[pg8000.native.Connection], T],
    timeout: float | None = None,
) -> T:
    """Like :func:`run`, but retries once on a fresh connection if a *reused* one failed.

    A connection cached from an earlier invocation may have been cut (idle timeout, failover,
    reboot); that alone must not fail a health check or a settlement.
    """
    reused = role in _connections
    try:
        return run(settings, role, work, timeout)
    except Exception as exc:
        if not reused or not is_connection_loss(exc):
            raise
        return run(settings, role, work, timeout)


# SQLSTATE classes/codes meaning "this connection is gone", not "this statement is wrong":
# 08 connection exception, 57P01-57P03 admin/crash shutdown and "cannot connect now".
_CONNECTION_LOSS_CODES = ("08", "57P01", "57P02", "57P03")


def is_connection_loss(exc: BaseException) -> bool:
    """True when ``exc`` means the connection broke (worth one retry on a new connection)."""
    if isinstance(exc, pg8000.native.InterfaceError | OSError):
        return True
    if isinstance(exc, pg8000.native.DatabaseError) and exc.args:
        details = exc.args[0]
        code = details.get("C", "") if isinstance(details, dict) else ""
        return any(code.startswith(prefix) for prefix in _CONNECTION_LOSS_CODES)
    return False


def discard(role: str) -> None:
    """Close and forget the cached ``role`` connection."""
    connection = _connections.pop(role, None)
    if connection is not None:
        _close_quietly(connection)


def reset() -> None:
    """Close every cached connection and forget the secret."""
    for role in list(_connections):
        discard(role)
    _drop_credentials()


def _drop_credentials() -> None:
    global _credentials
    _credentials = None


def _close_quietly(connection: Any) -> None:
    try:
        connection.close()
    except Exception:  # noqa: BLE001, S110 - the connection is being thrown away anyway
        pass
