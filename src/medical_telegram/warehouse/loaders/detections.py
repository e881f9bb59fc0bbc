"""Detections files in the lake -> raw.image_detections.

The detector writes enriched/detections/<model>/<YYYY-MM-DD>/<run>.json: a JSON array with one record per
detection, plus one record (detection_index 0, detected_class null) per image in which nothing was found.
Files load in batches, as message files do (batches.LakeFileLoader): their valid records are COPYed into a
temporary table and upserted on (channel_name, message_id, model_name, detection_index), and a raw.load_log row
per file (target 'image_detections') records its checksum and counts. A file already loaded with the same
checksum is skipped, so re-running changes nothing. Bad records (and files that cannot be parsed) are
quarantined with the reason; the file's valid records still load, and
rows_in = inserted + updated + unchanged + quarantined. A file PostgreSQL rejects is quarantined with the
server's message and the others load.

When an image is detected again by the same model (a newer detected_at), its rows are replaced: rows of a
detection_index the new result no longer has are deleted, so an image never mixes two runs.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Hashable, Iterable, Mapping
from pathlib import Path
from typing import Any

import psycopg

from medical_telegram import lake
from medical_telegram.lake.record import MAX_INT32, RecordError, _channel, _image_path, _instant, _int, _text
from medical_telegram.lake import split_records
from medical_telegram.warehouse.loaders.batches import LakeFileLoader
from medical_telegram.warehouse.loaders.results import FileResult, LoadSummary

log = logging.getLogger(__name__)

TARGET = "image_detections"
KEY = ("channel_name", "message_id", "model_name", "detection_index")
COLUMNS = (*KEY, "image_path", "weights_hash", "detected_class", "class_id", "confidence",
           "x_min", "y_min", "x_max", "y_max", "image_width", "image_height", "detected_at")
_COPY_COLUMNS = (*COLUMNS, "lake_file")
_VALUES = tuple(c for c in COLUMNS if c not in KEY)
_BOX = ("x_min", "y_min", "x_max", "y_max")
# PostgreSQL's real: a finite float beyond these is out of range, and a nonzero one nearer zero underflows.
_REAL_MAX = 3.4e38
_REAL_MIN = 1.2e-38
# A btree index entry holds at most about 2,700 bytes: a longer key text would fail the insert.
_MAX_KEY_TEXT = 200


def _number(name: str, value: Any, *, low: float | None = None, high: float | None = None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise RecordError(f"{name} must be a finite number, got {value!r:.40}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise RecordError(f"{name} out of range: {value}")
    if abs(value) > _REAL_MAX or 0 < abs(value) < _REAL_MIN:
        raise RecordError(f"{name} out of the range of a PostgreSQL real: {value}")
    return float(value)


def _int32(name: str, value: Any, minimum: int = 0) -> int | None:
    return _int(name, value, minimum=minimum, maximum=MAX_INT32)


def _key_text(name: str, value: Any) -> str:
    text = _required_text(name, value)
    if len(text.encode()) > _MAX_KEY_TEXT:
        raise RecordError(f"{name} longer than {_MAX_KEY_TEXT} bytes: {text!r:.40}")
    return text


def _required_text(name: str, value: Any) -> str:
    text = _text(name, value)
    if not text:
        raise RecordError(f"missing required field: {name}")
    return text


_CHECKS = {
    "channel_name": _channel,
    "message_id": lambda n, v: _int(n, v, minimum=1),
    "model_name": _key_text,
    "detection_index": _int32,
    "image_path": lambda n, v: _image_path(n, _required_text(n, v)),
    "weights_hash": _text,
    "detected_class": _text,
    "class_id": _int32,
    "confidence": lambda n, v: _number(n, v, low=0.0, high=1.0),
    "x_min": lambda n, v: _number(n, v, low=0.0),
    "y_min": lambda n, v: _number(n, v, low=0.0),
    "x_max": lambda n, v: _number(n, v, low=0.0),
    "y_max": lambda n, v: _number(n, v, low=0.0),
    "image_width": lambda n, v: _int32(n, v, minimum=1),
    "image_height": lambda n, v: _int32(n, v, minimum=1),
    "detected_at": _instant,
}
_REQUIRED = ("channel_name", "message_id", "model_name", "detection_index", "image_path", "detected_at")


def check_record(data: Mapping[str, Any]) -> dict[str, Any]:
    """Validate one detection record; raise RecordError naming the first bad field."""
    if not isinstance(data, Mapping):
        raise RecordError(f"record is a {type(data).__name__}, not an object")
    missing = [f for f in _REQUIRED if data.get(f) in (None, "")]
    if missing:
        raise RecordError(f"missing required field(s): {', '.join(missing)}")
    unknown = set(data) - set(COLUMNS)
    if unknown:
        raise RecordError(f"unknown field(s): {', '.join(sorted(unknown))}")
    record = {name: check(name, data.get(name)) for name, check in _CHECKS.items()}
    if record["detected_class"] is None:
        if record["detection_index"] != 0 or any(record[c] is not None for c in (*_BOX, "confidence")):
            raise RecordError("a record without detected_class must be the image's only one (detection_index 0,"
                              " no box, no confidence)")
    elif any(record[c] is None for c in (*_BOX, "confidence")):
        raise RecordError("a detection needs a confidence and all four box coordinates")
    elif record["x_min"] > record["x_max"] or record["y_min"] > record["y_max"]:
        raise RecordError("box has x_min > x_max or y_min > y_max")
    return record


def validate(data: bytes, relpath: str) -> tuple[list[dict], list[dict], int]:
    """A detections file's valid records, its rejects and the NULs stripped (see lake.split_records)."""
    good, rejects, nul_stripped = split_records(data, relpath, check_record, lambda r: tuple(r[k] for k in KEY), "detection")
    # An image with no detection has exactly one row: a null record beside real detections is a contradiction.
    images_with_detections = {(r["channel_name"], r["message_id"], r["model_name"])
                              for r in good if r["detected_class"] is not None}
    kept = []
    for record in good:
        if record["detected_class"] is None and \
                (record["channel_name"], record["message_id"], record["model_name"]) in images_with_detections:
            reason = "a 'no detection' record for an image that has detections"
            log.warning("%s: record for message %s quarantined: %s", relpath, record["message_id"], reason)
            rejects.append({"index": None, "reason": reason, "record": record})
            continue
        kept.append(record)
    return kept, rejects, nul_stripped


