"""Every 2 hours: every Great Expectations checkpoint, then the Data Docs rebuilt.

Checkpoints `raw_messages`, `staging`, `marts` and `detections` run side by side; a failed critical
expectation fails its task (and alerts), warnings only show in the Data Docs. Tables dbt has not built yet
are reported as skipped. The Data Docs are rebuilt in every case and served in the Airflow UI
("Data Docs" in the menu, from the plugin in plugins/).
"""

from airflow.sdk import dag

from medical_telegram.orchestration.common import maintenance_gate
from medical_telegram.orchestration.defaults import cron, dag_kwargs
from medical_telegram.orchestration.quality_tasks import all_checkpoints


@dag(**dag_kwargs(__file__, __doc__, cron("0 */2 * * *"), ["quality"]))
def quality_checks():
    maintenance_gate() >> all_checkpoints()


quality_checks()
