"""Detections files -> raw.image_detections, against a real PostgreSQL database (the `db` fixture)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medical_telegram.warehouse.loaders.detections import load_detections


def _record(message_id: int, index: int, name: str | None, *, at: str = "2026-11-27T10:00:00+00:00",
            model: str = "fall_detection_best", **extra) -> dict:
    found = name is not None
    record = {"channel_name": "lobelia4cosmetics", "message_id": message_id, "model_name": model,
              "image_path": f"raw/images/lobelia4cosmetics/{message_id}.jpg", "weights_hash": "5f6f620d0fa5",
              "detection_index": index, "detected_class": name, "class_id": 0 if found else None,
              "confidence": 0.5 + index / 100 if found else None,
              "x_min": 10.0 if found else None, "y_min": 20.0 if found else None,
              "x_max": 110.0 + index if found else None, "y_max": 220.0 if found else None,
              "image_width": 640, "image_height": 480, "detected_at": at}
    record.update(extra)
    return record


def _write(root: Path, name: str, records, *, day: str = "2026-11-27", model: str = "fall_detection_best") -> Path:
    path = root / "enriched/detections" / model / day / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(records if isinstance(records, str) else json.dumps(records))
    return path


def _rows(db) -> list[tuple]:
    return db.execute("select message_id, detection_index, detected_class, x_max from raw.image_detections"
                      " order by 1, 2").fetchall()


def _reconciles(summary) -> None:
    for f in summary.files:
        assert f.rows_in == f.inserted + f.updated + f.unchanged + f.quarantined, f


def test_load_detections_is_idempotent(db, lake_root):
    _write(lake_root, "run-a-001.json", [_record(1, 0, "person"), _record(1, 1, "person"), _record(1, 2, "person"),
                                         _record(2, 0, None)])
    first = load_detections(db, lake_root)
    assert first.as_dict() | {"seconds": 0} == {
        "files": 1, "files_loaded": 1, "files_skipped": 0, "files_quarantined": 0, "rows_in": 4, "inserted": 4,
        "updated": 0, "unchanged": 0, "quarantined": 0, "nul_stripped": 0, "batches": 1, "batches_retried": 0,
        "seconds": 0}
    rows = _rows(db)
    assert rows == [(1, 0, "person", 110.0), (1, 1, "person", 111.0), (1, 2, "person", 112.0), (2, 0, None, None)]
    log = db.execute("select target, file_path, status, rows_in, inserted from raw.load_log").fetchall()
    assert log == [("image_detections", "enriched/detections/fall_detection_best/2026-11-27/run-a-001.json",
                    "loaded", 4, 4)]
    lake_file = db.execute("select distinct lake_file from raw.image_detections").fetchall()
    assert lake_file == [("enriched/detections/fall_detection_best/2026-11-27/run-a-001.json",)]

    second = load_detections(db, lake_root)
    assert (second.count("skipped"), second.total("inserted"), second.total("rows_in")) == (1, 0, 0)
    assert _rows(db) == rows
    assert db.execute("select count(*) from raw.load_log").fetchone() == (1,)
    _reconciles(first)


def test_load_detections_quarantines_bad_records_and_files(db, lake_root):
    _write(lake_root, "run-b-001.json", [
        _record(1, 0, "person"),
        _record(2, 0, "person", confidence=1.7),
        _record(3, 0, "person", colour="red"),
        _record(1, 0, "person"),                 # the same key twice
        _record(4, 0, None, x_min=3.0),          # "nothing found" with a box
        {"message_id": 5},
        "not a record",
    ])
    _write(lake_root, "run-b-002.json", "[{\"channel_name\": ")  # cut short
    summary = load_detections(db, lake_root)
    loaded, broken = summary.files
    assert (loaded.status, loaded.rows_in, loaded.inserted, loaded.quarantined) == ("loaded", 7, 1, 6)
    assert "confidence out of range" in loaded.reason and "unknown field(s): colour" in loaded.reason
    assert broken.status == "quarantined" and "not valid JSON" in broken.reason
    _reconciles(summary)
    assert _rows(db) == [(1, 0, "person", 110.0)]
    quarantine = lake_root / "quarantine/enriched/detections/fall_detection_best/2026-11-27"
    rejected = json.loads((quarantine / "run-b-001.json.rejected.json").read_text())
    assert len(rejected) == 6 and all(r["reason"] for r in rejected)
    assert (quarantine / "run-b-002.json").read_text() == "[{\"channel_name\": "
    assert (quarantine / "run-b-002.json.reason.txt").exists()
    statuses = db.execute("select file_path, status, quarantined from raw.load_log order by file_path").fetchall()
    # the cut file gave no whole record: it counts as one lost, so the loss shows in every sum
    assert [(s, q) for _, s, q in statuses] == [("loaded", 6), ("quarantined", 1)]
    again = load_detections(db, lake_root)
    assert again.count("skipped") == 2


def test_newer_detection_of_an_image_replaces_the_older(db, lake_root):
    _write(lake_root, "run-c-001.json", [_record(7, i, "person") for i in range(3)])
    load_detections(db, lake_root)
    later = "2026-11-28T09:00:00+00:00"
    _write(lake_root, "run-d-001.json", [_record(7, 0, "person", at=later, x_max=150.0)], day="2026-11-28")
    summary = load_detections(db, lake_root)
    assert [f.status for f in summary.files] == ["skipped", "loaded"]
    assert summary.files[1].updated == 1
    assert _rows(db) == [(7, 0, "person", 150.0)]
    # an older result loaded afterwards changes nothing
    _write(lake_root, "run-e-001.json", [_record(7, i, "person") for i in range(5)], day="2026-11-26")
    older = load_detections(db, lake_root)
    assert [f.unchanged for f in older.files if f.status == "loaded"] == [5]
    assert _rows(db) == [(7, 0, "person", 150.0)]


def test_load_real_detector_output(db, detected_lake):
    """The files the detector wrote load whole: one row per record, and a rerun loads nothing."""
    root, run = detected_lake
    records = [r for name in run.summary["files"] for r in json.loads((root / name).read_text())]
    summary = load_detections(db, root)
    assert summary.count("loaded") == len(run.summary["files"])
    assert summary.total("inserted") == len(records) and summary.total("quarantined") == 0
    count, images, persons = db.execute(
        "select count(*), count(distinct (channel_name, message_id)), count(*) filter"
        " (where detected_class = 'person') from raw.image_detections").fetchone()
    assert (count, images) == (len(records), run.summary["images"])
    assert persons == sum(r["detected_class"] == "person" for r in records)
    assert load_detections(db, root).total("inserted") == 0


@pytest.mark.parametrize("field,value", [("message_id", 0), ("detected_at", "2026-11-27 10:00"),
                                         ("image_path", "/etc/passwd"), ("x_min", float("nan")),
                                         # what PostgreSQL would reject: caught per record, before COPY
                                         ("x_max", 1e39), ("y_min", 1e-40), ("image_width", 2**31),
                                         ("detected_at", "2026-13-01T00:00:00+00:00"),
                                         ("model_name", "m" * 3000)])
def test_load_detections_rejects_contract_breaks(db, lake_root, field, value):
    record = _record(1, 0, "person") | {field: value}
    _write(lake_root, "run-f-001.json", json.dumps([record]))  # NaN: JSON that the loader cannot read
    summary = load_detections(db, lake_root)
    assert summary.total("quarantined") + summary.count("quarantined") >= 1
    assert _rows(db) == []


def test_two_results_of_one_image_in_one_load_apply_in_file_order(db, lake_root):
    _write(lake_root, "run-c-001.json", [_record(7, i, "person") for i in range(3)])
    later = "2026-11-28T09:00:00+00:00"
    _write(lake_root, "run-d-001.json", [_record(7, 0, "person", at=later, x_max=150.0), _record(8, 0, None)],
           day="2026-11-28")
    summary = load_detections(db, lake_root)
    assert summary.batches == 2, "the second result of image 7 waits for a batch of its own"
    assert _rows(db) == [(7, 0, "person", 150.0), (8, 0, None, None)]
    _reconciles(summary)


def test_nul_in_a_detection_is_stripped_and_a_file_postgresql_rejects_is_quarantined(db, lake_root, monkeypatch):
    from medical_telegram.warehouse.loaders import detections as detections_loader

    _write(lake_root, "run-g-001.json", [_record(1, 0, "per\u0000son")])
    # Validation that misses something (a box beyond a real's range) makes PostgreSQL reject the file.
    monkeypatch.setitem(detections_loader._CHECKS, "x_max", lambda n, v: None if v is None else float(v))
    _write(lake_root, "run-g-002.json", [_record(2, 0, "person", x_max=1e39)])
    _write(lake_root, "run-g-003.json", [_record(3, 0, None)])
    summary = load_detections(db, lake_root)
    first, rejected, third = summary.files
    assert (first.status, first.inserted, first.nul_stripped) == ("loaded", 1, 1)
    assert (rejected.status, rejected.quarantined) == ("quarantined", 1)
    assert "out of range for type real" in rejected.reason
    assert (third.status, third.inserted) == ("loaded", 1)
    assert _rows(db) == [(1, 0, "person", 110.0), (3, 0, None, None)]
    _reconciles(summary)
