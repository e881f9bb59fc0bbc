"""Incremental runs: after new and changed messages (and re-detected photos), an incremental `dbt build`
touches only those rows and leaves the marts exactly as a full refresh builds them.

The lookback (var incremental_lookback) is set to zero here: with the default hour every row of this freshly
loaded test database would count as recent and the incremental path would not be exercised.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import psycopg
import pytest

from medical_telegram.transform.dbt_runner import run_dbt
from medical_telegram.warehouse.loaders.messages import load_messages
from medical_telegram.warehouse.migrate import migrate

SAMPLE_LAKE = Path(__file__).resolve().parents[2] / "sample" / "lake"
NO_LOOKBACK = ["--vars", '{"incremental_lookback": "0 seconds"}']
MARTS = ("dim_channels", "dim_dates", "dim_products", "fct_messages", "fct_image_detections",
         "fct_product_mentions", "fct_channel_daily_activity")
# The API's serving tables: the two copies of every message / mention and the daily rollups are incremental,
# the aggregates rebuilt.
API = ("api_message_search", "api_product_mentions", "api_product_days", "api_product_variant_days",
       "api_product_all_days", "api_product_variant_all_days", "api_top_products", "api_channel_activity",
       "api_visual_content")
ROLLUPS = ("api.api_product_days", "api.api_product_variant_days", "api.api_product_all_days",
           "api.api_product_variant_all_days")
DETECTION_SQL = """
    insert into raw.image_detections (channel_name, message_id, model_name, detection_index, image_path,
        detected_class, class_id, confidence, detected_at, lake_file)
    values (%s, %s, 'yolov8n', %s, %s, %s, %s, %s, now(), 'enriched/detections/test.json')"""


def copy_days(target: Path, days: list[str]) -> None:
    for day in days:
        source = SAMPLE_LAKE / "raw" / "telegram_messages" / day
        shutil.copytree(source, target / "raw" / "telegram_messages" / day)


def detections(conn, *rows) -> None:
    conn.cursor().executemany(DETECTION_SQL, [
        ("lobelia4cosmetics", message_id, index, f"raw/images/lobelia4cosmetics/{message_id}.jpg", cls, class_id,
         confidence) for message_id, index, cls, class_id, confidence in rows])


def snapshot(conn) -> dict[str, set]:
    tables = [f"marts.{name}" for name in MARTS] + [f"api.{name}" for name in API]
    # Rows as JSON text: comparable whatever the columns hold (arrays, jsonb).
    return {name: {row for (row,) in conn.execute(f"select row_to_json(t)::text from {name} t")} for name in tables}


def indexes(conn, table: str) -> list[str]:
    """The table's index definitions, without their names (which carry the build's time)."""
    return sorted(definition.split(" USING ", 1)[1] for (definition,) in conn.execute(
        "select indexdef from pg_indexes where schemaname || '.' || tablename = %s", (table,)))


@pytest.fixture
def incremental_dsn(make_database, tmp_path) -> str:
    dsn = make_database("mtw_incr")
    first = tmp_path / "first"
    copy_days(first, ["2026-01-14", "2026-01-15", "2026-01-16"])
    with psycopg.connect(dsn) as conn:
        migrate(conn)
        load_messages(conn, first)
        detections(conn, (22855, 0, "bottle", 39, 0.84), (22872, 0, "bottle", 39, 0.88),
                   (22872, 1, "bottle", 39, 0.86))
        conn.commit()
    run_dbt(["build", *NO_LOOKBACK], dsn)
    return dsn


def test_incremental_run_equals_full_refresh(incremental_dsn, tmp_path):
    dsn = incremental_dsn
    with psycopg.connect(dsn) as conn:
        untouched = dict(conn.execute(
            "select message_id, xmin::text from marts.fct_messages where date_key = 20260115").fetchall())
        assert len(untouched) == 36
        search_untouched = dict(conn.execute(
            "select message_id, xmin::text from api.api_message_search where posted_at < '2026-01-16'").fetchall())
        search_indexes = indexes(conn, "api.api_message_search")
        assert sum("gin (document) WHERE" in i for i in search_indexes) == 3, search_indexes
        days_untouched = {table: sorted(conn.execute(f"select xmin::text from {table} where date_key = 20260115"))
                          for table in ROLLUPS}
        assert all(days_untouched.values()), days_untouched

    # New days arrive, a re-scrape of 2026-01-16 brings more views and an edited post that no longer names
    # its product, and one photo is re-detected with a person in it.
    second = tmp_path / "second"
    copy_days(second, ["2026-01-16", "2026-01-17", "2026-01-18"])
    day_file = second / "raw" / "telegram_messages" / "2026-01-16" / "lobelia4cosmetics.json"
    posts = json.loads(day_file.read_text())
    for post in posts:
        post["views"] += 100
        post["scraped_at"] = "2026-01-19T09:00:00+00:00"
        if post["message_id"] == 22906:
            post["message_text"] = "Sold out, thank you!"
    day_file.write_text(json.dumps(posts, ensure_ascii=False))
    with psycopg.connect(dsn) as conn:
        load_messages(conn, second)
        # A row whose tier is out of date (as when newer posts push a post past 30 days): the run moves it.
        conn.execute("update api.api_message_search set age_tier = 2 where message_id = 22853")
        conn.execute("delete from raw.image_detections where message_id = 22872")
        detections(conn, (22872, 0, "person", 0, 0.91), (22946, 0, "bottle", 39, 0.81))
        conn.commit()

    run_dbt(["build", *NO_LOOKBACK], dsn)
    with psycopg.connect(dsn) as conn:
        incremental = snapshot(conn)
        after = dict(conn.execute(
            "select message_id, xmin::text from marts.fct_messages where date_key = 20260115").fetchall())
        # Messages nobody changed were not rewritten: the run was incremental, not a rebuild.
        assert after == untouched
        search_after = dict(conn.execute("select message_id, xmin::text from api.api_message_search"
                                         " where posted_at < '2026-01-16'").fetchall())
        assert search_after.pop(22853) != search_untouched.pop(22853)  # the drifted row alone was rewritten
        assert search_after == search_untouched
        assert conn.execute("select age_tier from api.api_message_search where message_id = 22853").fetchone() == (0,)
        assert indexes(conn, "api.api_message_search") == search_indexes  # created once, not on every run
        assert conn.execute("select count(*) from api.api_product_mentions where message_id = 22906"
                            ).fetchone() == (0,)
        for table in ROLLUPS:  # a day nobody changed is not rebuilt
            assert sorted(conn.execute(f"select xmin::text from {table} where date_key = 20260115")) \
                == days_untouched[table], table
        assert conn.execute("select document @@ 'sold & out'::tsquery from api.api_message_search"
                            " where message_id = 22906").fetchone() == (True,)
        assert conn.execute("select count(*) from marts.fct_product_mentions where message_id = 22906"
                            ).fetchone() == (0,)
        assert conn.execute("select image_category, count(*) from marts.fct_image_detections "
                            "where message_id = 22872 group by 1").fetchall() == [("lifestyle", 1)]
        assert conn.execute("select total_views from marts.fct_channel_daily_activity where date_key = 20260116"
                            ).fetchone() == (7967 + 21 * 100,)

    run_dbt(["run", "--full-refresh", *NO_LOOKBACK], dsn)
    with psycopg.connect(dsn) as conn:
        full = snapshot(conn)
    for name in full:
        assert incremental[name] == full[name], f"{name} differs between incremental and full refresh"
    assert len(full["marts.fct_messages"]) == 100 and len(full["api.api_message_search"]) > 90
