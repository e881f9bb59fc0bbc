from airflow.sdk import dag

from medical_telegram.orchestration.assets import LAKE_IMAGES, RAW_MESSAGES
from medical_telegram.orchestration.defaults import DEFAULT_ARGS, TAGS, cron
from medical_telegram.orchestration.ingestion import ingestion_group
from medical_telegram.orchestration.maintenance import maintenance_gate

ENGAGEMENT_REFRESH_DAYS = 3


@dag(schedule=cron("30 4 * * *"), catchup=False, max_active_runs=1, default_args=DEFAULT_ARGS,
     tags=[*TAGS, "ingestion"])
def engagement_refresh():
    """### Daily engagement refresh

    Views and forwards keep growing after a post is published: this re-scrapes the last 3 days of every
    channel (`--refresh-days`) and the loader's upsert updates the counts. The same task group as
    data_ingestion, with the same events; a DAG of its own so its runs and failures are told apart in the
    UI and its schedule can be paused alone. The tasks: `src/medical_telegram/orchestration/ingestion.py`.
    """
    maintenance_gate() >> ingestion_group(refresh_days=ENGAGEMENT_REFRESH_DAYS, emits=[RAW_MESSAGES, LAKE_IMAGES])


engagement_refresh()
