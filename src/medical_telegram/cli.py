"""`medtel`: the project's command line. Each command parses its arguments and calls one function."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import psycopg

from medical_telegram import lake, warehouse
from medical_telegram.lake.export_importer import ExportError, import_export
from medical_telegram.warehouse.loaders.messages import load_messages
from medical_telegram.warehouse.migrate import migrate

def _channel_map(values: list[str]) -> dict[int, str]:
    mapping = {}
    for value in values:
        chat_id, _, name = value.partition("=")
        if not chat_id.lstrip("-").isdigit() or not name:
            raise argparse.ArgumentTypeError(f"--channel-map wants CHAT_ID=NAME, got {value!r}")
        mapping[int(chat_id)] = name
    return mapping


def cmd_import_export(args) -> dict:
    summary = import_export(args.export, lake.lake_dir(), args.channel_name, _channel_map(args.channel_map),
                            timezone=args.timezone)
    if summary.quarantined_everything:
        raise ExportError(f"every one of the {summary.total('quarantined')} posts read was quarantined, none"
                          " imported: the lake's quarantine/desktop_export/ holds each post and why")
    return summary.as_dict()


def cmd_load(args) -> dict:
    with warehouse.connect() as conn:
        migrate(conn)
        summary = load_messages(conn, lake.lake_dir())
    summary.check_something_loaded()  # the loader logged its figures; NothingLoaded says why and exits 1
    return summary.as_dict()


def cmd_migrate(args) -> dict:
    with warehouse.connect() as conn:
        return {"applied": migrate(conn)}


def cmd_warehouse(args) -> dict:
    dsn = warehouse.warehouse_dsn()
    return {"dsn": warehouse.redact(dsn), "embedded": warehouse.configured_dsn() is None}


def cmd_up(args) -> dict:
    from medical_telegram.devstack import service

    return service.up()


def cmd_stop(args) -> dict:
    from medical_telegram.devstack import service

    return {"stopped": service.stop()}


def cmd_demo(args) -> dict:
    """The main job on the bundled sample: the local service up, full_pipeline through its scheduler."""
    from medical_telegram.devstack.demo import demo

    return demo(only_load=args.load_only)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="medtel", description="Medical Telegram warehouse: lake and raw layer.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    commands = parser.add_subparsers(dest="command", required=True)

    sub = commands.add_parser("import-export", help="import a Telegram Desktop export (folder or result.json)")
    sub.add_argument("export", type=Path, help="the export folder, or its result.json")
    sub.add_argument("--channel-name", help="lake channel name for a single-chat export (default channel_<id>)")
    sub.add_argument("--channel-map", action="append", default=[], metavar="CHAT_ID=NAME",
                     help="lake channel name for a chat of an account export; repeat for several")
    sub.add_argument("--timezone", metavar="ZONE",
                     help="time zone of an older export's local dates (no date_unixtime): an offset like +03:00"
                          " or an IANA name (default +03:00, Ethiopia's clock)")
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
    except (ExportError, warehouse.WarehouseError, argparse.ArgumentTypeError, OSError) as exc:
        print(f"medtel {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except RuntimeError as exc:  # the local service's errors (ServiceError) say what to do in one line
        print(f"medtel {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except psycopg.OperationalError as exc:  # the server went away: a restart, a crash, a network cut
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"medtel {args.command}: error: the warehouse connection was lost ({first}); what was committed"
              " stays, run the command again to do the rest", file=sys.stderr)
        return 1
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
