from airflow.sdk import AssetOrTimeSchedule, dag

from medical_telegram.orchestration.assets import LAKE_IMAGES
from medical_telegram.orchestration.defaults import DEFAULT_ARGS, TAGS, cron
from medical_telegram.orchestration.enrichment import enrichment_group
from medical_telegram.orchestration.maintenance import maintenance_gate


@dag(schedule=AssetOrTimeSchedule(timetable=cron("0 */6 * * *"), assets=LAKE_IMAGES), catchup=False,
     max_active_runs=1, default_args=DEFAULT_ARGS, tags=[*TAGS, "ml", "enrichment"])
def ml_enrichment():
    """### ML enrichment

    When new photos land in the lake (`lake_telegram_images`), and every 6 hours in any case: YOLO on the
    photos without detections (container, `gpu` pool) → load detections → the detection dbt models → GX.
    Emits `raw_image_detections` and `marts_fct_image_detections` when it found something. The tasks:
    `src/medical_telegram/orchestration/enrichment.py`.
    """
    maintenance_gate() >> enrichment_group()


ml_enrichment()
