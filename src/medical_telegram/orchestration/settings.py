"""Settings of the orchestration, read where they are needed.

Two kinds:
- parse-time settings (what a DAG looks like: image names, network mode, whether to ask for a GPU) come
  from environment variables only, because reading Airflow Variables at parse time costs a database round
  trip on every parse;
- run-time settings (where a task runs, where the messages come from, which channels) are read inside tasks:
  an Airflow Variable wins, then the environment variable of the same name in upper case, then a default.
  Changing them needs no new DAG version.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import shutil
from pathlib import Path

from medical_telegram import connections
from medical_telegram.paths import PROJECT_DIR

log = logging.getLogger(__name__)

# Connection ids (Airflow Connections, or AIRFLOW_CONN_<ID> environment variables): medical_telegram.connections.
WAREHOUSE_CONN_ID = connections.WAREHOUSE
TELEGRAM_CONN_ID = connections.TELEGRAM
ALERT_CONN_ID = connections.ALERT_WEBHOOK

# Pools: one Telegram account must not be flooded; one GPU runs one detector at a time.
TELEGRAM_POOL = "telegram"
TELEGRAM_POOL_SLOTS = 2
GPU_POOL = "gpu"
GPU_POOL_SLOTS = 1
# One loader at a time: two runs that ingest at once (full_pipeline and data_ingestion) would both load the
# same new lake file. (Writers of a channel's lake files take the channel's file lock, lake.channel_lock.)
RAW_LOAD_POOL = "raw_load"
POOLS = {
    TELEGRAM_POOL: (TELEGRAM_POOL_SLOTS, "Telegram API calls: keeps one account under its flood limits"),
    GPU_POOL: (GPU_POOL_SLOTS, "the detector's GPU: one container at a time"),
    RAW_LOAD_POOL: (1, "loads into the raw tables: one at a time, so overlapping runs never load a file twice"),
}

# The channel registry: the dbt seed, also the warehouse's dim_channels. Scraped unless telegram_channels names others.
CHANNEL_REGISTRY = PROJECT_DIR / "include" / "dbt" / "medical_warehouse" / "seeds" / "channels.csv"
MAINTENANCE_VARIABLE = "maintenance_mode"


def project_dir() -> Path:
    """The project checkout (dags/, include/, .venvs/), also where the editable package lives."""
    return PROJECT_DIR


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def setting(name: str, default: str | None = None) -> str | None:
    """A run-time setting: Airflow Variable `name`, else env NAME, else `default`.

    The Variable lookup passes no default to Airflow on purpose: Airflow masks a default value in every
    later log line, and masking words like "local" would garble the logs.
    """
    try:
        from airflow.sdk import Variable

        value = Variable.get(name, default=None)
    except Exception:  # no metadata DB or no Airflow at all (unit tests, CLI): use the environment
        value = None
    if value not in (None, ""):
        return str(value)
    return env(name.upper(), default)


def flag(name: str, default: bool = False) -> bool:
    value = setting(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def docker_available() -> bool:
    host = env("DOCKER_HOST", "unix:///var/run/docker.sock")
    if host.startswith("unix://"):
        return Path(host.removeprefix("unix://")).is_socket()
    return True  # a TCP engine: trust the configuration


def configured_runtime() -> str | None:
    """`docker` or `local` when configured (Variable / CONTAINER_RUNTIME), else None."""
    value = setting("container_runtime")
    if value is None:
        return None
    value = value.lower()
    if value not in ("docker", "local"):
        raise ValueError(f"container_runtime must be docker or local, got {value!r}")
    return value


def container_runtime() -> str:
    """`docker` or `local`; by default docker where an engine's socket exists, local elsewhere."""
    return configured_runtime() or ("docker" if docker_available() else "local")


def lake_dir() -> Path:
    from medical_telegram import lake

    return lake.lake_dir()


def telegram_credentials() -> dict[str, str]:
    """The scraper's secrets from the `telegram_api` connection (login = api id, password = api hash,
    extra {"session": "..."}), else from the environment. Never logged."""
    creds: dict[str, str] = {}
    if (conn := connections.airflow_connection(TELEGRAM_CONN_ID)) is not None:
        if conn.login:
            creds["TELEGRAM_API_ID"] = str(conn.login)
        if conn.password:
            creds["TELEGRAM_API_HASH"] = conn.password
        extra = conn.extra_dejson or {}
        if extra.get("session"):
            creds["TELEGRAM_SESSION"] = extra["session"]
        if extra.get("phone"):
            creds["TELEGRAM_PHONE"] = extra["phone"]
    for name in ("TELEGRAM_API_ID", "TELEGRAM_API_HASH", "TELEGRAM_SESSION", "TELEGRAM_PHONE"):
        if name not in creds and env(name):
            creds[name] = env(name)
    return creds


def has_telegram_credentials() -> bool:
    creds = telegram_credentials()
    return bool(creds.get("TELEGRAM_API_ID") and creds.get("TELEGRAM_API_HASH"))


def telegram_source() -> str:
    """`api` (scrape live channels) or `export` (import a Telegram Desktop export); by default api when
    credentials are configured, export (the bundled sample) when they are not."""
    value = (setting("telegram_source") or ("api" if has_telegram_credentials() else "export")).lower()
    if value not in ("api", "export"):
        raise ValueError(f"telegram_source must be api or export, got {value!r}")
    return value


def export_path() -> Path:
    return Path(setting("telegram_export_path") or project_dir() / "sample" / "desktop_export").resolve()


def channels() -> list[str]:
    """Channels to scrape: a JSON list or a comma-separated string in Variable/env TELEGRAM_CHANNELS, else every
    channel of the registry."""
    value = setting("telegram_channels")
    if not value:
        return registered_channels()
    value = value.strip()
    names = json.loads(value) if value.startswith("[") else value.split(",")
    return [name.strip().lstrip("@").lower() for name in names if name.strip()]


def registered_channels() -> list[str]:
    with CHANNEL_REGISTRY.open(newline="") as registry:
        return [row["channel_name"] for row in csv.DictReader(registry)]


def api_url() -> str:
    return (setting("api_base_url") or "http://127.0.0.1:8000").rstrip("/")


def venv_executable(venv: str, name: str) -> str:
    """The console script `name` of one of the project's image venvs (.venvs/<venv>/bin/<name>)."""
    candidate = project_dir() / ".venvs" / venv / "bin" / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found:
        return found
    raise FileNotFoundError(
        f"{name} not found in {candidate.parent} nor on PATH: run `make setup` to build .venvs/{venv}"
    )
