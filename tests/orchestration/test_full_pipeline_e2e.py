"""End to end: full_pipeline under Airflow (`dag.test()`, runtime `local`) on the bundled Telegram Desktop
export, against a real PostgreSQL; then the marts hold the sample's rows, the API answers from them, and the
Asset event of the ingestion group has queued data_transformation in Airflow's metadata database.

The pipeline runs in a child process through the project's runner
(`python -m medical_telegram.orchestration.run_full_pipeline`) so Airflow is configured before it is imported.
Real parts only: the scraper's and detector's CLIs in their venvs, dbt through Cosmos, GX, the API.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psycopg
import pytest

REPO = Path(__file__).resolve().parents[2]
CHANNEL = "lobelia4cosmetics"

pytestmark = pytest.mark.slow

NEEDS = {
    ".venvs/scraper/bin/telegram-scraper": "the scraper venv (make setup)",
    ".venvs/yolo/bin/yolo-detect": "the detector venv (make setup)",
    ".venvs/dbt/bin/dbt": "the dbt venv (make setup)",
    "models/fall_detection_best.pt": "the offline model (scripts/fetch_offline_model.sh)",
    "include/dbt/medical_warehouse/target/manifest.json": "the dbt manifest (python -m medical_telegram.dbt_runner)",
}


def _missing() -> list[str]:
    return [f"{path}: {why}" for path, why in NEEDS.items() if not (REPO / path).exists()]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, dict]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, json.loads(response.read())


@pytest.fixture(scope="module")
def pipeline(make_database, tmp_path_factory):
    missing = _missing()
    if missing:
        print("skipping the end-to-end pipeline:", "; ".join(missing))
        pytest.skip("missing: " + "; ".join(missing))
    tmp = tmp_path_factory.mktemp("pipeline")
    dsn = make_database("mtw_pipeline")
    params = psycopg.conninfo.conninfo_to_dict(dsn)
    uri = (f"postgresql://{params.get('user', 'postgres')}@{params.get('host', '127.0.0.1')}:"
           f"{params.get('port', 5432)}/{params['dbname']}")
    shutil.copytree(REPO / "include" / "gx", tmp / "gx_root" / "gx",
                    ignore=shutil.ignore_patterns("uncommitted"))
    secrets = ("TELEGRAM_API_ID", "TELEGRAM_API_HASH", "TELEGRAM_SESSION", "WAREHOUSE_DSN")
    env = {k: v for k, v in os.environ.items() if k not in secrets and not k.startswith(("AIRFLOW", "TELEGRAM"))}
    env.update({
        "AIRFLOW_HOME": str(tmp / "airflow"),
        "AIRFLOW_CONN_WAREHOUSE_DB": uri,
        "DATA_LAKE_DIR": str(tmp / "lake"),
        "GX_PROJECT_DIR": str(tmp / "gx_root"),
        "CONTAINER_RUNTIME": "local",
        "TELEGRAM_SOURCE": "export",
        "MEDTEL_RETRY_DELAY_S": "1",
        "YOLO_DEVICE": "cpu",
    })
    (tmp / "lake").mkdir()
    began = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "medical_telegram.orchestration.run_full_pipeline"],
                            capture_output=True, text=True, env=env, cwd=REPO, timeout=1800)
    print(f"full_pipeline ran in {time.monotonic() - began:.0f} s")
    log = tmp / "full_pipeline.log"
    log.write_text(result.stdout + result.stderr)
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    assert lines, (result.stdout[-3000:], result.stderr[-3000:])
    not_ok = {task: state for task, state in json.loads(lines[-1])["tasks"].items()
              if state not in ("success", "upstream_failed")}
    assert result.returncode == 0, f"full_pipeline failed: {not_ok}; the whole log is in {log}"
    return {"outcome": json.loads(lines[-1]), "dsn": dsn, "tmp": tmp, "env": env}


def test_every_task_succeeded(pipeline):
    outcome = pipeline["outcome"]
    assert outcome["state"] == "success"
    failed = {task: state for task, state in outcome["tasks"].items() if state != "success"}
    assert not failed, failed
    assert any(task.startswith("transform.dbt.fct_messages") for task in outcome["tasks"])


def test_marts_hold_the_sample(pipeline):
    with psycopg.connect(pipeline["dsn"]) as conn:
        raw = conn.execute("select count(*), min(source), max(source) from raw.telegram_messages"
                           " where channel_name = %s", (CHANNEL,)).fetchone()
        messages = conn.execute("select count(*), count(distinct message_id) from marts.fct_messages").fetchone()
        channel = conn.execute("select channel_name, total_posts from marts.dim_channels").fetchall()
        detections = conn.execute("select count(distinct message_id), count(*) filter (where image_category is null)"
                                  " from marts.fct_image_detections").fetchone()
        days = conn.execute("select count(*) from marts.dim_dates").fetchone()[0]
        health = conn.execute("select count(*) from monitoring.health_checks").fetchone()[0]
    assert raw == (100, "desktop_export", "desktop_export")
    assert messages == (100, 100)
    assert channel == [(CHANNEL, 100)]
    assert detections == (20, 0)  # the export holds the photos of its 20 newest posts; each one classified
    assert days >= 4
    assert health == 0  # full_pipeline does not run health checks; the table exists (migration applied)


def test_data_docs_were_built(pipeline):
    index = pipeline["tmp"] / "gx_root" / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    assert index.is_file()
    validations = list(index.parent.glob("validations/**/*.html"))
    assert validations, "no validation pages in the Data Docs"


def _raw_messages_events(database: Path, source_dag_id: str) -> tuple[list, list]:
    """The raw_telegram_messages Asset events a DAG emitted, and the DAG runs they queued."""
    with sqlite3.connect(database) as db:
        events = db.execute(
            "select e.extra from asset_event e join asset a on a.id = e.asset_id"
            " where a.name = 'raw_telegram_messages' and e.source_dag_id = ?", (source_dag_id,)
        ).fetchall()
        queued = db.execute(
            "select q.target_dag_id from asset_dag_run_queue q join asset a on a.id = q.asset_id"
            " where a.name = 'raw_telegram_messages'"
        ).fetchall()
    return events, queued


def test_ingestion_asset_event_queued_data_transformation(pipeline):
    database = pipeline["tmp"] / "airflow" / "airflow.db"
    events, queued = _raw_messages_events(database, "full_pipeline")
    assert len(events) == 1
    extra = json.loads(events[0][0])
    assert extra["inserted"] == 100 and extra["quarantined"] == 0 and extra["quality_score"] > 0.8
    assert ("data_transformation",) in queued


def test_data_ingestion_event_queues_data_transformation(pipeline):
    """data_ingestion itself, on the same Airflow: its raw-messages event queues data_transformation."""
    database = pipeline["tmp"] / "airflow" / "airflow.db"
    with sqlite3.connect(database) as db:
        db.execute("delete from asset_dag_run_queue")
    result = subprocess.run([sys.executable, "-m", "medical_telegram.orchestration.run_dag", "data_ingestion"],
                            capture_output=True, text=True, env=pipeline["env"], cwd=REPO, timeout=900)
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    assert result.returncode == 0 and lines, (result.stdout[-3000:], result.stderr[-3000:])
    events, queued = _raw_messages_events(database, "data_ingestion")
    assert len(events) == 1
    extra = json.loads(events[0][0])
    assert {"rows_loaded", "quarantined", "quality_score"} <= set(extra) and extra["quarantined"] == 0
    assert queued == [("data_transformation",)]


def test_api_answers_from_the_marts(pipeline):
    port = _free_port()
    env = {**pipeline["env"], "API_DATABASE_URL": pipeline["dsn"]}
    server = subprocess.Popen([sys.executable, "-m", "api", "--port", str(port)], cwd=REPO, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                status, _ = _get(f"{base}/api/health")
                if status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        status, channels = _get(f"{base}/api/channels")
        assert status == 200
        assert [c["channel_name"] for c in channels["items"]] == [CHANNEL]
        status, top = _get(f"{base}/api/reports/top-products?limit=5")
        assert status == 200 and top["items"], top
        # The api_service DAG's own check, against the real API.
        from medical_telegram import api_metrics

        results = api_metrics.check_all(base, repeat=1)
        assert all(r.ok for r in results), [r.detail for r in results if not r.ok]
    finally:
        server.terminate()
        server.wait(timeout=10)
