"""Channel freshness on a real warehouse: the numbers, and health_check's check_freshness core (its health
checks, and one channel_stale alert per silence through the webhook and a real SMTP server)."""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime, timedelta

import pytest

from medical_telegram.monitoring import freshness
from tests.support.alert_sinks import MailSink, WebhookSink

# check_freshness's module imports Airflow: a private, empty AIRFLOW_HOME (no metadata DB is needed).
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="mtw_airflow_home_"))

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


def _insert_posts(conn, channel: str, dates: list[datetime]) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            "insert into raw.telegram_messages (channel_name, message_id, message_date, scraped_at, source, raw,"
            " lake_file) values (%s, %s, %s, %s, 'telethon', '{}', 'raw/telegram_messages/x.json')",
            [(channel, i + 1, date, NOW - timedelta(minutes=30)) for i, date in enumerate(sorted(dates))],
        )
    conn.commit()


@pytest.fixture
def channels(db):
    """daily_stale: daily for 30 days, silent for 3; weekly: every 7 days, silent for 5; daily_fresh: daily,
    last post an hour ago."""
    _insert_posts(db, "daily_stale", [NOW - timedelta(days=3 + i) for i in range(30)])
    _insert_posts(db, "weekly", [NOW - timedelta(days=5 + 7 * i) for i in range(10)])
    _insert_posts(db, "daily_fresh", [NOW - timedelta(hours=1) - timedelta(days=i) for i in range(30)])
    return db


def test_the_numbers_of_each_channel(channels):
    by_name = {f.channel: f for f in freshness.channel_freshness(channels, NOW)}
    assert sorted(by_name) == ["daily_fresh", "daily_stale", "weekly"]

    stale = by_name["daily_stale"]
    assert stale.last_post == NOW - timedelta(days=3)
    assert stale.last_scrape == NOW - timedelta(minutes=30)
    assert stale.silent_hours == 72.0
    assert (stale.active_days, stale.window_days) == (29, 30)  # the 29 days before its last post's day
    assert stale.usually_daily and stale.stale

    weekly = by_name["weekly"]
    assert weekly.active_days == 4 and weekly.active_share == round(4 / 30, 4)
    assert weekly.silent_hours == 120.0
    assert not weekly.usually_daily and not weekly.stale  # silent 5 days, but that is its rhythm

    fresh = by_name["daily_fresh"]
    assert fresh.silent_hours == 1.0 and fresh.usually_daily and not fresh.stale


def test_thresholds(channels):
    lenient = freshness.FreshnessSettings(max_silence_hours=100)
    assert not any(f.stale for f in freshness.channel_freshness(channels, NOW, lenient))
    strict = freshness.FreshnessSettings(min_active_share=0.1)  # weekly counts as "usually daily" now
    assert {f.channel for f in freshness.channel_freshness(channels, NOW, strict) if f.stale} == {
        "daily_stale", "weekly"}


def test_an_empty_raw_layer_has_no_channels(db):
    assert freshness.channel_freshness(db, NOW) == []


def test_settings_come_from_the_run_time_settings(monkeypatch):
    from medical_telegram.orchestration import monitoring_tasks as monitoring

    monkeypatch.setenv("FRESHNESS_MAX_SILENCE_HOURS", "12")
    monkeypatch.delenv("FRESHNESS_WINDOW_DAYS", raising=False)
    monkeypatch.delenv("FRESHNESS_MIN_ACTIVE_SHARE", raising=False)
    assert monitoring.freshness_settings() == freshness.FreshnessSettings(max_silence_hours=12, window_days=30,
                                                                          min_active_share=0.5)


# --- the task's core: records, and alerts once per silence ---------------------------------------------------

