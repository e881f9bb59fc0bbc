"""The Pipeline monitor as a FastAPI app the api-server mounts (plugins/pipeline_monitor_plugin.py registers it):
the page (monitoring/page.py) and its numbers as JSON, read from the warehouse (the `warehouse_db` connection)
in a read-only transaction, for a logged-in Airflow user only (ui_auth.py)."""

from __future__ import annotations

from html import escape

from fastapi import FastAPI
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse

from medical_telegram import warehouse
from medical_telegram.monitoring import monitor, page
from medical_telegram.orchestration.ui_auth import require_airflow_login

URL_PREFIX = "/pipeline-monitor"


def read_snapshot() -> dict:
    with warehouse.connect() as conn:
        conn.read_only = True
        return monitor.snapshot(conn)


def create_app() -> FastAPI:
    app = require_airflow_login(
        FastAPI(title="Pipeline monitor", docs_url=None, redoc_url=None, openapi_url=None))

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def monitor_page():
        try:
            return page.render(read_snapshot(), data_url=f"{URL_PREFIX}/data.json")
        except warehouse.WarehouseError as exc:  # its message names the server, never the password
            return HTMLResponse(f"<h1>Pipeline monitor</h1><p>{escape(str(exc))}</p>", status_code=503)

    @app.get("/data.json", include_in_schema=False)
    def data():
        try:
            return JSONResponse(jsonable_encoder(read_snapshot()))
        except warehouse.WarehouseError as exc:
            return JSONResponse({"detail": str(exc)}, status_code=503)

    return app
