"""The lake record and its files: validation, the merge of a message seen again, idempotent writes, quarantine."""

from __future__ import annotations

import pytest

from medical_telegram import lake


def record(**fields) -> dict:
    return {"channel_name": "tikvahpharma", "message_id": 7, "message_date": "2025-06-18T05:32:44+00:00",
            "scraped_at": "2025-06-18T06:00:00+00:00", "source": "telethon", "message_text": "Amoxicillin 💵75",
            "views": 10, "raw": {"id": 7}, **fields}


def test_a_record_is_validated_and_normalised():
    parsed = lake.MessageRecord.from_dict(record(channel_name="TikvahPharma", message_date="2025-06-18T08:32:44+03:00"))
    assert parsed.channel_name == "tikvahpharma"  # Telegram usernames ignore case
    assert parsed.message_date == "2025-06-18T05:32:44+00:00"  # one canonical UTC instant
    assert parsed.to_dict()["message_text"] == "Amoxicillin 💵75"


@pytest.mark.parametrize(("fields", "error"), [
    ({"message_id": None}, "missing required field(s): message_id"),
    ({"views": -1}, "views"),
    ({"channel_name": "no spaces allowed"}, "channel_name"),
    ({"image_path": "/etc/passwd"}, "relative to the lake"),
    ({"colour": "red"}, "unknown field(s): colour"),
])
def test_a_bad_record_is_refused_naming_the_field(fields, error):
    with pytest.raises(lake.RecordError, match=error.replace("(", r"\(").replace(")", r"\)")):
        lake.MessageRecord.from_dict(record(**fields))


def test_what_another_lake_leaves_unsaid_is_recorded_as_unknown():
    foreign = {"channel_name": "EAHCI", "message_id": 3085, "message_date": "2023-02-01T10:00:00+00:00",
               "scraped_at": "2024-05-01T12:00:00", "image_path": "data\\raw\\images\\EAHCI\\3085.jpg"}
    parsed = lake.MessageRecord.from_dict(foreign)
    assert (parsed.channel_name, parsed.scraped_at, parsed.source) == ("eahci", None, None)
    assert parsed.image_path == "raw/images/EAHCI/3085.jpg"
    assert parsed.raw == foreign  # the record as it came
    assert lake.MessageRecord.from_dict({**foreign, "image_path": "C:\\Users\\me\\3085.jpg"}).image_path is None


def test_the_later_scrape_wins_but_keeps_what_it_does_not_know():
    earlier = record(views=10)
    later = record(scraped_at="2025-06-19T06:00:00+00:00", source="desktop_export", views=None, message_text="edited")
    assert lake.merge_record(earlier, later) == {**later, "views": 10}
    assert lake.merge_record(later, earlier) == later  # an older scrape never overwrites a newer one
    unknown = record(scraped_at=None)
    assert lake.merge_record(earlier, unknown) == earlier  # an unknown scrape orders before every known one


def test_writing_the_same_records_twice_leaves_the_files_untouched(tmp_path):
    records = [lake.MessageRecord.from_dict(record(message_id=i)) for i in (3, 1, 2)]
    written = lake.write_messages(tmp_path, records)
    (path,) = written
    assert path == tmp_path / lake.MESSAGES_DIR / "2025-06-18" / "tikvahpharma.json"
    assert [r["message_id"] for r in lake.read_messages(path)] == [1, 2, 3]
    before = path.stat().st_mtime_ns, path.read_bytes()
    lake.write_messages(tmp_path, records)
    assert (path.stat().st_mtime_ns, path.read_bytes()) == before
    newer = lake.MessageRecord.from_dict(record(message_id=2, scraped_at="2025-06-20T00:00:00+00:00", views=99))
    lake.write_messages(tmp_path, [newer])
    assert [r["views"] for r in lake.read_messages(path)] == [10, 99, 10]


def test_quarantine_keeps_the_content_and_says_why(tmp_path):
    kept = lake.quarantine(tmp_path, "raw/telegram_messages/2025-06-18/bad.json", "not JSON", b"{oops")
    assert kept.read_bytes() == b"{oops"
    reason = kept.with_name(kept.name + ".reason.txt").read_text()
    assert reason.rstrip().endswith("not JSON")


def test_a_damaged_day_file_is_quarantined_and_its_channel_goes_on(tmp_path):
    first = lake.MessageRecord.from_dict(record(message_id=1))
    (path,) = lake.write_messages(tmp_path, [first])
    damaged = path.read_bytes().rstrip().rstrip(b"]") + b',\n  {"channel_name": "tikvahpharma", "messa'
    path.write_bytes(damaged)
    later = lake.MessageRecord.from_dict(record(message_id=2, message_text="Ceftriaxone 💵90"))
    lake.write_messages(tmp_path, [later])  # before: every later write to this day raised
    assert [r["message_id"] for r in lake.read_messages(path)] == [1, 2]
    kept = tmp_path / lake.QUARANTINE_DIR / path.relative_to(tmp_path)
    assert kept.read_bytes() == damaged
    assert "damaged after whole record 1" in kept.with_name(kept.name + ".reason.txt").read_text()


def test_quarantined_items_never_overwrite_each_other(tmp_path):
    one = lake.quarantine(tmp_path, "raw/x.json", "first", b"1")
    two = lake.quarantine(tmp_path, "raw/x.json", "second", b"2")
    again = lake.quarantine(tmp_path, "raw/x.json", "first again", b"1")
    assert (one.name, two.name, again) == ("x.json", "x.json.2", one)
    assert (one.read_bytes(), two.read_bytes()) == (b"1", b"2")


def test_a_write_makes_its_rename_durable(tmp_path, monkeypatch):
    import os
    import stat

    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(stat.S_ISDIR(os.fstat(fd).st_mode)), real_fsync(fd)))
    lake.atomic_write_bytes(tmp_path / "day" / "c.json", b"[]")
    assert synced == [False, True], "the file, then the folder that holds its new name"
