"""On-failure alerts: always logged; POSTed as JSON to a webhook and e-mailed (a real SMTP server started here)
when those are configured; recorded in monitoring.alerts when a warehouse is."""

from __future__ import annotations

import email
import email.policy
import json
import logging
from types import SimpleNamespace

import psycopg
import pytest

from medical_telegram.orchestration import alerts
from medical_telegram.orchestration.alerts import on_failure_alert
from tests.support.alert_sinks import WebhookSink, free_port


@pytest.fixture
def webhook():
    sink = WebhookSink()
    yield sink.url, sink.received
    sink.shutdown()


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


# --- e-mail through the SMTP provider, against a real SMTP server on 127.0.0.1 --------------------------------

SMTP_LOGIN, SMTP_PASSWORD = "alerts", "s3cret-smtp-pass"


class SmtpSink:
    """An aiosmtpd handler that keeps every message it is sent: (envelope sender, recipients, parsed message)."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 OK"


def _authenticate(server, session, envelope, mechanism, auth_data):
    from aiosmtpd.smtp import AuthResult, LoginPassword

    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        SMTP_LOGIN.encode(), SMTP_PASSWORD.encode())
    return AuthResult(success=ok)


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) that requires the test login; yields (port, sink)."""
    from aiosmtpd.controller import Controller

    sink = SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port(), authenticator=_authenticate,
                            auth_require_tls=False, auth_exclude_mechanism=["LOGIN"])
    controller.start()
    yield controller.port, sink
    controller.stop()


