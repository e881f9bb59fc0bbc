"""A Telethon message → the lake record: media types, link previews, JSON-safe source records."""

from __future__ import annotations

from datetime import UTC, datetime

from telethon.tl import types

from medical_telegram.lake import MessageRecord
from telegram_scraper import records
from tests.images.scraper.telegram_standin import StandinClient, lake_records, sample_channel, video_media

MOMENT = datetime(2026, 1, 18, 12, 0, tzinfo=UTC)


def message(**fields) -> types.Message:
    return types.Message(id=7, peer_id=types.PeerChannel(1), date=MOMENT, message="Amoxicillin 500mg 250 birr",
                         post=True, **fields)


def record_of(msg: types.Message) -> dict:
    record = records.to_record(msg, channel="examplepharmacy", channel_title="Example", image_path=None,
                               scraped_at="2026-01-18T13:00:00+00:00")
    return MessageRecord.from_dict(record.to_dict()).to_dict()


def test_media_types_are_named_from_telethon_media():
    assert records.media_type(None) is None
    assert records.media_type(types.MessageMediaEmpty()) is None
    assert records.media_type(video_media(7, MOMENT)) == "video"
    voice = types.Document(id=1, access_hash=1, file_reference=b"", date=MOMENT, mime_type="audio/ogg", size=1,
                           dc_id=1, attributes=[types.DocumentAttributeAudio(duration=3, voice=True)])
    assert records.media_type(types.MessageMediaDocument(document=voice)) == "voice"
    pdf = types.Document(id=1, access_hash=1, file_reference=b"", date=MOMENT, mime_type="application/pdf",
                         size=1, dc_id=1, attributes=[types.DocumentAttributeFilename("price-list.pdf")])
    assert records.media_type(types.MessageMediaDocument(document=pdf)) == "document"
    assert records.media_type(types.MessageMediaGeo(geo=types.GeoPointEmpty())) == "geo"
    assert records.media_type(types.MessageMediaPhoto()) == "photo_expired"


def test_a_link_preview_is_not_an_attachment():
    preview = types.MessageMediaWebPage(webpage=types.WebPageEmpty(id=3))
    record = record_of(message(media=preview))
    assert (record["has_media"], record["media_type"]) == (False, "webpage")


def test_the_source_record_is_json_safe_and_plain_text_stays_plain():
    entities = [types.MessageEntityBold(offset=0, length=11)]
    record = record_of(message(entities=entities, edit_date=MOMENT, views=12, forwards=1,
                               replies=types.MessageReplies(replies=4, replies_pts=1)))
    assert record["message_text"] == "Amoxicillin 500mg 250 birr", "no Markdown for the bold entity"
    assert (record["views"], record["forwards"], record["replies"]) == (12, 1, 4)
    assert record["edit_date"] == "2026-01-18T12:00:00+00:00"
    assert record["raw"]["entities"] == [{"_": "MessageEntityBold", "offset": 0, "length": 11}]
    nuls = [0]
    safe = records.json_safe({"b": b"\x00\xff", "when": MOMENT, "nul": "a\x00b", "big": 2**70, "t": (1, 2),
                              "k\x00": ["\x00\x00"]}, nuls)
    assert safe == {"b": "AP8=", "when": "2026-01-18T12:00:00+00:00", "nul": "ab", "big": str(2**70),
                    "t": [1, 2], "k": [""]}
    assert nuls == [4], "NULs are dropped (PostgreSQL cannot store them) and counted; bytes stay base64"


def test_nul_characters_are_dropped_from_the_record_and_counted():
    nuls = [0]
    msg = types.Message(id=7, peer_id=types.PeerChannel(1), date=MOMENT, message="Amoxicillin\x00 500mg",
                        post=True, post_author="Dr\x00 A")
    record = records.to_record(msg, channel="examplepharmacy", channel_title="Exa\x00mple", image_path=None,
                               scraped_at="2026-01-18T13:00:00+00:00", nuls=nuls)
    assert (record.message_text, record.post_author, record.channel_title) == (
        "Amoxicillin 500mg", "Dr A", "Example")
    assert record.raw["message"] == "Amoxicillin 500mg"
    assert nuls == [5]
    MessageRecord.from_dict(record.to_dict())  # the lake contract holds


def test_other_media_is_recorded_and_downloaded_only_when_asked(run_scrape, lake_root):
    channel = sample_channel()
    video = channel.messages[3]
    video.media = video_media(video.id, video.date)

    run_scrape(StandinClient([channel]))
    by_id = {r["message_id"]: r for r in lake_records(lake_root)}
    assert (by_id[video.id]["media_type"], by_id[video.id]["has_media"], by_id[video.id]["image_path"]) == (
        "video", True, None)
    assert not (lake_root / "raw" / "media").exists()

    client = StandinClient([channel])
    run_scrape(client, refresh_days=10, download_media=frozenset({"video"}))
    assert (lake_root / "raw" / "media" / "lobelia4cosmetics" / f"{video.id}.mp4").read_bytes().startswith(b"\0")
    assert client.downloads == [video.id]
