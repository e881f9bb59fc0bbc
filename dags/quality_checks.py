from airflow.sdk import dag

from medical_telegram.orchestration.defaults import DEFAULT_ARGS, TAGS, cron
from medical_telegram.orchestration.maintenance import maintenance_gate
from medical_telegram.orchestration.quality_tasks import all_checkpoints


@dag(schedule=cron("0 */2 * * *"), catchup=False, max_active_runs=1, default_args=DEFAULT_ARGS,
     tags=[*TAGS, "quality"])
def quality_checks():
    """### Every Great Expectations checkpoint, every 2 hours

    `raw_messages`, `staging`, `marts` and `detections` side by side, then the Data Docs (emits
    `gx_data_docs`; Browse → Data Docs in the UI). A failed critical expectation fails its task and alerts;
    warnings show in the Data Docs. The tasks: `src/medical_telegram/orchestration/quality_tasks.py`.
    """
    maintenance_gate() >> all_checkpoints()


quality_checks()
