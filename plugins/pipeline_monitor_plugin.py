"""The Pipeline monitor: a page in the Airflow UI with the pipeline's numbers as charts.

Per channel (freshness, posts per day, quarantined records), per layer (GX quality score over time, record
counts reconciled lake → raw → staging → marts), the detector (photos processed and pending, images per
category), the analytical API (p50 and p95 latency per endpoint, error rate; gathered by api_service) and each
health check's latest status with its history, plus the latest alerts.

This file only registers it: the app (medical_telegram/orchestration/monitor_app.py) is mounted on the
api-server at /pipeline-monitor, and a navigation entry shows it inside the UI (/plugin/pipeline-monitor). The
page is a Jinja template (medical_telegram/monitoring/templates/monitor.html) with SVG charts drawn on the server.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin
from medical_telegram.orchestration.monitor_app import URL_PREFIX, create_app


class PipelineMonitorPlugin(AirflowPlugin):
    name = "pipeline_monitor"
    fastapi_apps = [{"app": create_app(), "url_prefix": URL_PREFIX, "name": "Pipeline monitor"}]
    external_views = [{
        "name": "Pipeline monitor",
        "href": f"{URL_PREFIX}/",
        "destination": "nav",
        "url_route": "pipeline-monitor",
    }]
