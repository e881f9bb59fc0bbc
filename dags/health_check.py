from datetime import timedelta

from airflow.sdk import dag

from medical_telegram.orchestration.defaults import DEFAULT_ARGS, TAGS, cron
from medical_telegram.orchestration.maintenance import maintenance_gate
from medical_telegram.orchestration.monitoring_tasks import check_freshness, run_health_checks


@dag(schedule=cron("*/15 * * * *"), catchup=False, max_active_runs=1,
     default_args={**DEFAULT_ARGS, "retries": 1, "execution_timeout": timedelta(minutes=5)},
     dagrun_timeout=timedelta(minutes=10), tags=[*TAGS, "monitoring"])
def health_check():
    """### Is everything the pipeline needs there? Every 15 minutes

    The warehouse, the Docker daemon (a failure only where tasks run in containers), free disk, the lake, the
    API, Telegram credentials configured (never their values), recorded in `monitoring.health_checks`
    (emits `monitoring_health_checks`); the run fails, and alerts, when a check failed. Beside them, each
    channel's freshness: one that usually posts daily and went quiet (`freshness_max_silence_hours`, 48 h)
    alerts once. The tasks: `src/medical_telegram/orchestration/monitoring_tasks.py`.
    """
    maintenance_gate() >> [run_health_checks(), check_freshness()]


health_check()
