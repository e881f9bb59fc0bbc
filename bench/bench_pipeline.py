"""Benchmark of the pipeline through the scheduler: time to a finished data_transformation and a finished
full_pipeline on the bundled sample, with dbt in Cosmos's WATCHER mode and in LOCAL mode, in the same run.

For each mode it starts the local service (`python -m medical_telegram.devstack.service up`: api-server,
scheduler with the LocalExecutor, dag-processor, triggerer, API) on free ports, with a state folder and
databases of its own; loads the sample once through data_ingestion (not timed), then triggers
data_transformation ROUNDS times and full_pipeline ROUNDS times through the REST API, each timed from the
trigger to the run's end (what a user waits for), and stops the service. Prints the median, the spread and
the ratio LOCAL / WATCHER (LOCAL, one dbt process per task, is the baseline).

Usage: .venv/bin/python bench/bench_pipeline.py [--rounds 3] [--modes watcher,local]
Needs a PostgreSQL: TEST_WAREHOUSE_ADMIN_DSN, else postgresql://postgres@127.0.0.1:5432/postgres.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

from medical_telegram.devstack.client import AirflowClient

import figures  # bench/figures.py: run as a script, this folder is on sys.path

REPO = Path(__file__).resolve().parents[1]
DAGS = ("data_transformation", "full_pipeline")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database(admin: str, prefix: str) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    return name


def _drop(admin: str, names: list[str]) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        for name in names:
            conn.execute(f'drop database if exists "{name}" with (force)')


def measure_mode(mode: str, rounds: int, admin: str, scratch: Path) -> dict[str, list[float]]:
    params = psycopg.conninfo.conninfo_to_dict(admin)
    server = f"{params.get('user', 'postgres')}@{params.get('host', '127.0.0.1')}:{params.get('port', 5432)}"
    warehouse, metadata = _database(admin, "bench_wh"), _database(admin, "bench_af")
    home = scratch / mode
    shutil.copytree(REPO / "include" / "gx", home / "gx_root" / "gx", ignore=shutil.ignore_patterns("uncommitted"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "TELEGRAM", "MEDTEL", "API_"))}
    env.update({
        "AIRFLOW_CONN_WAREHOUSE_DB": f"postgresql://{server}/{warehouse}",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://{server}/{metadata}",
        "MEDTEL_STATE_DIR": str(home / "state"), "DATA_LAKE_DIR": str(home / "lake"),
        "MEDTEL_AIRFLOW_PORT": str(_free_port()), "MEDTEL_API_PORT": str(_free_port()),
        "GX_PROJECT_DIR": str(home / "gx_root"), "DBT_EXECUTION_MODE": mode, "CONTAINER_RUNTIME": "local",
        "TELEGRAM_SOURCE": "export", "YOLO_DEVICE": "cpu",
    })
    service = [sys.executable, "-m", "medical_telegram.devstack.service"]
    times: dict[str, list[float]] = {dag: [] for dag in DAGS}
    try:
        subprocess.run([*service, "up"], env=env, cwd=REPO, check=True, capture_output=True, timeout=600)
        password = json.loads((home / "state" / "airflow" / "passwords.json").read_text())["admin"]
        api = AirflowClient(f"http://127.0.0.1:{env['MEDTEL_AIRFLOW_PORT']}", "admin", password)

        def run(dag_id: str) -> float:
            api.dag(dag_id)  # parsed by now
            api.set_paused(dag_id, False)
            began = time.monotonic()
            run_id = api.trigger(dag_id)
            outcome = api.wait(dag_id, run_id, timeout=3600)
            elapsed = time.monotonic() - began
            if outcome["state"] != "success":
                raise SystemExit(f"{mode}: {dag_id} {run_id} ended {outcome['state']}")
            return elapsed

        print(f"{mode}: loading the sample through data_ingestion ({run('data_ingestion'):.0f} s, not timed)",
              flush=True)
        api.set_paused("data_ingestion", True)
        for dag_id in DAGS:
            for round_ in range(rounds):
                times[dag_id].append(run(dag_id))
                print(f"{mode}: {dag_id} round {round_ + 1}: {times[dag_id][-1]:.1f} s", flush=True)
            api.set_paused(dag_id, True)
    finally:
        subprocess.run([*service, "stop"], env=env, cwd=REPO, capture_output=True, timeout=300)
        _drop(admin, [warehouse, metadata])
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--modes", default="watcher,local", help="comma-separated: watcher, local")
    figures.add_arguments(parser, "bench_pipeline")
    args = parser.parse_args(argv)
    if args.small:  # one round of WATCHER: LOCAL, the baseline, alone takes minutes per run
        args.rounds, args.modes = 1, "watcher"
    load_before = figures.load_average()
    admin = os.environ.get("TEST_WAREHOUSE_ADMIN_DSN") or "postgresql://postgres@127.0.0.1:5432/postgres"
    results: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory(prefix="bench_pipeline_") as scratch:
        for mode in args.modes.split(","):
            results[mode] = measure_mode(mode, args.rounds, admin, Path(scratch))
    summary = {}
    for dag_id in DAGS:
        row = {mode: {"median_s": round(statistics.median(t[dag_id]), 1), "min_s": round(min(t[dag_id]), 1),
                      "max_s": round(max(t[dag_id]), 1), "runs": [round(x, 1) for x in t[dag_id]]}
               for mode, t in results.items()}
        if {"watcher", "local"} <= set(row):
            row["local_over_watcher"] = round(row["local"]["median_s"] / row["watcher"]["median_s"], 2)
        summary[dag_id] = row
        print(f"{dag_id}: " + "; ".join(f"{mode} median {r['median_s']} s ({r['min_s']}-{r['max_s']})"
                                        for mode, r in row.items() if isinstance(r, dict))
              + (f"; LOCAL/WATCHER {row['local_over_watcher']}x" if "local_over_watcher" in row else ""))
    figures.write(args.results, {"rounds": args.rounds, "dags": summary}, load_before=load_before)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