@pytest.fixture(autouse=True)
def _no_alert_configuration(monkeypatch):
    """Each test configures what it uses; nothing leaks in from the environment or an earlier test."""
    for name in ("ALERT_WEBHOOK_URL", "AIRFLOW_CONN_ALERT_WEBHOOK", "ALERT_EMAIL_TO", "AIRFLOW_CONN_ALERT_SMTP",
                 "WAREHOUSE_DSN", "AIRFLOW_CONN_WAREHOUSE_DB"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(alerts, "_email_off_logged", False)


def _smtp_json(port: int, **extra) -> str:
    return json.dumps({"conn_type": "smtp", "host": "127.0.0.1", "port": port, "login": SMTP_LOGIN,
                       "password": SMTP_PASSWORD,
                       "extra": {"disable_tls": True, "disable_ssl": True, "from_email": "airflow@example.org",
                                 "timeout": 5, **extra}})


def _alerts_rows(dsn):
    with psycopg.connect(dsn) as conn:
        return conn.execute("select kind, subject, detail, delivered, dedup_key from monitoring.alerts"
                            " order by alert_id").fetchall()


def test_a_failure_is_emailed_once_posted_and_recorded(monkeypatch, webhook, smtp_server, warehouse_dsn, caplog):
    url, received = webhook
    port, sink = smtp_server
    monkeypatch.setenv("ALERT_WEBHOOK_URL", url)
    monkeypatch.setenv("AIRFLOW_CONN_ALERT_SMTP", _smtp_json(port))
    monkeypatch.setenv("ALERT_EMAIL_TO", "oncall@example.org, data-team@example.org")
    monkeypatch.setenv("WAREHOUSE_DSN", warehouse_dsn)
    context = _context()
    context["task_instance"].log_url = "http://127.0.0.1:8080/dags/data_ingestion/runs/scheduled__x/tasks/x"
    with caplog.at_level(logging.DEBUG, logger="medical_telegram.alerts"):
        on_failure_alert(context)

    assert len(sink.messages) == 1
    mail_from, rcpt_tos, message = sink.messages[0]
    assert mail_from == "airflow@example.org"
    assert rcpt_tos == ["oncall@example.org", "data-team@example.org"]
    assert message["Subject"] == "[medical-telegram] data_ingestion.ingest.load_raw failed (try 3)"
    assert message["To"] == "oncall@example.org, data-team@example.org"
    assert message.get_content_type() == "text/plain"
    body = message.get_content().replace("\r\n", "\n")
    for line in ("dag:   data_ingestion", "task:  ingest.load_raw", "run:   scheduled__x", "try:   3",
                 "error: ValueError: bad file", "log:   http://127.0.0.1:8080/dags/data_ingestion/runs/"):
        assert line in body
    assert len(received) == 1 and received[0]["event"] == "task_failed"  # the webhook, unchanged
    assert SMTP_PASSWORD not in caplog.text and SMTP_PASSWORD not in body
    assert _alerts_rows(warehouse_dsn) == [
        ("task_failed", "[medical-telegram] data_ingestion.ingest.load_raw failed (try 3)", body,
         ["log", "webhook", "email"], None)]


def test_the_smtp_connection_as_a_uri(monkeypatch, smtp_server):
    port, sink = smtp_server
    monkeypatch.setenv("AIRFLOW_CONN_ALERT_SMTP",
                       f"smtp://{SMTP_LOGIN}:{SMTP_PASSWORD}@127.0.0.1:{port}"
                       "?disable_tls=true&disable_ssl=true&from_email=alerts%40example.org&timeout=5")
    monkeypatch.setenv("ALERT_EMAIL_TO", "oncall@example.org")
    context = _context()
    context["task_instance"].map_index = 2
    on_failure_alert(context)
    assert len(sink.messages) == 1
    mail_from, rcpt_tos, message = sink.messages[0]
    assert (mail_from, rcpt_tos) == ("alerts@example.org", ["oncall@example.org"])
    assert message["Subject"] == "[medical-telegram] data_ingestion.ingest.load_raw[2] failed (try 3)"
    assert "log:" not in message.get_content()  # this context has no log URL


def test_no_mail_without_recipients(monkeypatch, webhook, smtp_server, caplog):
    url, received = webhook
    port, sink = smtp_server
    monkeypatch.setenv("ALERT_WEBHOOK_URL", url)
    monkeypatch.setenv("AIRFLOW_CONN_ALERT_SMTP", _smtp_json(port))
    with caplog.at_level(logging.DEBUG, logger="medical_telegram.alerts"):
        on_failure_alert(_context())
        on_failure_alert(_context())
    assert sink.messages == []
    assert len(received) == 2
    assert caplog.text.count("alert e-mail is off") == 1  # logged once, at debug
    assert all(r.levelno == logging.DEBUG for r in caplog.records if "e-mail is off" in r.getMessage())


def test_no_mail_without_an_smtp_connection(monkeypatch, smtp_server):
    _, sink = smtp_server
    monkeypatch.setenv("ALERT_EMAIL_TO", "oncall@example.org")
    assert alerts.send_email("subject", "body") is False
    assert sink.messages == []


def test_an_unreachable_smtp_server_only_logs(monkeypatch, webhook, warehouse_dsn, caplog):
    url, received = webhook
    monkeypatch.setenv("ALERT_WEBHOOK_URL", url)
    monkeypatch.setenv("AIRFLOW_CONN_ALERT_SMTP", _smtp_json(free_port()))  # nothing listens there
    monkeypatch.setenv("ALERT_EMAIL_TO", "oncall@example.org")
    monkeypatch.setenv("WAREHOUSE_DSN", warehouse_dsn)
    with caplog.at_level(logging.INFO, logger="medical_telegram.alerts"):
        on_failure_alert(_context())  # must not raise
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(m.startswith("alert e-mail via alert_smtp failed") for m in warnings), warnings
    assert SMTP_PASSWORD not in caplog.text
    assert len(received) == 1  # the webhook still got it
    assert [row[3] for row in _alerts_rows(warehouse_dsn)] == [["log", "webhook"]]


def test_an_unreachable_warehouse_only_logs(monkeypatch, caplog):
    monkeypatch.setenv("WAREHOUSE_DSN", f"postgresql://postgres@127.0.0.1:{free_port()}/nothing")
    with caplog.at_level(logging.INFO, logger="medical_telegram.alerts"):
        on_failure_alert(_context())
    assert "could not record the alert in monitoring.alerts" in caplog.text


def test_a_log_url_that_raises_is_left_out():
    class Ti:
        dag_id, task_id, run_id, map_index, try_number = "d", "t", "r", -1, 1

        @property
        def log_url(self):
            raise RuntimeError("no config")

    assert alerts._log_url({"task_instance": Ti()}) is None
    assert "log:" not in alerts.failure_body(alerts.alert_payload({"task_instance": Ti()}), None)


def test_a_load_that_quarantines_too_much_alerts_once_per_run(monkeypatch, webhook, db):
    from medical_telegram.warehouse.migrate import migrate

    migrate(db)
    url, received = webhook
    monkeypatch.setenv("ALERT_WEBHOOK_URL", url)
    monkeypatch.delenv("AIRFLOW_CONN_ALERT_WEBHOOK", raising=False)
    what = "data_ingestion.ingest.load_raw"
    assert alerts.losses_alert(db, what, {"rows_in": 100, "quarantined": 5}, 0.05, "run-1") is None, \
        "at the threshold the loss is counted, not alerted"
    assert alerts.losses_alert(db, what, {"rows_in": 100, "quarantined": 6}, 0.05, "run-1") == ["log", "webhook"]
    assert alerts.losses_alert(db, what, {"rows_in": 100, "quarantined": 6}, 0.05, "run-1") is None, "a retry"
    assert alerts.losses_alert(db, what, {"rows_in": 0, "quarantined": 0, "photos_given_up": 2}, 0.05,
                               "run-2") == ["log", "webhook"]
    assert [(r["run_id"], r["quarantined"], r.get("photos_given_up")) for r in received] == [
        ("run-1", 6, None), ("run-2", 0, 2)]
    details = [row[0] for row in db.execute(
        "select detail from monitoring.alerts where kind = 'data_lost' order by alert_id")]
    assert "6 of 100 records read were quarantined (6.0%" in details[0]
    assert "2 photo(s) failed in 3 runs and were given up" in details[1]


def test_photos_given_up_are_read_from_the_scrapers_summaries():
    from medical_telegram.orchestration.ingestion import photos_given_up

    lines = [json.dumps({"totals": {"photos_given_up": 2}}), None, "not json",
             json.dumps({"totals": {"photos_given_up": 1}})]
    assert photos_given_up(lines) == 3