# A result older than the one already loaded for the same image is not applied (it counts as unchanged).
_DROP_OLDER = """
delete from pg_temp.load_image_detections s
using raw.image_detections t
where t.channel_name = s.channel_name and t.message_id = s.message_id and t.model_name = s.model_name
  and t.detected_at > s.detected_at
"""

# Rows of a detection_index the newer result no longer has.
_DELETE_STALE = """
delete from raw.image_detections t
using (
    select channel_name, message_id, model_name, max(detection_index) as last_index, max(detected_at) as at
    from pg_temp.load_image_detections group by 1, 2, 3
) s
where t.channel_name = s.channel_name and t.message_id = s.message_id and t.model_name = s.model_name
  and t.detection_index > s.last_index and t.detected_at <= s.at
"""

_UPSERT = f"""
with upserted as (
    insert into raw.image_detections as t ({", ".join(_COPY_COLUMNS)})
    select {", ".join(_COPY_COLUMNS)} from pg_temp.load_image_detections
    on conflict ({", ".join(KEY)}) do update set
        {", ".join(f"{c} = excluded.{c}" for c in _VALUES)}, lake_file = excluded.lake_file, loaded_at = now()
    where excluded.detected_at >= t.detected_at
      and ({", ".join(f"t.{c}" for c in _VALUES)}) is distinct from ({", ".join(f"excluded.{c}" for c in _VALUES)})
    returning t.lake_file, (xmax = 0) as inserted
)
select lake_file, count(*) filter (where inserted), count(*) filter (where not inserted)
from upserted group by lake_file
"""


def detection_files(root: Path) -> list[Path]:
    return sorted(p for p in (root / lake.DETECTIONS_DIR).glob("*/*/*.json") if not p.name.startswith("."))


def _copy_rows(records: Iterable[dict], lake_file: str) -> Iterable[tuple]:
    for record in records:
        yield (*(record[c] for c in COLUMNS), lake_file)


class DetectionLoader(LakeFileLoader):
    target = TARGET
    copy_columns = _COPY_COLUMNS

    def validate(self, data: bytes, relpath: str) -> tuple[list[dict], list[dict], int]:
        return validate(data, relpath)

    def copy_rows(self, records: list[dict], relpath: str) -> Iterable[tuple]:
        return _copy_rows(records, relpath)

    def batch_key(self, record: dict) -> Hashable:
        # An image's result replaces its older one whole: two results of one image never share a batch.
        return record["channel_name"], record["message_id"], record["model_name"]

    def apply(self) -> dict[str, tuple[int, int]]:
        # Never prepared: a plan made while the table was empty would stay a sequential scan as it grows.
        self.conn.execute(_DROP_OLDER, prepare=False)
        self.conn.execute(_DELETE_STALE, prepare=False)
        rows = self.conn.execute(_UPSERT, prepare=False).fetchall()
        return {lake_file: (inserted, updated) for lake_file, inserted, updated in rows}


def load_detections(
    conn: psycopg.Connection,
    root: Path | None = None,
    paths: Iterable[Path] | None = None,
    progress: Callable[[int, int, FileResult], None] | None = None,
    **batching: int,
) -> LoadSummary:
    """Load the lake's detections files (or the given ones) into raw.image_detections."""
    root = (root or lake.lake_dir()).resolve()
    files = sorted(paths) if paths is not None else detection_files(root)
    return DetectionLoader(conn, root, **batching).load_files(files, progress)
