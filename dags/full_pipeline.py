"""Daily 02:00 UTC: everything, end to end, from the same task groups as the single-purpose DAGs.

ingest (data_ingestion's group) → enrich (ml_enrichment's: detect, load detections) → transform
(data_transformation's: every dbt model, the detection marts included, so they are built once) → Data Docs.
Each group validates its own layer with Great Expectations, so a bad layer stops what depends on it.
Its Asset events are only those no other DAG is scheduled on: it does the work of data_transformation and
ml_enrichment itself, so it must not queue them to do it again.
`make run` triggers it through the local service's scheduler on the bundled sample.
"""

from datetime import timedelta

from airflow.sdk import dag

from medical_telegram.orchestration.common import maintenance_gate
from medical_telegram.orchestration.defaults import cron, dag_kwargs
from medical_telegram.orchestration.enrichment import enrichment_group
from medical_telegram.orchestration.ingestion import ingestion_group
from medical_telegram.orchestration.quality_tasks import build_data_docs
from medical_telegram.orchestration.transformation import transformation_group


@dag(**dag_kwargs(__file__, __doc__, cron("0 2 * * *"), ["pipeline"],
                  dagrun_timeout=timedelta(hours=4)))
def full_pipeline():
    # announce=False: no events that queue data_transformation / ml_enrichment, which would redo this run's work.
    ingest = ingestion_group(announce=False)
    enrich = enrichment_group(build_models=False)
    transform = transformation_group()
    # Each group starts after the previous one's check, not after its publish task, which is skipped when
    # nothing changed (a skipped publish emits no Asset event, and must not skip the rest of the run).
    maintenance_gate() >> ingest
    ingest["validate_raw"] >> enrich
    enrich["validate_detections"] >> transform
    transform >> build_data_docs.override(trigger_rule="none_failed_min_one_success")()


full_pipeline()
