"""Serves the Great Expectations Data Docs inside the Airflow UI.

Airflow 3 plugins extend the UI with FastAPI apps mounted on the api-server (`fastapi_apps`) and menu
entries (`external_views`). This one mounts the static Data Docs site (include/gx/uncommitted/data_docs/
local_site, rebuilt by quality_checks and every validate task) under /data-docs and adds "Data Docs" to the
Browse menu; with `url_route` set the UI shows it in a frame at /plugin/data-docs.

Airflow authenticates its own API but not the apps plugins mount, so this one checks the caller itself: every
request must carry a valid Airflow JWT, as the UI's `_token` cookie (a logged-in browser) or a Bearer header.
Airflow's own validation does the check (signature, expiry, revocation): no token 401, a bad one 403. It is a
middleware, not a route dependency, because the static site is a mounted app that dependencies never reach.
"""

from __future__ import annotations

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN
from airflow.api_fastapi.core_api.security import resolve_user_from_token
from airflow.plugins_manager import AirflowPlugin
from medical_telegram.quality import data_docs_dir

URL_PREFIX = "/data-docs"


def create_app() -> FastAPI:
    site = data_docs_dir()
    app = FastAPI(title="Great Expectations Data Docs", docs_url=None, redoc_url=None, openapi_url=None)

    @app.middleware("http")
    async def require_airflow_login(request: Request, call_next):
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        token = credentials if scheme.lower() == "bearer" else request.cookies.get(COOKIE_NAME_JWT_TOKEN)
        try:
            await resolve_user_from_token(token)
        except HTTPException as refused:
            return JSONResponse({"detail": refused.detail}, status_code=refused.status_code)
        return await call_next(request)

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
