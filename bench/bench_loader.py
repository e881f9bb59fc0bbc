"""Benchmark: lake files → raw.telegram_messages. Not a test: it prints figures.

Generates N synthetic message records (default 200,000) whose texts are real @lobelia4cosmetics posts with
their product lines and prices varied (so lengths follow the real posts), in two lake shapes:

  small   channel-day files of 1 to 31 records (16 on average): what an hourly scrape writes
  large   files of 250 records

and for each shape measures in the same run, each on a fresh database of the same server:

  loader   medical_telegram.warehouse.loaders.messages.load_messages (validate, batched COPY, upsert, a load_log row per file)
  copy     a plain COPY of a ready CSV of the same records into the same table: the ceiling
  insert   row-by-row INSERT of the same records with autocommit (one statement and one commit per row)

The loader and COPY run --runs times (median and spread reported); row-by-row INSERT runs once, on the first
--insert-rows records (default 10,000) because it is slow; its rate is per record. The loader also reports
the second half of the lake (by records) against the first half (a loader whose cost grows with the table
shows it here), its peak memory (max RSS of its process) and its own CPU time per record: the loader's Python
work, which on a busy machine competes with the server's for the same cores.

    .venv/bin/python bench/bench_loader.py [--records 200000] [--runs 3] [--shapes small,large]
                                           [--admin-dsn postgresql://...]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import shutil
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
from medical_telegram.warehouse.migrate import migrate

import figures  # bench/figures.py: run as a script, this folder is on sys.path

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


def generate(root: Path, records: int, per_file: int | None, seed: int = 7) -> int:
    """Write `records` records into channel-day files of `per_file` records (None: 1 to 31, as hourly
    scrapes write them); returns the number of files."""
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
            size = per_file if per_file is not None else rng.randint(1, 31)
            for _ in range(min(size, records - written)):
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


def run_loader(dsn: str, root: Path, records: int) -> dict:
    """The loader in its own process, so its peak memory is its own; also when half the records were in."""
    code = f"""
import json, resource, sys, time
from pathlib import Path
import psycopg
from medical_telegram.warehouse.loaders.messages import load_messages

half, done, t_half = {records} / 2, 0, None
def progress(number, total, result):
    global done, t_half
    done += result.rows_in
    if t_half is None and done >= half:
        t_half = time.perf_counter()
conn = psycopg.connect(sys.argv[1])
start = resource.getrusage(resource.RUSAGE_SELF)
cpu0 = start.ru_utime + start.ru_stime
t = time.perf_counter()
s = load_messages(conn, Path(sys.argv[2]), progress=progress)
end = time.perf_counter()
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps(dict(seconds=end - t, first=t_half - t, second=end - t_half, inserted=s.total("inserted"),
                      batches=s.batches, maxrss_kb=usage.ru_maxrss, cpu=usage.ru_utime + usage.ru_stime - cpu0)))
