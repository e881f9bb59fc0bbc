"""The API under test: uvicorn in a subprocess on a free loopback port (api_harness.serve_api), talking to the
shared sample warehouse (tests/conftest.py: the bundled sample loaded and run through `dbt build`) through the
read-only role `medtel_api` (migration 002_api_role.sql)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.api.api_harness import API_ROLE, as_role, serve_api


@pytest.fixture(scope="session")
def api_warehouse_dsn(sample_warehouse_dsn) -> str:
    """The sample warehouse as its owner sees it (read it, never write to it: the session shares it)."""
    return sample_warehouse_dsn


@pytest.fixture(scope="session")
def reader_dsn(api_warehouse_dsn) -> str:
    """The same warehouse through the API's read-only role."""
    return as_role(api_warehouse_dsn, API_ROLE)


@pytest.fixture(scope="session")
def api(reader_dsn, tmp_path_factory) -> Iterator[httpx.Client]:
    with serve_api(reader_dsn, tmp_path_factory.mktemp("api") / "uvicorn.log") as client:
        yield client
