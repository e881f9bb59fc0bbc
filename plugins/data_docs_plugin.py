"""Serves the Great Expectations Data Docs inside the Airflow UI.

Airflow 3 plugins extend the UI with FastAPI apps mounted on the api-server (`fastapi_apps`) and menu
entries (`external_views`). This one mounts the static Data Docs site (include/gx/uncommitted/data_docs/
local_site, rebuilt by quality_checks and every validate task) under /data-docs and adds "Data Docs" to the
Browse menu; with `url_route` set the UI shows it in a frame at /plugin/data-docs.

Airflow does not authenticate the apps plugins mount, so only a logged-in user gets through
(medical_telegram.orchestration.ui_auth). The pages load their styles and scripts from the site itself, never
a CDN (medical_telegram.data_docs_offline rewrites them after every build).
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from airflow.plugins_manager import AirflowPlugin
from medical_telegram.orchestration.ui_auth import require_airflow_login
from medical_telegram.quality import data_docs_dir

URL_PREFIX = "/data-docs"


def create_app() -> FastAPI:
    site = data_docs_dir()
    app = require_airflow_login(
        FastAPI(title="Great Expectations Data Docs", docs_url=None, redoc_url=None, openapi_url=None))

    @app.get("/", include_in_schema=False)
    def index():
        if (site / "index.html").exists():
            return RedirectResponse(f"{URL_PREFIX}/site/index.html")
        return HTMLResponse(
            "<h1>No Data Docs yet</h1><p>Run the <code>quality_checks</code> DAG (or any DAG with a validate task)"
            " to build them.</p>",
            status_code=404,
        )

    # check_dir=False: the plugin loads before the first checkpoint has written the site.
    app.mount("/site", StaticFiles(directory=site, html=True, check_dir=False), name="site")
    return app


class DataDocsPlugin(AirflowPlugin):
    name = "gx_data_docs"
    fastapi_apps = [{"app": create_app(), "url_prefix": URL_PREFIX, "name": "Great Expectations Data Docs"}]
    external_views = [{
        "name": "Data Docs",
        "href": f"{URL_PREFIX}/",
        "destination": "nav",
        "category": "browse",
        "url_route": "data-docs",
    }]
