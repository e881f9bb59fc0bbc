"""Run one DAG under Airflow on this machine, with no Airflow services: `dag.test()` in this process.

    python -m medical_telegram.devstack.run_dag full_pipeline [--airflow-home DIR] [--conf JSON]
    python -m medical_telegram.devstack.run_full_pipeline         (the same for full_pipeline)

The lightest Airflow 3.3 that works: an AIRFLOW_HOME (default ./.airflow) with a SQLite metadata database
(`airflow db migrate` on first use, about 6 s), the project's dags/ and plugins/ folders, the pools, and
`dag.test()`, which runs every task in this process and records runs, task instances, XComs and Asset
events in that database (`AIRFLOW_HOME=./.airflow airflow dags list-runs ...` shows them afterwards).
For debugging one DAG without services; `make run` runs DAGs through the scheduler of the local service
(orchestration.service). dbt runs in Cosmos's LOCAL mode here (one process per task): WATCHER needs a
scheduler that runs tasks side by side.

Configuration comes from the environment as usual (AIRFLOW_CONN_WAREHOUSE_DB, DATA_LAKE_DIR,
CONTAINER_RUNTIME, TELEGRAM_SOURCE, ...). Without a warehouse connection the embedded warehouse is started
and passed to Airflow as AIRFLOW_CONN_WAREHOUSE_DB, so Cosmos's dbt profile and the loaders use the same one.
Prints one JSON line (the run's state and each task's state) last; exits 1 when the run failed.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from medical_telegram.orchestration.pools import POOLS
from medical_telegram.paths import PROJECT_DIR

log = logging.getLogger(__name__)


def airflow_environment(home: Path) -> dict[str, str]:
    """The variables that make a private, service-less Airflow of this project in `home`."""
    project = PROJECT_DIR
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(project / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(project / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        # New DAGs unpaused, so an Asset event queues its consumers (the scheduler's behaviour in production).
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "MEDTEL_PROJECT_DIR": str(project),
        # dag.test() runs one task at a time: Cosmos's WATCHER sensors would wait for a producer that never
        # starts, so dbt runs one process per task here (dbt_tasks.execution_mode).
        "DBT_EXECUTION_MODE": "local",
        # No usage telemetry from Cosmos (and no waiting on a network that is not there).
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "DO_NOT_TRACK": "1",
        "SCARF_NO_ANALYTICS": "true",
        "GX_ANALYTICS_ENABLED": "false",
    }


def with_password(uri: str) -> str:
    """Cosmos's Postgres profile mapping insists on a password; a trust-auth server (the embedded warehouse,
    a test server) ignores whatever is given, so give a placeholder when the URI has none."""
    parts = urlsplit(uri)
    if parts.password or "@" not in parts.netloc:
        return uri
    user, _, host = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=f"{user}:unused@{host}"))


def configure(home: Path) -> None:
    """Set up this process's environment (before Airflow is imported) and the metadata database."""
    for name, value in airflow_environment(home).items():
        os.environ.setdefault(name, value)
    home = Path(os.environ["AIRFLOW_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    if not os.environ.get("AIRFLOW_CONN_WAREHOUSE_DB"):
        from medical_telegram import warehouse

        os.environ["AIRFLOW_CONN_WAREHOUSE_DB"] = warehouse.warehouse_dsn()
    if not os.environ["AIRFLOW_CONN_WAREHOUSE_DB"].lstrip().startswith("{"):
        os.environ["AIRFLOW_CONN_WAREHOUSE_DB"] = with_password(os.environ["AIRFLOW_CONN_WAREHOUSE_DB"])
    _migrate(home)


def _migrate(home: Path) -> None:
    stamp = home / ".migrated"
    if stamp.exists():
        return
    airflow = Path(sys.executable).parent / "airflow"
    result = subprocess.run([str(airflow), "db", "migrate"], capture_output=True, text=True, env=os.environ)
    if result.returncode:
        raise RuntimeError(f"airflow db migrate failed: {result.stderr.strip()[-800:]}")
    stamp.touch()


def ensure_pools() -> None:
    from airflow.models.pool import Pool

    for name, (slots, description) in POOLS.items():
        Pool.create_or_update_pool(name, slots=slots, description=description, include_deferred=False)


def run(dag_id: str, conf: dict | None = None) -> dict:
    from airflow.dag_processing.dagbag import DagBag

    ensure_pools()
    bag = DagBag(os.environ["AIRFLOW__CORE__DAGS_FOLDER"], safe_mode=False)
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    dag = bag.dags.get(dag_id)
    if dag is None:
        raise RuntimeError(f"no DAG {dag_id!r}; known: {', '.join(sorted(bag.dags))}")
    dag_run = dag.test(run_conf=conf)
    states = {}
    for ti in dag_run.get_task_instances():
        key = ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"
        states[key] = str(ti.state.value if hasattr(ti.state, "value") else ti.state)
    state = str(getattr(dag_run.state, "value", dag_run.state))
    return {"dag_id": dag_id, "run_id": dag_run.run_id, "state": state, "tasks": states}


def main(argv: list[str] | None = None, default_dag: str | None = None) -> int:
    parser = argparse.ArgumentParser(prog="run_dag", description=__doc__.split("\n\n")[0])
    if default_dag:
        parser.add_argument("dag_id", nargs="?", default=default_dag)
    else:
        parser.add_argument("dag_id")
    parser.add_argument("--airflow-home", type=Path, default=None,
                        help="Airflow's home (default: $AIRFLOW_HOME, else ./.airflow)")
    parser.add_argument("--conf", type=json.loads, default=None, help="the run's conf, as JSON")
    args = parser.parse_args(argv)
    home = args.airflow_home or Path(os.environ.get("AIRFLOW_HOME") or PROJECT_DIR / ".airflow")
    os.environ["AIRFLOW_HOME"] = str(home.resolve())
    try:
        configure(home.resolve())
        outcome = run(args.dag_id, args.conf)
    except Exception as exc:  # one line, no traceback: the exit code tells the caller
        print(f"run_dag: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(outcome))
    return 0 if outcome["state"] == "success" else 1


if __name__ == "__main__":
    raise SystemExit(main())
