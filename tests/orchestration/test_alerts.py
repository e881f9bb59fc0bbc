"""On-failure alerts: always logged; POSTed as JSON to a webhook when one is configured."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import SimpleNamespace

import pytest

from medical_telegram.orchestration.alerts import on_failure_alert


@pytest.fixture
def webhook():
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()


def _context():
    ti = SimpleNamespace(dag_id="data_ingestion", task_id="ingest.load_raw", run_id="scheduled__x", map_index=-1,
                         try_number=3)
    return {"task_instance": ti, "exception": ValueError("bad file")}


def test_alert_is_logged_and_posted(monkeypatch, webhook, caplog):
    url, received = webhook
    monkeypatch.setenv("ALERT_WEBHOOK_URL", url)
    monkeypatch.delenv("AIRFLOW_CONN_ALERT_WEBHOOK", raising=False)
    with caplog.at_level(logging.INFO, logger="medical_telegram.alerts"):
        on_failure_alert(_context())
    assert "ALERT data_ingestion.ingest.load_raw failed" in caplog.text
    assert received == [{"event": "task_failed", "dag_id": "data_ingestion", "task_id": "ingest.load_raw",
                         "run_id": "scheduled__x", "map_index": -1, "try_number": 3,
                         "error": "ValueError: bad file"}]


def test_an_unreachable_webhook_never_raises(monkeypatch, caplog):
    monkeypatch.setenv("ALERT_WEBHOOK_URL", "http://127.0.0.1:9/nothing-listens-here")
    with caplog.at_level(logging.INFO, logger="medical_telegram.alerts"):
        on_failure_alert(_context())
    assert "alert webhook failed" in caplog.text


def test_without_a_webhook_the_alert_is_only_logged(monkeypatch, caplog):
    monkeypatch.delenv("ALERT_WEBHOOK_URL", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_ALERT_WEBHOOK", raising=False)
    with caplog.at_level(logging.INFO, logger="medical_telegram.alerts"):
        on_failure_alert(_context())
    assert "ALERT" in caplog.text and "webhook" not in caplog.text
