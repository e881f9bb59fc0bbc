"""Benchmark: lake files → raw.telegram_messages (issue 2). Not a test: it prints figures.

Generates N synthetic message records (default 1,000,000) whose texts are real @lobelia4cosmetics posts with
their product lines and prices varied (so lengths follow the real posts), spread over channel-day files as a
busy scraper would write them, then measures in the same run, each on a fresh database of the same server:

  loader   medical_telegram.loader.load_messages (validate, COPY into a temp table, upsert, load_log)
  insert   row-by-row INSERT of the same records (one statement per row, one commit per file)
  copy     a plain COPY of a ready CSV of the same records into the same table: the ceiling

The loader and COPY run --runs times (median reported); row-by-row INSERT runs once, on --insert-rows records
(default: all) because it is slow. The loader's peak memory is the max RSS of its process.

    .venv/bin/python bench/bench_loader.py [--records 1000000] [--runs 3] [--admin-dsn postgresql://...]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import psycopg

from medical_telegram import lake
from medical_telegram.migrate import migrate

PROJECT = Path(__file__).resolve().parents[1]
COLUMNS = [f for f in lake.RECORD_FIELDS]
PRODUCTS = ["PRENATAL 60 GUMMIES", "ONE A DAY MEN 170 GUMMIES", "Cerave Hydrating Cleanser 473ml",
            "Paracetamol 500mg 100 tablets", "Vitamin C 1000mg", "La Roche-Posay Anthelios SPF50",
            "Omega 3 Fish Oil 120 softgels", "ቫይታሚን ዲ 5000IU", "Nivea Soft 200ml", "Amoxicillin 500mg"]


def sample_texts() -> list[str]:
    texts = []
    for path in sorted((PROJECT / "sample/lake" / lake.MESSAGES_DIR).glob("*/*.json")):
        texts += [r["message_text"] for r in lake.read_messages(path)]
    return texts


def generate(root: Path, records: int, per_file: int, seed: int = 7) -> int:
    rng = random.Random(seed)
    texts = sample_texts()
    channels = [f"pharmacy_{i:02d}" for i in range(40)]
    start = datetime(2024, 1, 1, tzinfo=UTC)
    message_ids = dict.fromkeys(channels, 1000)
    written = files = 0
    day = 0
    while written < records:
        for channel in channels:
            if written >= records:
                break
            batch = []
            for _ in range(min(per_file, records - written)):
                message_ids[channel] += 1
                text = rng.choice(texts)
                first, _, rest = text.partition("\n")
                text = f"{rng.choice(PRODUCTS)} \nPrice {rng.randrange(50, 20000, 50)} birr \n{rest}" if rest else text
                moment = start + timedelta(days=day, seconds=rng.randrange(86400))
                raw = {"_": "Message", "id": message_ids[channel], "peer_id": {"_": "PeerChannel", "channel_id": 1},
                       "date": moment.isoformat(), "message": text, "out": False, "mentioned": False,
                       "post": True, "views": rng.randrange(50, 5000), "forwards": rng.randrange(0, 40),
                       "edit_hide": False, "pinned": False, "noforwards": False, "post_author": None}
                batch.append({
                    "channel_name": channel, "channel_title": channel.replace("_", " ").title(),
                    "message_id": message_ids[channel], "message_date": moment.isoformat(),
                    "message_text": text, "views": raw["views"], "forwards": raw["forwards"],
                    "replies": None, "edit_date": None, "post_author": None, "grouped_id": None,
                    "reply_to_message_id": None, "forwarded_from": None, "has_media": True,
                    "media_type": "photo", "image_path": f"raw/images/{channel}/{message_ids[channel]}.jpg",
                    "scraped_at": (start + timedelta(days=day + 1)).isoformat(), "source": "telethon", "raw": raw,
                })
            path = root / lake.MESSAGES_DIR / (start + timedelta(days=day)).date().isoformat() / f"{channel}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(orjson.dumps(batch))
            written += len(batch)
            files += 1
        day += 1
    return files


def all_records(root: Path):
    for path in sorted((root / lake.MESSAGES_DIR).glob("*/*.json")):
        yield path, orjson.loads(path.read_bytes())


def fresh_database(admin_dsn: str) -> tuple[str, str]:
    name = f"bench_loader_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    dsn = psycopg.conninfo.make_conninfo(admin_dsn, dbname=name)
    with psycopg.connect(dsn) as conn:
        migrate(conn)
    return name, dsn


def drop_database(admin_dsn: str, name: str) -> None:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


def run_loader(dsn: str, root: Path) -> tuple[float, int, int]:
    """The loader in its own process, so its peak memory is its own."""
    code = ("import sys, json, time, resource, psycopg; from pathlib import Path;"
            "from medical_telegram.loader import load_messages;"
            "conn = psycopg.connect(sys.argv[1]); t = time.perf_counter();"
            "s = load_messages(conn, Path(sys.argv[2])); d = time.perf_counter() - t;"
            "print(json.dumps([d, s.total('inserted'), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss]))")
    out = subprocess.run([sys.executable, "-c", code, dsn, str(root)], check=True, capture_output=True, text=True)
    seconds, inserted, maxrss_kb = json.loads(out.stdout.strip().splitlines()[-1])
    return seconds, inserted, maxrss_kb


def run_insert(dsn: str, root: Path, limit: int) -> tuple[float, int]:
    columns = [*COLUMNS, "lake_file"]
    sql = (f"insert into raw.telegram_messages ({', '.join(columns)}) values ({', '.join(['%s'] * len(columns))})"
           " on conflict (channel_name, message_id) do nothing")
    done = 0
    with psycopg.connect(dsn) as conn:
        start = time.perf_counter()
        for path, records in all_records(root):
            relpath = path.relative_to(root).as_posix()
            with conn.transaction():
                for r in records:
                    if done >= limit:
                        break
                    conn.execute(sql, [*(r[c] if c != "raw" else psycopg.types.json.Jsonb(r[c]) for c in COLUMNS),
                                       relpath])
                    done += 1
            if done >= limit:
                break
        return time.perf_counter() - start, done


def write_csv(root: Path, target: Path) -> int:
    rows = 0
    with target.open("w", newline="") as handle:
        writer = csv.writer(handle)
        for path, records in all_records(root):
            relpath = path.relative_to(root).as_posix()
            for r in records:
                writer.writerow([*("" if r[c] is None else (json.dumps(r[c]) if c == "raw" else r[c])
                                   for c in COLUMNS), relpath])
                rows += 1
    return rows


def run_copy(dsn: str, csv_file: Path) -> float:
    columns = ", ".join([*COLUMNS, "lake_file"])
    with psycopg.connect(dsn) as conn:
        start = time.perf_counter()
        with conn.cursor().copy(f"copy raw.telegram_messages ({columns}) from stdin (format csv, force_not_null (message_text))") as copy:
            with csv_file.open("rb") as handle:
                while chunk := handle.read(1 << 20):
                    copy.write(chunk)
        conn.commit()
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--per-file", type=int, default=250, help="records per channel-day file")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--insert-rows", type=int, default=None, help="records for the row-by-row baseline")
    parser.add_argument("--admin-dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    insert_rows = args.insert_rows or args.records

    with tempfile.TemporaryDirectory(prefix="bench_loader_") as tmp:
        root = Path(tmp) / "lake"
        t = time.perf_counter()
        files = generate(root, args.records, args.per_file)
        size = sum(p.stat().st_size for p in root.rglob("*.json"))
        print(f"generated {args.records:,} records in {files:,} files ({size / 1e6:.0f} MB) "
              f"in {time.perf_counter() - t:.0f} s", flush=True)
        csv_file = Path(tmp) / "ready.csv"
        write_csv(root, csv_file)

        loader_times, copy_times, peaks = [], [], []
        for run in range(args.runs):
            name, dsn = fresh_database(args.admin_dsn)
            seconds, inserted, maxrss = run_loader(dsn, root)
            assert inserted == args.records, inserted
            loader_times.append(seconds)
            peaks.append(maxrss)
            drop_database(args.admin_dsn, name)
            name, dsn = fresh_database(args.admin_dsn)
            copy_times.append(run_copy(dsn, csv_file))
            drop_database(args.admin_dsn, name)
            print(f"run {run + 1}: loader {seconds:.1f} s, plain COPY {copy_times[-1]:.1f} s", flush=True)
        name, dsn = fresh_database(args.admin_dsn)
        insert_seconds, inserted = run_insert(dsn, root, insert_rows)
        drop_database(args.admin_dsn, name)
        print(f"row-by-row INSERT: {inserted:,} records in {insert_seconds:.1f} s", flush=True)

    loader_rate = args.records / statistics.median(loader_times)
    copy_rate = args.records / statistics.median(copy_times)
    insert_rate = inserted / insert_seconds
    print()
    print(f"records {args.records:,}, files {files:,}, runs {args.runs} (median; spread "
          f"{min(loader_times):.1f}-{max(loader_times):.1f} s)")
    print(f"loader             {loader_rate:>10,.0f} messages/s")
    print(f"row-by-row INSERT  {insert_rate:>10,.0f} messages/s   loader ratio {loader_rate / insert_rate:5.1f}x "
          "(target >= 20x)")
    print(f"plain COPY of CSV  {copy_rate:>10,.0f} messages/s   loader ratio {loader_rate / copy_rate:5.2f}x "
          "(target >= 0.5x)")
    print(f"loader peak memory {statistics.median(peaks) / 1024:.0f} MiB (max RSS of the loader process)")



if __name__ == "__main__":
    main()
