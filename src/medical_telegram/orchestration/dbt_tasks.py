"""The one factory of dbt task groups: Cosmos renders medical_warehouse's models as Airflow tasks.

- Rendering reads target/manifest.json (LoadMode.DBT_MANIFEST), written at setup by
  `python -m medical_telegram.transform.dbt_runner`: parsing a DAG never runs dbt.
- The profile comes from the Airflow connection `warehouse_db` (PostgresUserPasswordProfileMapping): the
  password reaches dbt as an environment variable, never a file. The connection's host must be a TCP host,
  not a socket directory, or Cosmos cannot build the models' Asset URIs (docs/architecture.md, pitfalls).
- dbt runs from its own virtual environment (.venvs/dbt, or DBT_EXECUTABLE) as a subprocess.
- Each model is followed by its tests (TestBehavior.AFTER_EACH), so a failing test stops what depends on it.
- Execution mode (DBT_EXECUTION_MODE, read at parse time): `watcher` (default) runs ONE `dbt build
  --threads DBT_THREADS` (a producer task) while each model's run and test tasks watch its result (deferred
  sensors in the triggerer), so every model keeps its task, its Asset and its tests in the UI; `local` runs
  one dbt process per task. WATCHER needs a scheduler that runs tasks side by side: under `dag.test()` (one
  task at a time) its sensors would wait for a producer that never starts, so `run_dag` (dag.test) and the
  Cosmos smoke test use `local`.
- In WATCHER mode tests that read several models (relationships) are not detached into tasks of their own:
  such a task watches an aggregated test status the producer only publishes per model, never for a test
  node, so it could only end when the whole build had ended (and then reported success without a result;
  in a trial it ran by itself minutes after the producer). The producer's `dbt build` runs those tests after
  both models, and a failure there fails the build and skips what depends on the models.
- Each model task emits an Asset `postgres://host:port/database/schema/table`. Those URIs embed host and
  port, so downstream DAGs should schedule on the project's own Assets (orchestration.assets), not on them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cosmos import (
    DbtTaskGroup,
    ExecutionConfig,
    ExecutionMode,
    LoadMode,
    ProfileConfig,
    ProjectConfig,
    RenderConfig,
    TestBehavior,
)
from cosmos.constants import InvocationMode, TestIndirectSelection
from cosmos.profiles import PostgresUserPasswordProfileMapping

from medical_telegram import connections
from medical_telegram.orchestration.pools import DBT_BUILD_POOL
from medical_telegram.orchestration.settings import DagSettings
from medical_telegram.transform import dbt_runner

WAREHOUSE_CONN_ID = connections.WAREHOUSE
PROFILE_NAME = "medical_warehouse"
TARGET_NAME = "warehouse"

# Selections for the DAGs (dbt selector syntax). Seeds are selected with the models that use them.
ALL_MODELS: tuple[str, ...] = ("path:seeds", "path:models")


def execution_mode() -> ExecutionMode:
    return ExecutionMode(DagSettings().dbt_execution_mode)


def dbt_threads() -> int:
    """Threads of the WATCHER producer's `dbt build`."""
    return DagSettings().dbt_threads


def warehouse_profile(conn_id: str = WAREHOUSE_CONN_ID) -> ProfileConfig:
    """The dbt profile Cosmos writes for each task, from an Airflow Postgres connection."""
    return ProfileConfig(
        profile_name=PROFILE_NAME,
        target_name=TARGET_NAME,
        # dbt's fallback schema only: every folder of the project names its own (staging, marts).
        profile_mapping=PostgresUserPasswordProfileMapping(
            conn_id=conn_id, profile_args={"schema": "staging", "threads": dbt_threads()}),
    )


def dbt_task_group(
    group_id: str = "dbt",
    select: Sequence[str] = ALL_MODELS,
    exclude: Sequence[str] = (),
    *,
    conn_id: str = WAREHOUSE_CONN_ID,
    dbt_vars: dict[str, Any] | None = None,
    operator_args: dict[str, Any] | None = None,
    **task_group_kwargs: Any,
) -> DbtTaskGroup:
    """A DbtTaskGroup running the selected models of medical_warehouse, each followed by its tests.

    select / exclude: dbt selectors, e.g. ALL_MODELS or ("+fct_messages",).
    dbt_vars: dbt --vars, e.g. {"incremental_lookback": "2 hours"}. Other keyword arguments go to the task
    group (dag=..., default_args=...).
    """
    manifest = dbt_runner.MANIFEST_PATH
    mode = execution_mode()
    if not manifest.exists():
        raise FileNotFoundError(
            f"{manifest} is missing: run `make setup` (or `python -m medical_telegram.transform.dbt_runner`) to build it"
        )
    group = DbtTaskGroup(
        group_id=group_id,
        project_config=ProjectConfig(
            dbt_project_path=dbt_runner.PROJECT_DIR,
            manifest_path=manifest,
            install_dbt_deps=False,  # no packages: the dbt hub is not needed
            dbt_vars=dbt_vars or {},
        ),
        profile_config=warehouse_profile(conn_id),
        execution_config=ExecutionConfig(
            execution_mode=mode,
            dbt_executable_path=str(dbt_runner.dbt_executable()),
            invocation_mode=InvocationMode.SUBPROCESS,
            # A model's test task runs only the tests on that model alone; a test that also reads other models
            # (relationships) gets its own task after all of them (should_detach_multiple_parents_tests), so
            # it never runs before the model it points to is built.
            test_indirect_selection=TestIndirectSelection.CAUTIOUS,
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            select=list(select),
            exclude=list(exclude),
            test_behavior=TestBehavior.AFTER_EACH,
            should_detach_multiple_parents_tests=mode == ExecutionMode.LOCAL,
            emit_datasets=True,
        ),
        operator_args={"install_deps": False, **(operator_args or {})},
        **task_group_kwargs,
    )
    # One `dbt build` per warehouse at a time: full_pipeline at 02:00 and an Asset-triggered
    # data_transformation would otherwise build the same incremental models at once. The producer alone holds
    # the pool's slot (its watchers are deferred sensors); LOCAL mode is dag.test()'s, one task at a time.
    for task in group.iter_tasks():
        if task.task_id.endswith("dbt_producer_watcher"):
            task.pool = DBT_BUILD_POOL
    return group
