"""`medtel`: the project's command line. Each command parses its arguments and calls one function."""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
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


def cmd_demo(args) -> dict:
    """The main job on the bundled sample: lake → warehouse, and what it did, in numbers."""
    root = lake.lake_dir()
    log = logging.getLogger("medtel.demo")
    log.info("lake: %s", root)
    seeded = seed_sample_lake(root)
    log.info("sample lake snapshot: %(messages)d posts merged, %(images_copied)d photos copied", seeded)
    imported = import_export(SAMPLE_DIR / "desktop_export", root, channel_name=SAMPLE_CHANNEL)
    dsn = warehouse.warehouse_dsn()
    log.info("warehouse: %s%s", warehouse.redact(dsn), " (embedded)" if warehouse.configured_dsn() is None else "")
    with warehouse.connect(dsn) as conn:
        migrate(conn)
        loaded = load_messages(conn, root)
        in_warehouse = dict(conn.execute(
            "select channel_name, count(*) from raw.telegram_messages group by 1 order by 1").fetchall())
    inventory = lake_inventory(root)
    print("\nWhat the lake and the warehouse hold now:", file=sys.stderr)
    print(f"  {'channel':<24}{'messages':>10}{'images':>8}{'in raw':>8}", file=sys.stderr)
    for name, counts in inventory["channels"].items():
        print(f"  {name:<24}{counts['messages']:>10}{counts['images']:>8}{in_warehouse.get(name, 0):>8}",
              file=sys.stderr)
    totals = loaded.as_dict()
    print(f"  this run: {totals['rows_in']} records read = {totals['inserted']} inserted + {totals['updated']}"
          f" updated + {totals['unchanged']} unchanged + {totals['quarantined']} quarantined;"
          f" {totals['files_skipped']} files already loaded; quarantined files in the lake:"
          f" {inventory['quarantined_files']}\n", file=sys.stderr)
    return {"lake": str(root), "export": imported.as_dict(), "load": totals, "lake_inventory": inventory}


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
    sub = commands.add_parser("demo", help="the main job on the bundled sample: import, load, report")
    sub.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        result = args.func(args)
    except (ExportError, warehouse.WarehouseError, argparse.ArgumentTypeError, OSError) as exc:
        print(f"medtel {args.command}: error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
