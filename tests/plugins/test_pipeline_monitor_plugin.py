"""The Pipeline monitor plugin: a page of SVG charts in the Airflow UI, for logged-in users only, drawn from
the warehouse (the sample built by dbt)."""

from __future__ import annotations

import re

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.support import airflow_support


def load_plugin():
    return airflow_support.load_plugin("pipeline_monitor_plugin.py")


def as_connection_uri(dsn: str) -> str:
    p = psycopg.conninfo.conninfo_to_dict(dsn)
    return f"postgresql://{p.get('user', 'postgres')}@{p.get('host', '127.0.0.1')}:{p.get('port', 5432)}/{p['dbname']}"


@pytest.fixture
def monitor_app(monkeypatch, sample_warehouse_dsn):
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE_DB", as_connection_uri(sample_warehouse_dsn))
    module = load_plugin()
    return module, module.create_app()


def test_only_logged_in_users_see_the_page(monitor_app, airflow_token):
    _, app = monitor_app
    client = TestClient(app)
    for path in ("/", "/data.json"):
        assert client.get(path).status_code == 401
        assert client.get(path, cookies={"_token": airflow_token[:-4] + "AAAA"}).status_code == 403
    assert client.get("/", cookies={"_token": airflow_token}).status_code == 200
    assert client.get("/data.json", headers={"Authorization": f"Bearer {airflow_token}"}).status_code == 200


def test_page_charts_the_sample(monitor_app, airflow_token):
    module, app = monitor_app
    client = TestClient(app, cookies={"_token": airflow_token})
    page = client.get("/")
    assert page.status_code == 200 and "Pipeline monitor" in page.text
    assert "lobelia4cosmetics" in page.text and '<span class="ok">reconciled</span>' in page.text
    charts = dict(re.findall(r'data-chart="([^"]+)" data-points="(\d+)"', page.text))
    assert charts["posts_per_day:lobelia4cosmetics"] == "30"
    assert int(charts["image_categories"]) >= 1
    assert "http://" not in page.text.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing to fetch
    assert "<script" not in page.text
    data = client.get("/data.json").json()
    assert data["channels"][0]["posts"] == 100 and data["reconciliation"]["marts"] == 100

    plugin = module.PipelineMonitorPlugin
    assert plugin.fastapi_apps[0]["url_prefix"] == "/pipeline-monitor"
    assert plugin.external_views[0]["href"] == "/pipeline-monitor/" and plugin.external_views[0]["url_route"]


def test_an_unreachable_warehouse_is_a_503_without_the_password(monkeypatch, airflow_token):
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE_DB", "postgresql://u:topsecret@127.0.0.1:9/none")
    client = TestClient(load_plugin().create_app(), cookies={"_token": airflow_token})
    for path in ("/", "/data.json"):
        reply = client.get(path)
        assert reply.status_code == 503 and "topsecret" not in reply.text and "127.0.0.1:9" in reply.text
