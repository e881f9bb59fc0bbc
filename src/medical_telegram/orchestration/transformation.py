"""The transformation task group: every dbt model, staging → dimensions → facts → serving tables (Cosmos,
each model followed by its tests) → validate staging and marts (GX) → publish the marts Asset.

The detection marts are built here too, from the detections already loaded, so every mart is consistent
with the messages of this run; the enrichment group rebuilds just them after the detector found more.
(Excluding them here would not work cleanly: Cosmos renders a relationships test of fct_image_detections
wherever one of its parents, fct_messages, is selected.)
"""

from __future__ import annotations

from airflow.sdk import Metadata, task, task_group

from medical_telegram.orchestration import assets
from medical_telegram.orchestration.quality_tasks import validate

# dbt selectors of the enrichment models and everything built on them.
ENRICHMENT_SELECT = ("detection_class_roles+", "stg_image_detections+")


# What the marts hold, in a few numbers: equal numbers mean a build changed nothing.
_MARTS_FINGERPRINT = """
    select (select count(*) from marts.fct_messages),
           (select coalesce(sum(view_count), 0) + coalesce(sum(forward_count), 0) from marts.fct_messages),
           (select count(*) from marts.fct_image_detections),
           (select count(*) from marts.fct_product_mentions)
"""


def marts_fingerprint() -> list[int]:
    from medical_telegram.warehouse import connect

    with connect(migrated=True) as conn:
        return [int(value) for value in conn.execute(_MARTS_FINGERPRINT).fetchone()]


@task(task_id="publish_marts", outlets=[assets.MARTS], inlets=[assets.MARTS])
def publish_marts(staging: dict, marts: dict, *, inlet_events=None):
    """The marts Asset event, with the layers' quality scores; none when the marts hold what they held at the
    last event (a build that found nothing new)."""
    from airflow.sdk.exceptions import AirflowSkipException

    fingerprint = marts_fingerprint()
    last = inlet_events[assets.MARTS].ascending(False).limit(1) if inlet_events is not None else []
    previous = (last[0].extra or {}).get("fingerprint") if len(last) else None
    if previous == fingerprint:
        raise AirflowSkipException(f"the marts are as at the last event ({fingerprint}): no Asset event")
    extra = {"staging_score": staging.get("score"), "marts_score": marts.get("score"),
             "warnings": len(staging.get("warnings", [])) + len(marts.get("warnings", [])),
             "fingerprint": fingerprint}
    yield Metadata(assets.MARTS, extra)
    return extra


def transformation_group(group_id: str = "transform"):
    from medical_telegram.orchestration.dbt_tasks import ALL_MODELS, dbt_task_group

    @task_group(group_id=group_id)
    def transform():
        models = dbt_task_group(group_id="dbt", select=ALL_MODELS)
        staging = validate.override(task_id="validate_staging")("staging")
        marts = validate.override(task_id="validate_marts")("marts")
        models >> [staging, marts]
        publish_marts(staging, marts)

    return transform()
