"""Scraping channels into the lake, driven by the Telegram stand-in (Telegram's servers are unreachable here)."""

from __future__ import annotations

import base64
import shutil
from datetime import timedelta

import pytest
from telethon import errors
from telethon.tl import types

from medical_telegram import lake
from medical_telegram.lake import MessageRecord
from telegram_scraper import state
from telegram_scraper.cli import main
from telegram_scraper.scraper import PHOTO_ATTEMPTS
from tests.images.scraper.telegram_standin import (
    FORWARD_SOURCE_ID,
    FORWARDED_ID,
    REPLY_ID,
    SAMPLE_LAKE,
    SAMPLE_NOW,
    SIGNED_ID,
    Fault,
    StandinClient,
    lake_records,
    other_channel,
    sample_channel,
    sample_posts,
    state_of,
)

POSTS = sample_posts()
FIRST_ID, LAST_ID = POSTS[0]["message_id"], POSTS[-1]["message_id"]
ALL_IDS = [p["message_id"] for p in POSTS]


def test_first_run_writes_every_post_its_photo_and_the_high_water_mark(run_scrape, lake_root):
    client = StandinClient([sample_channel()])

    summary = run_scrape(client)

    result = summary.channels[0]
    assert (result.status, result.messages, result.new, result.images, result.skipped) == ("ok", 100, 100, 100, 1)
    records = lake_records(lake_root)
    assert [r["message_id"] for r in records] == ALL_IDS
    for record, post in zip(records, POSTS, strict=True):
        MessageRecord.from_dict(record)  # valid against the lake contract
        assert record["message_text"] == post["message_text"]
        assert (record["views"], record["forwards"], record["replies"]) == (post["views"], post["forwards"], 0)
        assert record["source"] == "telethon" and record["media_type"] == "photo" and record["has_media"]
        image = lake_root / record["image_path"]
        assert image.read_bytes() == (SAMPLE_LAKE / "raw/images/lobelia4cosmetics" / image.name).read_bytes()
    # the largest-size download, written whole (no temporary file left behind)
    assert sorted(client.downloads) == ALL_IDS
    assert not [p for p in (lake_root / "raw/images").rglob("*") if p.name.startswith(".")]
    # the state says what is durable; the pinned-message service message after the newest post counts
    assert state_of(lake_root)["last_message_id"] == LAST_ID + 1
    assert state_of(lake_root)["channel_id"] == 1000000001


def test_record_keeps_the_traits_of_a_post_and_its_source_json_safe(run_scrape, lake_root):
    run_scrape(StandinClient([sample_channel()]))

    by_id = {r["message_id"]: r for r in lake_records(lake_root)}
    assert by_id[FORWARDED_ID]["forwarded_from"] == f"channel{FORWARD_SOURCE_ID}"
    assert by_id[REPLY_ID]["reply_to_message_id"] == REPLY_ID - 1
    assert by_id[SIGNED_ID]["post_author"] == "Lobelia Pharmacist"
    assert by_id[FIRST_ID]["channel_title"] == "Lobelia pharmacy and cosmetics"
    raw = by_id[FIRST_ID]["raw"]
    assert raw["_"] == "Message" and raw["date"] == POSTS[0]["message_date"]
    reference = raw["media"]["photo"]["file_reference"]
    assert base64.b64decode(reference) == b"\x02" + FIRST_ID.to_bytes(8, "big")


def test_album_members_share_a_grouped_id_and_are_never_split_by_the_limit(run_scrape, lake_root):
    channel = sample_channel()
    albums: dict[int, list[int]] = {}
    for message in channel.messages:
        if getattr(message, "grouped_id", None):
            albums.setdefault(message.grouped_id, []).append(message.id)
    assert albums, "the stand-in has albums"
    # a limit that ends inside the first album of 3 or more posts
    members = next(ids for ids in albums.values() if len(ids) >= 3)
    limit = ALL_IDS.index(members[0]) + 2

    first = run_scrape(StandinClient([channel]), limit=limit).channels[0]

    stored = [r["message_id"] for r in lake_records(lake_root)]
    assert set(members) <= set(stored), "the whole album is kept together"
    assert stored == ALL_IDS[: ALL_IDS.index(members[-1]) + 1]
    assert state_of(lake_root)["last_message_id"] == members[-1] == first.last_message_id
    assert {r["grouped_id"] for r in lake_records(lake_root) if r["message_id"] in members} == {
        channel.message(members[0]).grouped_id}

    second = run_scrape(StandinClient([sample_channel()])).channels[0]
    assert second.new == 100 - len(stored)
    assert [r["message_id"] for r in lake_records(lake_root)] == ALL_IDS


