"""Helpers the detector's tests share (`from tests.images.yolo.yolo_helpers import ...`)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[3]
YOLO_PYTHON = PROJECT_DIR / ".venvs" / "yolo" / "bin" / "python"
MODEL = PROJECT_DIR / "models" / "fall_detection_best.pt"
SAMPLE_PHOTOS = PROJECT_DIR / "sample" / "lake" / "raw" / "images" / "lobelia4cosmetics"

# Photos of the bundled sample used by the detector tests: real product posts of @lobelia4cosmetics, some
# showing a person (the offline model finds one) and some showing products only.
SAMPLE_IDS = (22825, 22826, 22827, 22831, 22839, 22848)
BIG_SIZE = (12000, 9000)  # about 108 Mpx: decoded whole it would take 324 MB of RGB


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
