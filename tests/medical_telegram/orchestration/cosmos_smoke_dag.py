"""A small DAG built with the Cosmos factory, run by test_dbt_tasks.py in its own Airflow home.

Run as a script it renders the selections the DAGs' task groups use (the transformation group's ALL_MODELS,
the enrichment group's ENRICHMENT_SELECT), runs this DAG with dag.test() and prints one JSON line: task ids
per selection, the run's state, each task's state and the Asset events emitted.
"""

from __future__ import annotations

import json

import pendulum
from airflow.sdk import DAG

from medical_telegram.orchestration.dbt_tasks import ALL_MODELS, dbt_task_group
from medical_telegram.orchestration.transformation import ENRICHMENT_SELECT

with DAG("dbt_smoke", start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), schedule=None, catchup=False) as dag:
    dbt_task_group(select=("product_lexicon", "dim_products"))


def rendered(name: str, select) -> list[str]:
    with DAG(f"render_{name}", start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), schedule=None) as other:
        dbt_task_group(select=select)
    return sorted(other.task_dict)


if __name__ == "__main__":
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    # The selections as the task groups pass them: transformation_group (ALL_MODELS), enrichment_group.
    summary = {"smoke_tasks": sorted(dag.task_dict), "transformation": rendered("transformation", ALL_MODELS),
               "enrichment": rendered("enrichment", ENRICHMENT_SELECT)}
    run = dag.test()
    with create_session() as session:
        summary["state"] = str(run.state)
        summary["task_states"] = {ti.task_id: str(ti.state) for ti in run.get_task_instances(session=session)}
        summary["asset_events"] = sorted(uri for (uri,) in session.execute(
            select(AssetModel.uri).join(AssetEvent, AssetEvent.asset_id == AssetModel.id)))
    print(json.dumps(summary))
