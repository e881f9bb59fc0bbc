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
from medical_telegram.migrate import migrate

from docker_policy import pytest_runtest_makereport  # noqa: F401  (a hook: pytest finds it by name here)
from sample_data import SAMPLE_DETECTIONS, SAMPLE_DIR

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
        return f"postgresql://postgres@127.0.0.1:{embedded.port}/postgres"


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
def sample_warehouse_dsn(make_database) -> str:
    """A warehouse built from the bundled sample: migrated, sample/lake loaded, SAMPLE_DETECTIONS in
    raw.image_detections, then `dbt build` (staging, marts and every dbt test). Shared by the session: read it,
    do not write to it (build your own with make_database for tests that change data)."""
    from medical_telegram.dbt_runner import run_dbt
    from medical_telegram.loader import load_messages

    dsn = make_database("mtw_sample")
    with psycopg.connect(dsn) as conn:
        migrate(conn)
        load_messages(conn, SAMPLE_DIR / "lake")
        with conn.cursor() as cur:
            cur.executemany(
                """insert into raw.image_detections (channel_name, message_id, model_name, detection_index,
                       image_path, weights_hash, detected_class, class_id, confidence, x_min, y_min, x_max, y_max,
                       image_width, image_height, detected_at, lake_file)
                   values (%s, %s, %s, %s, %s, 'sample', %s, %s, %s, %s, %s, %s, %s, %s, %s,
                           '2026-01-18T14:00:00+00:00', 'enriched/detections/sample.json')""",
                [(channel, message_id, model, index, f"raw/images/{channel}/{message_id}.jpg", cls, class_id,
                  confidence, *(box or (None,) * 4), *size)
                 for channel, message_id, model, index, cls, class_id, confidence, box, size in SAMPLE_DETECTIONS],
            )
        conn.commit()
    run_dbt(["build"], dsn)
    return dsn

