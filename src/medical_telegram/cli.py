"""`medtel`: the project's command line. Each command parses its arguments and calls one function."""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import psycopg

from medical_telegram import lake, warehouse
from medical_telegram.export_importer import ExportError, import_export
from medical_telegram.loader import load_messages
from medical_telegram.migrate import migrate

PROJECT_DIR = Path(__file__).resolve().parents[2]
SAMPLE_DIR = PROJECT_DIR / "sample"
SAMPLE_CHANNEL = "lobelia4cosmetics"


def _channel_map(values: list[str]) -> dict[int, str]:
    mapping = {}
    for value in values:
        chat_id, _, name = value.partition("=")
        if not chat_id.lstrip("-").isdigit() or not name:
            raise argparse.ArgumentTypeError(f"--channel-map wants CHAT_ID=NAME, got {value!r}")
        mapping[int(chat_id)] = name
    return mapping


def cmd_import_export(args) -> dict:
    summary = import_export(args.export, lake.lake_dir(), args.channel_name, _channel_map(args.channel_map))
    return summary.as_dict()


def cmd_load(args) -> dict:
    with warehouse.connect() as conn:
        migrate(conn)
        return load_messages(conn, lake.lake_dir()).as_dict()


def cmd_migrate(args) -> dict:
    with warehouse.connect() as conn:
        return {"applied": migrate(conn)}


def cmd_warehouse(args) -> dict:
    dsn = warehouse.warehouse_dsn()
    return {"dsn": warehouse.redact(dsn), "embedded": warehouse.configured_dsn() is None}


def seed_sample_lake(root: Path) -> dict[str, int]:
    """Merge the bundled lake snapshot into the lake; idempotent, existing newer data wins."""
    source = SAMPLE_DIR / "lake"
    records = [lake.MessageRecord.from_dict(r)
               for path in sorted((source / lake.MESSAGES_DIR).glob("*/*.json")) for r in lake.read_messages(path)]
    lake.write_messages(root, records)
    copied = 0
    for image in sorted((source / lake.IMAGES_DIR).rglob("*.jpg")):
        target = root / image.relative_to(source)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(image, target)
            copied += 1
    return {"messages": len(records), "images_copied": copied}


def lake_inventory(root: Path) -> dict[str, dict[str, int]]:
    messages = Counter(p.stem for p in (root / lake.MESSAGES_DIR).glob("*/*.json")
                       for _ in lake.read_messages(p))
    images = Counter(p.parent.name for p in (root / lake.IMAGES_DIR).glob("*/*.jpg"))
    quarantined = sum(1 for p in (root / lake.QUARANTINE_DIR).rglob("*.reason.txt"))
    inventory = {name: {"messages": messages[name], "images": images[name]} for name in sorted(messages | images)}
    return {"channels": inventory, "quarantined_files": quarantined}


def run_full_pipeline(dsn: str, root: Path, log_file: Path) -> dict:
    """full_pipeline under Airflow (dag.test, runtime local unless configured), its output kept in log_file;
    a line every 20 s says it is still going and what it last did."""
    env = {**os.environ, "DATA_LAKE_DIR": str(root), "AIRFLOW_CONN_WAREHOUSE_DB": dsn}
    env.setdefault("TELEGRAM_EXPORT_PATH", str(SAMPLE_DIR / "desktop_export"))
    env.setdefault("TELEGRAM_EXPORT_CHANNEL", SAMPLE_CHANNEL)
    # The images' virtual environments, unless asked for containers: they run as their own user, which needs
    # a lake it can write (CONTAINER_RUNTIME=docker CONTAINER_USER=uid:gid, see the README).
    env.setdefault("CONTAINER_RUNTIME", "local")
    log_file.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "medical_telegram.orchestration.run_full_pipeline"]
    started = last_report = time.monotonic()
    last_task, outcome = "", {}
    with log_file.open("w") as log, subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                                      stderr=subprocess.STDOUT, text=True, bufsize=1) as proc:
        for line in proc.stdout:
            log.write(line)
            if match := _TASK_IN_LOG.search(line):
                last_task = match.group(1)
            if line.startswith('{"dag_id"'):
                outcome = json.loads(line)
            if time.monotonic() - last_report > 20:
                last_report = time.monotonic()
                print(f"  full_pipeline running, {time.monotonic() - started:4.0f} s"
                      f"{f' (at {last_task})' if last_task else ''}; log: {log_file}", file=sys.stderr)
    if proc.returncode or outcome.get("state") != "success":
        failed = [t for t, state in outcome.get("tasks", {}).items() if state not in ("success", "skipped")]
        raise DemoError(f"full_pipeline did not succeed (failed: {', '.join(failed) or 'see the log'}); "
                        f"log: {log_file}")
    return outcome


_TASK_IN_LOG = re.compile(r"task_id[=:' \"]+([\w.\-\[\]]+)")


class DemoError(RuntimeError):
    pass


def marts_summary(dsn: str) -> dict:
    with warehouse.connect(dsn) as conn:
        counts = {table: conn.execute(f"select count(*) from marts.{table}").fetchone()[0]
                  for table in ("fct_messages", "fct_product_mentions", "fct_image_detections", "dim_channels")}
        top = conn.execute(
            "select product_name, count(*), percentile_cont(0.5) within group (order by price_birr)"
            " from marts.fct_product_mentions group by 1 order by 2 desc, 1 limit 5").fetchall()
    return {"rows": counts, "top_products": [{"product": p, "mentions": n, "median_price_birr": m}
                                             for p, n, m in top]}


