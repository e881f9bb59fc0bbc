"""Benchmark of the dbt project at a million messages: full build, and an incremental run after 1,000 new ones.

In a scratch database of its own (dropped at the end unless --keep):
1. migrates it and generates N realistic posts in SQL straight into raw.telegram_messages: 12 channels over two
   years; Lobelia-style posts (product, pack size, "Price N birr", the shop's footer with the delivery-fee
   line), Amharic posts ("ዋጋ 2,450 ብር"), two-product "900 ETB" posts, photo-only posts; 80 % with a photo.
   Their updated_at is an hour after posting (at the latest a day ago), as rows loaded by earlier runs.
   Plus one detection per tenth post in raw.image_detections;
2. times a full `dbt build` (seeds, models, every test): the baseline;
3. three times: loads 1,000 new posts (and re-scrapes the views of 2,000 recent ones, as the hourly run does),
   then times an incremental `dbt run`; prints the median and its ratio to the full build (target: at most
   10 %); then once more with an incremental `dbt build` (its tests still scan whole tables).

Usage: .venv/bin/python bench/bench_dbt.py [--messages 1000000] [--rounds 3] [--keep]
Needs a PostgreSQL: TEST_WAREHOUSE_ADMIN_DSN, else postgresql://postgres@127.0.0.1:5432/postgres.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

from medical_telegram.transform.dbt_runner import run_dbt
from medical_telegram.warehouse.migrate import migrate

import figures  # bench/figures.py: run as a script, this folder is on sys.path


# Products as posts write them; the generator adds pack size and price.
_PRODUCTS = [
    "PRENATAL", "ONE A DAY MEN", "ONE A DAY WOMEN", "FISH OIL", "CHOLINE", "COQ10", "MELATONIN",
    "CALCIUM D3+ZINC", "MULTI + OMEGA3 For Her", "MAGNESIUM GLYCINATE", "ENFAMIL NEUROPRO CARE", "NIDO1+",
    "KIRKLAND ORGANIC EXTRA VIRGIN OLIVE OIL", "Lilcretters", "ENSURE", "ENSURE LIQUID", "Bebe cream",
    "VITAMIN D3+k2", "Ashwagandha", "COCONUT OIL", "NAN LACTOSE FREE", "FOLIC ACID", "ZINC", "IRON",
    "EUCERIN ANTI PIGMENT DUAL SERUM", "TAMPAX", "NEUTROGENA ACNE WASH", "TUMS", "ADVIL", "Paracetamol",
    "Amoxicillin", "Omeprazole", "Metformin", "CeraVe moisturizing cream", "Vitamin C", "Tablet X unknown",
]
_AMHARIC = ["ፓናዶል", "ቫይታሚን ሲ", "ኒዶ", "ፎሊክ አሲድ", "ሜላቶኒን"]
_FORMS = ["tablets", "GUMMIES", "softgels", "capsules", "Pcs", "MG", "ML", "gm"]
_FOOTER = (
    "\nTelegram :-@Shopchannel\nMsg👉 Pharmacy and cosmetics \n☎️ call 0911000000/0911000001\n"
    "Adress:- Infront of Bole Medhanialem high school \nOpen Monday - Monday from 8am until midnight "
    "ከሰኞ - እስከ ሰኞ  ከጧቱ 2:00 ስዓት - እስከ ምሽቱ 6:00 ሰዓት\n🏍🏍🏍 የትራንስፖርት አማራጭ ከ70 - 500 ብር\n"
    "For delivery option fees are from 70 birr -500 birr"
)
_CHANNELS = ["lobelia4cosmetics", "tikvahpharma", "chemed123", "yetenaweg", "ethiopharm_store", "addis_pharmacy",
             "beauty_addis", "medstore_et", "kenema_pharmacy", "cosmetics_eth", "zewditu_pharmacy", "pharma_hub_et"]


def _generate_sql(first_id: int, count: int, updated: str, history: int) -> str:
    """INSERT … SELECT generate_series(first_id, first_id + count - 1): realistic posts, all in SQL. The first
    `history` posts span two years from 2024-01-01 (63 s apart at a million); later ones follow them."""
    spacing_s = 730 * 86400 / history
    products = "array[" + ",".join(sql.quote(p) for p in _PRODUCTS) + "]"
    amharic = "array[" + ",".join(sql.quote(p) for p in _AMHARIC) + "]"
    forms = "array[" + ",".join(sql.quote(p) for p in _FORMS) + "]"
    channels = "array[" + ",".join(sql.quote(c) for c in _CHANNELS) + "]"
    footer = sql.quote(_FOOTER)
    return f"""
    insert into raw.telegram_messages (channel_name, message_id, channel_title, message_date, message_text,
        views, forwards, has_media, media_type, image_path, scraped_at, source, raw, lake_file, loaded_at,
        updated_at)
    select
        channel, g, initcap(replace(channel, '_', ' ')), posted_at, text,
        (50 + (g * 7919) % 2000), (g * 31) % 20, has_photo, case when has_photo then 'photo' end,
        case when has_photo then 'raw/images/' || channel || '/' || g || '.jpg' end,
        posted_at + interval '1 hour', 'telethon', '{{}}'::jsonb, 'bench/' || channel || '.json',
        {updated}, {updated}
    from (
        select
            g,
            ({channels})[1 + (g % {len(_CHANNELS)})] as channel,
            -- two years of posts, newest last, never in the future
            least(timestamptz '2024-01-01 00:00+00' + (g * interval '{spacing_s:.3f} seconds'),
                  now() - interval '1 hour')
                as posted_at,
            (g % 5) <> 0 as has_photo,
            case g % 10
                when 0 then ''
                when 1 then ({amharic})[1 + (g / 10) % {len(_AMHARIC)}] || ' ' || (10 + g % 90) || ' '
                    || ({forms})[1 + g % {len(_FORMS)}] || E'\\nዋጋ ' || to_char(500 + (g * 37) % 9500, 'FM9,999')
                    || ' ብር' || E'\\nየትራንስፖርት አማራጭ ከ70 - 300 ብር'
                when 2 then ({products})[1 + (g / 10) % {len(_PRODUCTS)}] || ' - ' || (300 + (g * 13) % 4000)
                    || E' ETB\\n' || ({products})[1 + (g / 7) % {len(_PRODUCTS)}] || ' - '
                    || (300 + (g * 17) % 4000) || ' ETB'
                else ({products})[1 + (g * 7) % {len(_PRODUCTS)}] || ' ' || (30 + g % 170) || ' '
                    || ({forms})[1 + g % {len(_FORMS)}] || E' \\nPrice ' || (1000 + (g * 37) % 9000) || ' birr '
                    || {footer}
            end as text
        from generate_series({first_id}::bigint, {first_id + count - 1}::bigint) as g
    ) as posts
    """


def _detections_sql(first_id: int, count: int) -> str:
    return f"""
    insert into raw.image_detections (channel_name, message_id, model_name, detection_index, image_path,
        detected_class, class_id, confidence, detected_at, lake_file, loaded_at)
    select channel_name, message_id, 'yolov8n', 0, image_path,
        (array['bottle', 'person', 'cup', null])[1 + message_id % 4],
        (array[39, 0, 41, null])[1 + message_id % 4],
        case when message_id % 4 <> 3 then 0.5 + (message_id % 50) / 100.0 end,
        now(), 'bench/detections.json', updated_at
    from raw.telegram_messages
    where message_id between {first_id} and {first_id + count - 1} and image_path is not null
      and message_id % 10 = 3
    """


TARGET = Path(tempfile.mkdtemp(prefix="bench_dbt_target_"))


def _timed(args: list[str], dsn: str) -> float:
    started = time.perf_counter()
    run_dbt(args, dsn, target_path=TARGET)  # artifacts of its own: other dbt runs may share the project
    return time.perf_counter() - started


def _slowest(count: int = 6) -> list[tuple[str, float]]:
    """The slowest nodes of the last dbt command (target/run_results.json)."""
    results = json.loads((TARGET / "run_results.json").read_text())["results"]
    slowest = sorted(results, key=lambda r: -r["execution_time"])[:count]
    return [(r["unique_id"].split(".")[-1], round(r["execution_time"], 2)) for r in slowest]


def _time_by_kind() -> dict[str, float]:
    """Seconds the last dbt command spent per kind of node (seed, model, test), summed over its threads."""
    totals: dict[str, float] = {}
    for result in json.loads((TARGET / "run_results.json").read_text())["results"]:
        kind = result["unique_id"].split(".")[0]
        totals[kind] = round(totals.get(kind, 0.0) + result["execution_time"], 1)
    return totals


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--new", type=int, default=1_000, help="messages added before each incremental run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--select", nargs="*", default=[], help="dbt selectors (default: the whole project)")
    parser.add_argument("--no-analyze", dest="analyze", action="store_false",
                        help="leave the built tables without planner statistics (by default they are analysed "
                             "after the full build, as a deployment's autovacuum does)")
    figures.add_arguments(parser, "bench_dbt")
    options = parser.parse_args()
    if options.small:
        options.messages, options.new, options.rounds = 3_000, 100, 1
    load_before = figures.load_average()
    logging.basicConfig(level=logging.WARNING)

    admin = os.environ.get("TEST_WAREHOUSE_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"mtw_bench_dbt_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    params = psycopg.conninfo.conninfo_to_dict(admin) | {"dbname": name}
    dsn = psycopg.conninfo.make_conninfo(**params)
    try:
        with psycopg.connect(dsn) as conn:
            migrate(conn)
            started = time.perf_counter()
            # Loaded an hour after posting, at the latest a day ago: spread like a real history.
            conn.execute(_generate_sql(1, options.messages,
                                       "least(posted_at + interval '1 hour', now() - interval '1 day')",
                                       options.messages))
            conn.execute(_detections_sql(1, options.messages))
            conn.commit()
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("vacuum analyze raw.telegram_messages")
            conn.execute("vacuum analyze raw.image_detections")
        print(f"generated {options.messages:,} messages in {time.perf_counter() - started:.1f} s", flush=True)

        select = ["--select", *options.select] if options.select else []
        full_build = _timed(["build", *select], dsn)
        full_build_slowest, full_build_by_kind = _slowest(12), _time_by_kind()
        print(f"full dbt build (seeds, models, tests): {full_build:.1f} s; by kind, summed over threads: "
              f"{full_build_by_kind}; slowest: {full_build_slowest}", flush=True)
        if options.analyze:
            # A deployment's autovacuum analyses the new tables within minutes; a server run with autovacuum
            # off (as some test servers are) would leave the incremental runs planned without statistics.
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute("analyze")

        def add_messages(first_id: int) -> None:
            with psycopg.connect(dsn) as conn:
                conn.execute(_generate_sql(first_id, options.new, "now()", options.messages))
                conn.execute(_detections_sql(first_id, options.new))
                # The hourly re-scrape: recent posts' views grow.
                conn.execute("update raw.telegram_messages set views = views + 5, updated_at = now() "
                             "where message_id between %s and %s", (first_id - 2 * options.new, first_id - 1))
                conn.commit()

        incremental_runs = []
        next_id = options.messages + 1
        for _ in range(options.rounds):
            add_messages(next_id)
            next_id += options.new
            incremental_runs.append(_timed(["run", *select], dsn))
            print(f"incremental dbt run after {options.new:,} new messages: {incremental_runs[-1]:.1f} s; "
                  f"slowest: {_slowest()}", flush=True)
        add_messages(next_id)
        incremental_build = _timed(["build", *select], dsn)
        print(f"incremental dbt build after {options.new:,} new messages: {incremental_build:.1f} s; "
              f"slowest: {_slowest()}", flush=True)

        run_median = statistics.median(incremental_runs)
        with psycopg.connect(dsn) as conn:
            counts = {table: conn.execute(f"select count(*) from marts.{table}").fetchone()[0]
                      for table in ("fct_messages", "fct_product_mentions", "fct_image_detections")}
        summary = {
            "messages": options.messages, "new_per_round": options.new, "rounds": options.rounds,
            "select": options.select, "analyzed": options.analyze, "full_build_s": round(full_build, 2),
            "full_build_by_kind_s": full_build_by_kind, "full_build_slowest_s": dict(full_build_slowest),
            "incremental_runs_s": [round(r, 2) for r in incremental_runs],
            "incremental_run_median_s": round(run_median, 2), "incremental_build_s": round(incremental_build, 2),
            "incremental_run_to_full_build": round(run_median / full_build, 4),
            "incremental_build_to_full_build": round(incremental_build / full_build, 4), "rows": counts,
        }
        print(f"\n{options.messages:,} messages ({counts})")
        print(f"  full dbt build: {full_build:.1f} s")
        print(f"  incremental dbt run (median of {options.rounds}): {run_median:.1f} s "
              f"-> {100 * run_median / full_build:.1f} % of the full build (target <= 10 %)")
        print(f"  incremental dbt build (with every test): {incremental_build:.1f} s "
              f"-> {100 * incremental_build / full_build:.1f} % of the full build")
        figures.write(options.results, summary, load_before=load_before)
    finally:
        shutil.rmtree(TARGET, ignore_errors=True)
        if not options.keep:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'drop database if exists "{name}" with (force)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
