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

PROJECT_DIR = Path(__file__).resolve().parents[1]
SAMPLE_DIR = PROJECT_DIR / "sample"


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


@pytest.fixture
def warehouse_dsn(make_database) -> str:
    """A fresh, migrated warehouse database for one test."""
    dsn = make_database()
    with psycopg.connect(dsn) as conn:
        migrate(conn)
    return dsn


@pytest.fixture
def db(warehouse_dsn):
    with psycopg.connect(warehouse_dsn) as conn:
        yield conn


@pytest.fixture
def lake_root(tmp_path) -> Path:
    root = tmp_path / "lake"
    root.mkdir()
    return root
