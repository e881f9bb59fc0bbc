"""The numbers behind the Pipeline monitor page (plugins/pipeline_monitor_plugin.py), read from the warehouse.

One function per panel, each a few queries over what the pipeline already records: raw.telegram_messages and
raw.load_log (freshness, volumes, quarantine), the marts (counts reconciled across layers, detections by
category), monitoring.quality_results (GX scores), monitoring.api_metrics (latency written by api_service),
monitoring.health_checks and monitoring.alerts. A table that does not exist yet (dbt has not run) reads as
empty, so the page works from the first minute.
"""

from __future__ import annotations

import datetime as dt

import psycopg

# How far back the time series go.
HISTORY_DAYS = 30


def _exists(conn: psycopg.Connection, table: str) -> bool:
    return conn.execute("select to_regclass(%s) is not null", (table,)).fetchone()[0]


def _count(conn: psycopg.Connection, table: str) -> int | None:
    if not _exists(conn, table):
        return None
    return conn.execute(f"select count(*) from {table}").fetchone()[0]  # noqa: S608 (a name of ours)


# The latest load of each lake file (a changed file is loaded again under a new checksum).
_LATEST_LOADS = """
    select distinct on (file_path) file_path, status, rows_in, quarantined,
           regexp_replace(file_path, '^.*/([^/]+)\\.json$', '\\1') as channel_name
    from raw.load_log where target = %s order by file_path, load_id desc
"""


def channels(conn: psycopg.Connection, days: int = HISTORY_DAYS) -> list[dict]:
    """Per channel: posts, last post and last scrape (freshness), quarantined records and files, and posts per
    day over the `days` days up to its last post (a channel that went quiet still shows how it used to post)."""
    rows = conn.execute(
        "select channel_name, count(*), max(message_date), max(scraped_at) from raw.telegram_messages"
        " group by 1 order by 1").fetchall()
    quarantine = {name: (records, files) for name, records, files in conn.execute(
        f"select channel_name, sum(quarantined), count(*) filter (where status = 'quarantined')"
        f" from ({_LATEST_LOADS}) latest group by 1", ("telegram_messages",)).fetchall()}
    daily: dict[str, dict[dt.date, int]] = {}
    for name, day, posts in conn.execute(
            "with last as (select channel_name, max(message_date) as last_post from raw.telegram_messages"
            " group by 1)"
            " select m.channel_name, (m.message_date at time zone 'UTC')::date, count(*)"
            " from raw.telegram_messages m join last using (channel_name)"
            " where m.message_date > last.last_post - make_interval(days => %s) group by 1, 2", (days,)):
        daily.setdefault(name, {})[day] = posts
    now = dt.datetime.now(dt.UTC)
    result = []
    for name, posts, last_post, last_scrape in rows:
        end = (last_post.astimezone(dt.UTC)).date()
        per_day = [((end - dt.timedelta(days=n)).isoformat(), daily.get(name, {}).get(end - dt.timedelta(days=n), 0))
                   for n in reversed(range(days))]
        records, files = quarantine.get(name, (0, 0))
        result.append({
            "channel_name": name, "posts": posts, "last_post": last_post, "last_scrape": last_scrape,
            "hours_since_last_post": round((now - last_post).total_seconds() / 3600, 1),
            "quarantined_records": int(records or 0), "quarantined_files": int(files or 0),
            "posts_per_day": per_day,
        })
    return result


def reconciliation(conn: psycopg.Connection) -> dict:
    """Records counted at each layer, lake → raw → staging → marts, and what explains each difference.

    From raw.load_log, over every load: each record read from a lake file was inserted (a new post), updated or
    unchanged (a post already in raw, read again: a re-scrape, an edit, a merged file) or quarantined. So raw
    holds exactly the records ever inserted, even after the weekly retention has removed loaded lake files.
    """
    read, inserted, again, quarantined, files = conn.execute(
        "select coalesce(sum(rows_in), 0), coalesce(sum(inserted), 0), coalesce(sum(updated + unchanged), 0),"
        " coalesce(sum(quarantined), 0), count(distinct file_path) from raw.load_log where target = %s",
        ("telegram_messages",)).fetchone()
    raw = _count(conn, "raw.telegram_messages") or 0
    staging = _count(conn, "staging.stg_telegram_messages")
    marts = _count(conn, "marts.fct_messages")
    not_built = None
    if marts is not None:
        not_built = conn.execute(
            "select count(*) from raw.telegram_messages r where not exists (select 1 from marts.fct_messages f"
            " where f.channel_name = lower(btrim(r.channel_name)) and f.message_id = r.message_id)").fetchone()[0]
    return {
        "lake_files": files, "lake_records_read": read, "quarantined": quarantined, "read_again": again,
        "inserted": inserted, "raw": raw, "staging": staging, "marts": marts, "not_yet_in_marts": not_built,
        # Each record read is accounted for; raw holds what was inserted (not rows written by hand, nor fewer:
        # rows deleted); staging is one view row per raw row; marts lack only what was loaded after dbt ran.
        "reconciled": (read == inserted + again + quarantined and raw == inserted and staging in (None, raw)
                       and (marts is None or raw - marts == not_built)),
    }


