from pathlib import Path

import orjson
import pytest

from medical_telegram import lake
from medical_telegram.lake import MessageRecord
from medical_telegram.loader import load_messages


def record(message_id: int, **overrides) -> dict:
    base = MessageRecord(
        channel_name="lobelia4cosmetics",
        channel_title="Lobelia pharmacy and cosmetics",
        message_id=message_id,
        message_date="2026-01-18T12:58:53+00:00",
        message_text=f"PRENATAL {message_id} GUMMIES\nPrice 5000 birr",
        views=100 + message_id,
        forwards=0,
        has_media=True,
        media_type="photo",
        image_path=lake.image_relpath("lobelia4cosmetics", message_id),
        scraped_at="2026-01-18T13:00:00+00:00",
        source="telethon",
        raw={"id": message_id, "note": "tab\there, newline\nthere, backslash \\ and quote \""},
    ).to_dict()
    base.update(overrides)
    return base


def write_file(root: Path, records: list, name: str = "lobelia4cosmetics", day: str = "2026-01-18") -> Path:
    path = root / lake.MESSAGES_DIR / day / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(records))
    return path


def rows(db):
    return db.execute(
        "select message_id, views, message_text, raw from raw.telegram_messages order by message_id"
    ).fetchall()


def test_load_inserts_every_record_with_its_fields(db, lake_root):
    write_file(lake_root, [record(1), record(2)])
    summary = load_messages(db, lake_root)
    assert summary.as_dict()["inserted"] == 2
    loaded = rows(db)
    assert [r[0] for r in loaded] == [1, 2]
    assert loaded[0][2] == "PRENATAL 1 GUMMIES\nPrice 5000 birr"
    assert loaded[0][3]["note"] == "tab\there, newline\nthere, backslash \\ and quote \""
    log = db.execute("select status, rows_in, inserted, updated, quarantined from raw.load_log").fetchall()
    assert log == [("loaded", 2, 2, 0, 0)]


def test_reload_of_the_same_file_changes_nothing(db, lake_root):
    write_file(lake_root, [record(1), record(2)])
    load_messages(db, lake_root)
    before = db.execute("select *, xmin::text from raw.telegram_messages order by message_id").fetchall()
    summary = load_messages(db, lake_root)
    assert summary.as_dict()["files_skipped"] == 1
    assert summary.as_dict()["inserted"] == summary.as_dict()["updated"] == 0
    after = db.execute("select *, xmin::text from raw.telegram_messages order by message_id").fetchall()
    assert before == after
    assert db.execute("select count(*) from raw.load_log").fetchone()[0] == 1


def test_rewritten_file_with_same_content_updates_nothing(db, lake_root):
    path = write_file(lake_root, [record(1)])
    load_messages(db, lake_root)
    path.write_bytes(orjson.dumps([record(1)], option=orjson.OPT_INDENT_2))  # new checksum, same data
    summary = load_messages(db, lake_root)
    assert (summary.total("inserted"), summary.total("updated"), summary.total("unchanged")) == (0, 0, 1)


def test_later_scrape_updates_views_forwards_and_text(db, lake_root):
    write_file(lake_root, [record(1), record(2)])
    load_messages(db, lake_root)
    write_file(lake_root, [
        record(1, views=999, forwards=7, message_text="edited", edit_date="2026-01-19T08:00:00+00:00",
               scraped_at="2026-01-20T00:00:00+00:00"),
        record(2, scraped_at="2026-01-20T00:00:00+00:00"),
    ])
    summary = load_messages(db, lake_root)
    assert (summary.total("inserted"), summary.total("updated"), summary.total("unchanged")) == (0, 1, 1)
    row = db.execute(
        "select views, forwards, message_text, edit_date::text from raw.telegram_messages where message_id = 1"
    ).fetchone()
    assert row == (999, 7, "edited", "2026-01-19 08:00:00+00")


def test_older_scrape_never_overwrites_newer_data(db, lake_root):
    write_file(lake_root, [record(1, views=500, scraped_at="2026-01-20T00:00:00+00:00")])
    load_messages(db, lake_root)
    write_file(lake_root, [record(1, views=10, scraped_at="2026-01-18T00:00:00+00:00")])
    load_messages(db, lake_root)
    assert db.execute("select views from raw.telegram_messages").fetchone()[0] == 500


