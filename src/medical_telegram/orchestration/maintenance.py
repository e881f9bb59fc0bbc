"""The maintenance switch: while the Variable `maintenance_mode` is on, scheduled and Asset-triggered runs
skip; a person's manual trigger still runs. Every DAG starts with `maintenance_gate`."""

from __future__ import annotations

from airflow.sdk import task

from medical_telegram.orchestration import settings

# Run types that a maintenance window holds back; a person's manual trigger still runs.
_HELD_RUN_TYPES = {"scheduled", "asset_triggered", "asset_materialization"}


def in_maintenance(run_type: str | None) -> bool:
    return settings.RunSettings.read(settings.MAINTENANCE_VARIABLE).maintenance_mode and (run_type or "") in _HELD_RUN_TYPES


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
