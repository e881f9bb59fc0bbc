"""DAG integrity: every file under dags/ parses with no secrets set, and the DAGs are the ones of docs/architecture.md.

The nine schedules (eight DAGs of the DAG table plus the daily engagement refresh, which is its own DAG):

| DAG                 | schedule                                   |
|---------------------|--------------------------------------------|
| data_ingestion      | hourly                      (0 * * * *)    |
| data_transformation | raw-messages Asset, or every 4 h (0 */4)   |
| ml_enrichment       | lake-images Asset, or every 6 h (0 */6)    |
| api_service         | every 30 min                (*/30 * * * *) |
| full_pipeline       | daily 02:00                 (0 2 * * *)    |
| quality_checks      | every 2 h                   (0 */2 * * *)  |
| health_check        | every 15 min                (*/15 * * * *) |
| cleanup             | weekly, Sunday 03:00        (0 3 * * 0)    |
| engagement_refresh  | daily 04:30                 (30 4 * * *)   |
"""

from __future__ import annotations

import os
from pathlib import Path
from unittest import mock

import pytest

from medical_telegram.orchestration.dag_table import scheduled_assets

DAGS_DIR = Path(__file__).resolve().parents[2] / "dags"
DAG_FILES = sorted(DAGS_DIR.glob("*.py"))

# dag_id → (cron of the time schedule, names of the Assets it is also scheduled on)
SCHEDULES: dict[str, tuple[str, set[str]]] = {
    "data_ingestion": ("0 * * * *", set()),
    "data_transformation": ("0 */4 * * *", {"raw_telegram_messages"}),
    "ml_enrichment": ("0 */6 * * *", {"lake_telegram_images"}),
    "api_service": ("*/30 * * * *", set()),
    "full_pipeline": ("0 2 * * *", set()),
    "quality_checks": ("0 */2 * * *", set()),
    "health_check": ("*/15 * * * *", set()),
    "cleanup": ("0 3 * * 0", set()),
    "engagement_refresh": ("30 4 * * *", set()),
}

_SECRETS = ("TELEGRAM_API_ID", "TELEGRAM_API_HASH", "TELEGRAM_SESSION", "TELEGRAM_PHONE", "WAREHOUSE_DSN",
            "ALERT_WEBHOOK_URL")


def _no_secrets_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in _SECRETS and not k.startswith("AIRFLOW_CONN_")}


@pytest.fixture(scope="session")
def bags():
    """Each DAG file parsed on its own (so a failure names the file), with no secret in the environment."""
    from airflow.dag_processing.dagbag import DagBag

    parsed = {}
    with mock.patch.dict(os.environ, _no_secrets_env(), clear=True):
        for path in DAG_FILES:
            parsed[path.name] = DagBag(dag_folder=str(path), safe_mode=False)
    return parsed


@pytest.fixture(scope="session")
def dags(bags):
    return {dag_id: dag for bag in bags.values() for dag_id, dag in bag.dags.items()}


def _schedule(dag) -> tuple[str, set[str]]:
    timetable = dag.timetable
    names = {asset.name for asset in scheduled_assets(dag)}
    cron = getattr(getattr(timetable, "timetable", timetable), "expression", None)
    return cron, names


def _asset_keys(assets) -> set[tuple[str, str]]:
    return {(a.name, a.uri) for a in assets if hasattr(a, "uri")}


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_file_parses_without_errors(bags, path):
    bag = bags[path.name]
    assert bag.import_errors == {}, bag.import_errors
    assert list(bag.dags) == [path.stem], "one DAG per file, dag_id = file name"


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_dag_conventions(bags, path):
    dag = bags[path.name].dags[path.stem]
    assert dag.doc_md and dag.doc_md.strip(), "the DAG function's docstring as doc_md"
    assert dag.catchup is False
    # No start_date: a DAG switched on waits for its next scheduled time instead of running its latest past
    # interval at once (orchestration/defaults.py).
    assert dag.start_date is None, "no start_date: unpausing must not start a run at once"
    assert "medical-telegram" in dag.tags and len(dag.tags) >= 2


def test_the_nine_schedules(dags):
    assert set(dags) == set(SCHEDULES)
    assert {dag_id: _schedule(dag) for dag_id, dag in dags.items()} == SCHEDULES


