"""Tasks of health_check, api_service and cleanup: measure, record in the monitoring schema, tidy up."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
import os
from pathlib import Path

from airflow.sdk import Metadata, task

from medical_telegram import lake
from medical_telegram.orchestration import assets, settings
from medical_telegram.warehouse import connect, warehouse_dsn

log = logging.getLogger(__name__)


@task(task_id="run_health_checks", outlets=[assets.HEALTH])
def run_health_checks(*, run_id=None):
    """Warehouse, Docker daemon, disk, lake, API, Telegram credentials; all recorded, then judged."""
    from medical_telegram.monitoring import health

    lake_path = lake.lake_dir()
    dsn = warehouse_dsn()
    checks = [
        health.check_warehouse(dsn),
        health.check_docker(required=settings.container_runtime() == "docker"),
        health.check_disk(lake_path),
        health.check_lake(lake_path),
        health.check_api(settings.api_url()),
        health.check_telegram_credentials(settings.has_telegram_credentials(), settings.telegram_source()),
    ]
    for check in checks:
        log.info("%-20s %-7s %s", check.name, check.status, check.detail)
    warehouse_check = checks[0]
    if warehouse_check.status == health.OK:
        with connect(migrated=True) as conn:
            health.record(conn, checks, run_id)
    failed = [c.name for c in checks if c.status == health.FAILED]
    yield Metadata(assets.HEALTH, {"failed": failed, "checks": {c.name: c.status for c in checks}})
    if failed:
        raise RuntimeError(f"health checks failed: {', '.join(failed)} (details above)")
    return [c.as_dict() for c in checks]


def freshness_settings():
    """The freshness thresholds: run-time settings freshness_max_silence_hours (48), freshness_window_days
    (30) and freshness_min_active_share (0.5)."""
    from medical_telegram.monitoring import freshness

    run = settings.RunSettings.read("freshness_max_silence_hours", "freshness_window_days",
                                    "freshness_min_active_share")
    return freshness.FreshnessSettings(
        max_silence_hours=run.freshness_max_silence_hours,
        window_days=run.freshness_window_days,
        min_active_share=run.freshness_min_active_share,
    )


def freshness_check(conn, now: datetime, config, run_id: str | None = None) -> list:
    """check_freshness without Airflow: each channel's freshness logged and recorded as a `freshness:<channel>` health
    check (warning when stale), and a channel_stale alert, once per silence, for each stale channel."""
    from medical_telegram.monitoring import freshness, health
    from medical_telegram.orchestration import alerts

    results = freshness.channel_freshness(conn, now, config)
    for fresh in results:
        log.info("freshness %-24s last post %s (%.1f h ago), last scrape %s, active %d/%d days (%.0f%%), "
                 "usually daily %s: %s", fresh.channel, fresh.last_post_iso, fresh.silent_hours,
                 fresh.as_dict()["last_scrape"], fresh.active_days, fresh.window_days, fresh.active_share * 100,
                 "yes" if fresh.usually_daily else "no", "STALE" if fresh.stale else "ok")
    if not results:
        log.info("freshness: no messages in raw.telegram_messages yet")
    health.record(conn, [health.Check(f"freshness:{f.channel}", health.WARNING if f.stale else health.OK, f.describe(),
                                      f.silent_hours) for f in results], run_id)
    for fresh in results:
        if fresh.stale:
            alerts.stale_channel_alert(conn, fresh)
    return results


@task(task_id="check_freshness")
def check_freshness(*, run_id=None):
    """Channels that usually post daily and went quiet: recorded, and alerted once per silence (never a
    failure: the alert is the signal)."""
    with connect(migrated=True) as conn:
        results = freshness_check(conn, datetime.now(UTC), freshness_settings(), run_id)
    return [f.as_dict() for f in results]


@task(task_id="check_endpoints", outlets=[assets.API_METRICS])
def check_endpoints(*, run_id=None):
    """Each endpoint's status and median latency, recorded in monitoring.api_metrics."""
    from medical_telegram.monitoring import api_metrics

    results = api_metrics.check_all(settings.api_url())
    for result in results:
        log.info("%-16s %s %s", result.endpoint, "ok  " if result.ok else "FAIL", result.detail)
    with connect(migrated=True) as conn:
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
    from medical_telegram.monitoring import health

    check = health.check_api(settings.api_url())
    if check.status != health.OK:
        raise RuntimeError(check.detail)
    return check.as_dict()


@task(task_id="lake_retention")
def lake_retention() -> dict:
    from medical_telegram.monitoring import cleanup

    keep_days = settings.RunSettings.read("lake_retention_days").lake_retention_days
    with connect(migrated=True) as conn:
        return cleanup.lake_retention(conn, lake.lake_dir(), keep_days).as_dict()


@task(task_id="vacuum_analyze")
def vacuum_analyze() -> list[str]:
    from medical_telegram.monitoring import cleanup

    connect(migrated=True).close()  # migrations first, so every table exists
    return cleanup.vacuum_analyze(warehouse_dsn())


@task(task_id="trim_old_records")
def trim_old_records() -> dict:
    """Monitoring rows and Airflow task logs older than their retention periods."""
    from medical_telegram.monitoring import cleanup

    run = settings.RunSettings.read("monitoring_retention_days", "log_retention_days")
    with connect(migrated=True) as conn:
        rows = cleanup.trim_monitoring(conn, run.monitoring_retention_days)
    log_dir = Path(os.environ.get("AIRFLOW__LOGGING__BASE_LOG_FOLDER") or _airflow_log_dir())
    files = cleanup.trim_logs(log_dir, run.log_retention_days)
    return {"monitoring_rows_deleted": rows, "log_files_deleted": files, "log_dir": str(log_dir)}


def _airflow_log_dir() -> str:
    try:
        from airflow.configuration import conf

        return conf.get("logging", "base_log_folder")
    except Exception:
        return str(Path(os.environ.get("AIRFLOW_HOME") or "~/airflow").expanduser() / "logs")
