"""Tasks of health_check, api_service and cleanup: measure, record in the monitoring schema, tidy up."""

from __future__ import annotations

import logging
from pathlib import Path

from airflow.sdk import Metadata, task

from medical_telegram.orchestration import assets, settings
from medical_telegram.orchestration.common import connect, warehouse_dsn

log = logging.getLogger(__name__)


@task(task_id="run_health_checks", outlets=[assets.HEALTH])
def run_health_checks(*, run_id=None):
    """Warehouse, Docker daemon, disk, lake, API, Telegram credentials; all recorded, then judged."""
    from medical_telegram import health

    lake = settings.lake_dir()
    dsn = warehouse_dsn()
    checks = [
        health.check_warehouse(dsn),
        health.check_docker(required=settings.container_runtime() == "docker"),
        health.check_disk(lake),
        health.check_lake(lake),
        health.check_api(settings.api_url()),
        health.check_telegram_credentials(settings.has_telegram_credentials(), settings.telegram_source()),
    ]
    for check in checks:
        log.info("%-20s %-7s %s", check.name, check.status, check.detail)
    warehouse_check = checks[0]
    if warehouse_check.status == health.OK:
        with connect() as conn:
            health.record(conn, checks, run_id)
    failed = [c.name for c in checks if c.status == health.FAILED]
    yield Metadata(assets.HEALTH, {"failed": failed, "checks": {c.name: c.status for c in checks}})
    if failed:
        raise RuntimeError(f"health checks failed: {', '.join(failed)} (details above)")
    return [c.as_dict() for c in checks]


@task(task_id="check_endpoints", outlets=[assets.API_METRICS])
def check_endpoints(*, run_id=None):
    """Each endpoint's status and median latency, recorded in monitoring.api_metrics."""
    from medical_telegram import api_metrics

    results = api_metrics.check_all(settings.api_url())
    for result in results:
        log.info("%-16s %s %s", result.endpoint, "ok  " if result.ok else "FAIL", result.detail)
    with connect() as conn:
        api_metrics.record(conn, results, run_id)
    latencies = {r.endpoint: r.latency_ms for r in results}
    yield Metadata(assets.API_METRICS, {"latency_ms": latencies, "failed": [r.endpoint for r in results if not r.ok]})
    failed = [r.endpoint for r in results if not r.ok]
    if failed:
        raise RuntimeError(f"API endpoints failing: {', '.join(failed)}")
    return [r.as_dict() for r in results]


@task(task_id="api_health", retries=3)
def api_health() -> dict:
    """Is the API up at all? Retried with backoff: a restarting API gets a few minutes."""
    from medical_telegram import health

    check = health.check_api(settings.api_url())
    if check.status != health.OK:
        raise RuntimeError(check.detail)
    return check.as_dict()


@task(task_id="lake_retention")
def lake_retention() -> dict:
    from medical_telegram import cleanup

    keep_days = int(settings.setting("lake_retention_days", "90"))
    with connect() as conn:
        return cleanup.lake_retention(conn, settings.lake_dir(), keep_days).as_dict()


@task(task_id="vacuum_analyze")
def vacuum_analyze() -> list[str]:
    from medical_telegram import cleanup

    connect().close()  # migrations first, so every table exists
    return cleanup.vacuum_analyze(warehouse_dsn())


@task(task_id="trim_old_records")
def trim_old_records() -> dict:
    """Monitoring rows and Airflow task logs older than their retention periods."""
    from medical_telegram import cleanup

    keep_days = int(settings.setting("monitoring_retention_days", "30"))
    with connect() as conn:
        rows = cleanup.trim_monitoring(conn, keep_days)
    log_dir = Path(settings.env("AIRFLOW__LOGGING__BASE_LOG_FOLDER") or _airflow_log_dir())
    files = cleanup.trim_logs(log_dir, int(settings.setting("log_retention_days", "30")))
    return {"monitoring_rows_deleted": rows, "log_files_deleted": files, "log_dir": str(log_dir)}


def _airflow_log_dir() -> str:
    try:
        from airflow.configuration import conf

        return conf.get("logging", "base_log_folder")
    except Exception:
        return str(Path(settings.env("AIRFLOW_HOME", "~/airflow")).expanduser() / "logs")
