"""Faults injected into the real processes, each followed by recovery and a full count.

Here: the loader (`medtel load`) killed with SIGKILL mid-load; PostgreSQL restarted under a load (a server of
the test's own); the lake's disk full in the middle of a write (a tmpfs of the test's own); dbt killed in the
middle of a build; the detector killed between two of its part files. Each ends with the next run green and nothing lost or doubled: lake = raw + quarantined
(raw.load_log), raw = staging = marts after a build. The faults tested beside the code they break are listed in
docs/architecture.md ("Faults and what recovers them").
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import psycopg
import pytest

from medical_telegram import lake
from medical_telegram.warehouse.migrate import migrate

REPO = Path(__file__).resolve().parents[2]
MEDTEL = [sys.executable, "-m", "medical_telegram.cli"]


def hourly_lake(root: Path, files: int, per_file: int = 3) -> int:
    """A lake shaped like hourly scraping: many small day files of many channels. Returns the record count."""
    for number in range(files):
        channel, day = f"channel_{number % 400:03d}", f"2026-{1 + number // 12000:02d}-{1 + number // 400 % 28:02d}"
        records = [{"channel_name": channel, "message_id": number * per_file + i + 1,
                    "message_date": f"{day}T08:00:00+00:00", "scraped_at": f"{day}T09:00:00+00:00",
                    "source": "telethon", "message_text": f"Amoxicillin 500mg 💵{number} birr", "views": i,
                    "raw": {"id": number * per_file + i + 1}} for i in range(per_file)]
        path = root / lake.MESSAGES_DIR / day / f"{channel}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        existing = orjson.loads(path.read_bytes()) if path.exists() else []
        path.write_bytes(orjson.dumps(existing + records))
    return files * per_file


def counts(dsn: str) -> dict[str, int]:
    with psycopg.connect(dsn) as conn:
        raw, distinct = conn.execute(
            "select count(*), count(distinct (channel_name, message_id)) from raw.telegram_messages").fetchone()
        read, inserted, quarantined, logged, files = conn.execute(
            "select coalesce(sum(rows_in), 0), coalesce(sum(inserted), 0), coalesce(sum(quarantined), 0),"
            " count(*), count(distinct file_path) from raw.load_log where target = 'telegram_messages'").fetchone()
    return {"raw": raw, "distinct": distinct, "read": read, "inserted": inserted, "quarantined": quarantined,
            "log_rows": logged, "files": files}


def medtel(command: str, dsn: str, lake_root: Path, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "WAREHOUSE_DSN": dsn, "DATA_LAKE_DIR": str(lake_root), "AIRFLOW_CONN_WAREHOUSE_DB": ""}
    return subprocess.Popen([*MEDTEL, command], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def wait_for(condition, timeout: float = 120, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def logged_files(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        return conn.execute("select count(*) from raw.load_log").fetchone()[0]


def test_the_loader_killed_mid_load_loses_and_doubles_nothing(make_database, tmp_path):
    dsn = make_database("mtw_fault_kill")
    with psycopg.connect(dsn) as conn:
        migrate(conn)
    records = hourly_lake(tmp_path / "lake", 20000)
    files = len(list((tmp_path / "lake" / lake.MESSAGES_DIR).glob("*/*.json")))
    load = medtel("load", dsn, tmp_path / "lake")
    wait_for(lambda: logged_files(dsn) >= 500 or load.poll() is not None, what="the first batch")
    load.send_signal(signal.SIGKILL)
    load.communicate(timeout=60)
    assert load.returncode == -signal.SIGKILL, "killed before the end (make the lake bigger if it was not)"
    before = counts(dsn)
    print(f"loader killed: lake {records} records in {files} files; after the kill {before}")
    assert 0 < before["files"] < files and before["raw"] == before["inserted"], before

    again = medtel("load", dsn, tmp_path / "lake")
    out, err = again.communicate(timeout=600)
    assert again.returncode == 0, err[-2000:]
    after = counts(dsn)
    print(f"loader killed: after the next load {after}")
    assert after["raw"] == after["distinct"] == after["inserted"] == records, after
    assert after["read"] == records and after["quarantined"] == 0 and after["files"] == files == after["log_rows"]


def test_postgresql_restarted_under_a_load_then_the_next_load_completes(tmp_path):
    """The server goes away mid-load (a restart, as an upgrade or a crash would do it): the load fails
    saying so, and the next one takes up what was not committed."""
    from medical_telegram.warehouse import EmbeddedPostgres

    server = EmbeddedPostgres(tmp_path / "pg", port=_free_port())
    dsn = server.start()
    try:
        with psycopg.connect(dsn) as conn:
            migrate(conn)
        records = hourly_lake(tmp_path / "lake", 20000)
        load = medtel("load", dsn, tmp_path / "lake")
        wait_for(lambda: logged_files(dsn) >= 500 or load.poll() is not None, what="the first batch")
        server.stop()
        server.start()
        out, err = load.communicate(timeout=120)
        assert load.returncode != 0 and "Traceback" not in err, err[-2000:]
        partial = counts(dsn)
        print(f"server restarted: lake {records} records; after the failed load {partial}")
        assert partial["raw"] == partial["inserted"] < records, partial

        again = medtel("load", dsn, tmp_path / "lake")
        out, err = again.communicate(timeout=600)
        assert again.returncode == 0, err[-2000:]
        after = counts(dsn)
        print(f"server restarted: after the next load {after}")
        assert after["raw"] == after["distinct"] == after["inserted"] == after["read"] == records, after
    finally:
        server.stop()


@pytest.fixture
def small_disk(tmp_path):
    """A 256 KiB tmpfs of the test's own, for a lake whose disk fills up."""
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({made.stderr.strip() or made.returncode}): needs root")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_in_the_middle_of_a_write_leaves_the_day_file_whole(small_disk):
    def record(message_id: int, text: str) -> lake.MessageRecord:
        return lake.MessageRecord.from_dict({
            "channel_name": "tikvahpharma", "message_id": message_id, "message_date": "2025-06-18T05:32:44+00:00",
            "scraped_at": "2025-06-18T06:00:00+00:00", "source": "telethon", "message_text": text,
            "raw": {"id": message_id}})

    (path,) = lake.write_messages(small_disk, [record(1, "Amoxicillin 💵75")])
    before = path.read_bytes()
    with pytest.raises(OSError) as full:  # 300 KiB of new posts do not fit
        lake.write_messages(small_disk, [record(i, "x" * 3000) for i in range(2, 102)])
    assert full.value.errno == 28  # ENOSPC
    assert path.read_bytes() == before, "the day file is the old one, whole"
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")], "no temporary file left behind"
    lake.write_messages(small_disk, [record(2, "Ceftriaxone 💵90")])  # space again: the next write goes on
    assert [r["message_id"] for r in lake.read_messages(path)] == [1, 2]


