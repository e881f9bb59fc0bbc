"""Connections: asking Airflow for one, and the ids the project uses.

Inside an Airflow process (a task, the api-server's plugins) a connection is whatever Airflow finds for its id:
the metadata database, a secrets backend, or an AIRFLOW_CONN_<ID> variable. Elsewhere (the `medtel` CLI, the
API, the images) Airflow is not imported for it, and the caller reads the environment itself.
"""

from __future__ import annotations

import sys

WAREHOUSE = "warehouse_db"
TELEGRAM = "telegram_api"
ALERT_WEBHOOK = "alert_webhook"
ALERT_SMTP = "alert_smtp"


def airflow_connection(conn_id: str):
    """Airflow's connection `conn_id`, or None when it has none (or this is not an Airflow process)."""
    if "airflow" not in sys.modules:  # importing Airflow costs seconds and configures its logging
        return None
    try:
        from airflow.sdk import BaseHook

        return BaseHook.get_connection(conn_id)
    except Exception:  # not defined (AirflowNotFoundException), or no way to ask here
        return None
