"""Transformation: dbt staging → dimensions → facts, each model followed by its tests (Cosmos), then the
Great Expectations checkpoints of staging and marts.

Runs when data_ingestion (or engagement_refresh) publishes new raw messages (the `raw_telegram_messages`
Asset), and every 4 hours in any case. Each dbt model task emits its own Asset
(`postgres://host:port/db/schema/table`); `publish_marts` emits the project's `warehouse_marts` Asset with
the quality scores.
"""

from airflow.sdk import AssetOrTimeSchedule, dag

from medical_telegram.orchestration.assets import RAW_MESSAGES
from medical_telegram.orchestration.common import maintenance_gate
from medical_telegram.orchestration.defaults import cron, dag_kwargs
from medical_telegram.orchestration.transformation import transformation_group

SCHEDULE = AssetOrTimeSchedule(timetable=cron("0 */4 * * *"), assets=RAW_MESSAGES)


@dag(**dag_kwargs(__file__, __doc__, SCHEDULE, ["dbt", "transformation"]))
def data_transformation():
    maintenance_gate() >> transformation_group()


data_transformation()
