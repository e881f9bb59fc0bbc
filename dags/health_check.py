"""Every 15 minutes: is everything the pipeline needs there?

Checks the warehouse, the Docker daemon (a failure only where tasks run in containers), free disk space,
the data lake, the API and that Telegram credentials are configured (never their values). Every outcome
is written to `monitoring.health_checks`; the run fails, and alerts, when a check failed. Beside them,
check_freshness records each channel's freshness and alerts once when a channel that usually posts daily
has been silent too long (`freshness_max_silence_hours`, 48 h). Skipped while `maintenance_mode` is on,
like every scheduled run.
"""

from datetime import timedelta

from airflow.sdk import dag

from medical_telegram.orchestration.common import maintenance_gate
from medical_telegram.orchestration.defaults import cron, dag_kwargs
from medical_telegram.orchestration.monitoring import check_freshness, run_health_checks


@dag(**dag_kwargs(__file__, __doc__, cron("*/15 * * * *"), ["monitoring"],
                  default_args={"retries": 1, "execution_timeout": timedelta(minutes=5)},
                  dagrun_timeout=timedelta(minutes=10)))
def health_check():
    maintenance_gate() >> [run_health_checks(), check_freshness()]


health_check()
