"""Finding the warehouse: a configured PostgreSQL, or an embedded one the project starts itself.

One resolver, `warehouse_dsn()`, for every caller. Order: the Airflow connection `warehouse_db` (inside an
Airflow process: however Airflow finds it; elsewhere AIRFLOW_CONN_WAREHOUSE_DB, URI or JSON), then
WAREHOUSE_DSN, then an embedded server (the `pgserver` package's PostgreSQL binaries) with its data in
WAREHOUSE_EMBEDDED_DIR (default ./.warehouse) on WAREHOUSE_EMBEDDED_PORT (55432), started on first use and
reused afterwards.

The embedded server listens on 127.0.0.1 rather than only on a socket, because dbt, Cosmos's Asset URIs and
the API all want a host and a port.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit, urlunsplit

from medical_telegram import connections

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)

CONN_ID = connections.WAREHOUSE
EMBEDDED_PORT = 55432


class WarehouseError(RuntimeError):
    pass


def _dsn_from_fields(login: str | None, password: str | None, host: str | None, port, database: str | None) -> str:
    user = quote(login or "", safe="")
    auth = f"{user}:{quote(password, safe='')}@" if password else (f"{user}@" if user else "")
    return f"postgresql://{auth}{host or '127.0.0.1'}{f':{port}' if port else ''}/{database or 'postgres'}"


def dsn_from_airflow_conn(value) -> str:
    """A libpq URI from an Airflow connection: a Connection object, or an AIRFLOW_CONN_* value (URI or JSON)."""
    if not isinstance(value, str):  # a Connection (airflow.sdk or airflow.models)
        return _dsn_from_fields(value.login, value.password, value.host, value.port, value.schema)
    value = value.strip()
    if value.startswith("{"):
        conn = json.loads(value)
        return _dsn_from_fields(conn.get("login"), conn.get("password"), conn.get("host"), conn.get("port"),
                                conn.get("schema") or conn.get("database"))
    parts = urlsplit(value)
    if parts.scheme not in ("postgres", "postgresql"):
        raise WarehouseError(f"{CONN_ID} must be a postgres connection, got scheme {parts.scheme!r}")
    return urlunsplit(("postgresql", parts.netloc, parts.path, parts.query, ""))


def configured_dsn(*, ask_airflow: bool = True) -> str | None:
    """The configured warehouse, or None when there is none (then warehouse_dsn() starts the embedded one).

    ask_airflow=False reads the environment only (DAG parsing: no round trip to Airflow's database)."""
    if ask_airflow and (conn := connections.airflow_connection(CONN_ID)) is not None:
        return dsn_from_airflow_conn(conn)
    if value := os.environ.get("AIRFLOW_CONN_WAREHOUSE_DB"):
        return dsn_from_airflow_conn(value)
    return os.environ.get("WAREHOUSE_DSN") or None


def embedded_port() -> int:
    return int(os.environ.get("WAREHOUSE_EMBEDDED_PORT") or EMBEDDED_PORT)


def warehouse_dsn() -> str:
    """The DSN of the warehouse, starting the embedded server when nothing is configured."""
    return configured_dsn() or EmbeddedPostgres().start()


def address(dsn: str) -> tuple[str, int, str]:
    """(host, port, database) of a libpq DSN, URI or key=value, without connecting (and without psycopg)."""
    if "://" in dsn:
        parts = urlsplit(dsn)
        return parts.hostname or "127.0.0.1", parts.port or 5432, parts.path.lstrip("/") or "postgres"
    fields = dict(item.split("=", 1) for item in shlex.split(dsn) if "=" in item)
    return fields.get("host") or "127.0.0.1", int(fields.get("port") or 5432), fields.get("dbname") or "postgres"


# libpq's password parameters, in a query string (`?password=...`) or a key=value DSN (`password='a b'`).
_QUERY_PASSWORD = re.compile(r"([?&](?:ssl)?password=)[^&#]*", re.IGNORECASE)
_KEYWORD_PASSWORD = re.compile(r"(\b(?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.)*'?|\S*)", re.IGNORECASE)


def redact(dsn: str) -> str:
    """The DSN with its passwords hidden, for logs and messages: a URI's user:password@ and its query string's
    password=, or a key=value DSN's password (quoted or not)."""
    if "://" not in dsn:
        return _KEYWORD_PASSWORD.sub(r"\1***", dsn)
    parts = urlsplit(dsn)
    if parts.password:
        parts = parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@"))
    if parts.query:
        parts = parts._replace(query=_QUERY_PASSWORD.sub(r"\1***", f"?{parts.query}")[1:])
    return urlunsplit(parts)


def connect(dsn: str | None = None, *, migrated: bool = False, **kwargs) -> psycopg.Connection:
    """A psycopg connection to the warehouse (warehouse_dsn() unless given); migrated=True first brings its
    schema up to date (what every task that writes does)."""
    import psycopg

    dsn = dsn or warehouse_dsn()
    try:
        conn = psycopg.connect(dsn, **kwargs)
    except psycopg.OperationalError as exc:
        raise WarehouseError(f"cannot reach the warehouse at {redact(dsn)}: {exc}".strip()) from None
    if migrated:
        from medical_telegram.warehouse.migrate import migrate

        migrate(conn)
    return conn


class EmbeddedPostgres:
    """A PostgreSQL of the project's own, for a user who has none configured."""

    def __init__(self, directory: Path | str | None = None, port: int | None = None):
        self.directory = Path(directory or os.environ.get("WAREHOUSE_EMBEDDED_DIR", ".warehouse")).resolve()
        self.pgdata = self.directory / "pgdata"
        self.socket_dir = self.directory / "socket"
        self.logfile = self.directory / "postgres.log"
        self.port = port or embedded_port()
        self.database = "warehouse"

    @property
    def password_file(self) -> Path:
        """The superuser's password, generated when the cluster is made, readable by its owner only."""
        return self.directory / "password"

    def _password(self) -> str | None:
        try:
            return self.password_file.read_text().strip() or None
        except OSError:
            return None

    def _dsn(self, database: str) -> str:
        password = self._password()
        user = f"postgres:{quote(password, safe='')}" if password else "postgres"
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    @property
    def dsn(self) -> str:
        return self._dsn(self.database)

    def _bin(self, name: str) -> str:
        try:
            from pgserver._commands import POSTGRES_BIN_PATH
        except ImportError:
            raise WarehouseError(
                "no warehouse configured (AIRFLOW_CONN_WAREHOUSE_DB or WAREHOUSE_DSN) and the embedded "
                "PostgreSQL is not installed: run `make setup` or `pip install pgserver`"
            ) from None
        return str(POSTGRES_BIN_PATH / name)

    def _run_as(self) -> dict:
        """initdb refuses to run as root: run the server as pgserver's unprivileged user then."""
        if os.geteuid() != 0:
            return {}
        with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR on import; irrelevant here
            warnings.simplefilter("ignore")
            from pgserver.utils import ensure_user_exists

        entry = ensure_user_exists("pgserver")
        for path in (self.directory, self.pgdata, self.socket_dir):
            path.mkdir(parents=True, exist_ok=True)
            shutil.chown(path, entry.pw_uid, entry.pw_gid)
        if self.logfile.exists():
            shutil.chown(self.logfile, entry.pw_uid, entry.pw_gid)
        # The server's user must be able to walk down to its data directory.
        for parent in self.directory.parents:
            parent.chmod(parent.stat().st_mode | 0o055)
        return {"user": entry.pw_uid, "group": entry.pw_gid}

    def _pg(self, name: str, *args: str, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run([self._bin(name), *args], capture_output=True, text=True, **kwargs)

    def is_running(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                pass
        except OSError:
            return False
        return True

    def start(self) -> str:
        if self.is_running():
            if not (self.pgdata / "postmaster.pid").exists():
                raise WarehouseError(
                    f"port {self.port} is taken by a server that is not the embedded warehouse in {self.pgdata};"
                    " set WAREHOUSE_EMBEDDED_PORT to a free port (or configure WAREHOUSE_DSN)"
                )
            self._ensure_database()
            return self.dsn
        self.directory.mkdir(parents=True, exist_ok=True)
        owner = self._run_as()
        if not (self.pgdata / "PG_VERSION").exists():
            log.info("initialising the embedded warehouse in %s", self.pgdata)
            self._initdb(owner)
        options = f"-h 127.0.0.1 -p {self.port} -k {self.socket_dir}"
        result = self._pg("pg_ctl", "-D", str(self.pgdata), "-o", options, "-l", str(self.logfile), "-w",
                          "-t", "60", "start", **owner)
        if result.returncode:
            raise WarehouseError(
                f"the embedded warehouse did not start (see {self.logfile}): {result.stderr.strip()[-500:]}"
            )
        deadline = time.monotonic() + 30
        while not self.is_running():
            if time.monotonic() > deadline:
                raise WarehouseError(f"the embedded warehouse does not answer on port {self.port}")
            time.sleep(0.2)
        log.info("embedded warehouse started at %s (data in %s)", redact(self.dsn), self.pgdata)
        self._require_password()
        self._ensure_database()
        return self.dsn

    def _initdb(self, owner: dict) -> None:
        """A new cluster whose superuser logs in with a generated password (scram-sha-256), on the socket and
        on 127.0.0.1 alike: no local account gets in without it."""
        password = self._new_password()
        pwfile = self.directory / f".initdb-{secrets.token_hex(4)}"
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(password + "\n")
        if owner:
            os.chown(pwfile, owner["user"], owner["group"])
        try:
            result = self._pg("initdb", "-D", str(self.pgdata), "--auth=scram-sha-256", f"--pwfile={pwfile}",
                              "--encoding=UTF8", "--locale=C.UTF-8", "-U", "postgres", **owner)
        finally:
            pwfile.unlink(missing_ok=True)
        if result.returncode:
            raise WarehouseError(f"initdb failed: {result.stderr.strip()[-500:]}")

    def _new_password(self) -> str:
        password = secrets.token_urlsafe(24)
        self.password_file.unlink(missing_ok=True)
        fd = os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(password)
        return password

    def _require_password(self) -> None:
        """A cluster made before passwords (trust for everyone on the machine) gets one now."""
        hba = self.pgdata / "pg_hba.conf"
        if self._password() and "trust" not in _hba_methods(hba):
            return
        import psycopg
        from psycopg import sql

        password = self._password() or self._new_password()
        with psycopg.connect(self._dsn("postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("alter role postgres password {}").format(sql.Literal(password)))
            hba.write_text("".join(_scram(line) for line in hba.read_text().splitlines(keepends=True)))
            conn.execute("select pg_reload_conf()")
        log.info("the embedded warehouse now asks for a password (kept in %s)", self.password_file)

    def stop(self) -> None:
        if (self.pgdata / "postmaster.pid").exists():
            self._pg("pg_ctl", "-D", str(self.pgdata), "-m", "fast", "-w", "stop", **self._run_as())

    def _ensure_database(self) -> None:
        import psycopg

        with psycopg.connect(self._dsn("postgres"), autocommit=True) as conn:
            exists = conn.execute("select 1 from pg_database where datname = %s", (self.database,)).fetchone()
            if not exists:
                conn.execute(f'create database "{self.database}"')


def _hba_methods(hba: Path) -> set[str]:
    """The authentication methods pg_hba.conf names (the last word of each rule)."""
    return {line.split()[-1] for line in hba.read_text().splitlines() if line.strip() and not line.startswith("#")}


def _scram(line: str) -> str:
    if line.strip() and not line.lstrip().startswith("#") and line.split()[-1] == "trust":
        return line.rstrip("\n").rsplit("trust", 1)[0] + "scram-sha-256\n"
    return line
