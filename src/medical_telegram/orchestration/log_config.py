"""Airflow's logging config for deployments whose components all share one log folder (`make run`, and the
compose stack under the LocalExecutor): Airflow's own config with a task handler that asks no log server.

Those deployments start no log server (`--skip-serve-logs`: Airflow binds it to every interface), and the
api-server reads every log, a running or deferred task's and its triggers' included, from the folder itself.
Airflow's FileTaskHandler would still ask a log server for a running or deferred task, fail to connect, log a
traceback on every poll of the UI and list the failure among the log's sources; Airflow has no setting to turn
that fetch off. Selected by AIRFLOW__LOGGING__LOGGING_CONFIG_CLASS=medical_telegram.orchestration.log_config.LOGGING_CONFIG.
"""

from __future__ import annotations

from copy import deepcopy

from airflow.config_templates.airflow_local_settings import DEFAULT_LOGGING_CONFIG
from airflow.utils.log.file_task_handler import FileTaskHandler


class SharedFolderTaskHandler(FileTaskHandler):
    """FileTaskHandler that reads only the shared log folder: no log server runs to ask."""

    def _read_from_logs_server(self, ti, worker_log_rel_path):
        return [], []


LOGGING_CONFIG = deepcopy(DEFAULT_LOGGING_CONFIG)
LOGGING_CONFIG["handlers"]["task"]["class"] = f"{__name__}.SharedFolderTaskHandler"
