from airflow.sdk import dag

from medical_telegram.orchestration.defaults import DEFAULT_ARGS, TAGS, cron
from medical_telegram.orchestration.maintenance import maintenance_gate
from medical_telegram.orchestration.monitoring_tasks import lake_retention, trim_old_records, vacuum_analyze


@dag(schedule=cron("0 3 * * 0"), catchup=False, max_active_runs=1, default_args=DEFAULT_ARGS,
     tags=[*TAGS, "maintenance"])
def cleanup():
    """### Weekly housekeeping, Sunday 03:00 UTC

    Lake files older than `lake_retention_days` (90) are removed only when their exact content is recorded
    as loaded; VACUUM (ANALYZE) of the raw and monitoring tables; monitoring rows and task logs past their
    retention (30 days) removed. The tasks: `src/medical_telegram/orchestration/monitoring_tasks.py`.
    """
    maintenance_gate() >> lake_retention() >> vacuum_analyze() >> trim_old_records()


cleanup()
