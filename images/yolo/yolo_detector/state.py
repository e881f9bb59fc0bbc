"""What has been done already, read from the lake itself (the container keeps no state of its own).

- A photo is done for a model when a detections file of that model has a record for it.
- A photo that was quarantined is not retried while its quarantine note is newer than the photo, so a
  corrupt file costs one attempt, and a photo replaced later (re-scraped) is tried again.
"""

from __future__ import annotations

import logging
from pathlib import Path

import orjson

from medical_telegram import lake

log = logging.getLogger(__name__)


def model_dir(root: Path, model_name: str) -> Path:
    return root / lake.DETECTIONS_DIR / model_name


def detection_files(root: Path, model_name: str | None = None) -> list[Path]:
    """enriched/detections/<model>/<YYYY-MM-DD>/<run>.json, of one model or all."""
    pattern = f"{model_name}/*/*.json" if model_name else "*/*/*.json"
    return sorted(p for p in (root / lake.DETECTIONS_DIR).glob(pattern) if not p.name.startswith("."))


def read_records(path: Path) -> list[dict]:
    data = orjson.loads(path.read_bytes())
    if not isinstance(data, list):
        raise ValueError("expected a JSON array of detection records")
    return data


def done_keys(root: Path, model_name: str) -> set[tuple[str, int]]:
    """(channel_name, message_id) of every photo that already has a record of this model."""
    done: set[tuple[str, int]] = set()
    for path in detection_files(root, model_name):
        try:
            records = read_records(path)
        except (OSError, ValueError) as exc:
            # The loader quarantines such a file; its photos are simply detected again.
            log.warning("ignoring unreadable detections file %s: %s", path, exc)
            continue
        for record in records:
            if isinstance(record, dict):
                done.add((record.get("channel_name"), record.get("message_id")))
    return done


def quarantine_note(root: Path, relpath: str) -> Path:
    target = root / lake.QUARANTINE_DIR / relpath
    return target.with_name(target.name + ".reason.txt")


def was_quarantined(root: Path, path: Path) -> bool:
    """True when the photo was quarantined after it was last written."""
    note = quarantine_note(root, path.relative_to(root).as_posix())
    try:
        try:
            photo = path.stat()
        except FileNotFoundError:
            photo = path.lstat()  # a dangling link: its own times
        # ctime too: a chmod or a rename into place (how the lake writes) is a change worth a new try.
        return note.stat().st_mtime >= max(photo.st_mtime, photo.st_ctime)
    except OSError:
        return False
