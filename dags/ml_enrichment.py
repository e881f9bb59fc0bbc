"""ML enrichment: YOLO object detection on the product photos, then the detection marts.

- **detect**: the detector container (`gpu` pool, one slot; the GPU is requested through device_requests,
  or the CPU is used where none is present), only on photos without detections for this model yet.
- **load_detections**: the detections files → `raw.image_detections`.
- **dbt**: the enrichment models (stg_image_detections, fct_image_detections, ...) with their tests.
- **validate_detections**: the Great Expectations checkpoint `detections`.

Runs when new photos land in the lake (the `lake_telegram_images` Asset), and every 6 hours in any case.
"""

from airflow.sdk import AssetOrTimeSchedule, dag

from medical_telegram.orchestration.assets import LAKE_IMAGES
from medical_telegram.orchestration.common import maintenance_gate
from medical_telegram.orchestration.defaults import cron, dag_kwargs
from medical_telegram.orchestration.enrichment import enrichment_group

SCHEDULE = AssetOrTimeSchedule(timetable=cron("0 */6 * * *"), assets=LAKE_IMAGES)


@dag(**dag_kwargs(__file__, __doc__, SCHEDULE, ["ml", "enrichment"]))
def ml_enrichment():
    maintenance_gate() >> enrichment_group()


ml_enrichment()
