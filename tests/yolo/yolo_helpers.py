"""Helpers the detector's tests share (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path


def put_photo(root: Path, channel: str, message_id: int | str, source: Path | bytes) -> Path:
    target = root / "raw" / "images" / channel / f"{message_id}.jpg"
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(source, bytes):
        target.write_bytes(source)
    else:
        shutil.copyfile(source, target)
    return target


def detection_records(root: Path) -> list[dict]:
    records = []
    for path in sorted((root / "enriched" / "detections").glob("*/*/*.json")):
        records.extend(json.loads(path.read_text()))
    return records
