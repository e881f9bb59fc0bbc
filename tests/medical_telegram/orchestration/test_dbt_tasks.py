"""The Cosmos factory (medical_telegram.orchestration.dbt_tasks) renders from the manifest and runs under real
Airflow (`dag.test()`) against a real PostgreSQL, emitting Assets for the models.

Airflow runs in a subprocess with its own AIRFLOW_HOME (a SQLite metadata database made by `airflow db migrate`,
about 3 s), so it never touches a user's Airflow or other tests. dag.test() in Airflow 3.3 needs the DAG in the
dags folder (it serializes it from there), hence the DAG file is copied into the temporary home.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from medical_telegram.transform.dbt_runner import MANIFEST_PATH, build_manifest, run_dbt
from medical_telegram.warehouse.loaders.messages import load_messages
from medical_telegram.warehouse.migrate import migrate

HERE = Path(__file__).resolve().parent
SAMPLE_LAKE = HERE.parents[2] / "sample" / "lake"
AIRFLOW = Path(sys.executable).with_name("airflow")


@pytest.fixture(scope="module")
def cosmos_run(make_database, tmp_path_factory) -> dict:
    if not MANIFEST_PATH.exists():
        build_manifest()
    dsn = make_database("mtw_cosmos")
    with psycopg.connect(dsn) as conn:
        migrate(conn)
        load_messages(conn, SAMPLE_LAKE)
        conn.commit()
    # The DAG re-runs part of an existing warehouse, as the hourly DAGs do: its relationships test reads
    # fct_product_mentions, which this selection does not build.
    run_dbt(["build", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"], dsn)
    params = psycopg.conninfo.conninfo_to_dict(dsn)
    # Cosmos's mapping requires a password; a trust-auth test server ignores it.
    password = params.get("password") or "unused"
    home = tmp_path_factory.mktemp("airflow_home")
    (home / "dags").mkdir()
    shutil.copy(HERE / "cosmos_smoke_dag.py", home / "dags" / "cosmos_smoke_dag.py")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "false",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "false",
        "DBT_EXECUTION_MODE": "local",  # dag.test(): one task at a time, where WATCHER cannot finish
        "AIRFLOW_CONN_WAREHOUSE_DB": (f"postgres://{params.get('user', 'postgres')}:{password}@"
                                      f"{params.get('host', '127.0.0.1')}:{params.get('port', 5432)}/{params['dbname']}"),
    }
    subprocess.run([str(AIRFLOW), "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
    result = subprocess.run([sys.executable, str(home / "dags" / "cosmos_smoke_dag.py")], env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    summary["database"] = params["dbname"]
    summary["dsn"] = dsn
    return summary


def test_factory_renders_models_with_tests_after_each(cosmos_run):
    tasks = set(cosmos_run["transformation"])
    for model in ("stg_telegram_messages", "dim_channels", "dim_dates", "fct_messages", "fct_product_mentions",
                  "fct_image_detections", "fct_channel_daily_activity"):
        assert {f"dbt.{model}.run", f"dbt.{model}.test"} <= tasks
    assert {"dbt.channels.seed", "dbt.product_lexicon.seed"} <= tasks
    # Tests reading two models run after both, in their own task.
    assert "dbt.relationships_fct_messages_channel_key__channel_key__ref_dim_channels__test" in tasks
    # ALL_MODELS is every model: the API's serving tables too.
    assert {"dbt.api_message_search.run", "dbt.api_visual_content.run"} <= tasks
    enrichment = set(cosmos_run["enrichment"])
    assert {"dbt.fct_image_detections.run", "dbt.stg_image_detections.run"} <= enrichment
    # ENRICHMENT_SELECT takes the models built on the detections (`+`), and nothing of the messages.
    assert {"dbt.detection_class_roles.seed", "dbt.api_visual_content.run"} <= enrichment
    assert not any("fct_messages.run" in task for task in enrichment)


def test_task_group_runs_under_dag_test_and_emits_assets(cosmos_run):
    assert cosmos_run["state"].endswith("success"), cosmos_run["task_states"]
    assert set(cosmos_run["task_states"]) == {
        "dbt.product_lexicon.seed", "dbt.product_lexicon.test", "dbt.dim_products.run", "dbt.dim_products.test",
        "dbt.relationships_fct_product_mentions_product_key__product_key__ref_dim_products__test"}
    assert all(state.endswith("success") for state in cosmos_run["task_states"].values())
    host = psycopg.conninfo.conninfo_to_dict(cosmos_run["dsn"])
    prefix = f"postgres://{host.get('host', '127.0.0.1')}:{host.get('port', 5432)}/{cosmos_run['database']}"
    assert f"{prefix}/marts/dim_products" in cosmos_run["asset_events"]
    with psycopg.connect(cosmos_run["dsn"]) as conn:
        assert conn.execute("select product_category from marts.dim_products where product_name = 'Melatonin'"
                            ).fetchall() == [("Vitamins & Supplements",)]
