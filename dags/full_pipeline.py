from datetime import timedelta

from airflow.sdk import dag

from medical_telegram.orchestration.defaults import DEFAULT_ARGS, TAGS, cron
from medical_telegram.orchestration.enrichment import enrichment_group
from medical_telegram.orchestration.ingestion import ingestion_group
from medical_telegram.orchestration.maintenance import maintenance_gate
from medical_telegram.orchestration.quality_tasks import build_data_docs
from medical_telegram.orchestration.transformation import transformation_group


@dag(schedule=cron("0 2 * * *"), catchup=False, max_active_runs=1, default_args=DEFAULT_ARGS,
     dagrun_timeout=timedelta(hours=4), tags=[*TAGS, "pipeline"])
def full_pipeline():
    """### Everything, daily at 02:00 UTC

    ingest → enrich → transform → Data Docs, from the same task groups as data_ingestion, ml_enrichment and
    data_transformation; each group validates its own layer, so a bad layer stops what depends on it.
    It does their work itself, so it emits none of the events they are scheduled on (only lineage Assets).
    `make run` triggers it on the bundled sample.
    """
    ingest = ingestion_group(emits=[])
    enrich = enrichment_group(build_models=False)  # transform builds every model, the detection marts too
    transform = transformation_group()
    # Each group starts after the previous one's check, not after its publish task, which is skipped when
    # nothing changed (a skipped publish emits no event, and must not skip the rest of the run).
    maintenance_gate() >> ingest
    ingest["validate_raw"] >> enrich
    enrich["validate_detections"] >> transform
    transform >> build_data_docs.override(trigger_rule="none_failed_min_one_success")()


full_pipeline()
