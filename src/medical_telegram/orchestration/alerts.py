"""On-failure alerts: always logged; also POSTed as JSON to a webhook when one is configured.

The webhook is the `alert_webhook` connection (its host, or its `extra.url`), or ALERT_WEBHOOK_URL. It is
a plain urllib POST (no HttpHook, so no HTTP provider is needed), with a short timeout: an alert that cannot
be delivered is logged and never fails anything else.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.request

from medical_telegram.orchestration.settings import ALERT_CONN_ID

log = logging.getLogger("medical_telegram.alerts")


def webhook_url() -> str | None:
    try:
        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(ALERT_CONN_ID)
        url = (conn.extra_dejson or {}).get("url") or conn.host
        if url:
            if "://" not in url:
                url = f"{conn.conn_type or 'https'}://{url}"
            return url
    except Exception:  # no such connection: fall back to the environment
        pass
    return os.environ.get("ALERT_WEBHOOK_URL") or None


def alert_payload(context) -> dict:
    ti = context.get("task_instance") or context.get("ti")
    exception = context.get("exception")
    return {
        "event": "task_failed",
        "dag_id": getattr(ti, "dag_id", None),
        "task_id": getattr(ti, "task_id", None),
        "run_id": context.get("run_id") or getattr(ti, "run_id", None),
        "map_index": getattr(ti, "map_index", None),
        "try_number": getattr(ti, "try_number", None),
        "error": f"{type(exception).__name__}: {exception}"[:500] if exception else None,
    }


def post_json(url: str, payload: dict, timeout: float = 5.0) -> int:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (configured URL)
        return response.status


def on_failure_alert(context) -> None:
    """The on_failure_callback of every task."""
    payload = alert_payload(context)
    log.error("ALERT %(dag_id)s.%(task_id)s failed (run %(run_id)s, try %(try_number)s): %(error)s", payload)
    url = webhook_url()
    if not url:
        return
    try:
        status = post_json(url, payload)
        log.info("alert sent to the webhook (HTTP %s)", status)
    except Exception as exc:  # an alert must never raise
        log.warning("alert webhook failed: %s", exc)
