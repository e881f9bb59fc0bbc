"""The enrichment task group: detect (the YOLO container, `gpu` pool) → load detections → dbt enrichment
models → validate detections (GX) → publish.

The detector only looks at photos that have no detections for its model yet, so a run after an hour with no
new photos is quick.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from airflow.sdk import Metadata, task, task_group

from medical_telegram import lake
from medical_telegram.orchestration import alerts, assets, settings
from medical_telegram.orchestration.pools import GPU_POOL, RAW_LOAD_POOL
from medical_telegram.warehouse import connect
from medical_telegram.orchestration.containers import ContainerTaskOperator
from medical_telegram.orchestration.quality_tasks import validate
from medical_telegram.orchestration.transformation import ENRICHMENT_SELECT

log = logging.getLogger(__name__)


@task(task_id="load_detections", pool=RAW_LOAD_POOL)
def load_detections(detector_summary: str | None = None, *, ti=None, run_id=None) -> dict:
    """Detection files not loaded yet → raw.image_detections."""
    from medical_telegram.warehouse.loaders.detections import load_detections as load

    run = settings.RunSettings.read("load_lock_wait_s", "quarantine_alert_share")
    with connect(migrated=True) as conn:
        summary = load(conn, lake.lake_dir(), lock_wait_s=run.load_lock_wait_s).as_dict()
        what = f"{ti.dag_id}.{ti.task_id}" if ti else "load_detections"
        alerts.losses_alert(conn, what, summary, run.quarantine_alert_share, run_id)
    return summary


DETECTION_OUTLETS = [assets.LAKE_DETECTIONS, assets.RAW_DETECTIONS, assets.PG_RAW_DETECTIONS,
                     assets.MARTS_DETECTIONS]


@task(task_id="publish_detections", outlets=DETECTION_OUTLETS)
def publish_detections(loaded: dict, quality: dict):
    """The detections' Asset events, with how many rows changed and the score; none when nothing changed
    (the task ends as skipped, and a skipped task emits no event)."""
    from airflow.sdk.exceptions import AirflowSkipException

    extra = {"rows_loaded": loaded.get("inserted", 0) + loaded.get("updated", 0),
             **{key: loaded.get(key, 0) for key in ("files_loaded", "rows_in", "inserted", "updated", "quarantined")},
             "quality_score": quality.get("score")}
    if not extra["rows_loaded"]:
        raise AirflowSkipException(f"no detection inserted or updated ({extra['rows_in']} read): no Asset event")
    for asset in DETECTION_OUTLETS:
        yield Metadata(asset, extra)
    return extra


def enrichment_group(group_id: str = "enrich", build_models: bool = True):
    """detect → load_detections → dbt enrichment models → validate_detections → publish_detections.

    build_models=False leaves the dbt models out, for a DAG that runs the transformation group (which builds
    every model, the detection marts included) after this one: full_pipeline.
    """
    from medical_telegram.orchestration.dbt_tasks import dbt_task_group

    @task_group(group_id=group_id)
    def enrich():
        detect = ContainerTaskOperator(
            task_id="detect",
            spec_name="yolo",
            command=["detect"],
            pool=GPU_POOL,
            execution_timeout=timedelta(hours=1),
        )
        loaded = load_detections(detect.output)
        checked = validate.override(task_id="validate_detections")("detections")
        if build_models:
            loaded >> dbt_task_group(group_id="dbt", select=ENRICHMENT_SELECT) >> checked
        else:
            loaded >> checked
        publish_detections(loaded, checked)

    return enrich()
