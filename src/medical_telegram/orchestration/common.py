"""Small tasks and helpers every DAG uses: the warehouse connection and the maintenance switch."""

from __future__ import annotations

import logging
from urllib.parse import quote

from airflow.sdk import task

from medical_telegram.orchestration import settings

log = logging.getLogger(__name__)

# Run types that a maintenance window holds back; a person's manual trigger still runs.
_HELD_RUN_TYPES = {"scheduled", "asset_triggered", "asset_materialization"}


def warehouse_dsn() -> str:
    """The warehouse DSN: Airflow connection `warehouse_db` (metadata DB, secrets backend or env), else
    WAREHOUSE_DSN, else the embedded server."""
    from medical_telegram import warehouse

    try:
        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(settings.WAREHOUSE_CONN_ID)
    except Exception:  # not an Airflow connection here: let warehouse.py look further
        return warehouse.warehouse_dsn()
    user = quote(conn.login or "", safe="")
    auth = f"{user}:{quote(conn.password, safe='')}@" if conn.password else (f"{user}@" if user else "")
    port = f":{conn.port}" if conn.port else ""
    return f"postgresql://{auth}{conn.host or '127.0.0.1'}{port}/{conn.schema or 'postgres'}"


def connect():
    """A psycopg connection to the warehouse, schema migrations applied."""
    from medical_telegram import warehouse
    from medical_telegram.migrate import migrate

    conn = warehouse.connect(warehouse_dsn())
    migrate(conn)
    return conn


def in_maintenance(run_type: str | None) -> bool:
    return settings.flag(settings.MAINTENANCE_VARIABLE) and (run_type or "") in _HELD_RUN_TYPES


@task(task_id="maintenance_gate", retries=1)
def maintenance_gate(*, dag_run=None) -> str:
    """Skip this run (and so every task after it) while the Variable `maintenance_mode` is on.

    Only scheduled and Asset-triggered runs are held; a manual trigger still runs, so an operator can test
    a fix during the window.
    """
    from airflow.sdk.exceptions import AirflowSkipException

    run_type = str(getattr(dag_run, "run_type", "") or "")
    run_type = run_type.split(".")[-1].lower()
    if in_maintenance(run_type):
        raise AirflowSkipException("maintenance_mode is on: this scheduled run is skipped")
    return "open"
