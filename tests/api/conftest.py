"""The API under test: uvicorn in a subprocess on a free loopback port, talking to a real PostgreSQL that holds
the bundled sample run through dbt, through the read-only role `medtel_api` (migration 002_api_role.sql)."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from api_harness import API_ROLE, PROJECT_DIR, as_role, serve_api


def build_sample_warehouse(dsn: str) -> None:
    """Migrate, load the bundled sample lake and run `dbt build`, as the pipeline does."""
    from medical_telegram.loader import load_messages
    from medical_telegram.migrate import migrate

    with psycopg.connect(dsn) as conn:
        migrate(conn)
        load_messages(conn, PROJECT_DIR / "sample" / "lake")
    params = psycopg.conninfo.conninfo_to_dict(dsn)
    project = PROJECT_DIR / "include" / "dbt" / "medical_warehouse"
    env = {
        **os.environ,
        "WAREHOUSE_HOST": params.get("host", "127.0.0.1"),
        "WAREHOUSE_PORT": str(params.get("port", 5432)),
        "WAREHOUSE_USER": params.get("user", "postgres"),
        "WAREHOUSE_PASSWORD": params.get("password", ""),
        "WAREHOUSE_DBNAME": params["dbname"],
        "DBT_THREADS": "2",
    }
    target = Path(tempfile.mkdtemp(prefix="api_dbt_"))
    result = subprocess.run(
        [str(PROJECT_DIR / ".venvs" / "dbt" / "bin" / "dbt"), "build", "--profiles-dir", "profiles",
         "--target-path", str(target / "target"), "--log-path", str(target / "logs")],
        cwd=project, env=env, capture_output=True, text=True,
    )
    if result.returncode:
        raise RuntimeError(f"dbt build failed:\n{result.stdout[-4000:]}")


@pytest.fixture(scope="session")
def api_warehouse_dsn(request, make_database) -> str:
    """The sample warehouse (loaded, dbt built), as the admin sees it: the shared fixture when the suite has it."""
    try:
        return request.getfixturevalue("sample_warehouse_dsn")
    except pytest.FixtureLookupError:
        dsn = make_database("mtw_api")
        build_sample_warehouse(dsn)
        return dsn


@pytest.fixture(scope="session")
def reader_dsn(api_warehouse_dsn) -> str:
    """The same warehouse through the API's read-only role."""
    return as_role(api_warehouse_dsn, API_ROLE)


@pytest.fixture(scope="session")
def api(reader_dsn, tmp_path_factory) -> Iterator[httpx.Client]:
    with serve_api(reader_dsn, tmp_path_factory.mktemp("api") / "uvicorn.log") as client:
        yield client
