import json
import os
import shutil
from pathlib import Path

import orjson
import pytest

from medical_telegram import lake
from medical_telegram.lake.export_importer import ExportError, import_export
from medical_telegram.lake.export_messages import flatten_text
from medical_telegram.warehouse.loaders.messages import load_messages

SAMPLE_EXPORT = Path(__file__).resolve().parents[3] / "sample" / "desktop_export"


@pytest.fixture
def export_dir(tmp_path) -> Path:
    target = tmp_path / "export"
    shutil.copytree(SAMPLE_EXPORT, target)
    return target


def lake_records(root: Path) -> dict[int, dict]:
    return {r["message_id"]: r for path in (root / lake.MESSAGES_DIR).glob("*/*.json") for r in lake.read_messages(path)}


def test_sample_export_imports_every_post_and_skips_service_messages(export_dir, lake_root):
    summary = import_export(export_dir, lake_root, channel_name="lobelia4cosmetics").as_dict()
    assert summary["messages_in"] == 102
    assert summary["imported"] == 100 and summary["service_skipped"] == 2 and summary["quarantined"] == 0
    assert summary["photos_copied"] == 20 and summary["photos_not_included"] == 80
    records = lake_records(lake_root)
    assert len(records) == 100
    post = records[22946]
    assert post["message_text"].startswith("PRENATAL 60 GUMMIES \nPrice 5000 birr \nTelegram :-@Lobeliacosmetics")
    # date_unixtime is the instant; the export's `date` is the exporter's local clock (UTC+3 here).
    assert post["message_date"] == "2026-01-18T12:58:53+00:00"
    assert post["source"] == "desktop_export" and post["views"] is None
    assert post["image_path"] == "raw/images/lobelia4cosmetics/22946.jpg"
    assert (lake_root / post["image_path"]).read_bytes()[:3] == b"\xff\xd8\xff"
    not_included = records[22847]
    assert not_included["has_media"] and not_included["media_type"] == "photo"
    assert not_included["image_path"] is None


def test_channel_name_defaults_to_the_chat_id_and_title_is_kept(export_dir, lake_root):
    summary = import_export(export_dir, lake_root)
    assert [c.channel_name for c in summary.channels] == ["channel_1000000001"]
    record = next(iter(lake_records(lake_root).values()))
    assert record["channel_title"] == "Lobelia pharmacy and cosmetics"


def test_reimport_changes_nothing(export_dir, lake_root):
    import_export(export_dir, lake_root, channel_name="lobelia4cosmetics")
    files = {p: p.read_bytes() for p in lake_root.rglob("*") if p.is_file()}
    mtimes = {p: p.stat().st_mtime_ns for p in files}
    import_export(export_dir, lake_root, channel_name="lobelia4cosmetics")
    assert {p: p.read_bytes() for p in lake_root.rglob("*") if p.is_file()} == files
    assert {p: p.stat().st_mtime_ns for p in files} == mtimes


def test_import_over_a_scrape_keeps_its_views_and_loads(export_dir, lake_root, db):
    shutil.copytree(SAMPLE_EXPORT.parent / "lake", lake_root, dirs_exist_ok=True)
    import_export(export_dir, lake_root, channel_name="lobelia4cosmetics")
    assert lake_records(lake_root)[22946]["views"] == 167
    summary = load_messages(db, lake_root).as_dict()
    assert summary["inserted"] == 100 and summary["quarantined"] == 0
    assert db.execute("select views from raw.telegram_messages where message_id = 22946").fetchone() == (167,)


def test_account_export_imports_channels_only(tmp_path, lake_root):
    chat = json.loads((SAMPLE_EXPORT / "result.json").read_text())
    for message in chat["messages"]:
        message.pop("photo", None)
    friend = {"name": "A friend", "type": "personal_chat", "id": 42,
              "messages": [{"id": 1, "type": "message", "date_unixtime": "1768395919", "text": "private"}]}
    account = {"about": "...", "personal_information": {"first_name": "Me"},
               "chats": {"about": "...", "list": [friend, chat]}, "left_chats": {"list": []}}
    (tmp_path / "account").mkdir()
    (tmp_path / "account" / "result.json").write_text(json.dumps(account))
    summary = import_export(tmp_path / "account", lake_root, channel_map={1000000001: "lobelia4cosmetics"})
    assert summary.chats_skipped == 1
    assert [c.channel_name for c in summary.channels] == ["lobelia4cosmetics"]
    assert len(lake_records(lake_root)) == 100


def test_flatten_text_joins_strings_and_entities():
    assert flatten_text(["Paracetamol 500mg ", {"type": "bold", "text": "Price 120 birr"}, " call ",
                         {"type": "phone", "text": "0911000000"}]) == "Paracetamol 500mg Price 120 birr call 0911000000"
    assert flatten_text("ቫይታሚን ሲ 1000mg ዋጋ 850 ብር") == "ቫይታሚን ሲ 1000mg ዋጋ 850 ብር"


def _write(path: Path, export: dict) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "result.json").write_bytes(orjson.dumps(export))
    return path