@pytest.fixture
def webhook():
    sink = WebhookSink()
    yield sink.url, sink.received
    sink.shutdown()


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd, no auth) that keeps what it receives; yields (port, messages)."""
    sink = MailSink()
    yield sink.port, sink.messages
    sink.stop()


@pytest.fixture
def alerting(monkeypatch, webhook, smtp_server):
    url, received = webhook
    port, messages = smtp_server
    monkeypatch.delenv("AIRFLOW_CONN_ALERT_WEBHOOK", raising=False)
    monkeypatch.setenv("ALERT_WEBHOOK_URL", url)
    monkeypatch.setenv("AIRFLOW_CONN_ALERT_SMTP", json.dumps({
        "conn_type": "smtp", "host": "127.0.0.1", "port": port,
        "extra": {"disable_tls": True, "disable_ssl": True, "from_email": "airflow@example.org", "timeout": 5}}))
    monkeypatch.setenv("ALERT_EMAIL_TO", "oncall@example.org")
    return received, messages


def _rows(conn, sql):
    return conn.execute(sql).fetchall()


def test_a_stale_channel_alerts_once_per_silence(channels, alerting):
    from medical_telegram.orchestration.monitoring_tasks import freshness_check

    received, messages = alerting
    db = channels
    results = freshness_check(db, NOW, freshness.FreshnessSettings(), run_id="manual__1")
    assert [(f.channel, f.stale) for f in results] == [
        ("daily_fresh", False), ("daily_stale", True), ("weekly", False)]

    assert received == [{"event": "channel_stale", "channel": "daily_stale", "last_post": "2026-03-12T12:00:00+00:00",
                         "silent_hours": 72.0, "active_share": round(29 / 30, 4)}]
    assert len(messages) == 1
    rcpt_tos, message = messages[0]
    assert rcpt_tos == ["oncall@example.org"]
    assert message["Subject"] == "[medical-telegram] channel daily_stale silent for 72 h"
    assert "last post:    2026-03-12T12:00:00+00:00" in message.get_content()

    assert _rows(db, "select kind, subject, delivered, dedup_key from monitoring.alerts") == [
        ("channel_stale", "[medical-telegram] channel daily_stale silent for 72 h", ["log", "webhook", "email"],
         "channel_stale:daily_stale:2026-03-12T12:00:00+00:00")]
    checks = _rows(db, "select check_name, status, value, split_part(detail, ':', 1), dag_run_id"
                       " from monitoring.health_checks order by detail")
    assert checks == [("freshness:daily_fresh", "ok", 1.0, "daily_fresh", "manual__1"),
                      ("freshness:daily_stale", "warning", 72.0, "daily_stale", "manual__1"),
                      ("freshness:weekly", "ok", 120.0, "weekly", "manual__1")]

    # 15 minutes later: the same silence, nothing new is sent; the checks are recorded again
    freshness_check(db, NOW + timedelta(minutes=15), freshness.FreshnessSettings(), run_id="manual__2")
    assert len(received) == 1 and len(messages) == 1
    assert _rows(db, "select count(*) from monitoring.alerts") == [(1,)]
    assert _rows(db, "select count(*) from monitoring.health_checks where status = 'warning'") == [(2,)]

    # it posts once, then goes quiet again: a new silence, a new alert
    _insert_posts_after(db, "daily_stale", NOW - timedelta(days=2, hours=12))
    freshness_check(db, NOW, freshness.FreshnessSettings())
    assert [r["last_post"] for r in received] == ["2026-03-12T12:00:00+00:00", "2026-03-13T00:00:00+00:00"]
    assert len(messages) == 2
    assert _rows(db, "select count(*) from monitoring.alerts where kind = 'channel_stale'") == [(2,)]


def _insert_posts_after(conn, channel, date):
    conn.execute(
        "insert into raw.telegram_messages (channel_name, message_id, message_date, scraped_at, source, raw,"
        " lake_file) select %s, max(message_id) + 1, %s, %s, 'telethon', '{}', 'raw/telegram_messages/y.json'"
        " from raw.telegram_messages where channel_name = %s", (channel, date, NOW, channel))
    conn.commit()


def test_without_stale_channels_nothing_is_sent(channels, alerting):
    from medical_telegram.orchestration.monitoring_tasks import freshness_check

    received, messages = alerting
    freshness_check(channels, NOW, freshness.FreshnessSettings(max_silence_hours=100))
    assert received == [] and messages == []
    assert _rows(channels, "select count(*) from monitoring.alerts") == [(0,)]
    assert _rows(channels, "select count(*) from monitoring.health_checks where status = 'ok'") == [(3,)]
