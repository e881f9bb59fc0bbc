import threading
from pathlib import Path

import orjson
import pytest

from medical_telegram import lake
from medical_telegram.lake import MessageRecord
from medical_telegram.warehouse.loaders.messages import load_messages


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
        # values PostgreSQL would reject, caught before COPY
        ({"views": 2**31}, "views out of range"),
        ({"forwards": 2**40}, "forwards out of range"),
        ({"reply_to_message_id": 2**63}, "reply_to_message_id out of range"),
        ({"message_date": "2026-02-30T10:00:00+00:00"}, "not a valid ISO-8601 timestamp"),
        ({"edit_date": "9999-12-31T23:00:00-05:00"}, "out of range in UTC"),
        ({"message_date": None}, "missing required field(s): message_date"),
        ({"message_date": "yesterday"}, "not a valid ISO-8601 timestamp"),
        ({"channel_name": "Not A Username"}, "lower-case Telegram username"),
        ({"channel_name": "lobelia4cosmetics\n"}, "lower-case Telegram username"),
        ({"image_path": "/home/me/x.jpg"}, "POSIX slashes"),
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


def test_a_failure_that_is_not_the_files_leaves_nothing_of_its_batch_and_earlier_batches_stay(
        db, lake_root, monkeypatch):
    write_file(lake_root, [record(1), record(2)], name="a_channel")
    write_file(lake_root, [record(3), record(4)], name="b_channel")
    write_file(lake_root, [record(5), record(6)], name="c_channel")
    from medical_telegram.warehouse.loaders import messages as loader

    original = loader._copy_rows

    def fail_in_third_file(records, lake_file):
        for number, row in enumerate(original(records, lake_file)):
            if "c_channel" in lake_file and number == 1:
                raise RuntimeError("disk gone")
            yield row

    monkeypatch.setattr(loader, "_copy_rows", fail_in_third_file)
    with pytest.raises(RuntimeError, match="disk gone"):
        load_messages(db, lake_root, batch_files=2)
    assert not [t for t in threading.enumerate() if t.name.startswith("read-")], "the reading thread has ended"
    db.rollback()
    # The first batch (a, b) committed; nothing of the second batch (c) is there, not even its log row.
    assert [r[0] for r in rows(db)] == [1, 2, 3, 4]
    assert [r[0] for r in db.execute("select file_path from raw.load_log order by 1")] == [
        "raw/telegram_messages/2026-01-18/a_channel.json", "raw/telegram_messages/2026-01-18/b_channel.json"]
    monkeypatch.setattr(loader, "_copy_rows", original)
    again = load_messages(db, lake_root)
    assert (again.count("skipped"), again.total("inserted")) == (2, 2)


def test_many_small_files_load_in_few_batches_with_a_log_row_each(db, lake_root):
    for n in range(12):
        write_file(lake_root, [record(100 * n + i) for i in range(1, 4)], name=f"channel_{n:02d}")
    summary = load_messages(db, lake_root, batch_files=5)
    totals = summary.as_dict()
    assert (totals["files_loaded"], totals["batches"], totals["inserted"]) == (12, 3, 36)
    logged = db.execute("select count(*), sum(rows_in), sum(inserted) from raw.load_log").fetchone()
    assert logged == (12, 36, 36)
    # a batch by records: 3 records a file, at most 7 a batch -> 2 files a batch
    write_file(lake_root, [record(9001), record(9002), record(9003)], name="channel_00", day="2026-01-19")
    write_file(lake_root, [record(9004), record(9005), record(9006)], name="channel_01", day="2026-01-19")
    write_file(lake_root, [record(9007), record(9008), record(9009)], name="channel_02", day="2026-01-19")
    summary = load_messages(db, lake_root, batch_records=7)
    assert (summary.count("skipped"), summary.count("loaded"), summary.batches) == (12, 3, 2)


