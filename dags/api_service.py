"""Every 30 minutes: the analytical API is up, its endpoints answer, and how fast.

`api_health` waits (with retries and backoff) for `/api/health`; `check_endpoints` requests each endpoint a
few times and records status and median latency per endpoint in `monitoring.api_metrics`. The API address
is the Variable/env `api_base_url` (default http://127.0.0.1:8000).
"""

from datetime import timedelta

from airflow.sdk import dag

from medical_telegram.orchestration.common import maintenance_gate
from medical_telegram.orchestration.defaults import cron, dag_kwargs
from medical_telegram.orchestration.monitoring import api_health, check_endpoints


@dag(**dag_kwargs(__file__, __doc__, cron("*/30 * * * *"), ["api", "monitoring"],
                  default_args={"execution_timeout": timedelta(minutes=5)}))
def api_service():
    maintenance_gate() >> api_health() >> check_endpoints()


api_service()
