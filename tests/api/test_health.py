"""GET /api/health and the warehouse-down path: 503 without internals, never a 500."""

from __future__ import annotations

import pytest

from tests.api.api_harness import free_port, serve_api


def test_read_health_reachable(api):
    response = api.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "warehouse": "reachable"}


def test_docs_are_served(api):
    assert api.get("/docs").status_code == 200
    paths = api.get("/openapi.json").json()["paths"]
    for path in ("/api/reports/top-products", "/api/channels/{channel_name}/activity", "/api/search/messages",
                 "/api/reports/visual-content", "/api/channels", "/api/health"):
        assert path in paths


@pytest.fixture(scope="module")
def api_without_warehouse(tmp_path_factory):
    """The API pointed at a port where nothing listens (a secret-looking password must never leak)."""
    dsn = f"postgresql://medtel_api:s3cret-pw@127.0.0.1:{free_port()}/warehouse"
    with serve_api(dsn, tmp_path_factory.mktemp("down") / "uvicorn.log") as client:
        yield client


@pytest.mark.parametrize(
    "path",
    [
        "/api/health",
        "/api/channels",
        "/api/channels/lobelia4cosmetics/activity",
        "/api/reports/top-products?limit=5",
        "/api/reports/visual-content",
        "/api/search/messages?query=nido",
    ],
)
def test_warehouse_down_is_503_without_internals(api_without_warehouse, path):
    response = api_without_warehouse.get(path)
    assert response.status_code == 503
    text = response.text.lower()
    for leak in ("s3cret", "127.0.0.1", "medtel_api", "psycopg", "traceback", "connection refused"):
        assert leak not in text
    assert "unavailable" in response.json()["detail"]


def test_warehouse_down_still_rejects_bad_input_with_422(api_without_warehouse):
    assert api_without_warehouse.get("/api/reports/top-products?limit=0").status_code == 422