def _message(message_id: int, **extra) -> dict:
    return {"id": message_id, "type": "message", "date": "2026-01-10T12:05:00", "date_unixtime": "1768035900",
            "text": f"post {message_id}", **extra}


def test_bad_messages_are_quarantined_and_the_rest_imported(tmp_path, lake_root):
    export = {"name": "Example Pharmacy", "type": "public_channel", "id": 1234567890, "messages": [
        _message(1),
        _message(2, date_unixtime="yesterday"),
        {"type": "message", "date_unixtime": "1768035900", "text": "no id"},
        _message(4, text=[{"type": "bold", "text": "PRENATAL\x00 60"}, " Price 5000\x00 birr"]),
        _message(5, text=[{"type": "bold"}]),
        _message(6),
        _message(6, text="duplicate"),
        _message(7, edited="2026-01-11T13:00:00", edited_unixtime="1768125600", author="Dr. A"),
        _message(8, date_unixtime="\u00b2"),  # a digit to str.isdigit(), not to int()
        _message(9, date_unixtime="99999999999999999999"),
        _message(10, date_unixtime="1.7e9"),
    ]}
    summary = import_export(_write(tmp_path / "export", export), lake_root, channel_name="example_pharmacy")
    totals = summary.as_dict()
    assert totals["messages_in"] == 11 == totals["imported"] + totals["quarantined"]
    assert totals["imported"] == 4 and totals["quarantined"] == 7 and totals["nul_stripped"] == 2
    records = lake_records(lake_root)
    assert sorted(records) == [1, 4, 6, 7]
    assert records[4]["message_text"] == "PRENATAL 60 Price 5000 birr"
    assert "\x00" not in json.dumps(records[4]["raw"]) and "\\u0000" not in json.dumps(records[4]["raw"])
    assert records[6]["message_text"] == "post 6"
    assert records[7]["edit_date"] == "2026-01-11T10:00:00+00:00" and records[7]["post_author"] == "Dr. A"
    rejected = orjson.loads((lake_root / "quarantine/desktop_export/example_pharmacy/export.rejected.json").read_bytes())
    reasons = " | ".join(r["reason"] for r in rejected)
    for expected in ("date_unixtime must be a string of epoch seconds", "id must be an integer",
                     "without text", "duplicate id 6"):
        assert expected in reasons
    assert sum("date_unixtime" in r["reason"] for r in rejected) == 4


def test_missing_and_broken_photos_are_quarantined_and_the_message_kept(tmp_path, lake_root, db):
    export_dir = tmp_path / "export"
    (export_dir / "photos").mkdir(parents=True)
    (export_dir / "photos" / "fake.jpg").write_text("this is not a picture")
    real = (SAMPLE_EXPORT / "photos").glob("*.jpg").__next__().read_bytes()
    scan = real.index(b"\xff\xda")  # the start of the compressed image data
    (export_dir / "photos" / "garbage.jpg").write_bytes(real[:scan + 16] + bytes(range(256)) * 40)
    (export_dir / "photos" / "cut.jpg").write_bytes(real[: len(real) // 2])
    (export_dir / "photos" / "good.jpg").write_bytes(real)
    export = {"name": "Example Pharmacy", "type": "public_channel", "id": 1234567890, "messages": [
        _message(1, photo="photos/gone.jpg"), _message(2, photo="photos/fake.jpg"),
        _message(3, photo="../../etc/passwd"), _message(4, photo="photos/garbage.jpg"),
        _message(5, photo="photos/cut.jpg"), _message(6, photo="photos/go\x00od.jpg"),
        _message(7, photo="photos/" + "x" * 300 + ".jpg"), _message(8, photo="photos/good.jpg")]}
    summary = import_export(_write(export_dir, export), lake_root, channel_name="example_pharmacy")
    totals = summary.as_dict()
    assert (totals["photos_quarantined"], totals["photos_copied"], totals["imported"]) == (7, 1, 8)
    records = lake_records(lake_root)
    assert all(r["has_media"] and r["image_path"] is None for i, r in records.items() if i != 8)
    assert records[8]["image_path"] == "raw/images/example_pharmacy/8.jpg"
    notes = lake_root / "quarantine/desktop_export/example_pharmacy"
    assert "is missing" in (notes / "1.photo.reason.txt").read_text()
    assert (notes / "2.photo").read_text() == "this is not a picture"
    assert "not a usable JPEG" in (notes / "2.photo.reason.txt").read_text()
    assert "does not decode" in (notes / "4.photo.reason.txt").read_text()
    assert (notes / "4.photo").read_bytes()[:3] == b"\xff\xd8\xff", "a valid header is not enough"
    assert "does not decode" in (notes / "5.photo.reason.txt").read_text()
    assert "NUL character" in (notes / "6.photo.reason.txt").read_text()
    assert "cannot be opened" in (notes / "7.photo.reason.txt").read_text()
    assert [p.name for p in (lake_root / lake.IMAGES_DIR).rglob("*")] == ["example_pharmacy", "8.jpg"]
    # every post reaches the warehouse, the broken photos' posts with a null image_path
    loaded = load_messages(db, lake_root).as_dict()
    assert (loaded["inserted"], loaded["quarantined"]) == (8, 0)
    assert db.execute("select count(*) from raw.telegram_messages where image_path is null").fetchone() == (7,)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"name": "x", "type": "public_channel", "messa', "not valid JSON"),
        (b"[1, 2]", "expected a JSON object"),
        (b'{"name": "x"}', "neither a chat export"),
    ],
)
def test_unreadable_export_is_a_clear_error_and_kept_in_quarantine(tmp_path, lake_root, content, message):
    export_dir = tmp_path / "broken"
    export_dir.mkdir()
    (export_dir / "result.json").write_bytes(content)
    with pytest.raises(ExportError, match=message) as error:
        import_export(export_dir, lake_root)
    assert "result.json" in str(error.value)
    assert (lake_root / "quarantine/desktop_export/broken/result.json").read_bytes() == content
    assert not (lake_root / lake.MESSAGES_DIR).exists()


