"""The Pipeline monitor: a page in the Airflow UI with the pipeline's numbers as charts.

Per channel (freshness, posts per day, quarantined records), per layer (GX quality score over time, record
counts reconciled lake → raw → staging → marts), the detector (photos processed and pending, images per
category), the analytical API (p50 and p95 latency per endpoint, error rate; gathered by api_service) and each
health check's latest status with its history, plus the latest alerts.

An Airflow 3 plugin: a FastAPI app mounted on the api-server at /pipeline-monitor and a navigation entry that
shows it inside the UI (/plugin/pipeline-monitor). The charts are SVG drawn on the server
(medical_telegram.charts): no script, no CDN, so the page works with no network at all. Only a logged-in
Airflow user gets through (medical_telegram.orchestration.ui_auth). The numbers are read from the warehouse
(the `warehouse_db` connection) in a read-only transaction; GET /pipeline-monitor/data.json gives them as JSON.
"""

from __future__ import annotations

import datetime as dt
from html import escape

from fastapi import FastAPI
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse

from airflow.plugins_manager import AirflowPlugin
from medical_telegram import charts, monitor, warehouse
from medical_telegram.orchestration.ui_auth import require_airflow_login

URL_PREFIX = "/pipeline-monitor"

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 16px; color: #212529; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 24px 0 8px; border-bottom: 1px solid #dee2e6; }
h3 { font-size: 13px; margin: 12px 0 4px; color: #495057; }
table { border-collapse: collapse; font-size: 13px; margin-bottom: 8px; }
th, td { text-align: left; padding: 4px 10px 4px 0; border-bottom: 1px solid #f1f3f5; vertical-align: top; }
td.n, th.n { text-align: right; } .muted { color: #868e96; font-size: 12px; }
.ok { color: #2f9e44; } .warning { color: #f08c00; } .failed { color: #c92a2a; }
.panels { display: flex; flex-wrap: wrap; gap: 16px 32px; } .panel { min-width: 300px; }
"""


def _when(value: dt.datetime | None) -> str:
    return f"{value.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC" if value else "never"


def _n(value) -> str:
    return "–" if value is None else f"{value:,}"


def _channels(rows: list[dict]) -> str:
    if not rows:
        return '<p class="muted">No posts loaded yet: run data_ingestion or full_pipeline.</p>'
    table = ["<table><tr><th>channel</th><th class=n>posts</th><th>last post</th><th>last scrape</th>"
             "<th class=n>quarantined records</th><th class=n>quarantined files</th></tr>"]
    for row in rows:
        table.append(f"<tr><td>{escape(row['channel_name'])}</td><td class=n>{_n(row['posts'])}</td>"
                     f"<td>{_when(row['last_post'])} <span class=muted>({row['hours_since_last_post']:,.0f} h ago)"
                     f"</span></td><td>{_when(row['last_scrape'])}</td><td class=n>{_n(row['quarantined_records'])}"
                     f"</td><td class=n>{_n(row['quarantined_files'])}</td></tr>")
    table.append("</table>")
    panels = [f'<div class="panel"><h3>{escape(row["channel_name"])}: posts per day, the 30 days to its last post'
              f'</h3>{charts.bar_chart("posts_per_day:" + row["channel_name"], row["posts_per_day"])}</div>'
              for row in rows]
    return "".join(table) + f'<div class="panels">{"".join(panels)}</div>'


def _layers(reconciliation: dict, quality: dict) -> str:
    r = reconciliation
    status = '<span class="ok">reconciled</span>' if r["reconciled"] else '<span class="failed">not reconciled</span>'
    counts = (
        f"<table><tr><th>layer</th><th class=n>records</th><th>explained by</th></tr>"
        f"<tr><td>lake: records read from {_n(r['lake_files'])} files</td><td class=n>{_n(r['lake_records_read'])}"
        f"</td><td>every load of every file</td></tr>"
        f"<tr><td>&nbsp; quarantined</td><td class=n>{_n(r['quarantined'])}</td><td>bad records, kept in the "
        f"lake's quarantine with their reason</td></tr>"
        f"<tr><td>&nbsp; read again</td><td class=n>{_n(r['read_again'])}</td><td>posts already in raw: "
        f"re-scrapes, edits, a changed file loaded again</td></tr>"
        f"<tr><td>&nbsp; new posts</td><td class=n>{_n(r['inserted'])}</td><td>read − quarantined − read again"
        f"</td></tr>"
        f"<tr><td>raw.telegram_messages</td><td class=n>{_n(r['raw'])}</td><td>the new posts</td></tr>"
        f"<tr><td>staging.stg_telegram_messages</td><td class=n>{_n(r['staging'])}</td><td>one row per raw row"
        f"</td></tr>"
        f"<tr><td>marts.fct_messages</td><td class=n>{_n(r['marts'])}</td><td>raw − {_n(r['not_yet_in_marts'])}"
        f" loaded since the last dbt build</td></tr></table><p>{status}</p>")
    latest = "".join(
        f"<tr><td>{escape(name)}</td><td class=n>{item['score']:.3f}</td><td class=n>{item['successful']}/"
        f"{item['evaluated']}</td><td class={'ok' if item['success'] else 'failed'}>"
        f"{'passed' if item['success'] else 'failed'}</td><td>{_when(item['checked_at'])}</td></tr>"
        for name, item in sorted(quality["latest"].items()))
    scores = (f"<h3>Great Expectations: share of expectations met, per checkpoint</h3>"
              f"{charts.line_chart('quality_score', quality['series'], y_max=1.0, empty='no checkpoint run yet')}"
              + (f"<table><tr><th>checkpoint</th><th class=n>score</th><th class=n>met</th><th>result</th>"
                 f"<th>checked</th></tr>{latest}</table>" if latest else ""))
    return (f'<div class="panels"><div class="panel"><h3>Records at each layer</h3>{counts}</div>'
            f'<div class="panel">{scores}</div></div>')


def _detector(detector: dict) -> str:
    d = detector
    bars = [(c["category"], c["images"]) for c in d["categories"]]
    return (f'<div class="panels"><div class="panel"><table>'
            f"<tr><td>photos</td><td class=n>{_n(d['photos'])}</td></tr>"
            f"<tr><td>processed</td><td class=n>{_n(d['processed'])}</td></tr>"
            f"<tr><td>pending</td><td class=n>{_n(d['pending'])}</td></tr>"
            f"<tr><td>objects detected</td><td class=n>{_n(d['detections'])}</td></tr></table></div>"
            f'<div class="panel"><h3>Images per category</h3>'
            f"{charts.bar_chart('image_categories', bars, width=360, empty='no detection marts yet')}</div></div>")


def _api(api: dict) -> str:
    rows = "".join(
        f"<tr><td>{escape(e['endpoint'])}</td><td class=n>{_n(e['latest_p50_ms'])}</td>"
        f"<td class=n>{_n(e['latest_p95_ms'])}</td><td class=n>{e['checks']}</td>"
        f"<td class=n>{e['error_rate']:.1%}</td></tr>" for e in api["endpoints"])
    table = (f"<table><tr><th>endpoint</th><th class=n>p50 ms</th><th class=n>p95 ms</th><th class=n>checks</th>"
             f"<th class=n>error rate</th></tr>{rows}</table>" if rows
             else '<p class="muted">No measurements yet: api_service records them.</p>')
    return (f'{table}<div class="panels">'
            f'<div class="panel"><h3>p50 latency per endpoint (ms)</h3>'
            f"{charts.line_chart('api_p50', api['p50'], unit=' ms')}</div>"
            f'<div class="panel"><h3>p95 latency per endpoint (ms)</h3>'
            f"{charts.line_chart('api_p95', api['p95'], unit=' ms')}</div></div>")


def _health(components: list[dict], alerts: list[dict]) -> str:
    if components:
        rows = "".join(
            f"<tr><td>{escape(c['component'])}</td><td class={escape(c['status'])}>{escape(c['status'])}</td>"
            f"<td>{_when(c['checked_at'])}</td><td>{charts.status_strip('health:' + c['component'], c['history'])}"
            f"</td><td class=muted>{escape((c['detail'] or '')[:160])}</td></tr>" for c in components)
        table = (f"<table><tr><th>component</th><th>latest</th><th>checked</th><th>history</th><th>detail</th></tr>"
                 f"{rows}</table>")
    else:
        table = '<p class="muted">No health checks yet: health_check records them.</p>'
    if alerts:
        items = "".join(f"<tr><td>{_when(a['sent_at'])}</td><td>{escape(a['kind'])}</td><td>{escape(a['subject'])}"
                        f"</td><td>{escape(', '.join(a['delivered']))}</td><td class=muted>"
                        f"{escape((a['detail'] or '')[:160])}</td></tr>" for a in alerts)
        table += (f"<h3>Latest alerts</h3><table><tr><th>sent</th><th>kind</th><th>subject</th><th>delivered to</th>"
                  f"<th>detail</th></tr>{items}</table>")
    return table


def render(snapshot: dict) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Pipeline monitor</title>
<meta http-equiv="refresh" content="120"><style>{STYLE}</style></head><body>
<h1>Pipeline monitor</h1>
<p class="muted">Read from the warehouse at {_when(snapshot['generated_at'])}; refreshes every 2 minutes.
The same numbers as JSON: <a href="{URL_PREFIX}/data.json">data.json</a>.</p>
<h2 id="channels">Channels</h2>{_channels(snapshot['channels'])}
<h2 id="layers">Layers</h2>{_layers(snapshot['reconciliation'], snapshot['quality'])}
<h2 id="detector">Detector</h2>{_detector(snapshot['detector'])}
<h2 id="api">Analytical API</h2>{_api(snapshot['api'])}
<h2 id="health">Health</h2>{_health(snapshot['health'], snapshot['alerts'])}
</body></html>"""


def read_snapshot() -> dict:
    with warehouse.connect() as conn:
        conn.read_only = True
        return monitor.snapshot(conn)


def create_app() -> FastAPI:
    app = require_airflow_login(
        FastAPI(title="Pipeline monitor", docs_url=None, redoc_url=None, openapi_url=None))

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page():
        try:
            return render(read_snapshot())
        except warehouse.WarehouseError as exc:  # its message names the server, never the password
            return HTMLResponse(f"<h1>Pipeline monitor</h1><p>{escape(str(exc))}</p>", status_code=503)

    @app.get("/data.json", include_in_schema=False)
    def data():
        try:
            return JSONResponse(jsonable_encoder(read_snapshot()))
        except warehouse.WarehouseError as exc:
            return JSONResponse({"detail": str(exc)}, status_code=503)

    return app


class PipelineMonitorPlugin(AirflowPlugin):
    name = "pipeline_monitor"
    fastapi_apps = [{"app": create_app(), "url_prefix": URL_PREFIX, "name": "Pipeline monitor"}]
    external_views = [{
        "name": "Pipeline monitor",
        "href": f"{URL_PREFIX}/",
        "destination": "nav",
        "url_route": "pipeline-monitor",
    }]
