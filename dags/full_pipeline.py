"""Daily 02:00 UTC: everything, end to end, from the same task groups as the single-purpose DAGs.

ingest (data_ingestion's group) → enrich (ml_enrichment's: detect, load detections) → transform
(data_transformation's: every dbt model, the detection marts included, so they are built once) → Data Docs.
Each group validates its own layer with Great Expectations, so a bad layer stops what depends on it.
`python -m medical_telegram.orchestration.run_full_pipeline` runs this DAG with `dag.test()` on the bundled
sample.
"""

from datetime import timedelta

from airflow.sdk import CronTriggerTimetable, dag

from medical_telegram.orchestration.common import maintenance_gate
from medical_telegram.orchestration.defaults import dag_kwargs
from medical_telegram.orchestration.enrichment import enrichment_group
from medical_telegram.orchestration.ingestion import ingestion_group
from medical_telegram.orchestration.quality_tasks import build_data_docs
from medical_telegram.orchestration.transformation import transformation_group


@dag(**dag_kwargs(__file__, __doc__, CronTriggerTimetable("0 2 * * *", timezone="UTC"), ["pipeline"],
                  dagrun_timeout=timedelta(hours=4)))
def full_pipeline():
    docs = build_data_docs.override(trigger_rule="all_success")()
    enrich = enrichment_group(build_models=False)
    maintenance_gate() >> ingestion_group() >> enrich >> transformation_group() >> docs


full_pipeline()