def test_the_loaders_lookups_are_never_prepared_with_a_plan_from_an_empty_table(db, lake_root):
    for n in range(8):
        write_file(lake_root, [record(10 * n + 1)], name=f"channel_{n}")
    load_messages(db, lake_root, batch_files=1)  # 8 batches: more than psycopg's prepare threshold of 5
    write_file(lake_root, [record(1, views=5000, scraped_at="2026-02-01T00:00:00+00:00")], name="channel_0",
               day="2026-01-20")
    for n in range(1, 8):
        write_file(lake_root, [record(10 * n + 1, views=7, scraped_at="2026-02-01T00:00:00+00:00")],
                   name=f"channel_{n}", day="2026-01-20")
    assert load_messages(db, lake_root, batch_files=1).total("updated") == 8
    prepared = [r[0] for r in db.execute("select statement from pg_prepared_statements")]
    assert not [s for s in prepared if "telegram_messages" in s], prepared


def test_the_same_message_in_two_files_of_one_load_is_applied_in_file_order(db, lake_root):
    write_file(lake_root, [record(1, views=10, scraped_at="2026-01-18T13:00:00+00:00")], day="2026-01-18")
    # the same post again (a file of another name), scraped later: it must not meet the first in one statement
    write_file(lake_root, [record(1, views=20, scraped_at="2026-01-19T13:00:00+00:00"), record(2)],
               name="lobelia4cosmetics_again", day="2026-01-18")
    summary = load_messages(db, lake_root)
    assert (summary.total("inserted"), summary.total("updated"), summary.batches) == (2, 1, 2)
    assert db.execute("select views from raw.telegram_messages where message_id = 1").fetchone() == (20,)


def test_nul_characters_are_stripped_counted_and_the_post_kept(db, lake_root):
    dirty = record(2, message_text="PRENATAL\x00 60 GUMMIES\x00\nPrice 5000 birr", post_author="Dr\x00 A",
                   raw={"message": "PRENATAL\x00 60", "entities": [{"k\x00ey": "v\x00"}]})
    path = write_file(lake_root, [record(1), dirty, record(3)])
    summary = load_messages(db, lake_root)
    totals = summary.as_dict()
    assert (totals["rows_in"], totals["inserted"], totals["quarantined"], totals["nul_stripped"]) == (3, 3, 0, 6)
    text, author, raw = db.execute(
        "select message_text, post_author, raw from raw.telegram_messages where message_id = 2").fetchone()
    assert (text, author) == ("PRENATAL 60 GUMMIES\nPrice 5000 birr", "Dr A")
    assert raw == {"message": "PRENATAL 60", "entities": [{"key": "v"}]}
    assert db.execute("select rows_in, inserted, quarantined, nul_stripped from raw.load_log").fetchone() == (
        3, 3, 0, 6)
    assert b"\\u0000" in path.read_bytes(), "the lake file itself is left as it was"


def test_a_file_postgresql_rejects_is_quarantined_with_its_message_and_the_others_load(
        db, lake_root, monkeypatch):
    # Validation that misses something: views as any 64-bit integer, as before the integer column was checked.
    monkeypatch.setattr(lake.record, "MAX_INT32", 2**63 - 1)
    write_file(lake_root, [record(1), record(2)], name="a_channel")
    bad = write_file(lake_root, [record(3), record(4, views=2**40)], name="b_channel")
    write_file(lake_root, [record(5), record(6)], name="c_channel")
    summary = load_messages(db, lake_root)
    totals = summary.as_dict()
    assert (totals["batches"], totals["batches_retried"]) == (1, 1)
    assert {f.channel: f.status for f in summary.files} == {
        "a_channel": "loaded", "b_channel": "quarantined", "c_channel": "loaded"}
    assert totals["rows_in"] == 6 == totals["inserted"] + totals["quarantined"]
    assert [r[0] for r in rows(db)] == [1, 2, 5, 6]
    status, rows_in, quarantined, reason = db.execute(
        "select status, rows_in, quarantined, reason from raw.load_log where file_path like '%b_channel%'"
    ).fetchone()
    assert (status, rows_in, quarantined) == ("quarantined", 2, 2)
    assert "PostgreSQL rejected the file" in reason and "out of range for type integer" in reason
    copy = lake_root / lake.QUARANTINE_DIR / bad.relative_to(lake_root)
    assert copy.read_bytes() == bad.read_bytes()
    assert "out of range for type integer" in copy.with_name("b_channel.json.reason.txt").read_text()
    # the next load does not try it again, and loads what is new
    write_file(lake_root, [record(7)], name="d_channel")
    again = load_messages(db, lake_root)
    assert (again.count("skipped"), again.total("inserted")) == (3, 1)


