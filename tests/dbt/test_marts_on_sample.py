"""The warehouse built by real dbt from the bundled sample (the sample_warehouse_dsn fixture runs `dbt build`:
every model, seed, data test and unit test must pass) answers the questions of the spec on real posts.

Expected figures were checked by reading the posts of sample/lake (e.g. the five "ENFAMIL NEUROPRO CARE /
Price 7200 birr" posts 22932, 22900, 22895, 22880, 22849).
"""

from __future__ import annotations

import psycopg
import pytest


@pytest.fixture(scope="module")
def sample_db(sample_warehouse_dsn):
    with psycopg.connect(sample_warehouse_dsn) as conn:
        yield conn


def rows(conn, sql, *params):
    return conn.execute(sql, params or None).fetchall()


def test_build_creates_the_contract_tables_in_exact_schemas(sample_db):
    tables = {
        (schema, name)
        for schema, name in rows(sample_db, "select table_schema, table_name from information_schema.tables "
                                            "where table_schema in ('staging', 'marts')")
    }
    expected = {("staging", "stg_telegram_messages"), ("staging", "stg_image_detections")} | {
        ("marts", name) for name in ("dim_channels", "dim_dates", "dim_products", "fct_messages",
                                     "fct_image_detections", "fct_product_mentions", "fct_channel_daily_activity")
    }
    assert expected <= tables
    assert not rows(sample_db, "select schema_name from information_schema.schemata "
                               "where schema_name like '%\\_staging' or schema_name like '%\\_marts'")


def test_fct_messages_has_one_row_per_post_with_keys(sample_db):
    assert rows(sample_db, "select count(*), count(distinct message_key) from marts.fct_messages") == [(100, 100)]
    key, date_key, length, views = rows(
        sample_db, "select message_key, date_key, message_length, view_count from marts.fct_messages "
                   "where channel_name = 'lobelia4cosmetics' and message_id = 22946")[0]
    assert key == rows(sample_db, "select md5('lobelia4cosmetics-22946')")[0][0]
    assert date_key == 20260118
    assert views == 167 and length > 0
    # Full-text search is api_message_search's (its document, a GIN index per age tier), not a second index here.
    indexes = [d for (d,) in rows(sample_db, "select indexdef from pg_indexes where schemaname = 'marts' "
                                             "and tablename = 'fct_messages'")]
    assert not any("to_tsvector" in d for d in indexes)
    found = rows(sample_db, "select count(*) from api.api_message_search "
                            "where document @@ plainto_tsquery('simple', 'melatonin')")
    assert found[0][0] >= 3, "every post that says melatonin, and those that name it as a product"


def test_extraction_runs_beside_fct_messages_on_unlogged_tables(sample_db):
    """What makes the full build fast at a million posts (bench/bench_dbt.py): segmenting the posts waits for
    no mart, and the extraction's working tables write no WAL while the marts the API reads stay logged."""
    import json

    from medical_telegram.transform.dbt_runner import MANIFEST_PATH

    nodes = json.loads(MANIFEST_PATH.read_text())["nodes"]
    segments = nodes["model.medical_warehouse.int_post_segments"]["depends_on"]["nodes"]
    assert "model.medical_warehouse.stg_telegram_messages" in segments
    assert "model.medical_warehouse.fct_messages" not in segments
    persistence = dict(rows(sample_db, "select c.relname, c.relpersistence from pg_class c "
                                       "join pg_namespace n on n.oid = c.relnamespace "
                                       "where n.nspname in ('intermediate', 'marts') and c.relkind = 'r'"))
    assert {persistence[name] for name in ("int_post_segments", "int_segment_prices", "int_segment_product_hits",
                                           "int_post_items", "int_product_names")} == {"u"}
    assert {persistence[name] for name in ("fct_messages", "fct_product_mentions", "dim_products")} == {"p"}


def test_dim_channels_types_lobelia_from_the_seed(sample_db):
    assert rows(sample_db, "select channel_name, channel_type, first_post_date::text, last_post_date::text, "
                           "total_posts from marts.dim_channels") == [
        ("lobelia4cosmetics", "Cosmetics", "2026-01-14", "2026-01-18", 100)]


def test_dim_dates_is_a_spine_covering_the_data(sample_db):
    first, last, days, gaps = rows(sample_db, "select min(full_date)::text, max(full_date)::text, count(*), "
                                              "max(full_date) - min(full_date) + 1 - count(*) from marts.dim_dates")[0]
    assert first == "2026-01-01" and last >= "2026-12-31" and gaps == 0 and days >= 365
    assert rows(sample_db, "select day_name, day_of_week, is_weekend, quarter from marts.dim_dates "
                           "where date_key = 20260118") == [("Sunday", 7, True, 1)]


