from datetime import timedelta

from airflow.sdk import dag

from medical_telegram.orchestration.defaults import DEFAULT_ARGS, TAGS, cron
from medical_telegram.orchestration.maintenance import maintenance_gate
from medical_telegram.orchestration.monitoring_tasks import api_health, check_endpoints


@dag(schedule=cron("*/30 * * * *"), catchup=False, max_active_runs=1,
     default_args={**DEFAULT_ARGS, "execution_timeout": timedelta(minutes=5)}, tags=[*TAGS, "api", "monitoring"])
def api_service():
    """### The analytical API, every 30 minutes

    `api_health` waits (with retries and backoff) for `/api/health`; `check_endpoints` requests each endpoint
    and records its status and latency in `monitoring.api_metrics` (emits `monitoring_api_metrics`; charted
    by the Pipeline monitor). The API's address: Variable/env `api_base_url`. The tasks:
    `src/medical_telegram/orchestration/monitoring_tasks.py`.
    """
    maintenance_gate() >> api_health() >> check_endpoints()


api_service()