def test_dbt_killed_mid_build_then_the_next_build_reconciles(make_database, tmp_path):
    from medical_telegram.transform import dbt_runner
    from medical_telegram.warehouse.loaders.messages import load_messages

    dsn = make_database("mtw_fault_dbt")
    with psycopg.connect(dsn) as conn:
        migrate(conn)
        load_messages(conn, REPO / "sample" / "lake")
    build_args = ["build", "--exclude", "resource_type:test", "resource_type:unit_test"]
    argv = [str(dbt_runner.dbt_executable()), *build_args, "--project-dir", str(dbt_runner.PROJECT_DIR),
            "--profiles-dir", str(dbt_runner.PROFILES_DIR)]
    env = {**os.environ, **dbt_runner.dbt_env(dsn), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
           "DBT_TARGET_PATH": str(tmp_path / "target")}
    build = subprocess.Popen(argv, cwd=dbt_runner.PROJECT_DIR, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, start_new_session=True)
    for line in build.stdout:  # killed once the first models are built, the others not yet
        if " OK created " in line and "stg_telegram_messages" in line:
            os.killpg(build.pid, signal.SIGKILL)
            break
    build.wait(timeout=60)
    assert build.returncode == -signal.SIGKILL, "killed before the end"

    dbt_runner.run_dbt(build_args, dsn, target_path=tmp_path / "target")
    with psycopg.connect(dsn) as conn:
        raw, staged, marts = conn.execute(
            "select (select count(*) from raw.telegram_messages), (select count(*) from staging.stg_telegram_messages),"
            " (select count(*) from marts.fct_messages)").fetchone()
    print(f"dbt killed: after the next build raw {raw}, staging {staged}, marts {marts}")
    assert raw == staged == marts > 0


def test_the_detector_killed_mid_run_then_the_next_run_detects_each_photo_once(yolo_python, offline_model, tmp_path):
    from tests.images.yolo.yolo_helpers import SAMPLE_PHOTOS, detection_records, put_photo

    root = tmp_path / "lake"
    photos = sorted(SAMPLE_PHOTOS.glob("*.jpg"))[:48]
    for number, photo in enumerate(photos, start=1):
        put_photo(root, "lobelia4cosmetics", number, photo)
    argv = [str(yolo_python), "-m", "yolo_detector", "detect", "--lake", str(root), "--weights", str(offline_model),
            "--device", "cpu", "--batch-size", "4", "--flush-every", "4", "--threads", "1"]
    env = {**os.environ, "YOLO_OFFLINE": "1", "YOLO_CONFIG_DIR": str(tmp_path / "ultralytics")}
    env.pop("DATA_LAKE_DIR", None)
    detect = subprocess.Popen(argv, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    parts = root / "enriched" / "detections"
    wait_for(lambda: len(list(parts.glob("*/*/*.json"))) >= 2 or detect.poll() is not None, timeout=300,
             what="the detector's second part file")
    detect.send_signal(signal.SIGKILL)
    detect.wait(timeout=60)
    assert detect.returncode == -signal.SIGKILL, "killed before the end (add photos if it was not)"
    done_before = {r["message_id"] for r in detection_records(root)}
    print(f"detector killed: {len(photos)} photos, {len(done_before)} with detections after the kill")
    assert 0 < len(done_before) < len(photos)

    again = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    assert orjson.loads(again.stdout.strip().splitlines()[-1])["images"] == len(photos) - len(done_before)
    records = detection_records(root)
    keys = [(r["message_id"], r["detection_index"]) for r in records]
    print(f"detector killed: after the next run {len({k[0] for k in keys})} photos, {len(keys)} records")
    assert len(keys) == len(set(keys)), "no photo detected twice"
    assert {k[0] for k in keys} == set(range(1, len(photos) + 1)), "every photo detected"


def _free_port() -> int:
    from tests.support.alert_sinks import free_port

    return free_port()