def test_the_limit_counts_over_retries_within_one_run(run_scrape, lake_root, sleeps):
    channel = sample_channel(faults=[Fault(after=30, error=ConnectionResetError("reset"))])

    result = run_scrape(StandinClient([channel]), limit=50, batch_size=20).channels[0]

    stored = [r["message_id"] for r in lake_records(lake_root)]
    assert sleeps == [2.0] and result.status == "ok"
    # 50 posts, plus the rest of an album the 50th post belongs to, and not one more
    assert stored == ALL_IDS[: len(stored)] and 50 <= len(stored) < 60
    last = channel.message(stored[-1])
    following = channel.message(ALL_IDS[len(stored)])
    assert len(stored) == 50 or (last.grouped_id and last.grouped_id != following.grouped_id)
    assert result.new == len(stored) and state_of(lake_root)["last_message_id"] == stored[-1]


def test_incremental_run_reads_only_what_is_newer_than_the_mark(run_scrape, lake_root):
    middle = ALL_IDS[59]
    client = StandinClient([sample_channel(visible_up_to=middle)])
    assert run_scrape(client).channels[0].new == 60

    client = StandinClient([sample_channel()])  # forty more posts since
    result = run_scrape(client).channels[0]

    assert (result.new, result.updated, result.unchanged, result.images) == (40, 0, 0, 40)
    assert ("iter_messages", "lobelia4cosmetics", middle, 0, True, None) in client.calls
    assert sorted(client.downloads) == ALL_IDS[60:]
    assert [r["message_id"] for r in lake_records(lake_root)] == ALL_IDS
    # nothing new: a third run reads nothing and writes nothing
    before = {p: p.read_bytes() for p in (lake_root / lake.MESSAGES_DIR).rglob("*.json")}
    third = run_scrape(StandinClient([sample_channel()])).channels[0]
    assert (third.messages, third.new) == (0, 0)
    assert {p: p.read_bytes() for p in (lake_root / lake.MESSAGES_DIR).rglob("*.json")} == before


def test_refresh_updates_views_forwards_and_an_edited_message(run_scrape, lake_root):
    run_scrape(StandinClient([sample_channel()]))
    channel = sample_channel()
    recent = [m for m in channel.messages if isinstance(m, types.Message)
              and m.date >= SAMPLE_NOW - timedelta(days=1)]
    for message in recent:
        message.views += 1000
        message.forwards = 3
    edited = recent[0]
    edited.message = "PRENATAL 60 GUMMIES\nPrice 4800 birr (new price)"
    edited.edit_date = SAMPLE_NOW
    client = StandinClient([channel])

    result = run_scrape(client, refresh_days=1).channels[0]

    assert (result.status, result.new, result.updated, result.unchanged) == ("ok", 0, len(recent), 0)
    assert result.images == 0, "photos already in the lake are not downloaded again"
    # newest first, below the mark as it was, and stopped at the first message older than the window
    assert ("iter_messages", "lobelia4cosmetics", 0, LAST_ID + 2, False, None) in client.calls
    by_id = {r["message_id"]: r for r in lake_records(lake_root)}
    for message in recent:
        assert by_id[message.id]["views"] == message.views and by_id[message.id]["forwards"] == 3
    assert by_id[edited.id]["message_text"] == edited.message
    assert by_id[edited.id]["edit_date"] == "2026-01-18T13:00:00+00:00"
    older = [p for p in POSTS if p["message_id"] not in {m.id for m in recent}]
    assert all(by_id[p["message_id"]]["views"] == p["views"] for p in older)
    assert state_of(lake_root)["last_message_id"] == LAST_ID + 1


def test_refresh_with_nothing_changed_leaves_the_lake_files_untouched(run_scrape, lake_root):
    run_scrape(StandinClient([sample_channel()]))
    before = {p: p.read_bytes() for p in (lake_root / lake.MESSAGES_DIR).rglob("*.json")}

    result = run_scrape(StandinClient([sample_channel()]), refresh_days=2).channels[0]

    assert result.updated == 0 and result.unchanged > 20
    assert {p: p.read_bytes() for p in (lake_root / lake.MESSAGES_DIR).rglob("*.json")} == before


def test_short_flood_wait_is_waited_out_and_the_run_completes(run_scrape, lake_root, sleeps):
    flood = errors.FloodWaitError(request=None, capture=42)
    client = StandinClient([sample_channel(faults=[Fault(after=40, error=flood)])])

    result = run_scrape(client, max_flood_wait=60).channels[0]

    assert sleeps == [42]
    assert (result.status, result.new, result.flood_wait_s, result.errors) == ("ok", 100, 42, 0)
    assert [r["message_id"] for r in lake_records(lake_root)] == ALL_IDS


