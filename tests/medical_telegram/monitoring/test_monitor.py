"""The Pipeline monitor's numbers (medical_telegram.monitoring.monitor), on real PostgreSQL: the sample built by dbt, and
monitoring rows written the way the DAGs write them."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import psycopg
import pytest

from medical_telegram.monitoring import monitor
from medical_telegram.warehouse.loaders.messages import load_messages

from tests.support.sample_data import SAMPLE_DETECTIONS, SAMPLE_DIR

CHANNEL = "lobelia4cosmetics"


@pytest.fixture(scope="module")
def sample(sample_warehouse_dsn):
    with psycopg.connect(sample_warehouse_dsn) as conn:
        conn.read_only = True
        yield monitor.snapshot(conn)


def _sample_posts() -> list[dict]:
    posts = []
    for path in sorted((SAMPLE_DIR / "lake" / "raw" / "telegram_messages").glob("*/*.json")):
        posts += json.loads(path.read_text())
    return posts


def test_channel_freshness_and_posts_per_day(sample):
    posts = _sample_posts()
    [channel] = sample["channels"]
    assert channel["channel_name"] == CHANNEL and channel["posts"] == len(posts) == 100
    last_post = max(dt.datetime.fromisoformat(p["message_date"]) for p in posts)
    assert channel["last_post"] == last_post
    assert channel["last_scrape"] == max(dt.datetime.fromisoformat(p["scraped_at"]) for p in posts)
    per_day = dict(channel["posts_per_day"])
    assert len(per_day) == 30 and max(per_day) == last_post.date().isoformat()
    assert sum(per_day.values()) == 100
    assert per_day["2026-01-15"] == sum(p["message_date"].startswith("2026-01-15") for p in posts)
    assert channel["quarantined_records"] == channel["quarantined_files"] == 0


def test_layers_reconcile_on_the_sample(sample):
    r = sample["reconciliation"]
    assert (r["lake_records_read"], r["quarantined"], r["inserted"], r["raw"], r["staging"], r["marts"]) == (
        100, 0, 100, 100, 100, 100)
    assert r["read_again"] == 0 and r["not_yet_in_marts"] == 0 and r["reconciled"] is True


def test_detector_counts_processed_and_pending_photos(sample, sample_warehouse_dsn):
    with psycopg.connect(sample_warehouse_dsn) as conn:
        photos = conn.execute("select count(*) from raw.telegram_messages where image_path is not null").fetchone()[0]
    processed = len({message_id for _, message_id, *_ in SAMPLE_DETECTIONS})
    d = sample["detector"]
    assert (d["photos"], d["processed"], d["pending"]) == (photos, processed, photos - processed)
    assert d["detections"] == sum(1 for row in SAMPLE_DETECTIONS if row[4] is not None)
    assert sum(c["images"] for c in d["categories"]) == processed
    assert {c["category"] for c in d["categories"]} <= {"promotional", "product_display", "lifestyle", "other"}


def test_quarantine_shows_per_channel_and_in_the_reconciliation(db, lake_root):
    folder = lake_root / "raw" / "telegram_messages" / "2026-01-18"
    folder.mkdir(parents=True)
    good = [p for p in _sample_posts() if p["message_date"].startswith("2026-01-18")]
    (folder / f"{CHANNEL}.json").write_text(json.dumps(good + [{"message_id": "not a number"}]))
    (folder / "otherchannel.json").write_text("{ not json")
    load_messages(db, lake_root)
    snap = monitor.snapshot(db)
    [channel] = snap["channels"]  # the unreadable file brought no post
    assert channel["quarantined_records"] == 1 and channel["quarantined_files"] == 0
    r = snap["reconciliation"]
    assert r["lake_files"] == 2 and r["raw"] == r["inserted"] == len(good)
    assert r["marts"] is None and r["staging"] is None
    # The unreadable file held at least one record: it counts as one lost, so the loss shows in the sums.
    assert r["lake_records_read"] == len(good) + 2 and r["quarantined"] == 2 and r["reconciled"] is True
    from medical_telegram.monitoring.page import render

    html = render(snap, "data.json")
    assert '<span class="ok">reconciled</span>' in html, "every record is accounted for..."
    assert '<span class="warning">2 quarantined' in html, "... and the page says that some never arrived"

    # The same posts again in a file of their own (a re-scrape filed under another day), then the weekly
    # retention removes the lake's files: the counts still add up.
    other_day = lake_root / "raw" / "telegram_messages" / "2026-01-19"
    other_day.mkdir()
    (other_day / f"{CHANNEL}.json").write_text(json.dumps(good[:3]))
    load_messages(db, lake_root)
    shutil.rmtree(lake_root / "raw")
    r = monitor.reconciliation(db)
    assert r["read_again"] == 3 and r["raw"] == r["inserted"] == len(good) and r["reconciled"] is True


def test_a_row_no_lake_file_brought_does_not_reconcile(db, lake_root):
    db.execute("insert into raw.telegram_messages (channel_name, message_id, message_date, source, scraped_at, raw,"
               " lake_file) values ('byhand', 1, now(), 'telethon', now(), '{}', 'none')")
    r = monitor.reconciliation(db)
    assert r["raw"] == 1 and r["inserted"] == 0 and r["reconciled"] is False


def test_quality_api_and_health_series(db):
    cur = db.cursor()
    now = dt.datetime.now(dt.UTC).replace(minute=10, second=0, microsecond=0)
    hour_ago = now - dt.timedelta(hours=1)
    cur.executemany(
        "insert into monitoring.quality_results (checked_at, checkpoint, evaluated, successful, score, success)"
        " values (%s, %s, %s, %s, %s, %s)",
        [(hour_ago, "marts", 10, 10, 1.0, True), (now, "marts", 10, 8, 0.8, False), (now, "raw_messages", 4, 4, 1.0,
                                                                                      True)])
    latencies = [(hour_ago, "top_products", ms, True) for ms in (10, 20, 30, 40, 100)]
    latencies += [(now, "top_products", 5, True), (now, "top_products", None, False), (now, "search", 7, True)]
    cur.executemany("insert into monitoring.api_metrics (measured_at, endpoint, latency_ms, ok) values (%s, %s, %s, %s)",
                   latencies)
    cur.executemany("insert into monitoring.health_checks (checked_at, check_name, status, detail) values"
                   " (%s, %s, %s, %s)",
                   [(hour_ago, "api", "ok", "fine"), (now, "api", "failed", "down"), (now, "disk", "warning", "90%")])
    quality = monitor.quality(db)
    assert [score for _, score in quality["series"]["marts"]] == [1.0, 0.8]
    assert quality["latest"]["marts"]["success"] is False and quality["latest"]["raw_messages"]["score"] == 1.0

    api = monitor.api(db)
    first_hour = dict(api["p50"]["top_products"])[hour_ago.replace(minute=0)]
    assert first_hour == 30  # median of 10, 20, 30, 40, 100
    assert dict(api["p95"]["top_products"])[hour_ago.replace(minute=0)] == pytest.approx(88.0)
    endpoints = {e["endpoint"]: e for e in api["endpoints"]}
    assert endpoints["top_products"]["checks"] == 7 and endpoints["top_products"]["errors"] == 1
    assert endpoints["top_products"]["error_rate"] == round(1 / 7, 4) and endpoints["search"]["error_rate"] == 0

    health = {c["component"]: c for c in monitor.health(db)}
    assert health["api"]["status"] == "failed" and [s for _, s in health["api"]["history"]] == ["ok", "failed"]
    assert health["disk"]["status"] == "warning"


def test_an_empty_warehouse_reads_as_empty(db):
    snap = monitor.snapshot(db)
    assert snap["channels"] == [] and snap["quality"]["series"] == {} and snap["api"]["endpoints"] == []
    assert snap["detector"]["photos"] == 0 and snap["detector"]["categories"] == []
    assert snap["reconciliation"]["marts"] is None and snap["alerts"] == []