def test_export_without_views_keeps_the_views_a_scrape_saw(db, lake_root):
    write_file(lake_root, [record(1, views=321)])
    load_messages(db, lake_root)
    write_file(lake_root, [record(1, views=None, forwards=None, source="desktop_export",
                                  scraped_at="2026-02-01T00:00:00+00:00")])
    load_messages(db, lake_root)
    assert db.execute("select views, source from raw.telegram_messages").fetchone() == (321, "telethon")


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ({"views": "many"}, "views must be an integer"),
        ({"message_text": "bad\x00text"}, "NUL character"),
        ({"message_date": None}, "missing required field(s): message_date"),
        ({"message_date": "yesterday"}, "not an ISO-8601 timestamp"),
        ({"channel_name": "Not A Username"}, "lower-case Telegram username"),
        ({"image_path": "data\\raw\\images\\x.jpg"}, "POSIX slashes"),
        ({"source": "rss"}, "source must be one of"),
    ],
)
def test_bad_record_is_quarantined_and_the_rest_loads(db, lake_root, bad, reason):
    path = write_file(lake_root, [record(1), record(2, **bad), record(3)])
    summary = load_messages(db, lake_root)
    totals = summary.as_dict()
    assert totals["rows_in"] == 3 == totals["inserted"] + totals["quarantined"]
    assert totals["quarantined"] == 1
    assert [r[0] for r in rows(db)] == [1, 3]
    relpath = path.relative_to(lake_root).as_posix()
    rejected = lake_root / lake.QUARANTINE_DIR / f"{relpath}.rejected.json"
    kept = orjson.loads(rejected.read_bytes())
    assert kept[0]["index"] == 1 and reason in kept[0]["reason"]
    assert kept[0]["record"]["message_id"] == 2
    assert (rejected.parent / f"{rejected.name}.reason.txt").exists()
    assert path.exists(), "the original stays in the lake"


def test_duplicate_ids_in_a_file_load_once_and_quarantine_the_rest(db, lake_root):
    write_file(lake_root, [record(1), record(1, views=5), record(2)])
    summary = load_messages(db, lake_root)
    assert (summary.total("rows_in"), summary.total("inserted"), summary.total("quarantined")) == (3, 2, 1)
    assert db.execute("select views from raw.telegram_messages where message_id = 1").fetchone()[0] == 101


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'[{"message_id": 1, "channel_na', "not valid JSON"),
        (b'{"messages": []}', "expected a JSON array"),
        (b"", "not valid JSON"),
    ],
)
def test_unreadable_file_is_quarantined_whole_and_others_still_load(db, lake_root, content, reason):
    write_file(lake_root, [record(1)], name="good")
    bad = lake_root / lake.MESSAGES_DIR / "2026-01-18" / "broken.json"
    bad.write_bytes(content)
    summary = load_messages(db, lake_root)
    statuses = {f.channel: f.status for f in summary.files}
    assert statuses == {"good": "loaded", "broken": "quarantined"}
    assert db.execute("select count(*) from raw.telegram_messages").fetchone()[0] == 1
    copy = lake_root / lake.QUARANTINE_DIR / bad.relative_to(lake_root)
    assert copy.read_bytes() == content
    assert reason in copy.with_name("broken.json.reason.txt").read_text()
    status, why = db.execute(
        "select status, reason from raw.load_log where file_path like '%broken.json'"
    ).fetchone()
    assert status == "quarantined" and reason in why
    # A re-run does not quarantine or log the same broken file again.
    assert load_messages(db, lake_root).count("skipped") == 2


def test_a_failing_file_leaves_nothing_half_loaded_and_earlier_files_stay(db, lake_root, monkeypatch):
    write_file(lake_root, [record(1), record(2)], name="a_channel")
    write_file(lake_root, [record(3), record(4)], name="b_channel")
    from medical_telegram import loader

    original = loader._copy_rows

    def fail_in_second_file(records, lake_file):
        for number, row in enumerate(original(records, lake_file)):
            if "b_channel" in lake_file and number == 1:
                raise RuntimeError("disk gone")
            yield row

    monkeypatch.setattr(loader, "_copy_rows", fail_in_second_file)
    with pytest.raises(RuntimeError, match="disk gone"):
        load_messages(db, lake_root)
    db.rollback()
    # a_channel's file committed in its own transaction; nothing of b_channel's file is there.
    assert [r[0] for r in rows(db)] == [1, 2]
    assert db.execute("select file_path from raw.load_log").fetchall() == [
        ("raw/telegram_messages/2026-01-18/a_channel.json",)]


def test_lake_files_are_readable_by_other_users(lake_root):
    path = lake_root / "raw" / "x.json"
    lake.atomic_write_bytes(path, b"[]")
    assert path.stat().st_mode & 0o044 == 0o044


def test_loading_leaves_the_callers_connection_settings_as_they_were(db, lake_root):
    write_file(lake_root, [record(1)])
    before = db.execute("show synchronous_commit").fetchone()[0]
    load_messages(db, lake_root)
    assert db.execute("show synchronous_commit").fetchone()[0] == before == "on"
