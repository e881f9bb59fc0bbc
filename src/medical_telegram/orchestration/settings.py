"""Settings of the orchestration: two pydantic-settings classes, one per moment they are read.

- DagSettings, read when a DAG file is parsed (what a DAG looks like: image names, network mode, whether to
  ask for a GPU): the environment only, because an Airflow Variable read at parse time costs a database
  round trip on every parse of every file.
- RunSettings, read inside tasks (where a task runs, where the messages come from, which channels, retention):
  an Airflow Variable of the field's name wins, then the environment variable of the same name in upper case,
  then the default. Changing them needs no new DAG version.

Pools live in orchestration/pools.py, secrets in Connections (medical_telegram.connections), the local
runtime's executables in orchestration/containers.py.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from medical_telegram import connections
from medical_telegram.monitoring import freshness
from medical_telegram.paths import PROJECT_DIR

# The channel registry: the dbt seed, also the warehouse's dim_channels. Scraped unless telegram_channels names others.
CHANNEL_REGISTRY = PROJECT_DIR / "include" / "dbt" / "medical_warehouse" / "seeds" / "channels.csv"
MAINTENANCE_VARIABLE = "maintenance_mode"


class DagSettings(BaseSettings):
    """Parse-time settings, from the environment (SCRAPER_IMAGE, CONTAINER_GPU, ...)."""

    model_config = SettingsConfigDict(env_ignore_empty=True, extra="ignore")

    scraper_image: str = "medical-telegram/scraper:latest"
    detector_image: str = "medical-telegram/yolo:latest"
    yolo_weights_file: str = "fall_detection_best.pt"
    container_gpu: bool = True  # false leaves the GPU request out on an engine without the NVIDIA runtime
    container_network_mode: str = "none"
    gpu_queue: str | None = None  # under Celery: the queue only the GPU's worker serves
    container_user: str | None = None
    docker_host: str = "unix:///var/run/docker.sock"
    dbt_execution_mode: Literal["watcher", "local"] = "watcher"  # Cosmos: one dbt build watched, or a dbt per node
    dbt_threads: int = Field(4, ge=1)  # the watcher's `dbt build`: 4 suits 2 cores (models mostly wait on PostgreSQL)
    medtel_retry_delay_s: float = Field(60.0, gt=0)  # the first retry's wait (tests and local runs shorten it)

    def docker_available(self) -> bool:
        if self.docker_host.startswith("unix://"):
            return Path(self.docker_host.removeprefix("unix://")).is_socket()
        return True  # a TCP engine: trust the configuration


class AirflowVariables(PydanticBaseSettingsSource):
    """Airflow Variables named like the fields, ahead of the environment.

    No default is passed to Variable.get on purpose: Airflow masks a default value in every later log line,
    and masking words like "local" would garble the logs. `only` limits the lookups to some fields (a read at
    parse time must not cost a round trip per field).
    """

    def __init__(self, settings_cls: type[BaseSettings], only: frozenset[str] | None = None):
        super().__init__(settings_cls)
        self.only = only

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # __call__ reads them all at once

    def __call__(self) -> dict[str, Any]:
        try:
            from airflow.sdk import Variable
        except ImportError:  # the API, the CLI: no Airflow, the environment only
            return {}
        values: dict[str, Any] = {}
        for name in self.settings_cls.model_fields:
            if self.only is not None and name not in self.only:
                continue
            try:
                value = Variable.get(name, default=None)
            except Exception:  # no metadata database here (unit tests, the CLI): the environment only
                break
            if value not in (None, ""):
                values[name] = value
        return values


class RunSettings(BaseSettings):
    """Run-time settings: Airflow Variable `name`, else environment NAME, else the default."""

    model_config = SettingsConfigDict(env_ignore_empty=True, extra="ignore")

    container_runtime: Literal["docker", "local"] | None = None  # None: docker where an engine answers
    telegram_source: Literal["api", "export"] | None = None  # None: api with credentials, else export
    telegram_export_path: Path = PROJECT_DIR / "sample" / "desktop_export"
    telegram_export_channel: str | None = None
    telegram_export_timezone: str | None = None  # an older export's local dates; None: the importer's +03:00
    telegram_channels: str | None = None  # a JSON list or commas; None: every channel of the registry
    api_base_url: str = "http://127.0.0.1:8000"
    maintenance_mode: bool = False
    alert_email_to: str = ""
    freshness_max_silence_hours: float = freshness.DEFAULT_MAX_SILENCE_HOURS
    freshness_window_days: int = freshness.DEFAULT_WINDOW_DAYS
    freshness_min_active_share: float = freshness.DEFAULT_MIN_ACTIVE_SHARE
    lake_retention_days: int = Field(90, ge=1)
    monitoring_retention_days: int = Field(30, ge=1)
    log_retention_days: int = Field(30, ge=1)
    quarantine_alert_share: float = Field(0.05, ge=0, le=1)  # a load that quarantines more alerts
    load_lock_wait_s: float = Field(300.0, gt=0)  # then a load fails, naming the session that holds the lock

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        return init_settings, AirflowVariables(settings_cls, _only_fields.get(settings_cls)), env_settings

    @classmethod
    def read(cls, *names: str) -> RunSettings:
        """Settings with Variables looked up for `names` only (the others from the environment)."""
        _only_fields[cls] = frozenset(names)
        try:
            return cls()
        finally:
            _only_fields.pop(cls, None)

    def runtime(self) -> str:
        """`docker` or `local`; by default docker where an engine's socket exists, local elsewhere."""
        return self.container_runtime or ("docker" if DagSettings().docker_available() else "local")

    def source(self) -> str:
        """`api` (scrape live channels) or `export` (import a Telegram Desktop export)."""
        return self.telegram_source or ("api" if has_telegram_credentials() else "export")

    def channels(self) -> list[str]:
        if not self.telegram_channels:
            return registered_channels()
        value = self.telegram_channels.strip()
        names = json.loads(value) if value.startswith("[") else value.split(",")
        return [name.strip().lstrip("@").lower() for name in names if name.strip()]


_only_fields: dict[type, frozenset[str]] = {}


def registered_channels() -> list[str]:
    with CHANNEL_REGISTRY.open(newline="") as registry:
        return [row["channel_name"] for row in csv.DictReader(registry)]


def telegram_credentials() -> dict[str, str]:
    """The scraper's secrets from the `telegram_api` connection (login = api id, password = api hash,
    extra {"session": "..."}), else from the environment. Never logged."""
    import os

    creds: dict[str, str] = {}
    if (conn := connections.airflow_connection(connections.TELEGRAM)) is not None:
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
        if name not in creds and os.environ.get(name):
            creds[name] = os.environ[name]
    return creds


def has_telegram_credentials() -> bool:
    creds = telegram_credentials()
    return bool(creds.get("TELEGRAM_API_ID") and creds.get("TELEGRAM_API_HASH"))


# Shorthands for the settings one task needs.
def container_runtime() -> str:
    return RunSettings.read("container_runtime").runtime()


def telegram_source() -> str:
    return RunSettings.read("telegram_source").source()


def channels() -> list[str]:
    return RunSettings.read("telegram_channels").channels()


def export_path() -> Path:
    return RunSettings.read("telegram_export_path").telegram_export_path.resolve()


def api_url() -> str:
    return RunSettings.read("api_base_url").api_base_url.rstrip("/")