def test_lake_files_are_readable_by_other_users(lake_root):
    path = lake_root / "raw" / "x.json"
    lake.atomic_write_bytes(path, b"[]")
    assert path.stat().st_mode & 0o044 == 0o044


def test_loading_leaves_the_callers_connection_settings_as_they_were(db, lake_root):
    write_file(lake_root, [record(1)])
    before = db.execute("show synchronous_commit").fetchone()[0]
    load_messages(db, lake_root)
    assert db.execute("show synchronous_commit").fetchone()[0] == before == "on"


def test_two_loads_at_once_take_turns_and_load_each_file_once(warehouse_dsn, lake_root):
    import psycopg

    for n in range(6):
        write_file(lake_root, [record(10 * n + i) for i in range(1, 4)], name=f"channel_{n}")
    with psycopg.connect(warehouse_dsn) as first, psycopg.connect(warehouse_dsn) as second:
        # the first holds the loader's lock, as a load in progress does, while the second starts
        first.execute("select pg_advisory_lock(hashtext('medical_telegram.warehouse.loaders.messages:telegram_messages'))")
        results = []
        worker = threading.Thread(target=lambda: results.append(load_messages(second, lake_root)))
        worker.start()
        worker.join(timeout=2)
        assert worker.is_alive(), "the second load waits for the first"
        done = load_messages(first, lake_root)  # the same session: its lock is re-entrant
        first.execute("select pg_advisory_unlock(hashtext('medical_telegram.warehouse.loaders.messages:telegram_messages'))")
        first.commit()
        worker.join(timeout=60)
    assert done.total("inserted") == 18
    assert (results[0].count("skipped"), results[0].total("inserted")) == (6, 0)
    with psycopg.connect(warehouse_dsn) as conn:
        assert conn.execute("select count(*) from raw.load_log").fetchone() == (6,)


def test_any_iso_form_python_reads_reaches_postgresql_as_the_same_instant(db, lake_root):
    write_file(lake_root, [record(1, message_date="2026-W03-7T15:58:53+03:00"),  # an ISO week date
                           record(2, message_date="2026-01-18T12:58:53Z"),
                           record(3, message_date="2026-01-18T12:58:53.000000+00:00")])
    assert load_messages(db, lake_root).total("inserted") == 3
    same = db.execute("select message_id, message_date = '2026-01-18T12:58:53+00:00'::timestamptz"
                      " from raw.telegram_messages order by 1").fetchall()
    assert same == [(1, True), (2, True), (3, True)]


CHALLENGE_LAKE = Path(__file__).resolve().parents[3] / "fixtures" / "challenge_format_lake"


def test_a_lake_another_implementation_wrote_loads_whole(db, lake_root):
    """tests/fixtures/challenge_format_lake: "EAHCI" in capitals, Windows image paths, scraped_at without an
    offset, no source. Each is read as what it says, nothing is guessed, nothing quarantined."""
    import shutil

    shutil.copytree(CHALLENGE_LAKE, lake_root, dirs_exist_ok=True)
    totals = load_messages(db, lake_root).as_dict()
    assert (totals["rows_in"], totals["inserted"], totals["quarantined"]) == (100, 100, 0)
    assert db.execute("select channel_name, count(*), count(scraped_at), count(source) from raw.telegram_messages"
                      " group by 1 order by 1").fetchall() == [("eahci", 50, 0, 0), ("tenamereja", 50, 0, 0)]
    image, raw = db.execute("select image_path, raw from raw.telegram_messages where message_id = 3085").fetchone()
    assert image == "raw/images/EAHCI/3085.jpg"
    # what the lake said is kept as it said it
    assert raw["scraped_at"] == "2026-01-18T08:46:22.786806" and raw["image_path"] == "data\\raw\\images\\EAHCI\\3085.jpg"


