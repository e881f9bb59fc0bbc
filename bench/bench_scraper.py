"""Benchmark: the scraper's own cost per message (issue 3). Not a test: it prints figures.

Telegram is out of reach here, and in production its network time dominates; this measures what the scraper
adds on top: Telethon Message → lake record, the comparison with the lake, the atomic day-file writes and the
state advance. An in-memory client yields N real `telethon.tl.types.Message` objects (texts of the bundled
@lobelia4cosmetics posts, 200 posts a day, photos recorded but not downloaded: --no-photos), and in the same run:

  scrape    telegram_scraper.scraper.scrape, first run into an empty lake (batches of --batch-size)
  refresh   the same channel re-read with --refresh-days covering everything, nothing changed (compare only)
  baseline  lake.write_messages of the same records, prebuilt, in the same batches: the floor of any writer

Each runs --runs times on a fresh lake; the median is printed with the ratio against the baseline.

    .venv/bin/python bench/bench_scraper.py [--messages 20000] [--runs 3] [--batch-size 100]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from medical_telegram import lake

import figures  # bench/figures.py: run as a script, this folder is on sys.path

try:
    from telethon.tl import types

    from telegram_scraper import records
    from telegram_scraper.scraper import Settings, scrape
except ImportError as missing:  # the scraper package lives in its own environment
    print(f"bench_scraper: skipped, {missing.name} is not installed here (pip install -e images/scraper)")
    sys.exit(0)

PROJECT = Path(__file__).resolve().parents[1]
CHANNEL, CHANNEL_ID = "benchpharmacy", 1000000009
NOW = datetime(2026, 1, 18, 13, 0, tzinfo=UTC)


def sample_texts() -> list[str]:
    texts = []
    for path in sorted((PROJECT / "sample/lake" / lake.MESSAGES_DIR).glob("*/*.json")):
        texts += [r["message_text"] for r in lake.read_messages(path)]
    return texts


def make_messages(count: int) -> list[types.Message]:
    texts = sample_texts()
    start = NOW - timedelta(days=count / 200)
    messages = []
    for i in range(count):
        date = start + timedelta(seconds=i * 432)  # 200 a day
        photo = types.Photo(id=i, access_hash=i, file_reference=b"\x02" * 8, date=date, dc_id=4,
                            sizes=[types.PhotoSize(type="y", w=960, h=1280, size=110_000)])
        messages.append(types.Message(
            id=1000 + i, peer_id=types.PeerChannel(CHANNEL_ID), date=date, message=texts[i % len(texts)],
            post=True, views=100 + i % 900, forwards=i % 7, replies=types.MessageReplies(replies=0, replies_pts=i),
            media=types.MessageMediaPhoto(photo=photo), grouped_id=(i // 4) if i % 10 < 4 else None))
    return messages


class MemoryClient:
    def __init__(self, messages: list[types.Message]) -> None:
        self.messages = messages

    async def get_entity(self, name: str) -> types.Channel:
        return types.Channel(id=CHANNEL_ID, title="Bench Pharmacy", photo=types.ChatPhotoEmpty(), date=NOW,
                             broadcast=True, username=name, access_hash=1)

    async def iter_messages(self, entity, limit=None, *, min_id=0, max_id=0, reverse=False):
        chosen = [m for m in self.messages if m.id > min_id and (not max_id or m.id < max_id)]
        for message in (chosen if reverse else chosen[::-1])[:limit]:
            yield message


def run_scrape(root: Path, messages: list, batch_size: int, refresh_days: int = 0) -> float:
    settings = Settings(lake_root=root, channels=[CHANNEL], batch_size=batch_size, download_photos=False,
                        refresh_days=refresh_days)
    started = time.perf_counter()
    summary = asyncio.run(scrape(MemoryClient(messages), settings, now=lambda: NOW))
    elapsed = time.perf_counter() - started
    assert summary.ok, summary.as_dict()
    return elapsed


def run_baseline(root: Path, messages: list, batch_size: int) -> float:
    built = [records.to_record(m, channel=CHANNEL, channel_title="Bench Pharmacy", image_path=None,
                               scraped_at=lake.utc_now()) for m in messages]
    started = time.perf_counter()
    for i in range(0, len(built), batch_size):
        lake.write_messages(root, built[i:i + batch_size])
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=100)
    figures.add_arguments(parser, "bench_scraper")
    args = parser.parse_args()
    if args.small:
        args.messages, args.runs = 2_000, 1
    load_before = figures.load_average()
    messages = make_messages(args.messages)
    days = args.messages / 200
    times: dict[str, list[float]] = {"scrape": [], "refresh": [], "baseline": []}
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            times["scrape"].append(run_scrape(root, messages, args.batch_size))
            times["refresh"].append(run_scrape(root, messages, args.batch_size, refresh_days=int(days) + 2))
        with tempfile.TemporaryDirectory() as tmp:
            times["baseline"].append(run_baseline(Path(tmp), messages, args.batch_size))
    base = statistics.median(times["baseline"])
    print(f"{args.messages} messages, batches of {args.batch_size}, median of {args.runs} runs")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:9s} {median:7.2f} s  {args.messages / median:9.0f} msg/s  {median / base:5.2f}x baseline")
    figures.write(args.results, {
        "messages": args.messages, "runs": args.runs, "batch_size": args.batch_size,
        "seconds": {name: statistics.median(values) for name, values in times.items()},
        "all_runs": times,
        "messages_per_second": {name: args.messages / statistics.median(values) for name, values in times.items()},
        "to_baseline": {name: statistics.median(values) / base for name, values in times.items()},
    }, load_before=load_before)


if __name__ == "__main__":
    main()
