"""Benchmark of the analytical API at a million messages: p50, p99 and requests/s per endpoint.

What it does, in a scratch database of its own (dropped at the end unless --keep):
1. migrates it and writes N synthetic but realistic posts into raw.telegram_messages (50 channels, two years,
   products of the project's lexicon with a Zipf-like popularity, prices in birr, Amharic footers, 8 % photo-only
   posts, 80 % with a photo) and one detection per photo into raw.image_detections, all generated in SQL;
2. runs dbt (seed + run: staging, marts and the API's serving tables in schema api) and VACUUM ANALYZE. With
   --mentions direct (the default) marts.fct_product_mentions is written from what the generator put in each
   post instead of by dbt's regular-expression extraction, which alone takes about 15 minutes at a million
   posts on this machine; --mentions dbt runs the whole project;
3. times, in SQL, each serving-table query against the naive query on the marts it replaces (median of 3 naive
   and 7 served runs, and the ratio) — the baseline measured in the same run;
4. serves the API with uvicorn through the read-only role, and loads each endpoint for 30 s with 16 concurrent
   keep-alive connections over loopback using wrk (`apt-get install wrk`), rotating through realistic
   parameters (channels, search words in English and Amharic). Workers: 1 by default; --workers 2 measures
   the other (what each gives on 2 cores, and what to run where: api/README.md, "How many workers").

Usage: .venv/bin/python bench/bench_api.py [--small] [--messages 1000000] [--duration 30] [--connections 16]
       [--mentions direct|dbt] [--keep] [--prepare-only] [--reuse DBNAME] [--only NAME]
The figures go to stdout and, as JSON with the load average, to bench/results/bench_api.json (--results).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote

import psycopg

import figures  # bench/figures.py: run as a script, this folder is on sys.path

REPO = Path(__file__).resolve().parents[1]
LEXICON = REPO / "include" / "dbt" / "medical_warehouse" / "seeds" / "product_lexicon.csv"
END_DAY = date(2026, 11, 20)
DAYS = 730
CHANNELS = 50

FOOTER = (
    "Telegram @{channel}\\nMsg👉 {title}\\n☎️ call 0911000000\\n"
    "Open Monday - Monday from 8am until midnight ከሰኞ - እስከ ሰኞ  ከጧቱ 2:00 ስዓት - እስከ ምሽቱ 6:00 ሰዓት\\n"
    "🏍🏍🏍 የትራንስፖርት አማራጭ ከ70 - 500 ብር\\nFor delivery option fees are from 70 birr - 500 birr"
)
SIZES = ["", " 500MG", " 60 tablets", " 120 SOFTGELS", " 400GM", " 2.2kg", " 237 ML", " 90 GUMMIES", " 30ml"]


def admin_dsn() -> str:
    return os.environ.get("TEST_WAREHOUSE_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


def with_params(dsn: str, **changes) -> str:
    params = psycopg.conninfo.conninfo_to_dict(dsn)
    params.update(changes)
    if "user" in changes:
        params.pop("password", None)
    return psycopg.conninfo.make_conninfo(**params)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- 1. synthetic data -------------------------------------------------------------------------------------

def products() -> list[tuple[str, int]]:
    """(alias as posted, base price) for the lexicon's aliases, most popular first (a fixed shuffle)."""
    with LEXICON.open(newline="", encoding="utf-8") as f:
        aliases = [row["alias"] for row in csv.DictReader(f)]
    rng = random.Random(7)
    rng.shuffle(aliases)
    return [(alias, rng.randrange(5, 150) * 100) for alias in aliases]