def test_top_products_with_prices_from_real_posts(sample_db):
    top = rows(sample_db, """
        select product_name, count(*) as mentions, min(price_birr), max(price_birr)
        from marts.fct_product_mentions group by product_name order by mentions desc, product_name limit 5""")
    # "ENSURE 850GM" and "NORDIC 237 ML AGE1+" name a brand, not which of its products: none is guessed.
    assert top == [
        ("Enfamil NeuroPro", 5, 7200, 7200),
        ("Ensure (unspecified product)", 5, 4500, 5000),
        ("Nido 1+", 4, 7500, 7500),
        ("Nordic Naturals (unspecified product)", 4, 9500, 9500),
        ("Prenatal Gummies", 4, 5000, 6000),
    ]


def test_sizes_are_columns_so_prices_compare_like_with_like(sample_db):
    assert rows(sample_db, """
        select product_name, pack_size, strength, pack_count, count(*), min(price_birr)
        from marts.fct_product_mentions
        where product_name in ('Ensure (unspecified product)', 'Prenatal Gummies', 'Melatonin')
        group by 1, 2, 3, 4 order by 1, 2, 3, 4""") == [
        ("Ensure (unspecified product)", "400 g", None, None, 3, 4500),
        ("Ensure (unspecified product)", "850 g", None, None, 2, 5000),
        ("Melatonin", None, "5 mg", None, 3, 6000),
        ("Prenatal Gummies", None, None, 60, 2, 5000),
        ("Prenatal Gummies", None, None, 90, 2, 6000),
    ]
    assert rows(sample_db, """
        select brand, is_brand_only, count(*) from marts.fct_product_mentions
        where brand in ('Ensure', 'Nido') group by 1, 2 order by 1, 2""") == [
        ("Ensure", False, 2), ("Ensure", True, 5), ("Nido", False, 4), ("Nido", True, 2)]


def test_every_captioned_post_names_its_product_and_no_delivery_fee_is_a_price(sample_db):
    unmatched = rows(sample_db, """
        select message_id from marts.fct_messages m
        where message_text <> ''
          and not exists (select 1 from marts.fct_product_mentions p where p.message_key = m.message_key)""")
    assert unmatched == []
    # Every post carries "ከ70 - 500 ብር" / "from 70 birr -500 birr"; neither amount may become a price.
    prices = rows(sample_db, "select count(*), count(price_birr), min(price_birr) from marts.fct_product_mentions")
    assert prices == [(97, 97, 1200)]


def test_product_mentions_join_to_products_and_channels(sample_db):
    assert rows(sample_db, """
        select d.product_category, count(*) from marts.fct_product_mentions f
        join marts.dim_products d using (product_key)
        join marts.dim_channels c using (channel_key)
        where d.product_name = 'Melatonin' group by 1""") == [("Vitamins & Supplements", 3)]


def test_daily_activity_sums_the_days_posts(sample_db):
    assert rows(sample_db, """
        select full_date::text, post_count, total_views, image_post_count from marts.fct_channel_daily_activity
        order by date_key""") == [
        ("2026-01-14", 5, 2187, 5), ("2026-01-15", 36, 10871, 36), ("2026-01-16", 21, 7967, 21),
        ("2026-01-17", 16, 6840, 16), ("2026-01-18", 22, 3226, 22)]
    assert rows(sample_db, "select sum(post_count) from marts.fct_channel_daily_activity") == [(100,)]


def test_image_detections_are_categorised_per_photo(sample_db):
    assert rows(sample_db, """
        select message_id, model_name, count(*), min(image_category), max(image_category)
        from marts.fct_image_detections group by 1, 2 order by 1""") == [
        (22855, "yolov8n", 1, "product_display", "product_display"),
        (22866, "yolov8n", 1, "product_display", "product_display"),  # the Tampax box, seen as a "book"
        (22872, "yolov8n", 2, "product_display", "product_display"),
        (22899, "yolov8n", 1, "other", "other"),
        (22919, "yolov8n", 1, "other", "other"),
        (22926, "yolov8n", 1, "product_display", "product_display"),
        (22934, "yolov8n", 1, "product_display", "product_display"),
        (22946, "yolov8n", 1, "product_display", "product_display"),
    ]


def test_docs_generate_and_every_model_and_column_is_described(sample_warehouse_dsn, tmp_path):
    import json

    from medical_telegram.transform.dbt_runner import run_dbt

    run_dbt(["docs", "generate"], sample_warehouse_dsn, target_path=tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    catalog = json.loads((tmp_path / "catalog.json").read_text())
    ours = [node for node in manifest["nodes"].values()
            if node["resource_type"] in ("model", "seed")
            and node["original_file_path"].startswith(("models/staging/", "models/intermediate/", "models/marts/",
                                                       "seeds/"))]
    assert len(ours) == 24
    missing = []
    for node in ours:
        if not node["description"].strip():
            missing.append(node["name"])
        columns = catalog["nodes"][node["unique_id"]]["columns"]
        described = {name for name, column in node["columns"].items() if column["description"].strip()}
        missing += [f"{node['name']}.{name}" for name in columns if name not in described]
    assert missing == []