def test_missing_export_is_a_clear_error(tmp_path, lake_root):
    with pytest.raises(ExportError, match="no such export"):
        import_export(tmp_path / "nowhere", lake_root)


def test_scraped_at_is_the_messages_own_newest_instant_not_the_file_time(export_dir, lake_root):
    os.utime(export_dir / "result.json", (1768500000, 1768500000))
    import_export(export_dir, lake_root, channel_name="lobelia4cosmetics")
    record = lake_records(lake_root)[22946]
    assert record["scraped_at"] == max(filter(None, (record["edit_date"], record["message_date"])))
    assert record["scraped_at"] != "2026-01-15T18:00:00+00:00"


OLDER_EXPORT = {  # the shape older Telegram Desktop versions write: no *_unixtime, from_id a number
    "name": "Older Pharmacy", "type": "public_channel", "id": 1000000007,
    "messages": [
        {"id": 1, "type": "message", "date": "2021-03-04T09:05:00", "from": "Older Pharmacy",
         "from_id": 1000000007, "text": ["Amoxicillin 500mg ", {"type": "bold", "text": "120 birr"}]},
        {"id": 2, "type": "message", "date": "2021-03-04T10:00:00", "edited": "2021-03-05T08:00:00",
         "from": "Older Pharmacy", "from_id": 1000000007, "text": "Paracetamol 50 birr"},
    ],
}


def test_an_older_export_without_epoch_seconds_imports_whole_with_its_inferred_instants(tmp_path, lake_root):
    summary = import_export(_write(tmp_path / "export", OLDER_EXPORT), lake_root, channel_name="older_pharmacy")
    assert (summary.total("messages_in"), summary.total("imported"), summary.total("quarantined")) == (2, 2, 0)
    records = lake_records(lake_root)
    assert records[1]["message_date"] == "2021-03-04T06:05:00+00:00", "read on Ethiopia's clock, +03:00"
    assert records[1]["message_text"] == "Amoxicillin 500mg 120 birr"
    assert records[2]["edit_date"] == "2021-03-05T05:00:00+00:00"
    assert records[2]["scraped_at"] == records[2]["edit_date"], "an edit orders by the export's own instants"
    assert records[2]["raw"]["medtel_instant_from_local_clock"] == {"fields": ["date", "edited"],
                                                                    "timezone": "+03:00"}
    again = import_export(tmp_path / "export", lake_root, channel_name="older_pharmacy", timezone="UTC")
    assert again.total("imported") == 2
    assert lake_records(lake_root)[1]["raw"]["medtel_instant_from_local_clock"]["timezone"] == "UTC"


def test_a_re_export_with_an_older_file_time_keeps_its_edits(export_dir, lake_root):
    first = json.loads((export_dir / "result.json").read_text())
    import_export(export_dir, lake_root, channel_name="lobelia4cosmetics")
    message = next(m for m in first["messages"] if m.get("type") == "message")
    message["text"], message["edited_unixtime"] = "edited text", str(int(message["date_unixtime"]) + 3600)
    (export_dir / "result.json").write_text(json.dumps(first))
    os.utime(export_dir / "result.json", (1000000000, 1000000000))  # copied: a file time long before
    import_export(export_dir, lake_root, channel_name="lobelia4cosmetics")
    assert lake_records(lake_root)[message["id"]]["message_text"] == "edited text"


def test_an_import_whose_every_post_is_quarantined_is_not_ok(tmp_path, lake_root):
    broken = {**OLDER_EXPORT, "messages": [{"id": 1, "type": "message", "text": "no date at all"}]}
    summary = import_export(_write(tmp_path / "export", broken), lake_root, channel_name="older_pharmacy")
    assert summary.quarantined_everything and summary.as_dict()["ok"] is False
    with pytest.raises(ExportError, match="unknown time zone 'Mars/Olympus'"):
        import_export(tmp_path / "export", lake_root, timezone="Mars/Olympus")