def test_a_file_with_only_the_challenges_eight_fields_loads(db, lake_root):
    eight = {"message_id": 7, "channel_name": "TikvahPharma", "message_date": "2025-06-18T08:00:00+00:00",
             "message_text": "✅Omeprazole 20mg cap 💵145", "has_media": True, "views": 12, "forwards": 0,
             "image_path": "C:\\Users\\me\\Pictures\\7.jpg"}
    write_file(lake_root, [eight], name="TikvahPharma")
    assert load_messages(db, lake_root).as_dict()["inserted"] == 1
    # a photo path outside the lake's layout names no photo of the lake: absent, the post keeps has_media
    assert db.execute("select channel_name, image_path, has_media, scraped_at, source"
                      " from raw.telegram_messages").fetchone() == ("tikvahpharma", None, True, None, None)


def test_a_record_whose_scrape_time_is_unknown_is_older_than_any_known_one(db, lake_root):
    known = record(1, message_text="as scraped", scraped_at="2026-01-18T13:00:00+00:00")
    unknown = record(1, message_text="from another lake", scraped_at="2026-01-19T09:00:00", source=None)
    write_file(lake_root, [known], name="lobelia4cosmetics")
    write_file(lake_root, [unknown], name="lobelia4cosmetics", day="2026-01-19")
    load_messages(db, lake_root)
    assert rows(db)[0][2] == "as scraped"
    later = record(1, message_text="scraped again", scraped_at="2026-01-20T00:00:00+00:00")
    write_file(lake_root, [later], name="lobelia4cosmetics", day="2026-01-20")
    load_messages(db, lake_root)
    assert rows(db)[0][2] == "scraped again"


def test_a_load_that_quarantines_every_record_fails_and_says_why(db, lake_root):
    from medical_telegram.warehouse.loaders.messages import NothingLoaded

    write_file(lake_root, [record(1, views="many"), record(2, message_date="yesterday")])
    summary = load_messages(db, lake_root)
    assert summary.quarantined_everything
    with pytest.raises(NothingLoaded, match=r"all 2 records read .* quarantined.*views must be an integer"):
        summary.check_something_loaded()
    write_file(lake_root, [record(3)], day="2026-01-19")
    load_messages(db, lake_root).check_something_loaded()  # one loaded: no failure


def test_a_day_file_cut_in_a_record_loads_the_whole_records_before_it_and_counts_the_rest(db, lake_root):
    """A copy that stopped, a disk that filled: the first ten records are whole, the eleventh is cut."""
    whole = orjson.dumps([record(i) for i in range(1, 12)])
    cut_at = whole.index(b'{"channel_name"', whole.index(b'"message_id":11') - 200)
    path = write_file(lake_root, [])
    path.write_bytes(whole[:cut_at + 60])
    summary = load_messages(db, lake_root)
    (result,) = summary.files
    assert (result.status, result.rows_in, result.inserted, result.quarantined) == ("loaded", 11, 10, 1)
    assert "damaged after whole record 10" in result.reason
    assert [r[0] for r in rows(db)] == list(range(1, 11))
    rejected = orjson.loads((lake_root / lake.QUARANTINE_DIR / f"{result.path}.rejected.json").read_bytes())
    assert len(rejected) == 1 and rejected[0]["index"] == 10
    assert rejected[0]["record"].startswith('{"channel_name"'), "the cut record is kept as it was"
    assert db.execute("select rows_in, inserted, quarantined from raw.load_log").fetchall() == [(11, 10, 1)]
    again = load_messages(db, lake_root)
    assert again.count("skipped") == 1 and again.total("rows_in") == 0

    from medical_telegram.monitoring.monitor import reconciliation

    counts = reconciliation(db)
    assert (counts["lake_records_read"], counts["raw"], counts["quarantined"]) == (11, 10, 1)


