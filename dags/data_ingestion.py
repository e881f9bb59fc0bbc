from airflow.sdk import dag

from medical_telegram.orchestration.assets import LAKE_IMAGES, RAW_MESSAGES
from medical_telegram.orchestration.defaults import DEFAULT_ARGS, TAGS, cron
from medical_telegram.orchestration.ingestion import ingestion_group
from medical_telegram.orchestration.maintenance import maintenance_gate


@dag(schedule=cron("0 * * * *"), catchup=False, max_active_runs=1, default_args=DEFAULT_ARGS,
     tags=[*TAGS, "ingestion"])
def data_ingestion():
    """### Hourly ingestion

    Scrape each channel (or import the Telegram Desktop export) → load raw → validate raw (GX).
    Emits `raw_telegram_messages` (queues data_transformation) and `lake_telegram_images` (queues
    ml_enrichment), only when the run loaded new rows or photos. The tasks:
    `src/medical_telegram/orchestration/ingestion.py`.
    """
    maintenance_gate() >> ingestion_group(emits=[RAW_MESSAGES, LAKE_IMAGES])


data_ingestion()
