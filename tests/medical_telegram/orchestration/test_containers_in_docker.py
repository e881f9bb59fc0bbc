"""The DAGs with runtime `docker`: Airflow's `dag.test()` runs the containerized tasks as DockerOperators on
the local engine (no network, the lake bind-mounted), and the loaders and dbt fill the warehouse.

The chain a deployment runs, once for the module: data_ingestion (the scraper container imports the bundled
Telegram Desktop export into the lake, then the loader and GX) → the dbt models → ml_enrichment (the detector
container on the CPU with the image's offline model, then the loader, dbt and GX). The step between is one
`dbt build` (seeds and models) rather than the data_transformation DAG: that DAG runs no container (its own tests cover it) and
its Cosmos tasks, one dbt process each, take about 7 minutes here against well under one for a single run. Each DAG runs through the orchestration's own runner (`python -m medical_telegram.devstack.run_dag`)
in a child process, so Airflow is configured (a private AIRFLOW_HOME with SQLite metadata) before it is
imported, exactly as `make run` does it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from medical_telegram.transform.dbt_runner import run_dbt
from medical_telegram.warehouse.migrate import migrate

from tests.support.docker_support import REPO, SAMPLE, readable_copy
from tests.support.gx_context import gx_context_copy

pytestmark = [pytest.mark.docker, pytest.mark.slow]

DAGS = ("data_ingestion", "ml_enrichment")


def warehouse_uri(dsn: str) -> str:
    """An Airflow connection URI for a DSN of the test server. The server trusts local connections; the
    password is there because Cosmos's Postgres profile mapping refuses a connection without one."""
    parts = psycopg.conninfo.conninfo_to_dict(dsn)
    user = parts.get("user", "postgres")
    password = parts.get("password") or "unused-with-trust-auth"
    return (f"postgresql://{user}:{password}@{parts.get('host', '127.0.0.1')}:{parts.get('port', 5432)}"
            f"/{parts['dbname']}")


def run_dag(dag_id: str, environment: dict[str, str], log_dir: Path) -> dict:
    result = subprocess.run([sys.executable, "-m", "medical_telegram.devstack.run_dag", dag_id],
                            capture_output=True, text=True, env=environment, timeout=1200, cwd=REPO)
    (log_dir / f"{dag_id}.log").write_text(result.stdout + result.stderr, encoding="utf-8")
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    outcome = json.loads(lines[-1]) if lines else {"state": "crashed", "stderr": result.stderr[-2000:]}
    outcome["log"] = str(log_dir / f"{dag_id}.log")
    return outcome


@pytest.fixture(scope="module")
def pipeline(scraper_image, detector_image, tmp_path_factory, make_database):
    missing = [d for d in DAGS if not (REPO / "dags" / f"{d}.py").is_file()]
    if missing:
        pytest.skip(f"DAG files not there yet: {', '.join(missing)}")
    root = tmp_path_factory.mktemp("pipeline")
    lake = root / "lake"
    lake.mkdir()
    lake.chmod(0o777)  # the images run as a non-root user
    export = readable_copy(SAMPLE / "desktop_export", root / "export")
    dsn = make_database("mtw_docker")
    with psycopg.connect(dsn) as conn:
        migrate(conn)
    environment = {
        **os.environ,
        "AIRFLOW_HOME": str(root / "airflow"),
        "AIRFLOW_CONN_WAREHOUSE_DB": warehouse_uri(dsn),
        "DATA_LAKE_DIR": str(lake),
        "CONTAINER_RUNTIME": "docker",
        "CONTAINER_GPU": "false",  # no NVIDIA runtime on this engine: the detector runs on the CPU
        "CONTAINER_NETWORK_MODE": "none",
        "TELEGRAM_SOURCE": "export",
        "TELEGRAM_EXPORT_PATH": str(export),
        "GX_PROJECT_DIR": str(gx_context_copy(root / "gx_root")),
    }
    outcomes = {"data_ingestion": run_dag("data_ingestion", environment, root)}
    if outcomes["data_ingestion"]["state"] == "success":
        dbt = run_dbt(["build", "--exclude", "resource_type:test"], dsn, check=False)  # seeds + models
        outcomes["dbt"] = {"state": "success" if dbt.returncode == 0 else "failed", "tail": dbt.stdout[-2000:]}
        if dbt.returncode == 0:
            outcomes["ml_enrichment"] = run_dag("ml_enrichment", environment, root)
    return {"lake": lake, "dsn": dsn, "outcomes": outcomes}


def container_wrote(path: Path) -> bool:
    """Files a container wrote belong to the image's user, not to the user running this test."""
    return path.stat().st_uid != os.getuid()


def test_data_ingestion_imports_the_export_in_the_scraper_container(pipeline):
    outcome = pipeline["outcomes"]["data_ingestion"]
    assert outcome["state"] == "success", outcome
    assert any(k.startswith("ingest.scrape") and v == "success" for k, v in outcome["tasks"].items()), outcome

    # An export names no @username: the channel is what the import was told, else channel_<id>.
    day_files = sorted((pipeline["lake"] / "raw" / "telegram_messages").glob("*/*.json"))
    assert day_files and all(container_wrote(f) for f in day_files), "the lake was not written by the container"
    with psycopg.connect(pipeline["dsn"]) as conn:
        rows = conn.execute("select count(*), count(distinct message_id), min(source), max(source)"
                            " from raw.telegram_messages").fetchone()
    assert rows == (100, 100, "desktop_export", "desktop_export")


def test_ml_enrichment_detects_in_the_detector_container_and_builds_the_mart(pipeline):
    outcomes = pipeline["outcomes"]
    assert outcomes.get("dbt", {}).get("state") == "success", outcomes.get("dbt", outcomes["data_ingestion"])
    outcome = outcomes["ml_enrichment"]
    assert outcome["state"] == "success", outcome
    assert outcome["tasks"]["enrich.detect"] == "success"

    lake = pipeline["lake"]
    photos = sorted((lake / "raw" / "images").rglob("*.jpg"))
    written = sorted((lake / "enriched" / "detections").rglob("*.json"))
    assert photos and written and all(container_wrote(f) for f in written), "detections not written by the container"
    with psycopg.connect(pipeline["dsn"]) as conn:
        raw_images = conn.execute("select count(distinct (channel_name, message_id)) from raw.image_detections"
                                  " where model_name = 'fall_detection_best'").fetchone()[0]
        mart = conn.execute("select count(distinct message_key), count(*) filter (where image_category is null)"
                            " from marts.fct_image_detections").fetchone()
    assert raw_images == len(photos)
    assert mart == (len(photos), 0)
