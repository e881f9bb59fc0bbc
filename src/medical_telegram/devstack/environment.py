"""The local service's configuration: where it keeps its state, its ports, its generated secrets, and the
environment every process of it gets (Airflow's settings included)."""

from __future__ import annotations

import base64
import json
import os
import secrets
import sys
from pathlib import Path
from typing import ClassVar

import psycopg
from psycopg import sql
from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from medical_telegram import warehouse
from medical_telegram.devstack.client import ServiceError
from medical_telegram.paths import PROJECT_DIR

METADATA_DATABASE = "airflow_metadata"
ADMIN_USER = "admin"
# Four task processes at once: dbt, the detector and GX are CPU-bound, and a laptop has few cores.
PARALLELISM = 4
AIRFLOW_SERVICES = ("api-server", "scheduler", "dag-processor", "triggerer")
# Airflow's log servers (`serve-logs`, started beside the scheduler and the triggerer) bind every interface and
# have no setting to bind one. Here every process shares one AIRFLOW_HOME, so the API server reads task and
# trigger logs from the log folder itself and the log servers are not started.
SERVICE_ARGS = {"scheduler": ["--skip-serve-logs"], "triggerer": ["--skip-serve-logs"]}


class Stack(BaseSettings):
    """Where the local service keeps its state, and the ports it serves on (MEDTEL_STATE_DIR,
    MEDTEL_AIRFLOW_PORT, MEDTEL_API_PORT). It serves on loopback only."""

    model_config = SettingsConfigDict(env_prefix="MEDTEL_", env_ignore_empty=True, extra="ignore")

    state_dir: Path = PROJECT_DIR / ".state"
    airflow_port: int = 8080
    api_port: int = 8000
    host: ClassVar[str] = "127.0.0.1"

    @field_validator("state_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.resolve()

    @classmethod
    def from_env(cls) -> Stack:
        return cls()

    @property
    def airflow_home(self) -> Path:
        return self.state_dir / "airflow"

    @property
    def logs(self) -> Path:
        return self.state_dir / "logs"

    @property
    def pids(self) -> Path:
        return self.state_dir / "pids"

    @property
    def airflow_url(self) -> str:
        return f"http://{self.host}:{self.airflow_port}"

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.api_port}"

    @property
    def passwords_file(self) -> Path:
        return self.airflow_home / "passwords.json"


# --- configuration -------------------------------------------------------------------------------------------


def _secrets(stack: Stack) -> dict[str, str]:
    """The stack's own keys, generated on first use and kept (0600) so every process and restart agrees."""
    path = stack.state_dir / "secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    values = {
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
        "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
        "AIRFLOW__CORE__FERNET_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(values, handle)
    return values


def metadata_dsn(warehouse_dsn: str) -> str:
    """Airflow's metadata database: AIRFLOW__DATABASE__SQL_ALCHEMY_CONN, else `airflow_metadata` on the
    warehouse's server (created here when missing)."""
    if configured := os.environ.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"):
        return configured
    params = psycopg.conninfo.conninfo_to_dict(warehouse_dsn)
    with warehouse.connect(warehouse_dsn, autocommit=True) as conn:
        if not conn.execute("select 1 from pg_database where datname = %s", (METADATA_DATABASE,)).fetchone():
            try:
                conn.execute(f'create database "{METADATA_DATABASE}"')
            except psycopg.Error as exc:
                raise ServiceError(
                    f"cannot create Airflow's metadata database on the warehouse's server ({exc}); set "
                    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN to a PostgreSQL database Airflow may use") from None
    params["dbname"] = METADATA_DATABASE
    user = params.get("user") or "postgres"
    password = f":{params['password']}" if params.get("password") else ""
    return (f"postgresql+psycopg2://{user}{password}@{params.get('host') or '127.0.0.1'}:"
            f"{params.get('port') or 5432}/{METADATA_DATABASE}")


def environment(stack: Stack, warehouse_dsn: str, metadata: str) -> dict[str, str]:
    """The variables every Airflow process of the stack (and a shell's `airflow` CLI) runs with."""
    from medical_telegram.devstack.run_dag import airflow_environment, with_password

    project = PROJECT_DIR
    env = airflow_environment(stack.airflow_home)
    env.update({
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",  # schedules are switched on by a person
        # One `dbt build` with threads, watched per model (dbt_tasks): the scheduler runs tasks side by side.
        "DBT_EXECUTION_MODE": os.environ.get("DBT_EXECUTION_MODE") or "watcher",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": str(PARALLELISM),
        "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": str(PARALLELISM),
        "AIRFLOW__CORE__MAX_ACTIVE_RUNS_PER_DAG": "1",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{stack.airflow_url}/execution/",
        "AIRFLOW__API__HOST": stack.host,
        "AIRFLOW__API__PORT": str(stack.airflow_port),
        "AIRFLOW__API__BASE_URL": stack.airflow_url,
        "AIRFLOW__API__WORKERS": "1",
        # no log server runs (SERVICE_ARGS): logs are read from the folder all processes share
        "AIRFLOW__LOGGING__LOGGING_CONFIG_CLASS": "medical_telegram.orchestration.log_config.LOGGING_CONFIG",
        "AIRFLOW__CORE__AUTH_MANAGER":
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(stack.passwords_file),
        # Each of the nine DAG files is parsed once a minute, not every 30 s: parsing costs CPU on 2 cores.
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "60",
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        "AIRFLOW_CONN_WAREHOUSE_DB": with_password(warehouse_dsn),
        "DATA_LAKE_DIR": os.environ.get("DATA_LAKE_DIR") or str(project / "data"),
        "API_BASE_URL": stack.api_url,
        # The images' virtual environments unless containers are asked for (CONTAINER_RUNTIME=docker).
        "CONTAINER_RUNTIME": os.environ.get("CONTAINER_RUNTIME") or "local",
        "TELEGRAM_EXPORT_PATH": os.environ.get("TELEGRAM_EXPORT_PATH") or str(project / "sample" / "desktop_export"),
        "TELEGRAM_EXPORT_CHANNEL": os.environ.get("TELEGRAM_EXPORT_CHANNEL") or "lobelia4cosmetics",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    })
    env.update(_secrets(stack))
    return env


def api_database_url(stack: Stack, warehouse_dsn: str) -> str:
    """The analytical API's connection: the warehouse as the read-only role medtel_api, with a password of the
    stack's own (generated once, kept 0600 in the state folder, set on the role at every start)."""
    if configured := os.environ.get("API_DATABASE_URL"):
        return configured
    password = kept_secret(stack.state_dir / "api_db_password")
    with psycopg.connect(warehouse_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("alter role medtel_api password {}").format(sql.Literal(password)))
    parts = psycopg.conninfo.conninfo_to_dict(warehouse_dsn)
    parts.update(user="medtel_api", password=password)
    return psycopg.conninfo.make_conninfo(**parts)


def kept_secret(path: Path) -> str:
    """A secret generated on first use and kept in `path`, readable by its owner only."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return value


# --- processes -----------------------------------------------------------------------------------------------
