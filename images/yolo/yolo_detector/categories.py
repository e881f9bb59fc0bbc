"""Image categories from the detections in the lake (the same rule dbt's fct_image_detections applies).

Reads only the detections files: no model, no torch.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

from yolo_detector import state
from yolo_detector.roles import CATEGORIES, ClassRoles

log = logging.getLogger(__name__)


def image_categories(root: Path, roles: ClassRoles, model_name: str | None = None) -> Iterator[dict]:
    """One item per (model, photo): its detected classes and its image_category."""
    classes: dict[tuple[str, str, int], set] = defaultdict(set)
    for path in state.detection_files(root, model_name):
        try:
            records = state.read_records(path)
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable detections file %s: %s", path, exc)
            continue
        for record in records:
            key = (record["model_name"], record["channel_name"], record["message_id"])
            classes[key].add(record.get("detected_class"))
    for (model, channel, message_id), found in sorted(classes.items()):
        named = sorted(c for c in found if c is not None)
        yield {"model_name": model, "channel_name": channel, "message_id": message_id,
               "detected_classes": named, "image_category": roles.categorize(named)}


def summarize(items: list[dict]) -> dict:
    counts = Counter(item["image_category"] for item in items)
    return {"images": len(items), "categories": {c: counts.get(c, 0) for c in CATEGORIES},
            "models": sorted({item["model_name"] for item in items})}
