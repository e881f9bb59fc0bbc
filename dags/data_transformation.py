from airflow.sdk import AssetOrTimeSchedule, dag

from medical_telegram.orchestration.assets import RAW_MESSAGES
from medical_telegram.orchestration.defaults import DEFAULT_ARGS, TAGS, cron
from medical_telegram.orchestration.maintenance import maintenance_gate
from medical_telegram.orchestration.transformation import transformation_group


@dag(schedule=AssetOrTimeSchedule(timetable=cron("0 */4 * * *"), assets=RAW_MESSAGES), catchup=False,
     max_active_runs=1, default_args=DEFAULT_ARGS, tags=[*TAGS, "dbt", "transformation"])
def data_transformation():
    """### Transformation

    When new raw messages are published (`raw_telegram_messages`), and every 4 hours in any case: every dbt
    model (Cosmos, each followed by its tests) → GX on staging and marts. Each model task emits its table's
    Asset; `publish_marts` emits `warehouse_marts` when the marts hold something new. The tasks:
    `src/medical_telegram/orchestration/transformation.py`.
    """
    maintenance_gate() >> transformation_group()


data_transformation()