"""
    out = subprocess.run([sys.executable, "-c", code, dsn, str(root)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_insert(dsn: str, root: Path, limit: int) -> tuple[float, int]:
    """Row by row with autocommit: one INSERT statement and one commit per record."""
    columns = [*COLUMNS, "lake_file"]
    sql = (f"insert into raw.telegram_messages ({', '.join(columns)}) values ({', '.join(['%s'] * len(columns))})"
           " on conflict (channel_name, message_id) do nothing")
    done = 0
    with psycopg.connect(dsn, autocommit=True) as conn:
        start = time.perf_counter()
        for path, records in all_records(root):
            relpath = path.relative_to(root).as_posix()
            for r in records:
                if done >= limit:
                    return time.perf_counter() - start, done
                conn.execute(sql, [*(r[c] if c != "raw" else psycopg.types.json.Jsonb(r[c]) for c in COLUMNS),
                                   relpath])
                done += 1
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


SHAPES = {"small": None, "large": 250}


def spread(values: list[float]) -> str:
    return f"{min(values):.1f}-{max(values):.1f}"


def bench_shape(args, shape: str, tmp: Path) -> dict:
    root = tmp / shape / "lake"
    t = time.perf_counter()
    files = generate(root, args.records, SHAPES[shape])
    size = sum(p.stat().st_size for p in root.rglob("*.json"))
    print(f"[{shape}] generated {args.records:,} records in {files:,} files ({args.records / files:.1f} records a"
          f" file, {size / 1e6:.0f} MB) in {time.perf_counter() - t:.0f} s", flush=True)
    csv_file = tmp / shape / "ready.csv"
    write_csv(root, csv_file)

    loads, copy_times = [], []
    for run in range(args.runs):
        name, dsn = fresh_database(args.admin_dsn)
        load = run_loader(dsn, root, args.records)
        drop_database(args.admin_dsn, name)
        assert load["inserted"] == args.records, load
        loads.append(load)
        name, dsn = fresh_database(args.admin_dsn)
        copy_times.append(run_copy(dsn, csv_file))
        drop_database(args.admin_dsn, name)
        print(f"[{shape}] run {run + 1}: loader {load['seconds']:.1f} s ({load['batches']} batches; first half"
              f" {load['first']:.1f} s, second half {load['second']:.1f} s), plain COPY {copy_times[-1]:.1f} s",
              flush=True)
    name, dsn = fresh_database(args.admin_dsn)
    insert_seconds, inserted = run_insert(dsn, root, min(args.insert_rows, args.records))
    drop_database(args.admin_dsn, name)
    print(f"[{shape}] row-by-row autocommit INSERT: {inserted:,} records in {insert_seconds:.1f} s", flush=True)
    shutil.rmtree(tmp / shape)
    seconds = [x["seconds"] for x in loads]
    return {
        "shape": shape, "files": files, "seconds": seconds, "copy_seconds": copy_times,
        "loader_rate": args.records / statistics.median(seconds),
        "copy_rate": args.records / statistics.median(copy_times),
        "insert_rate": inserted / insert_seconds, "insert_rows": inserted,
        "halves": statistics.median(x["second"] / x["first"] for x in loads),
        "halves_spread": [x["second"] / x["first"] for x in loads],
        "peak_mib": max(x["maxrss_kb"] for x in loads) / 1024,
        "cpu_us": statistics.median(x["cpu"] for x in loads) / args.records * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--shapes", default="small,large", help="small (1-31 records a file), large (250)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--insert-rows", type=int, default=10_000, help="records for the row-by-row baseline")
    parser.add_argument("--admin-dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    figures.add_arguments(parser, "bench_loader")
    args = parser.parse_args()
    if args.small:
        args.records, args.runs, args.insert_rows = 3_000, 1, 300
    shapes = [s.strip() for s in args.shapes.split(",") if s.strip()]
    unknown = set(shapes) - SHAPES.keys()
    if unknown:
        parser.error(f"unknown shape(s): {', '.join(sorted(unknown))}")

    load_before = figures.load_average()
    with tempfile.TemporaryDirectory(prefix="bench_loader_") as tmp:
        results = [bench_shape(args, shape, Path(tmp)) for shape in shapes]

    targets = {"small": 0.5, "large": 0.6}
    print()
    print(f"records {args.records:,} per shape, {args.runs} runs (median; spread min-max)")
    for r in results:
        print(f"{r['shape']} files ({args.records / r['files']:.1f} records a file, {r['files']:,} files)")
        print(f"  loader             {r['loader_rate']:>10,.0f} messages/s   {spread(r['seconds'])} s")
        print(f"  plain COPY of CSV  {r['copy_rate']:>10,.0f} messages/s   {spread(r['copy_seconds'])} s"
              f"   loader ratio {r['loader_rate'] / r['copy_rate']:5.2f}x (target >= {targets[r['shape']]}x)")
        print(f"  row-by-row INSERT  {r['insert_rate']:>10,.0f} messages/s   ({r['insert_rows']:,} records,"
              f" autocommit)   loader ratio {r['loader_rate'] / r['insert_rate']:5.1f}x"
              f"{' (target >= 20x)' if r['shape'] == 'small' else ''}")
        print(f"  second half / first half of the lake  {r['halves']:.2f}x"
              f" (runs {', '.join(f'{h:.2f}' for h in r['halves_spread'])}; target <= 1.2x)")
        print(f"  loader peak memory {r['peak_mib']:.0f} MiB (max RSS of the loader process); its own CPU"
              f" {r['cpu_us']:.0f} us a record (the server's work not included)")

    for r in results:
        r["loader_to_copy"] = r["loader_rate"] / r["copy_rate"]
        r["loader_to_insert"] = r["loader_rate"] / r["insert_rate"]
    figures.write(args.results, {"records": args.records, "runs": args.runs, "shapes": results},
                  load_before=load_before)


if __name__ == "__main__":
    main()