def generate(dsn: str, messages: int) -> None:
    per_channel = max(1, messages // CHANNELS)
    catalog = products()
    with psycopg.connect(dsn) as conn:
        from medical_telegram.warehouse.migrate import migrate

        migrate(conn)
        conn.execute("create temp table bench_products (idx int primary key, alias text, base_price int)")
        conn.cursor().executemany(
            "insert into bench_products values (%s, %s, %s)",
            [(i, alias, price) for i, (alias, price) in enumerate(catalog)],
        )
        conn.execute("create temp table bench_channels (idx int primary key, channel_name text, title text)")
        names = ["lobelia4cosmetics", "tikvahpharma", "chemed123", "yetenaweg", "ethiopianfoodanddrugauthority"]
        names += [f"addis_pharmacy_{i:02d}" for i in range(CHANNELS - len(names))]
        conn.cursor().executemany(
            "insert into bench_channels values (%s, %s, %s)",
            [(i, name, name.replace("_", " ").title()) for i, name in enumerate(names)],
        )
        conn.execute("select setseed(0.42)")
        sizes = "array[" + ",".join(f"'{s}'" for s in SIZES) + "]"
        footer = FOOTER.replace("{channel}", "' || channel_name || E'").replace("{title}", "' || title || E'")
        conn.execute(f"""
            create table public.bench_posts as
            with base as (
                select c.idx as cidx, s.i,
                       random() as r_text, random() as r_img, random() as r_views, random() as r_fwd,
                       random() as r_two, random() as r_price, random() as r_lang, random() as r_size,
                       floor(power(random(), 1.6) * {len(catalog)})::int as pidx,
                       floor(power(random(), 1.6) * {len(catalog)})::int as pidx2,
                       random() as r_jitter
                from bench_channels as c
                cross join generate_series(1, {per_channel}) as s(i)
            ),
            shaped as (
                select b.*, c.channel_name, c.title, p.alias, p2.alias as alias2,
                       (round(p.base_price * (0.9 + 0.2 * b.r_price) / 50) * 50)::int as price,
                       (round(p2.base_price * (0.9 + 0.2 * b.r_price) / 50) * 50)::int as price2,
                       timestamptz '{END_DAY.isoformat()} 00:00+00'
                           - ({per_channel} - b.i)::float8 / {per_channel} * interval '{DAYS} days'
                           + b.r_jitter * interval '6 hours' as posted_at
                from base as b
                join bench_channels as c on c.idx = b.cidx
                join bench_products as p on p.idx = b.pidx
                join bench_products as p2 on p2.idx = b.pidx2
            )
            select channel_name, 100000 + i as message_id, title, posted_at,
                   case when r_text >= 0.08 then alias end as alias, price,
                   case when r_two < 0.15 and r_lang >= 0.2 and r_text >= 0.08 then alias2 end as alias2,
                   case when r_two < 0.15 and r_lang >= 0.2 and r_text >= 0.08 then price2 end as price2,
                   case
                       when r_text < 0.08 then ''
                       when r_lang < 0.2 then alias || E'\\nዋጋ ' || price || E' ብር\\n' || E'{footer}'
                       when r_two < 0.15 then upper(alias) || E'\\nPrice ' || price || E' birr\\n'
                            || upper(alias2) || E'\\nPrice ' || price2 || E' birr\\n' || E'{footer}'
                       else upper(alias) || ({sizes})[1 + floor(r_size * {len(SIZES)})::int]
                            || E'\\nPrice ' || price || E' birr\\n' || E'{footer}'
                   end as message_text,
                   floor(exp(4 + r_views * 3.5))::int as views, floor(power(r_fwd, 6) * 20)::int as forwards,
                   r_img < 0.8 as has_media,
                   case when r_img < 0.8 then 'raw/images/' || channel_name || '/' || (100000 + i) || '.jpg' end
                       as image_path
            from shaped
        """)
        conn.execute("""
            insert into raw.telegram_messages (channel_name, message_id, channel_title, message_date, message_text,
                views, forwards, has_media, media_type, image_path, scraped_at, source, raw, lake_file)
            select channel_name, message_id, title, posted_at, message_text, views, forwards, has_media,
                   case when has_media then 'photo' end, image_path, posted_at + interval '1 day', 'telethon',
                   '{}'::jsonb, 'bench'
            from public.bench_posts
        """)
        conn.execute("""
            insert into raw.image_detections (channel_name, message_id, model_name, detection_index, image_path,
                weights_hash, detected_class, class_id, confidence, image_width, image_height, detected_at, lake_file)
            select channel_name, message_id, 'yolov8n', d.idx, image_path, 'bench',
                   d.cls, d.class_id, 0.5 + random() / 2, 640, 640, scraped_at, 'bench'
            from (select *, random() as r from raw.telegram_messages where has_media) as m
            cross join lateral (
                select 0 as idx,
                       case when m.r < 0.45 then 'bottle' when m.r < 0.6 then 'person' when m.r < 0.7 then 'cup'
                            else null end as cls,
                       case when m.r < 0.45 then 39 when m.r < 0.6 then 0 when m.r < 0.7 then 41 end as class_id
                union all
                select 1, 'person', 0 where m.r < 0.2
            ) as d
        """)
        conn.commit()
        count = conn.execute("select count(*) from raw.telegram_messages").fetchone()[0]
    log(f"generated {count:,} messages in {CHANNELS} channels over {DAYS} days")


# Mentions straight from what the generator wrote (--mentions direct), in fct_product_mentions' shape.
DIRECT_MENTIONS = """
create table marts.fct_product_mentions as
with named as (
    select channel_name, message_id, alias, price from public.bench_posts where alias is not null
    union all
    select channel_name, message_id, alias2, price2 from public.bench_posts where alias2 is not null
)
select distinct on (mention_key) *
from (
    select md5(m.message_key || '-1-' || l.product_name) as mention_key, m.message_key, m.message_id, m.channel_key,
           m.channel_name, m.date_key, m.posted_at, 1 as item_index, md5(l.product_name) as product_key,
           l.product_name, l.product_category, nullif(l.brand, '') as brand, nullif(l.product_type, '') as product_type,
           null::text as dosage_form, false as is_brand_only, null::text as pack_size, null::text as strength,
           null::integer as pack_count, named.price::numeric as price_birr, false as is_price_on_request,
           named.alias as evidence, named.alias as matched_text, 'exact' as match_method, m.source_updated_at
    from named
    join staging.product_lexicon as l on l.alias = named.alias
    join marts.fct_messages as m on m.channel_name = named.channel_name and m.message_id = named.message_id
) as mentions
"""


def build(dsn: str, mentions: str) -> None:
    """dbt seed + run; with mentions="direct", fct_product_mentions is written from the generator's truth
    instead of dbt's regular-expression extraction (which is what takes longest at a million posts)."""
    from medical_telegram.transform.dbt_runner import run_dbt

    target = tempfile.mkdtemp(prefix="bench_api_dbt_")
    common = ["--target-path", target, "--threads", "2"]
    try:
        started = time.monotonic()
        run_dbt(["seed", *common], dsn)
        if mentions == "dbt":
            run_dbt(["run", *common], dsn)
        else:
            run_dbt(["run", "--exclude", "fct_product_mentions+", *common], dsn)
            with psycopg.connect(dsn) as conn:
                conn.execute(DIRECT_MENTIONS)
            run_dbt(["run", "--select", "fct_product_mentions+", "--exclude", "fct_product_mentions", *common], dsn)
        log(f"dbt took {time.monotonic() - started:.0f} s (mentions: {mentions})")
    finally:
        shutil.rmtree(target, ignore_errors=True)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("vacuum analyze")
        counts = conn.execute(
            "select (select count(*) from marts.fct_messages), (select count(*) from marts.fct_product_mentions)"
        ).fetchone()
    log(f"marts: {counts[0]:,} messages, {counts[1]:,} product mentions")


# --- 3. SQL: serving tables against the naive queries on the marts --------------------------------------------

NAIVE_TOP_PRODUCTS = """
select product_name, count(distinct message_key) as mention_count, count(distinct channel_name),
       percentile_cont(0.5) within group (order by price_birr),
       (array_agg(price_birr order by posted_at desc) filter (where price_birr is not null))[1]
from marts.fct_product_mentions group by product_name order by mention_count desc, product_name limit 10
"""
NAIVE_SEARCH = """
select message_id, ts_rank(to_tsvector('simple', message_text), q) as rank,
       ts_headline('simple', message_text, q)
from marts.fct_messages, to_tsquery('simple', 'paracetamol:*') as q
where to_tsvector('simple', message_text) @@ q
order by rank desc, posted_at desc limit 20
"""
NAIVE_VISUAL = """
select m.channel_name, count(*) filter (where m.has_image), d.image_category, avg(m.view_count)
from marts.fct_messages as m
left join (select distinct message_key, image_category from marts.fct_image_detections) as d using (message_key)
group by m.channel_name, d.image_category
"""


def sql_baselines(dsn: str) -> list[dict]:
    from api.queries import reports, search

    served_search = search.SEARCH.format(match=search.MATCH)
    pairs = [
        ("top-products", NAIVE_TOP_PRODUCTS, {}, reports.TOP_PRODUCTS_ALL, {"limit": 10}),
        ("search paracetamol", NAIVE_SEARCH, {},
         served_search, {"tsquery": "paracetamol:*", "limit": 21, "offset": 0, "candidates": 200}),
        ("visual-content", NAIVE_VISUAL, {}, reports.VISUAL_CONTENT, {}),
    ]
    rows = []
    # The API's own session settings (api/db.py), so the served queries get the plans they get there.
    with psycopg.connect(dsn, options="-c random_page_cost=1.1") as conn:
        for name, naive, naive_params, served, served_params in pairs:
            timings = {}
            for label, sql, params in (("naive", naive, naive_params), ("served", served, served_params)):
                runs = []
                for _ in range(3 if label == "naive" else 7):
                    started = time.perf_counter()
                    conn.execute(sql, params).fetchall()
                    runs.append((time.perf_counter() - started) * 1000)
                timings[label] = statistics.median(runs)
            rows.append({"query": name, "naive_ms": round(timings["naive"], 2),
                         "served_ms": round(timings["served"], 2),
                         "ratio": round(timings["naive"] / timings["served"], 1)})
            log(f"SQL {name}: naive {timings['naive']:.1f} ms, served {timings['served']:.2f} ms, "
                f"{timings['naive'] / timings['served']:.0f}x")
    return rows


# --- 4. HTTP load -------------------------------------------------------------------------------------------

def scenarios(dsn: str) -> dict[str, list[str]]:
    with psycopg.connect(dsn) as conn:
        channels = [r[0] for r in conn.execute("select channel_name from marts.dim_channels order by 1")]
    quarter = (END_DAY - timedelta(days=90)).isoformat()
    words = ["paracetamol", "ፓራሲታሞል", "vitamin d3", "omega", "nido", "sunscreen", "ensure", "melatonin",
             "magnesium glycinate", "ዋጋ", "zinc", "cerave"]
    return {
        "GET /api/reports/top-products": ["/api/reports/top-products?limit=10"],
        "GET /api/channels/{name}/activity": [
            f"/api/channels/{c}/activity?granularity={g}" + (f"&since={quarter}" if g == "day" else "")
            for c in channels for g in ("day", "week")
        ],
        "GET /api/search/messages": [f"/api/search/messages?query={quote(w)}&limit=20" for w in words],
        "GET /api/reports/visual-content": ["/api/reports/visual-content"],
        "GET /api/channels": ["/api/channels"],
        "GET /api/health": ["/api/health"],
        "top-products, channel + last 90 days": [
            f"/api/reports/top-products?limit=10&channel={c}&since={quarter}" for c in channels
        ],
        "top-products, every channel, last 60-90 days": [
            f"/api/reports/top-products?limit=10&since={(END_DAY - timedelta(days=d)).isoformat()}"
            for d in range(60, 91)
        ],
        "search, channel filter": [
            f"/api/search/messages?query={quote(w)}&channel={c}" for c, w in zip(channels, words * 5, strict=False)
        ],
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_api(dsn: str, workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "API_DATABASE_URL": dsn, "API_POOL_MAX_SIZE": "8"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers), "--log-level", "warning", "--no-access-log"],
        cwd=REPO, env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}/api/health", timeout=2) as response:
                if response.status == 200:
                    return proc, base
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the API did not start")
        time.sleep(0.3)


