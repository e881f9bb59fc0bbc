"""A scrape killed mid-run (SIGKILL, in its own process) is continued by the next run: no duplicates, no gaps.

Telegram is the stand-in of telegram_standin.py (its servers are unreachable here); the lake, the state and
the process kill are real.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from medical_telegram.lake import MessageRecord
from medical_telegram.warehouse.loaders.messages import load_messages
from telegram_scraper.cli import main
from tests.images.scraper.telegram_standin import HANG_MARKER, StandinClient, lake_records, sample_channel, sample_posts, state_of

REPO = Path(__file__).resolve().parents[3]
ALL_IDS = [p["message_id"] for p in sample_posts()]


def test_killed_mid_run_the_next_run_continues_with_no_duplicates_and_no_gaps(lake_root, capsys):
    args = ["scrape", "--channels", "lobelia4cosmetics", "--lake", str(lake_root), "--batch-size", "20"]
    process = subprocess.Popen([sys.executable, "-m", "tests.images.scraper.standin_scrape", "55", *args], cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in process.stderr:
            if HANG_MARKER in line:
                break
        process.kill()
    finally:
        process.wait(timeout=60)
        process.stdout.close()
        process.stderr.close()
    assert process.returncode == -9, "the scrape was killed in the middle"
    killed_mark = state_of(lake_root)["last_message_id"]
    stored = [r["message_id"] for r in lake_records(lake_root)]
    assert stored == ALL_IDS[: len(stored)] and 20 <= len(stored) < 60, "only whole batches are durable"
    assert killed_mark == stored[-1]

    client = StandinClient([sample_channel()])
    code = main(args, client_factory=lambda settings: client)

    assert code == 0
    assert ("iter_messages", "lobelia4cosmetics", killed_mark, 0, True, None) in client.calls
    ids = [r["message_id"] for r in lake_records(lake_root)]
    assert ids == ALL_IDS, "every post exactly once"
    # photos fetched before the kill are kept; only the missing ones are downloaded again
    assert set(client.downloads) <= set(ALL_IDS[len(stored):])
    assert all((lake_root / r["image_path"]).stat().st_size > 0 for r in lake_records(lake_root))
    assert not [p for p in lake_root.rglob(".*") if p.is_file()], "no temporary file left behind"


def test_scraped_records_load_into_the_warehouse(lake_root, db):
    assert main(["scrape", "--channels", "lobelia4cosmetics", "--lake", str(lake_root)],
                client_factory=lambda settings: StandinClient([sample_channel()])) == 0
    records = {r["message_id"]: MessageRecord.from_dict(r) for r in lake_records(lake_root)}

    summary = load_messages(db, lake_root)

    assert (summary.total("inserted"), summary.total("quarantined")) == (100, 0)
    rows = db.execute("select message_id, views, forwards, image_path, grouped_id, raw->>'_' "
                      "from raw.telegram_messages where channel_name = 'lobelia4cosmetics' "
                      "order by message_id").fetchall()
    assert [r[0] for r in rows] == ALL_IDS
    for message_id, views, forwards, image_path, grouped_id, raw_type in rows:
        record = records[message_id]
        assert (views, forwards, image_path, grouped_id) == (record.views, record.forwards, record.image_path,
                                                             record.grouped_id)
        assert raw_type == "Message"

    # a refresh that sees more views reaches the warehouse as updates
    channel = sample_channel()
    newest = [m for m in channel.messages if m.id in ALL_IDS[-5:]]
    for message in newest:
        message.views += 500
    assert main(["scrape", "--channels", "lobelia4cosmetics", "--lake", str(lake_root), "--refresh-days", "100000"],
                client_factory=lambda settings: StandinClient([channel])) == 0
    again = load_messages(db, lake_root)
    assert (again.total("inserted"), again.total("updated")) == (0, 5)
    views = dict(db.execute("select message_id, views from raw.telegram_messages").fetchall())
    assert all(views[m.id] == m.views for m in newest)
