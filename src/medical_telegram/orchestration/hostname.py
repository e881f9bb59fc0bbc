"""The name a task instance records as the host that ran it (Airflow's `[core] hostname_callable`).

Containers on the host's network share the host's name, so two Celery workers there could not be told apart:
AIRFLOW_WORKER_NAME, set per worker by docker-compose.celery.yaml, names them. Without it, the usual FQDN.
"""

from __future__ import annotations

import os
import socket


def worker_hostname() -> str:
    return os.environ.get("AIRFLOW_WORKER_NAME") or socket.getfqdn()