LUA = """
local paths = {%s}
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n %% #paths) + 1])
end
"""


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def load(base: str, paths: list[str], duration: int, connections: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA % ", ".join(json.dumps(p) for p in paths))
    try:
        out = subprocess.run(
            ["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration}s", "--latency", "--timeout", "5s",
             "-s", script.name, base], capture_output=True, text=True, check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    latency = dict(re.findall(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+(?:us|ms|s|m))\s*$", out, re.M))
    if "50" not in latency or "99" not in latency:
        raise SystemExit(f"cannot read wrk's output:\n{out}")
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "p50_ms": round(_ms(latency["50"]), 2),
        "p99_ms": round(_ms(latency["99"]), 2),
        "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "errors": errors + (int(non_2xx.group(1)) if non_2xx else 0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--duration", type=int, default=30, help="seconds of load per endpoint")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers (see the module docstring)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--reuse", metavar="DBNAME", help="benchmark an existing scratch database")
    parser.add_argument("--only", help="run only the scenarios whose name contains this")
    parser.add_argument("--mentions", choices=("direct", "dbt"), default="direct",
                        help="product mentions from the generator (fast) or from dbt's extraction (slow at 1M)")
    parser.add_argument("--prepare-only", action="store_true", help="generate and build, keep the database, stop")
    figures.add_arguments(parser, "bench_api")
    args = parser.parse_args()
    if args.small:
        args.messages, args.duration, args.connections = 3_000, 2, 4
    load_before = figures.load_average()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    sys.path.insert(0, str(REPO))

    name = args.reuse or f"bench_api_{int(time.time())}"
    dsn = with_params(admin_dsn(), dbname=name)
    if not args.reuse:
        with psycopg.connect(admin_dsn(), autocommit=True) as conn:
            conn.execute(f'create database "{name}"')
    try:
        if not args.reuse:
            started = time.monotonic()
            generate(dsn, args.messages)
            log(f"generation took {time.monotonic() - started:.0f} s")
            build(dsn, args.mentions)
        if args.prepare_only:
            args.keep = True
            log(f"prepared {name}; benchmark it with --reuse {name}")
            return
        report = {"messages": args.messages, "connections": args.connections, "duration_s": args.duration,
                  "workers": args.workers, "sql": sql_baselines(dsn), "http": {}}
        proc, base = start_api(with_params(dsn, user="medtel_api"), args.workers)
        try:
            for scenario, paths in scenarios(dsn).items():
                if args.only and args.only not in scenario:
                    continue
                load(base, paths, 1 if args.small else 3, args.connections)  # warm-up: pool, statements, caches
                result = load(base, paths, args.duration, args.connections)
                report["http"][scenario] = result
                log(f"{scenario}: p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms, "
                    f"{result['requests_per_s']:.0f} req/s, {result['errors']} errors")
        finally:
            proc.terminate()
            proc.wait(timeout=20)
        print("\n| SQL (median of 3 / 7) | naive on marts, ms | serving table, ms | ratio |\n|---|---|---|---|")
        for r in report["sql"]:
            print(f"| {r['query']} | {r['naive_ms']} | {r['served_ms']} | {r['ratio']}x |")
        health = report["http"].get("GET /api/health")
        if health:  # each endpoint against the server's floor, measured in the same run
            for r in report["http"].values():
                r["p99_to_health"] = round(r["p99_ms"] / health["p99_ms"], 2)
                r["requests_per_s_to_health"] = round(r["requests_per_s"] / health["requests_per_s"], 3)
        print("\n| endpoint | p50 ms | p99 ms | req/s | errors | p99 / health's | req/s / health's |\n"
              "|---|---|---|---|---|---|---|")
        for scenario, r in report["http"].items():
            print(f"| {scenario} | {r['p50_ms']} | {r['p99_ms']} | {r['requests_per_s']:.0f} | {r['errors']} |"
                  f" {r.get('p99_to_health', '')} | {r.get('requests_per_s_to_health', '')} |")
        figures.write(args.results, report, load_before=load_before)
    finally:
        if not args.keep and not args.reuse:
            with psycopg.connect(admin_dsn(), autocommit=True) as conn:
                conn.execute(f'drop database if exists "{name}" with (force)')


if __name__ == "__main__":
    main()
