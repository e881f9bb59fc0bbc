"""The Airflow plugin that serves the Data Docs inside the Airflow UI (Airflow 3: a FastAPI app + a menu view)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.support import airflow_support


def load_plugin():
    return airflow_support.load_plugin("data_docs_plugin.py")


def test_plugin_serves_only_logged_in_users(monkeypatch, tmp_path, airflow_token):
    monkeypatch.setenv("GX_PROJECT_DIR", str(tmp_path))
    site = tmp_path / "gx" / "uncommitted" / "data_docs" / "local_site"
    site.mkdir(parents=True)
    (site / "index.html").write_text("<html>Data Docs</html>")
    client = TestClient(load_plugin().create_app())

    for path in ("/", "/site/index.html"):
        assert client.get(path, follow_redirects=False).status_code == 401  # logged out
        forged = client.get(path, cookies={"_token": airflow_token[:-4] + "AAAA"}, follow_redirects=False)
        assert forged.status_code == 403
        assert client.get(path, headers={"Authorization": "Bearer not-a-jwt"}).status_code == 403
    page = client.get("/site/index.html", cookies={"_token": airflow_token})  # the logged-in browser
    assert page.status_code == 200 and "Data Docs" in page.text
    api = client.get("/site/index.html", headers={"Authorization": f"Bearer {airflow_token}"})
    assert api.status_code == 200


def test_plugin_mounts_the_site_and_adds_a_menu_entry(monkeypatch, tmp_path, airflow_token):
    monkeypatch.setenv("GX_PROJECT_DIR", str(tmp_path))
    module = load_plugin()
    plugin = module.DataDocsPlugin
    assert plugin.fastapi_apps[0]["url_prefix"] == "/data-docs"
    assert plugin.external_views[0]["href"] == "/data-docs/" and plugin.external_views[0]["url_route"]

    client = TestClient(module.create_app(), cookies={"_token": airflow_token})
    missing = client.get("/", follow_redirects=False)
    assert missing.status_code == 404 and "quality_checks" in missing.text

    site = tmp_path / "gx" / "uncommitted" / "data_docs" / "local_site"
    site.mkdir(parents=True)
    (site / "index.html").write_text("<html>Data Docs</html>")
    found = client.get("/", follow_redirects=False)
    assert found.status_code in (302, 307) and found.headers["location"] == "/data-docs/site/index.html"
    page = client.get("/site/index.html")
    assert page.status_code == 200 and "Data Docs" in page.text