def test_long_flood_wait_gives_up_on_that_channel_only(run_scrape, lake_root, sleeps):
    flood = errors.FloodWaitError(request=None, capture=3600)
    client = StandinClient([sample_channel(faults=[Fault(after=40, error=flood)]), other_channel()])

    summary = run_scrape(client, channels=("lobelia4cosmetics", "chemed123"), max_flood_wait=300)

    lobelia, chemed = summary.channels
    assert sleeps == [], "a wait above --max-flood-wait is not slept"
    assert lobelia.status == "failed" and "3600 s" in lobelia.error_messages[0]
    # what was durable before the flood wait stays, and the mark says exactly that much
    stored = [r["message_id"] for r in lake_records(lake_root)]
    assert stored == ALL_IDS[: len(stored)] and 25 <= len(stored) <= 40
    assert state_of(lake_root)["last_message_id"] == stored[-1]
    assert (chemed.status, chemed.new) == ("ok", 30)
    assert not summary.ok and summary.failed == ["lobelia4cosmetics"]


def test_network_errors_are_retried_with_exponential_backoff(run_scrape, lake_root, sleeps):
    faults = [Fault(after=10, error=ConnectionResetError("reset by peer")),
              Fault(after=3, error=TimeoutError()), Fault(after=5, error=OSError("network is unreachable"))]
    client = StandinClient([sample_channel(faults=faults)])

    result = run_scrape(client, backoff=1.5).channels[0]

    assert sleeps == [1.5, 3.0, 6.0]
    assert (result.status, result.new, result.errors) == ("ok", 100, 0)
    assert [r["message_id"] for r in lake_records(lake_root)] == ALL_IDS


def test_network_errors_past_the_retries_fail_the_channel(run_scrape, sleeps):
    faults = [Fault(after=0, error=ConnectionError("down")) for _ in range(4)]
    client = StandinClient([sample_channel(faults=faults), other_channel()])

    summary = run_scrape(client, channels=("lobelia4cosmetics", "chemed123"), retries=3, backoff=1)

    assert sleeps == [1, 2, 4]
    assert summary.channels[0].status == "failed"
    assert "gave up after 3 retries" in summary.channels[0].error_messages[0]
    assert summary.channels[1].status == "ok"


def test_private_and_unknown_channels_are_reported_and_the_others_go_on(run_scrape, lake_root):
    client = StandinClient([sample_channel(), other_channel()], private=("tikvahpharma",), renamed=("oldname",))

    summary = run_scrape(client, channels=("tikvahpharma", "lobelia4cosmetics", "nosuchchannel1", "oldname",
                                           "chemed123"))

    by_name = {r.channel: r for r in summary.channels}
    assert by_name["tikvahpharma"].status == "failed"
    assert "private" in by_name["tikvahpharma"].error_messages[0]
    assert by_name["nosuchchannel1"].status == "failed"
    assert "cannot resolve @nosuchchannel1" in by_name["nosuchchannel1"].error_messages[0]
    assert "renamed or deleted" in by_name["oldname"].error_messages[0]
    assert (by_name["lobelia4cosmetics"].new, by_name["chemed123"].new) == (100, 30)
    assert summary.failed == ["tikvahpharma", "nosuchchannel1", "oldname"]
    assert not (lake_root / "state/scraper/tikvahpharma.json").exists()
    data = summary.as_dict()
    assert data["totals"]["new"] == 130 and data["totals"]["failed_channels"] == 3 and data["ok"] is False


def test_a_username_now_pointing_at_another_channel_is_refused(run_scrape, lake_root):
    run_scrape(StandinClient([other_channel("lobelia4cosmetics")]))

    result = run_scrape(StandinClient([sample_channel()])).channels[0]

    assert result.status == "failed" and "another channel" in result.error_messages[0]
    assert len(lake_records(lake_root)) == 30


def test_crash_after_the_write_before_the_state_resumes_without_duplicates(run_scrape, lake_root, monkeypatch):
    real_save, saves = state.save, []

    def crashing_save(root, channel_state):
        saves.append(channel_state.last_message_id)
        if len(saves) == 2:
            raise KeyboardInterrupt  # the process dies after the second batch is written
        real_save(root, channel_state)

    monkeypatch.setattr(state, "save", crashing_save)
    with pytest.raises(KeyboardInterrupt):
        run_scrape(StandinClient([sample_channel()]))
    monkeypatch.setattr(state, "save", real_save)
    durable_mark = state_of(lake_root)["last_message_id"]
    assert durable_mark == saves[0]
    written = len(lake_records(lake_root))
    assert written > ALL_IDS.index(durable_mark) + 1, "the second batch reached the lake"

    result = run_scrape(StandinClient([sample_channel()])).channels[0]

    ids = [r["message_id"] for r in lake_records(lake_root)]
    assert ids == ALL_IDS, "no duplicates, no gaps"
    assert result.unchanged == written - (ALL_IDS.index(durable_mark) + 1)
    assert result.new == 100 - written


