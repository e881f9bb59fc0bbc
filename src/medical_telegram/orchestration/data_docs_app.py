"""The Great Expectations Data Docs as a FastAPI app the api-server mounts (plugins/data_docs_plugin.py registers
it): the static site include/gx/uncommitted/data_docs/local_site, rebuilt by quality_checks and every validate
task, for a logged-in Airflow user only (ui_auth.py). The pages load their styles and scripts from the site
itself, never a CDN (medical_telegram.quality.data_docs_offline rewrites them after every build)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

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