def serve_api(dsn: str, port: int) -> None:
    """Serve the API with the read-only role (created by the migrations) until interrupted."""
    parts = psycopg.conninfo.conninfo_to_dict(dsn)
    parts.update(user="medtel_api", password=None)
    env = {**os.environ, "API_DATABASE_URL": psycopg.conninfo.make_conninfo(
        **{k: v for k, v in parts.items() if v is not None})}
    subprocess.run([sys.executable, "-m", "api", "--port", str(port)], env=env, cwd=PROJECT_DIR)


def cmd_demo(args) -> dict:
    """The main job on the bundled sample: the whole pipeline under Airflow, then the API."""
    root = lake.lake_dir()
    log = logging.getLogger("medtel.demo")
    log.info("lake: %s", root)
    seeded = seed_sample_lake(root)
    log.info("sample lake snapshot: %(messages)d posts merged, %(images_copied)d photos copied", seeded)
    dsn = warehouse.warehouse_dsn()
    log.info("warehouse: %s%s", warehouse.redact(dsn), " (embedded)" if warehouse.configured_dsn() is None else "")
    if args.load_only:
        with warehouse.connect(dsn) as conn:
            migrate(conn)
            loaded = load_messages(conn, root).as_dict()
    else:
        log.info("running full_pipeline under Airflow: import the bundled export, load, detect, dbt, checks")
        outcome = run_full_pipeline(dsn, root, PROJECT_DIR / ".airflow" / "full_pipeline.log")
        log.info("full_pipeline: %s, %d tasks", outcome["state"], len(outcome["tasks"]))
        with warehouse.connect(dsn) as conn:
            row = conn.execute("select count(*), coalesce(sum(rows_in), 0), coalesce(sum(quarantined), 0)"
                               " from raw.load_log where target = 'telegram_messages'").fetchone()
        loaded = {"files": row[0], "rows_in": row[1], "quarantined": row[2]}
    with warehouse.connect(dsn) as conn:
        in_warehouse = dict(conn.execute(
            "select channel_name, count(*) from raw.telegram_messages group by 1 order by 1").fetchall())
    inventory = lake_inventory(root)
    say = functools.partial(print, file=sys.stderr)
    say("\nWhat the lake and the warehouse hold now:")
    say(f"  {'channel':<24}{'messages':>10}{'images':>8}{'in raw':>8}")
    for name, counts in inventory["channels"].items():
        say(f"  {name:<24}{counts['messages']:>10}{counts['images']:>8}{in_warehouse.get(name, 0):>8}")
    say(f"  loads so far: {loaded['rows_in']} records read, {loaded['quarantined']} quarantined;"
        f" quarantined files in the lake: {inventory['quarantined_files']}")
    result = {"lake": str(root), "load": loaded, "lake_inventory": inventory}
    if args.load_only:
        return result
    result["marts"] = marts = marts_summary(dsn)
    say("  marts: " + ", ".join(f"{table} {n}" for table, n in marts["rows"].items()))
    say("  top products: " + "; ".join(
        f"{p['product']} ({p['mentions']}x, median {p['median_price_birr'] or '-'} birr)"
        for p in marts["top_products"]))
    say(f"""
Where to look:
  Data Docs        {PROJECT_DIR / 'include/gx/uncommitted/data_docs/local_site/index.html'}
  Airflow UI       source scripts/airflow_env.sh && airflow standalone   (then http://localhost:8080)
  pipeline log     {PROJECT_DIR / '.airflow/full_pipeline.log'}""")
    if args.no_serve:
        return result
    say(f"  API              http://127.0.0.1:{args.port}/docs   (Ctrl-C stops it)\n")
    print(json.dumps(result, ensure_ascii=False), flush=True)
    serve_api(dsn, args.port)
    return result


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="medtel", description="Medical Telegram warehouse: lake and raw layer.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    commands = parser.add_subparsers(dest="command", required=True)

    sub = commands.add_parser("import-export", help="import a Telegram Desktop export (folder or result.json)")
    sub.add_argument("export", type=Path, help="the export folder, or its result.json")
    sub.add_argument("--channel-name", help="lake channel name for a single-chat export (default channel_<id>)")
    sub.add_argument("--channel-map", action="append", default=[], metavar="CHAT_ID=NAME",
                     help="lake channel name for a chat of an account export; repeat for several")
    sub.set_defaults(func=cmd_import_export)

    sub = commands.add_parser("load", help="load the lake's message files into raw.telegram_messages")
    sub.set_defaults(func=cmd_load)
    sub = commands.add_parser("migrate", help="create or update the raw schema")
    sub.set_defaults(func=cmd_migrate)
    sub = commands.add_parser("warehouse", help="show which warehouse is used (starting the embedded one)")
    sub.set_defaults(func=cmd_warehouse)
    sub = commands.add_parser("demo", help="the main job on the bundled sample: full_pipeline, then the API")
    sub.add_argument("--load-only", action="store_true", help="only seed the lake and load raw (no Airflow)")
    sub.add_argument("--no-serve", action="store_true", help="do not serve the API at the end")
    sub.add_argument("--port", type=int, default=8000, help="the API's port (default 8000)")
    sub.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        result = args.func(args)
    except (ExportError, warehouse.WarehouseError, DemoError, argparse.ArgumentTypeError, OSError) as exc:
        print(f"medtel {args.command}: error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
