"""Serves the Great Expectations Data Docs inside the Airflow UI.

Airflow 3 plugins extend the UI with FastAPI apps mounted on the api-server (`fastapi_apps`) and menu entries
(`external_views`). This file only registers: the app (medical_telegram/orchestration/data_docs_app.py) is
mounted under /data-docs, and "Data Docs" added to the Browse menu; with `url_route` set the UI shows it in a
frame at /plugin/data-docs. Airflow does not authenticate the apps plugins mount: the app checks the login.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin
from medical_telegram.orchestration.data_docs_app import URL_PREFIX, create_app


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
