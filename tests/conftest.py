"""Shared fixtures: a real PostgreSQL database of this test run's own.

The server is the one configured by TEST_WAREHOUSE_ADMIN_DSN, else the machine's server at 127.0.0.1:5432
(CI starts one), else the project's embedded PostgreSQL. Each test run creates a fresh database and drops it
at the end, so runs never see each other's data.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import psycopg
import pytest

from medical_telegram import warehouse
from medical_telegram.warehouse.migrate import migrate

from tests.support.docker_policy import (  # noqa: F401  (hooks: pytest finds them by name here)
    pytest_make_collect_report, pytest_runtest_makereport,
)
from tests.support.sample_data import SAMPLE_DETECTIONS, SAMPLE_DIR

# Fixtures shared across folders: the container tests' (docker_engine, the images, shared_lake) and the
# detector's (yolo_cli, detected_lake: tests/images/yolo and the detections loader's test).
pytest_plugins = ["tests.support.docker_support", "tests.images.yolo.fixtures"]

PROJECT_DIR = Path(__file__).resolve().parents[1]


def _admin_dsn() -> str:
    if dsn := os.environ.get("TEST_WAREHOUSE_ADMIN_DSN"):
        return dsn
    machine = "postgresql://postgres@127.0.0.1:5432/postgres"
    try:
        psycopg.connect(machine, connect_timeout=3).close()
        return machine
    except psycopg.OperationalError:
        embedded = warehouse.EmbeddedPostgres(PROJECT_DIR / ".warehouse")
        embedded.start()
        return embedded._dsn("postgres")


@pytest.fixture(scope="session")
def admin_dsn() -> str:
    return _admin_dsn()


@pytest.fixture(scope="session")
def make_database(admin_dsn):
    """Create empty databases on the test server; all are dropped when the run ends."""
    created = []

    def make(prefix: str = "mtw_test") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'create database "{name}"')
        created.append(name)
        base = psycopg.conninfo.conninfo_to_dict(admin_dsn)
        base["dbname"] = name
        return psycopg.conninfo.make_conninfo(**base)

    yield make
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        for name in created:
            conn.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture(scope="session")
def _shared_warehouse_dsn(make_database) -> str:
    dsn = make_database()
    with psycopg.connect(dsn) as conn:
        migrate(conn)
    return dsn


@pytest.fixture
def warehouse_dsn(_shared_warehouse_dsn) -> str:
    """A migrated warehouse database whose tables are all empty at the start of the test.

    One database serves the whole run and is emptied before each test: creating and dropping a database per
    test costs a checkpoint each, seconds apiece on a busy machine.
    """
    with psycopg.connect(_shared_warehouse_dsn, autocommit=True) as conn:
        tables = [row[0] for row in conn.execute(
            "select format('%I.%I', schemaname, tablename) from pg_tables"
            " where schemaname not in ('pg_catalog', 'information_schema')"
            # other sessions' temporary tables (a closed session's may vanish before the truncate)
            " and schemaname not like 'pg\\_temp\\_%'"
            " and (schemaname, tablename) <> ('raw', 'schema_migrations')")]
        conn.execute(f"truncate {', '.join(tables)} restart identity")
    return _shared_warehouse_dsn


@pytest.fixture
def db(warehouse_dsn):
    with psycopg.connect(warehouse_dsn) as conn:
        yield conn


@pytest.fixture
def lake_root(tmp_path) -> Path:
    root = tmp_path / "lake"
    root.mkdir()
    return root




@pytest.fixture(scope="session")
def sample_warehouse_dsn(make_database, tmp_path_factory) -> str:
    """A warehouse built from the bundled sample: migrated, sample/lake loaded, SAMPLE_DETECTIONS loaded from a
    detections file as the detector writes them, then `dbt build` (staging, marts and every dbt test). Shared by
    the session: read it, do not write to it (build your own with make_database for tests that change data)."""
    import json

    from medical_telegram.transform.dbt_runner import run_dbt
    from medical_telegram.warehouse.loaders.detections import load_detections
    from medical_telegram.warehouse.loaders.messages import load_messages

    detections = tmp_path_factory.mktemp("sample_detections")
    run = detections / "enriched" / "detections" / "yolov8n" / "2026-01-18" / "sample.json"
    run.parent.mkdir(parents=True)
    run.write_text(json.dumps([
        {"channel_name": channel, "message_id": message_id, "model_name": model, "detection_index": index,
         "image_path": f"raw/images/{channel}/{message_id}.jpg", "weights_hash": "sample", "detected_class": cls,
         "class_id": class_id, "confidence": confidence,
         **dict(zip(("x_min", "y_min", "x_max", "y_max"), box or (None,) * 4, strict=True)),
         "image_width": size[0], "image_height": size[1], "detected_at": "2026-01-18T14:00:00+00:00"}
        for channel, message_id, model, index, cls, class_id, confidence, box, size in SAMPLE_DETECTIONS]))
    dsn = make_database("mtw_sample")
    with psycopg.connect(dsn) as conn:
        migrate(conn)
        load_messages(conn, SAMPLE_DIR / "lake")
        summary = load_detections(conn, detections).as_dict()
        assert summary["inserted"] == len(SAMPLE_DETECTIONS) and summary["quarantined"] == 0, summary
    run_dbt(["build"], dsn)
    return dsn