def test_a_load_of_files_that_give_no_whole_record_fails_saying_why(db, lake_root):
    from medical_telegram.warehouse.loaders.results import NothingLoaded

    (lake_root / lake.MESSAGES_DIR / "2026-01-18").mkdir(parents=True)
    (lake_root / lake.MESSAGES_DIR / "2026-01-18" / "a.json").write_bytes(b'[{"message_id": 1, "chan')
    summary = load_messages(db, lake_root)
    assert (summary.total("rows_in"), summary.total("quarantined")) == (1, 1)
    with pytest.raises(NothingLoaded, match="all 1 records"):
        summary.check_something_loaded()


def test_a_load_waits_a_bounded_time_for_the_lock_and_names_its_holder(db, lake_root, warehouse_dsn):
    """A half-dead session holding the load lock must not block every later load until the task times out."""
    import time

    import psycopg

    from medical_telegram.warehouse.loaders.lock import LoadLockBusy

    write_file(lake_root, [record(1)])
    key = "medical_telegram.warehouse.loaders.messages:telegram_messages"
    with psycopg.connect(warehouse_dsn, application_name="stuck-loader", autocommit=True) as holder:
        holder.execute("select pg_advisory_lock(hashtext(%s))", (key,))
        pid = holder.info.backend_pid
        began = time.monotonic()
        with pytest.raises(LoadLockBusy) as raised:
            load_messages(db, lake_root, lock_wait_s=1)
        assert time.monotonic() - began < 30
        assert f"backend {pid} (application stuck-loader" in str(raised.value)
        assert f"pg_terminate_backend({pid})" in str(raised.value)
    assert load_messages(db, lake_root).total("inserted") == 1, "once the holder has gone, the load goes on"


# The loader decodes a file of plain records in one pass (msgspec) and hands any other file to the record
# checks. The one pass must accept nothing the checks refuse, and give the same rows for what it accepts.
_ODD_VALUES = [None, "", "x", "EAHCI", "lobelia4cosmetics\n", 0, -1, 1, 2**31, 2**63, -(2**63), 1.0, True, [],
               {}, "2026-01-18T12:58:53", "2026-01-18T12:58:53+03:00", "2026-01-18T12:58:53.000000+00:00",
               "2026-W03-7T12:00:00+00:00", "9999-12-31T23:00:00-05:00", "a\\b", "/abs/x.jpg", "raw/../x.jpg",
               "data\\raw\\images\\eahci\\1.jpg", "rss", "desktop_export", "nul\x00here"]


@pytest.mark.parametrize("field", [*lake.RECORD_FIELDS, "unknown_field"])
def test_the_one_pass_decoder_accepts_only_what_the_record_checks_accept_and_gives_the_same_rows(field):
    from medical_telegram.warehouse.loaders.messages import _copy_rows, _plain_messages

    def as_rows(records):  # raw as its parsed value: the one pass keeps the file's JSON text
        return [(*row[:-2], orjson.loads(row[-2])) for row in _copy_rows(records, "f.json")]

    variants = [{**record(2), field: value} for value in _ODD_VALUES]
    variants += [{k: v for k, v in record(2).items() if k != field}]  # the field missing
    taken = 0
    for variant in variants:
        data = orjson.dumps([record(1), variant], option=orjson.OPT_NON_STR_KEYS)
        plain = _plain_messages(data)
        good, rejects, nul_stripped = lake.split_records(
            data, "f.json", MessageRecord.from_dict, lambda r: (r.channel_name, r.message_id), "message")
        if plain is not None:
            taken += 1
            assert not rejects and not nul_stripped, (variant, rejects)
            assert as_rows(plain) == as_rows(good), variant
    assert taken >= 1  # the plain form itself (and the field's ordinary values) takes the one pass