@pytest.mark.parametrize("dag_id", sorted(SCHEDULES))
def test_every_task_has_retries_owner_timeout_and_alert(dags, dag_id):
    for task in dags[dag_id].tasks:
        assert task.retries >= 1, f"{task.task_id} has no retries"
        assert task.owner == "data-engineering", f"{task.task_id} owner {task.owner!r}"
        assert task.execution_timeout is not None, f"{task.task_id} has no execution_timeout"
        assert task.on_failure_callback, f"{task.task_id} has no on_failure_callback"


@pytest.mark.parametrize("dag_id", sorted(SCHEDULES))
def test_no_cycles(dags, dag_id):
    from airflow.utils.dag_cycle_tester import check_cycle

    check_cycle(dags[dag_id])  # raises on a cycle
    assert dags[dag_id].topological_sort()


def test_every_scheduled_asset_is_produced_by_some_dag(dags):
    produced = set()
    for dag in dags.values():
        for task in dag.tasks:
            produced |= _asset_keys(task.outlets)
    for dag_id, dag in dags.items():
        wanted = _asset_keys(scheduled_assets(dag))
        assert wanted <= produced, f"{dag_id} waits for Assets no DAG produces: {wanted - produced}"


def test_scheduled_assets_do_not_embed_a_host(dags):
    for dag in dags.values():
        for asset in scheduled_assets(dag):
            assert asset.uri.startswith("medtel://"), f"{dag.dag_id} is scheduled on {asset.uri}"


def test_pools_bound_telegram_and_gpu(dags):
    pools = {(dag_id, task.task_id): task.pool for dag_id, dag in dags.items() for task in dag.tasks}
    assert pools[("data_ingestion", "ingest.scrape")] == "telegram"
    assert pools[("ml_enrichment", "enrich.detect")] == "gpu"
    from medical_telegram.orchestration.pools import POOLS

    assert POOLS["gpu"][0] == 1


def _steps(dag) -> set[str]:
    """Tasks by what they do: group.task for our tasks, model.run / model.test for dbt's (whichever group)."""
    steps = set()
    for task in dag.tasks:
        parts = task.task_id.split(".")
        steps.add(".".join(parts[-2:]) if ".dbt." in task.task_id else task.task_id)
    return steps


def test_full_pipeline_reuses_the_task_groups(dags):
    full = _steps(dags["full_pipeline"])
    for dag_id in ("data_ingestion", "data_transformation", "ml_enrichment"):
        # publish_lake_images only announces new photos to ml_enrichment, whose work full_pipeline does itself.
        missing = _steps(dags[dag_id]) - full - {"ingest.publish_lake_images"}
        assert not missing, f"full_pipeline lacks {sorted(missing)} of {dag_id}"


def test_full_pipeline_emits_nothing_another_dag_is_scheduled_on(dags):
    """full_pipeline does data_transformation's and ml_enrichment's work: its events must not queue them."""
    scheduled = set()
    for dag in dags.values():
        scheduled |= _asset_keys(scheduled_assets(dag))
    emitted = set()
    for task in dags["full_pipeline"].tasks:
        emitted |= _asset_keys(task.outlets)
    assert scheduled, "some DAG is scheduled on an Asset"
    assert not emitted & scheduled, sorted(emitted & scheduled)
    ingestion = set()
    for task in dags["data_ingestion"].tasks:
        ingestion |= _asset_keys(task.outlets)
    assert scheduled <= ingestion, "data_ingestion announces what data_transformation and ml_enrichment wait for"


def test_scheduled_runs_start_with_the_maintenance_gate(dags):
    for dag_id in SCHEDULES:
        roots = {task.task_id for task in dags[dag_id].roots}
        assert roots == {"maintenance_gate"}, f"{dag_id} roots: {roots}"


def test_every_dbt_build_takes_the_one_dbt_build_slot(dags):
    """Two runs (full_pipeline at 02:00, an Asset-triggered data_transformation) never build the same
    incremental models at once: each DAG's dbt producer is in the dbt_build pool of one slot."""
    from medical_telegram.orchestration.pools import POOLS

    producers = {(dag_id, task.task_id): task.pool for dag_id, dag in dags.items() for task in dag.tasks
                 if task.task_id.endswith("dbt_producer_watcher")}
    assert {dag_id for dag_id, _ in producers} >= {"data_transformation", "full_pipeline", "ml_enrichment"}
    assert set(producers.values()) == {"dbt_build"} and POOLS["dbt_build"][0] == 1
    others = {task.pool for dag in dags.values() for task in dag.tasks
              if ".dbt." in task.task_id and not task.task_id.endswith("dbt_producer_watcher")}
    assert "dbt_build" not in others, "the watchers wait on the producer; they hold no slot"