def quality(conn: psycopg.Connection, days: int = HISTORY_DAYS) -> dict:
    """Each checkpoint's score over time, and its latest result."""
    rows = conn.execute(
        "select checkpoint, checked_at, score, success, evaluated, successful, critical_failures, warnings"
        " from monitoring.quality_results where checked_at > now() - make_interval(days => %s)"
        " order by checked_at", (days,)).fetchall()
    series: dict[str, list[tuple[dt.datetime, float]]] = {}
    latest: dict[str, dict] = {}
    for checkpoint, at, score, success, evaluated, successful, critical, warnings in rows:
        series.setdefault(checkpoint, []).append((at, score))
        latest[checkpoint] = {"checked_at": at, "score": score, "success": success, "evaluated": evaluated,
                              "successful": successful, "critical_failures": critical, "warnings": warnings}
    return {"series": series, "latest": latest}


def detector(conn: psycopg.Connection) -> dict:
    """Photos processed and pending, detections, and images per category (from the marts)."""
    photos, processed = conn.execute(
        "select count(*), count(*) filter (where exists (select 1 from raw.image_detections d"
        " where d.channel_name = m.channel_name and d.message_id = m.message_id))"
        " from raw.telegram_messages m where m.image_path is not null").fetchone()
    detections = conn.execute(
        "select count(*) from raw.image_detections where detected_class is not null").fetchone()[0]
    categories: list[tuple[str, int, int]] = []
    if _exists(conn, "marts.fct_image_detections"):
        categories = conn.execute(
            "select image_category, count(distinct message_key), count(*) from marts.fct_image_detections"
            " group by 1 order by 2 desc, 1").fetchall()
    return {"photos": photos, "processed": processed, "pending": photos - processed, "detections": detections,
            "categories": [{"category": c, "images": i, "detections": d} for c, i, d in categories]}


def api(conn: psycopg.Connection, days: int = HISTORY_DAYS) -> dict:
    """p50 and p95 latency per endpoint per hour (of successful checks), and each endpoint's error rate."""
    rows = conn.execute(
        "select endpoint, date_trunc('hour', measured_at) as hour,"
        " percentile_cont(0.5) within group (order by latency_ms) filter (where ok),"
        " percentile_cont(0.95) within group (order by latency_ms) filter (where ok),"
        " count(*), count(*) filter (where not ok)"
        " from monitoring.api_metrics where measured_at > now() - make_interval(days => %s)"
        " group by 1, 2 order by 2", (days,)).fetchall()
    p50: dict[str, list] = {}
    p95: dict[str, list] = {}
    totals: dict[str, list[int]] = {}
    for endpoint, hour, median, high, checks, errors in rows:
        if median is not None:
            p50.setdefault(endpoint, []).append((hour, round(median, 2)))
            p95.setdefault(endpoint, []).append((hour, round(high, 2)))
        total = totals.setdefault(endpoint, [0, 0])
        total[0] += checks
        total[1] += errors
    endpoints = [{"endpoint": e, "checks": n, "errors": err, "error_rate": round(err / n, 4) if n else 0.0,
                  "latest_p50_ms": p50[e][-1][1] if e in p50 else None,
                  "latest_p95_ms": p95[e][-1][1] if e in p95 else None}
                 for e, (n, err) in sorted(totals.items())]
    return {"p50": p50, "p95": p95, "endpoints": endpoints}


def health(conn: psycopg.Connection, days: int = HISTORY_DAYS) -> list[dict]:
    """Each component's latest check and its history (oldest first)."""
    rows = conn.execute(
        "select check_name, checked_at, status, detail from monitoring.health_checks"
        " where checked_at > now() - make_interval(days => %s) order by check_name, checked_at", (days,)).fetchall()
    components: dict[str, dict] = {}
    for name, at, status, detail in rows:
        component = components.setdefault(name, {"component": name, "history": []})
        component["history"].append((at, status))
        component.update(status=status, checked_at=at, detail=detail)
    return list(components.values())


def alerts(conn: psycopg.Connection, limit: int = 20) -> list[dict]:
    rows = conn.execute("select sent_at, kind, subject, detail, delivered from monitoring.alerts"
                        " order by sent_at desc limit %s", (limit,)).fetchall()
    return [{"sent_at": at, "kind": kind, "subject": subject, "detail": detail, "delivered": list(delivered)}
            for at, kind, subject, detail, delivered in rows]


def snapshot(conn: psycopg.Connection) -> dict:
    """Everything the page shows, in one read."""
    return {
        "generated_at": dt.datetime.now(dt.UTC),
        "channels": channels(conn),
        "reconciliation": reconciliation(conn),
        "quality": quality(conn),
        "detector": detector(conn),
        "api": api(conn),
        "health": health(conn),
        "alerts": alerts(conn),
    }
