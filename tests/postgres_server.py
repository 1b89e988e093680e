"""A throwaway PostgreSQL server for tests: a real ``postgres`` process, not a mock.

Usage::

    with PostgresServer() as server:
        conn = pg8000.native.Connection(**server.connect_kwargs())

It runs ``initdb`` into a temporary directory, listens only on 127.0.0.1 (on a free port) and
on a socket directory inside the temporary directory, creates an application role with a
password (SCRAM over TCP, so the code under test exercises password authentication) and a
database owned by it, and on :meth:`stop` shuts the server down and deletes everything.

``initdb`` refuses to run as root. As root, the temporary directory is handed to the
``postgres`` user and every server binary runs through ``runuser -u postgres --``; as any other
user the binaries run directly. Missing binaries raise :class:`PostgresServerError` with the
paths that were searched — a test session that needs the database must fail, not skip.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Any

DEFAULT_BIN_DIRS = ("/usr/lib/postgresql/15/bin",)
BIN_DIR_ENV = "TEST_POSTGRES_BIN_DIR"
SERVER_USER = "postgres"


class PostgresServerError(RuntimeError):
    """The test server could not be found, started or configured."""


def find_bin_dir() -> Path:
    """The directory holding ``initdb``, ``pg_ctl`` and ``postgres``."""
    candidates = [os.environ[BIN_DIR_ENV]] if os.environ.get(BIN_DIR_ENV) else []
    candidates += list(DEFAULT_BIN_DIRS)
    for candidate in candidates:
        path = Path(candidate)
        if all((path / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return path
    raise PostgresServerError(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found in "
        f"{', '.join(candidates)}; install postgresql-15 or set {BIN_DIR_ENV}"
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """One PostgreSQL server in a temporary directory; see the module docstring."""

    def __init__(
        self,
        database: str = "trading",
        user: str = "trading_app",
        password: str = "test-password-not-secret",
        bin_dir: Path | None = None,
    ) -> None:
        self.database = database
        self.user = user
        self.password = password
        self.host = "127.0.0.1"
        self.port = 0
        self._bin_dir = bin_dir
        self._root: Path | None = None
        self._started = False

    # -- paths -------------------------------------------------------------------------------
    @property
    def root(self) -> Path:
        if self._root is None:
            raise PostgresServerError("server not started")
        return self._root

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "sock"

    @property
    def log_file(self) -> Path:
        return self.root / "postgres.log"

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> PostgresServer:
        """initdb, start on a free port, create the role and the database."""
        bin_dir = self._bin_dir or find_bin_dir()
        self._bin_dir = bin_dir
        self._root = Path(tempfile.mkdtemp(prefix="trading-pg-"))
        atexit.register(self.stop)
        self.socket_dir.mkdir()
        if os.geteuid() == 0:
            entry = pwd.getpwnam(SERVER_USER)
            os.chmod(self._root, 0o755)
            for path in (self._root, self.socket_dir):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self._run(
            "initdb",
            "-D",
            str(self.data_dir),
            "-U",
            "postgres",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        last_error: PostgresServerError | None = None
        for _attempt in range(3):  # the free port can be taken between probe and bind
            self.port = free_port()
            try:
                self._pg_ctl_start()
                self._started = True
                break
            except PostgresServerError as exc:
                last_error = exc
        if not self._started:
            self.stop()
            raise last_error or PostgresServerError("postgres did not start")
        try:
            self._bootstrap()
        except Exception:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the server (immediate shutdown) and delete its directory; safe to repeat."""
        if self._root is None:
            return
        if self._started and self._bin_dir is not None:
            with contextlib.suppress(PostgresServerError):
                self._run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop")
            self._started = False
        shutil.rmtree(self._root, ignore_errors=True)
        self._root = None

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # -- connecting --------------------------------------------------------------------------
    def connect_kwargs(self) -> dict[str, Any]:
        """pg8000 arguments for the application role over TCP (password auth)."""
        return {
            "user": self.user,
            "password": self.password,
            "host": self.host,
            "port": self.port,
            "database": self.database,
        }

    def admin_connection(self, database: str = "postgres") -> Any:
        """A superuser connection over the Unix socket (trust auth)."""
        import pg8000.native

        return pg8000.native.Connection(
            user="postgres",
            unix_sock=str(self.socket_dir / f".s.PGSQL.{self.port}"),
            database=database,
        )

    def reset_database(self) -> None:
        """Drop and recreate the application database (a clean slate for one test)."""
        admin = self.admin_connection()
        try:
            admin.run(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            admin.run(f'CREATE DATABASE "{self.database}" OWNER "{self.user}"')
        finally:
            admin.close()

    # -- internals ---------------------------------------------------------------------------
    def _pg_ctl_start(self) -> None:
        options = " ".join(
            [
                f"-p {self.port}",
                f"-c listen_addresses={self.host}",
                f"-k {self.socket_dir}",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=200",
            ]
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log_file),
            "-o",
            options,
            "-w",
            "-t",
            "30",
            "start",
        )

    def _bootstrap(self) -> None:
        admin = self.admin_connection()
        try:
            admin.run(f"CREATE ROLE \"{self.user}\" LOGIN PASSWORD '{self.password}'")
            admin.run(f'CREATE DATABASE "{self.database}" OWNER "{self.user}"')
        finally:
            admin.close()

    def _run(self, binary: str, *args: str) -> None:
        assert self._bin_dir is not None
        command = [str(self._bin_dir / binary), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
        if result.returncode != 0:
            log = ""
            if self._root is not None and self.log_file.exists():
                log = self.log_file.read_text(errors="replace")[-2000:]
            raise PostgresServerError(
                f"{binary} failed ({result.returncode}): {result.stderr.strip()}\n{log}"
            )