def test_an_unwritable_lake_fails_the_channel_at_once_without_retries(run_scrape, lake_root, sleeps):
    (lake_root / "state").write_text("a file where the state folder should be")

    result = run_scrape(StandinClient([sample_channel()])).channels[0]

    assert result.status == "failed" and "cannot write the lake" in result.error_messages[0]
    assert sleeps == []


def _images_with_a_broken_photo(tmp_path, message_id: int):
    """The sample's photos, one of them a valid JPEG header with garbage after it."""
    images = tmp_path / "images"
    shutil.copytree(SAMPLE_LAKE / "raw/images/lobelia4cosmetics", images)
    real = (images / f"{message_id}.jpg").read_bytes()
    scan = real.index(b"\xff\xda")
    (images / f"{message_id}.jpg").write_bytes(real[:scan + 16] + bytes(range(256)) * 40)
    return images


def test_a_photo_that_does_not_decode_is_quarantined_and_tried_again_next_run(run_scrape, lake_root, tmp_path):
    broken = ALL_IDS[30]
    client = StandinClient([sample_channel()], images_dir=_images_with_a_broken_photo(tmp_path, broken))

    result = run_scrape(client).channels[0]

    assert (result.status, result.new, result.images, result.photos_failed, result.errors) == ("ok", 100, 99, 1, 0)
    by_id = {r["message_id"]: r for r in lake_records(lake_root)}
    assert len(by_id) == 100, "every post is kept"
    assert by_id[broken]["has_media"] and by_id[broken]["image_path"] is None
    assert not (lake_root / "raw/images/lobelia4cosmetics" / f"{broken}.jpg").exists()
    kept = lake_root / "quarantine/raw/images/lobelia4cosmetics" / f"{broken}.jpg"
    assert kept.read_bytes()[:3] == b"\xff\xd8\xff"
    assert "does not decode" in kept.with_name(f"{broken}.jpg.reason.txt").read_text()
    # the mark stays below the post whose photo failed, so the next run reads it again
    assert state_of(lake_root)["last_message_id"] == broken - 1
    assert state_of(lake_root)["failed_photos"] == {str(broken): 1}
    assert not [p for p in lake_root.rglob("*.part")], "no temporary file left behind"

    client = StandinClient([sample_channel()])  # Telegram serves it whole this time
    again = run_scrape(client).channels[0]

    assert client.downloads == [broken], "only the missing photo is downloaded"
    assert (again.images, again.photos_failed, again.updated) == (1, 0, 1)
    record = next(r for r in lake_records(lake_root) if r["message_id"] == broken)
    assert record["image_path"] == f"raw/images/lobelia4cosmetics/{broken}.jpg"
    assert state_of(lake_root)["last_message_id"] == LAST_ID + 1
    assert state_of(lake_root)["failed_photos"] == {}


class PhotoRefused(StandinClient):
    """Telegram refuses one photo (its file reference expired), every time."""

    def __init__(self, *args, refused: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.refused = refused

    async def download_media(self, message, file=None, **kwargs):
        if message.id == self.refused:
            self.downloads.append(message.id)
            raise errors.FileReferenceExpiredError(request=None)
        return await super().download_media(message, file=file, **kwargs)


def test_a_photo_telegram_keeps_refusing_holds_the_mark_for_a_few_runs_only(lake_root, capsys):
    refused = ALL_IDS[50]
    args = ["scrape", "--channels", "lobelia4cosmetics", "--lake", str(lake_root)]
    for run in range(1, PHOTO_ATTEMPTS + 1):
        client = PhotoRefused([sample_channel()], refused=refused)
        assert main(args, client_factory=lambda settings: client) == 0, "a failed photo is not a failed channel"
        assert refused in client.downloads
        held = state_of(lake_root)
        assert held["failed_photos"] == {str(refused): run}
        assert held["last_message_id"] == (refused - 1 if run < PHOTO_ATTEMPTS else LAST_ID + 1)
    summary = capsys.readouterr().out.strip().splitlines()[-1]
    assert '"photos_failed":1' in summary
    assert next(r for r in lake_records(lake_root) if r["message_id"] == refused)["image_path"] is None
