"""`medtel`: the project's command line. Each command parses its arguments and calls one function."""

from __future__ import annotations

import argparse
import functools
import json
import logging
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

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


def cmd_up(args) -> dict:
    from medical_telegram.orchestration import service

    return service.up()


def cmd_stop(args) -> dict:
    from medical_telegram.orchestration import service

    return {"stopped": service.stop()}


def cmd_demo(args) -> dict:
    """The main job on the bundled sample: the local service up, full_pipeline through its scheduler."""
    from medical_telegram.orchestration import service

    root = lake.lake_dir()
    log = logging.getLogger("medtel.demo")
    log.info("lake: %s", root)
    seeded = seed_sample_lake(root)
    log.info("sample lake snapshot: %(messages)d posts merged, %(images_copied)d photos copied", seeded)
    dsn = warehouse.warehouse_dsn()
    log.info("warehouse: %s%s", warehouse.redact(dsn), " (embedded)" if warehouse.configured_dsn() is None else "")
    say = functools.partial(print, file=sys.stderr, flush=True)
    if args.load_only:
        with warehouse.connect(dsn) as conn:
            migrate(conn)
            loaded = load_messages(conn, root).as_dict()
    else:
        stack = service.Stack.from_env()
        say("Starting the local service (warehouse, Airflow api-server/scheduler/dag-processor/triggerer, API);"
            " what is already up is reused ...")
        began = time.monotonic()
        up = service.up(stack)
        say(f"  up in {time.monotonic() - began:.0f} s; logs in {up['logs']}")
        outcome = service.run_dag(stack, "full_pipeline")
        log.info("full_pipeline: %s, %d tasks", outcome["state"], len(outcome["tasks"]))
        if outcome["state"] != "success":
            failed = [t for t, state in outcome["tasks"].items() if state not in ("success", "skipped")]
            raise DemoError(f"full_pipeline did not succeed (failed: {', '.join(failed) or '?'}); see the run in"
                            f" {stack.airflow_url}/dags/full_pipeline and the logs in {stack.logs}")
        # The monitor's health and API panels start with a first measurement (both run every few minutes
        # once their schedules are on).
        for check in service.run_dags(stack, ["health_check", "api_service"]):
            log.info("%s: %s", check["dag_id"], check["state"])
        with warehouse.connect(dsn) as conn:
            row = conn.execute("select count(*), coalesce(sum(rows_in), 0), coalesce(sum(quarantined), 0)"
                               " from raw.load_log where target = 'telegram_messages'").fetchone()
        loaded = {"files": row[0], "rows_in": row[1], "quarantined": row[2]}
    with warehouse.connect(dsn) as conn:
        in_warehouse = dict(conn.execute(
            "select channel_name, count(*) from raw.telegram_messages group by 1 order by 1").fetchall())
    inventory = lake_inventory(root)
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
    credentials = up["login"]
    say(f"""
Running in the background (make stop stops it all):
  Airflow UI       {stack.airflow_url}   login {credentials['user']} / {credentials['password']}
                   (the password is kept in {credentials['file']})
  API              {stack.api_url}/docs
  Pipeline monitor {stack.airflow_url}/plugin/pipeline-monitor   (charts: freshness, volumes, quality, API)
  Data Docs        {PROJECT_DIR / 'include/gx/uncommitted/data_docs/local_site/index.html'} (or Browse -> Data Docs)
  Airflow CLI      source scripts/airflow_env.sh && airflow dags list-runs full_pipeline
  logs             {stack.logs}
Every schedule is off: `airflow dags unpause <dag_id>` switches one on (README, "The DAGs").
""")
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
    sub = commands.add_parser("demo", help="the main job on the bundled sample: the local service, full_pipeline through its scheduler")
    sub.add_argument("--load-only", action="store_true", help="only seed the lake and load raw (no Airflow)")
    sub.set_defaults(func=cmd_demo)
    sub = commands.add_parser("up", help="start the local service (warehouse, Airflow, API), reusing what runs")
    sub.set_defaults(func=cmd_up)
    sub = commands.add_parser("stop", help="stop the local service and the embedded warehouse")
    sub.set_defaults(func=cmd_stop)
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
    except RuntimeError as exc:  # the local service's errors (ServiceError) say what to do in one line
        print(f"medtel {args.command}: error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
