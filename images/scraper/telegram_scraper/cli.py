"""The command line: `scrape`, `import-export`, `login`. Each command parses its arguments and calls the library.

Exit codes: 0 all good, 1 something failed (a channel, an import), 2 usage or configuration error.
`scrape` and `import-export` print a one-line JSON summary as the LAST line on stdout (DockerOperator pushes it
to XCom); progress goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson

from medical_telegram import lake
from telegram_scraper import __version__, config, logs
from telegram_scraper.config import ConfigError
from telegram_scraper.scraper import Settings, scrape
from telegram_scraper.summary import ChannelResult, RunSummary

log = logging.getLogger("telegram_scraper")
PROG = "telegram-scraper"
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

ClientFactory = Callable[[Settings], Any]


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _non_negative(kind: type) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        value = kind(text)
        if value < 0:
            raise argparse.ArgumentTypeError(f"must not be negative, got {text}")
        return value
    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Scrape public Telegram channels, or import Telegram Desktop exports, into the data lake "
                    "(DATA_LAKE_DIR). Credentials come from the environment only: TELEGRAM_API_ID, "
                    "TELEGRAM_API_HASH, TELEGRAM_SESSION.",
        epilog="Exit codes: 0 all good, 1 something failed, 2 usage or configuration error.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging (Telethon's too)")
    parser.add_argument("--log-file", type=Path, help="also write the log to this file")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    lake_help = "the data lake's root (default: $DATA_LAKE_DIR, else ./data)"
    sc = commands.add_parser(
        "scrape", help="scrape channels into the lake (incremental)",
        description="Read each channel's messages newer than its high-water mark (state/scraper/<channel>.json "
                    "in the lake) and write them to raw/telegram_messages, photos to raw/images. The last "
                    "stdout line is a JSON summary.")
    sc.add_argument("--channels", metavar="LIST",
                    help="comma-separated usernames or t.me links (default: $TELEGRAM_CHANNELS)")
    sc.add_argument("--lake", type=Path, help=lake_help)
    sc.add_argument("--limit", type=_positive_int, metavar="N",
                    help="at most N new messages per channel this run (an album is never split)")
    sc.add_argument("--refresh-days", type=_non_negative(int), default=0, metavar="N",
                    help="also re-read the last N days of messages to update views, forwards and edits")
    sc.add_argument("--max-flood-wait", type=_non_negative(float), default=300, metavar="SECONDS",
                    help="wait out Telegram's FloodWait up to this long, else give up on that channel "
                         "(default 300)")
    sc.add_argument("--retries", type=_non_negative(int), default=5, metavar="N",
                    help="retries after a network error, with exponential backoff (default 5)")
    sc.add_argument("--backoff", type=_non_negative(float), default=2.0, metavar="SECONDS",
                    help="the first retry's delay; it doubles on each retry (default 2)")
    sc.add_argument("--batch-size", type=_positive_int, default=100, metavar="N",
                    help="messages per durable write and state advance (default 100)")
    sc.add_argument("--no-photos", action="store_true", help="record photos without downloading them")
    sc.add_argument("--download-media", metavar="TYPES", default="",
                    help="other media types to download to raw/media/<channel>/, comma-separated "
                         "(video, document, audio, voice, animation, ...); default none")

    ie = commands.add_parser(
        "import-export", help="import a Telegram Desktop export (result.json) into the lake",
        description="Import a Telegram Desktop export (a folder with result.json, or the file itself) into "
                    "the lake. The last stdout line is a JSON summary.")
    ie.add_argument("export_path", type=Path, metavar="EXPORT", help="export folder or its result.json")
    ie.add_argument("--lake", type=Path, help=lake_help)
    ie.add_argument("--channel", metavar="NAME",
                    help="the channel's username, when the export does not say it (a lower-case name)")
    ie.add_argument("--timezone", metavar="ZONE",
                    help="the time zone of an older export's local dates (no date_unixtime): an offset like"
                         " +03:00 or an IANA name (default +03:00, Ethiopia's clock)")

    commands.add_parser(
        "login", help="create a session string for your Telegram account (interactive)",
        description="Log in with your phone number and the code Telegram sends, then print a session string "
                    "to store as the secret TELEGRAM_SESSION. Needs TELEGRAM_API_ID and TELEGRAM_API_HASH "
                    "(from my.telegram.org), asked for when not set. Run it in a terminal "
                    "(docker run -it ... login).")
    return parser


def main(argv: Sequence[str] | None = None, *, client_factory: ClientFactory | None = None) -> int:
    """Run a command; `client_factory(settings)` replaces Telethon's client (the tests' stand-in)."""
    parser = build_parser()
    args = parser.parse_args(argv)  # exits 2 with a one-line message on bad usage
    logs.setup(args.verbose, args.log_file)
    try:
        if args.command == "scrape":
            return run_scrape(args, client_factory)
        if args.command == "import-export":
            return run_import(args)
        return run_login()
    except ConfigError as error:
        print(f"{PROG}: error: {logs.redact(str(error))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 - one line, never a traceback (Airflow reads the exit code)
        log.debug("unexpected error", exc_info=True)
        print(f"{PROG}: error: {logs.redact(f'{type(error).__name__}: {error}')}", file=sys.stderr)
        return EXIT_FAILED


def _lake_root(arg: Path | None) -> Path:
    return arg.resolve() if arg is not None else lake.lake_dir()


def settings_from(args: argparse.Namespace) -> Settings:
    return Settings(
        lake_root=_lake_root(args.lake),
        channels=config.channels_from(args.channels),
        limit=args.limit,
        refresh_days=args.refresh_days,
        max_flood_wait=args.max_flood_wait,
        retries=args.retries,
        backoff=args.backoff,
        batch_size=args.batch_size,
        download_photos=not args.no_photos,
        download_media=frozenset(t.strip().lower() for t in args.download_media.split(",") if t.strip()),
    )


def run_scrape(args: argparse.Namespace, client_factory: ClientFactory | None) -> int:
    settings = settings_from(args)
    if client_factory is None:
        from telegram_scraper.telegram_client import make_client, parse_session

        credentials = config.Credentials.from_env()
        logs.add_secrets(*credentials.secrets(), str(credentials.api_id))
        parse_session(credentials.session)  # a malformed session is a usage error, before any network

        def client_factory(settings: Settings) -> Any:
            return make_client(credentials, settings)

    log.info("scraping %d channel(s) into %s: %s", len(settings.channels), settings.lake_root,
             ", ".join(settings.channels))
    summary = asyncio.run(_scrape_connected(client_factory, settings))
    print(summary.json_line(), flush=True)
    return EXIT_OK if summary.ok else EXIT_FAILED


async def _scrape_connected(client_factory: ClientFactory, settings: Settings) -> RunSummary:
    from telegram_scraper.scraper import NETWORK_ERRORS, describe
    from telegram_scraper.telegram_client import ensure_authorized

    client = client_factory(settings)  # inside the event loop that will use it
    try:
        await ensure_authorized(client)
    except NETWORK_ERRORS as error:
        # Nothing can be read: every channel failed, and the summary says why.
        reason = f"could not connect to Telegram: {describe(error)}"
        log.error(reason)
        results = [ChannelResult(channel) for channel in settings.channels]
        for result in results:
            result.add_error(reason, fatal=True)
        return RunSummary(results)
    try:
        return await scrape(client, settings)
    finally:
        await client.disconnect()


def run_import(args: argparse.Namespace) -> int:
    from medical_telegram.lake.export_importer import import_export

    root = _lake_root(args.lake)
    channel = config.channel_name(args.channel) if args.channel else None
    if not args.export_path.exists():
        raise ConfigError(f"no such export: {args.export_path}")
    log.info("importing %s into %s", args.export_path, root)
    summary = import_export(args.export_path, root, channel, timezone=args.timezone)
    data = summary.as_dict()
    ok = bool(data.pop("ok", True))
    if not ok:
        log.error("every one of the %d posts read was quarantined, none imported: see the lake's quarantine/"
                  "desktop_export/ for each post and why", data.get("quarantined", 0))
    print(orjson.dumps({"command": "import-export", "ok": ok, **data}).decode(), flush=True)
    return EXIT_OK if ok else EXIT_FAILED


def run_login() -> int:
    if not sys.stdin.isatty():
        raise ConfigError("login is interactive: run it in a terminal (docker run -it IMAGE login)")
    from telethon import TelegramClient
    from telethon.sessions import StringSession

    environ = dict(os.environ)
    if not environ.get(config.API_ID_VAR):
        environ[config.API_ID_VAR] = input("api_id (from my.telegram.org): ").strip()
    if not environ.get(config.API_HASH_VAR):
        environ[config.API_HASH_VAR] = getpass.getpass("api_hash (hidden): ").strip()
    credentials = config.Credentials.from_env(environ, need_session=False)
    logs.add_secrets(credentials.api_hash)

    async def login() -> str:
        client = TelegramClient(StringSession(), credentials.api_id, credentials.api_hash, receive_updates=False)
        await client.start(phone=lambda: input("Phone number (international format, e.g. +2519...): "))
        try:
            return client.session.save()
        finally:
            await client.disconnect()

    session = asyncio.run(login())
    print("\nWARNING: the line below gives FULL access to your Telegram account. Store it only as a secret "
          "(the Airflow connection telegram_api, or TELEGRAM_SESSION in a secret store); never commit, log "
          "or share it. Revoke it any time in Telegram: Settings > Devices. It is shown this once.\n",
          file=sys.stderr, flush=True)
    print(session, flush=True)
    return EXIT_OK
