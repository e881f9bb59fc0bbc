"""The DAGs with runtime `docker`: Airflow's `dag.test()` runs the containerized tasks as DockerOperators on
the local engine (no network, lake bind-mounted), then the loaders fill the warehouse.

Each DAG runs through the orchestration's own runner (`python -m medical_telegram.orchestration.run_dag`)
in a child process, so Airflow is configured (a private AIRFLOW_HOME with SQLite metadata) before it is
imported, exactly as `make run` does it.
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

from .support import MODELS, REPO, SAMPLE, make_world_writable, readable_copy

pytestmark = [pytest.mark.docker, pytest.mark.slow]

CHANNEL = "lobelia4cosmetics"


def warehouse_uri(dsn: str) -> str:
    """An Airflow connection URI for a libpq DSN of the test server (trust auth, no password)."""
    parts = psycopg.conninfo.conninfo_to_dict(dsn)
    user = parts.get("user", "postgres")
    return f"postgresql://{user}@{parts.get('host', '127.0.0.1')}:{parts.get('port', 5432)}/{parts['dbname']}"


def run_dag(dag_id: str, tmp_path: Path, lake: Path, dsn: str, **env: str) -> dict:
    if not (REPO / "dags" / f"{dag_id}.py").is_file():
        pytest.skip(f"dags/{dag_id}.py is not there yet")
    environment = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW_CONN_WAREHOUSE_DB": warehouse_uri(dsn),
        "DATA_LAKE_DIR": str(lake),
        "CONTAINER_RUNTIME": "docker",
        "CONTAINER_GPU": "false",  # the engine here has no NVIDIA runtime: the detector runs on the CPU
        "CONTAINER_NETWORK_MODE": "none",
        **env,
    }
    result = subprocess.run([sys.executable, "-m", "medical_telegram.orchestration.run_dag", dag_id],
                            capture_output=True, text=True, env=environment, timeout=900, cwd=REPO)
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    assert result.returncode == 0 and lines, (result.stdout[-3000:], result.stderr[-3000:])
    return json.loads(lines[-1])


def container_wrote(path: Path) -> bool:
    """Files a container wrote belong to the image's user, not to the root user running this test."""
    return path.stat().st_uid != os.getuid()


def test_data_ingestion_imports_the_export_in_the_scraper_container(scraper_image, shared_lake, tmp_path,
                                                                       warehouse_dsn):
    export = readable_copy(SAMPLE / "desktop_export", tmp_path / "export")
    outcome = run_dag("data_ingestion", tmp_path, shared_lake, warehouse_dsn,
                      TELEGRAM_SOURCE="export", TELEGRAM_EXPORT_PATH=str(export))
    assert outcome["state"] == "success", outcome
    assert any(k.startswith("ingest.scrape") and v == "success" for k, v in outcome["tasks"].items()), outcome

    # An export names no @username: the channel is whatever the import was told (or channel_<id>).
    day_files = sorted((shared_lake / "raw" / "telegram_messages").glob("*/*.json"))
    assert day_files and all(container_wrote(f) for f in day_files), "the lake was not written by the container"
    with psycopg.connect(warehouse_dsn) as conn:
        rows = conn.execute("select count(*), count(distinct message_id), min(source), max(source)"
                            " from raw.telegram_messages").fetchone()
    assert rows == (100, 100, "desktop_export", "desktop_export")


def test_ml_enrichment_detects_in_the_detector_container(detector_image, shared_lake, tmp_path, warehouse_dsn):
    weights = MODELS / "fall_detection_best.pt"
    if not weights.is_file():
        pytest.skip(f"{weights} is missing (scripts/fetch_offline_model.sh)")
    # A lake of the sample's day files and a handful of their photos: enough for real detections, quick on 2 cores.
    source = SAMPLE / "lake"
    shutil.copytree(source / "raw" / "telegram_messages", shared_lake / "raw" / "telegram_messages")
    photos = sorted((source / "raw" / "images" / CHANNEL).glob("*.jpg"))[-6:]
    (shared_lake / "raw" / "images" / CHANNEL).mkdir(parents=True)
    for photo in photos:
        shutil.copyfile(photo, shared_lake / "raw" / "images" / CHANNEL / photo.name)
    make_world_writable(shared_lake)

    outcome = run_dag("ml_enrichment", tmp_path, shared_lake, warehouse_dsn,
                      YOLO_WEIGHTS=f"/models/{weights.name}", YOLO_DEVICE="cpu")
    assert outcome["state"] == "success", outcome

    written = sorted((shared_lake / "enriched" / "detections").rglob("*.json"))
    assert written and all(container_wrote(f) for f in written), "detections were not written by the container"
    with psycopg.connect(warehouse_dsn) as conn:
        images = conn.execute("select count(distinct (channel_name, message_id)) from raw.image_detections"
                              " where model_name = 'fall_detection_best'").fetchone()[0]
    assert images == len(photos)
