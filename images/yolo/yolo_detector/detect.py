"""The detect run: photos with no detections of this model yet -> model -> detections files in the lake.

Each run writes enriched/detections/<model_name>/<YYYY-MM-DD>/<run_id>-<part>.json, a JSON array with one
record per detection and one (detected_class null) per photo in which the model found nothing. Files are
written atomically, every `flush_every` photos and at the end, so a run that dies keeps what it finished.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import re
import secrets
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import orjson

from medical_telegram import lake
from yolo_detector import photos as ph
from yolo_detector.model import DetectError, Model, check_device  # noqa: F401
from yolo_detector import state
from yolo_detector.roles import ClassRoles, load_roles

log = logging.getLogger(__name__)

DEFAULT_WEIGHTS = "yolov8n.pt"


@dataclasses.dataclass
class Settings:
    root: Path
    weights: Path
    model_name: str | None = None
    batch_size: int = 16
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    imgsz: int = 640
    conf: float = 0.25
    roles: ClassRoles | None = None
    flush_every: int = 512  # photos per detections file
    threads: int | None = None  # torch CPU threads; None = ultralytics' choice (cores - 1, at most 8)
    limit: int | None = None  # at most this many photos in this run

    @classmethod
    def from_env(cls, root: Path | None = None, **overrides) -> Settings:
        weights = Path(os.environ.get("YOLO_WEIGHTS") or DEFAULT_WEIGHTS)
        settings = cls(root=root or lake.lake_dir(), weights=weights)
        for name in ("batch_size", "imgsz", "flush_every"):
            env = os.environ.get(f"YOLO_{name.upper()}")
            if env:
                setattr(settings, name, int(env))
        settings.device = os.environ.get("YOLO_DEVICE", settings.device)
        settings.model_name = os.environ.get("YOLO_MODEL_NAME") or None
        for name, value in overrides.items():
            if value is not None:
                setattr(settings, name, value)
        return settings


@dataclasses.dataclass
class Summary:
    images: int = 0
    detections: int = 0
    images_without_detections: int = 0
    quarantined: int = 0
    remaining: int = 0  # photos left for a later run (--limit)
    seconds: float = 0.0  # the whole run, model loading included
    loop_seconds: float = 0.0  # decoding, inference and writing only: the steady-state speed
    device: str | None = None
    model: str | None = None
    weights_hash: str | None = None
    files: list[str] = dataclasses.field(default_factory=list)

    def as_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["seconds"] = round(self.seconds, 2)
        data["loop_seconds"] = round(self.loop_seconds, 2)
        data["images_per_second"] = round(self.images / self.seconds, 2) if self.seconds and self.images else 0.0
        return data


def resolve_weights(weights: Path) -> Path:
    """The weights file: the path itself, or the one *.pt file of a folder (the image keeps its model in
    /opt/models, named as it was built, so the model name follows the file without another setting)."""
    if weights.is_dir():
        found = sorted(weights.glob("*.pt"))
        if len(found) != 1:
            raise DetectError(f"{weights} must hold exactly one *.pt weights file, it holds {len(found)}")
        return found[0]
    if not weights.is_file():
        raise DetectError(f"weights file not found: {weights} (set --weights or YOLO_WEIGHTS)")
    return weights


def model_name_of(weights: Path) -> str:
    """fall_detection_best.pt -> fall_detection_best: a name safe in paths and SQL values."""
    return re.sub(r"[^a-z0-9_.-]+", "_", weights.stem.lower()).strip("_.-") or "model"


def weights_hash(weights: Path) -> str:
    digest = hashlib.sha256()
    with weights.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:12]


class DetectionsWriter:
    """Collects records and writes them to the lake in part files, atomically."""

    def __init__(self, root: Path, model_name: str, flush_every: int):
        now = datetime.now(UTC)
        self.folder = state.model_dir(root, model_name) / now.date().isoformat()
        self.run_id = f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
        self.root = root
        self.flush_every = flush_every
        self.records: list[dict] = []
        self.photos = 0
        self.part = 0
        self.files: list[str] = []

    def add(self, records: list[dict]) -> None:
        self.records.extend(records)
        self.photos += 1
        if self.photos >= self.flush_every:
            self.flush()

    def flush(self) -> None:
        if not self.records:
            return
        self.part += 1
        path = self.folder / f"{self.run_id}-{self.part:03d}.json"
        self.records.sort(key=lambda r: (r["channel_name"], r["message_id"], r["detection_index"]))
        body = b"[\n" + b",\n".join(orjson.dumps(r) for r in self.records) + b"\n]\n"
        lake.atomic_write_bytes(path, body)
        self.files.append(path.relative_to(self.root).as_posix())
        log.info("wrote %s (%d records of %d photos)", self.files[-1], len(self.records), self.photos)
        self.records, self.photos = [], 0


def records_for(header: ph.Header, items, *, model_name: str, whash: str, roles: ClassRoles,
                names: dict[int, str], detected_at: str) -> list[dict]:
    photo = header.photo
    base = {"channel_name": photo.channel_name, "message_id": photo.message_id, "image_path": photo.relpath,
            "model_name": model_name, "weights_hash": whash}
    size = {"image_width": header.width, "image_height": header.height, "detected_at": detected_at}
    if not items:
        return [{**base, "detection_index": 0, "detected_class": None, "class_id": None, "confidence": None,
                 "x_min": None, "y_min": None, "x_max": None, "y_max": None, **size}]
    records = []
    for index, (cls, conf, (x1, y1, x2, y2)) in enumerate(items):
        records.append({**base, "detection_index": index,
                        "detected_class": roles.detected_class(names.get(cls, str(cls))), "class_id": cls,
                        "confidence": round(conf, 4), "x_min": x1, "y_min": y1, "x_max": x2, "y_max": y2,
                        **size})
    return records


def _quarantine(root: Path, path: Path, reason: str) -> None:
    relpath = path.relative_to(root).as_posix()
    try:
        content = path.read_bytes()
    except OSError:
        content = None  # unreadable: the note alone says why
    lake.quarantine(root, relpath, reason, content)
    log.warning("quarantined %s: %s", relpath, reason)


def run(settings: Settings, progress: Callable[[str], None] | None = None) -> Summary:
    """Detect objects in every photo of the lake that has no record of this model yet."""
    began = time.monotonic()
    root = settings.root.resolve()
    if settings.batch_size < 1:
        raise DetectError("batch size must be at least 1")
    check_device(settings.device)
    settings.weights = resolve_weights(settings.weights)
    settings.roles = settings.roles or load_roles()
    model_name = settings.model_name or model_name_of(settings.weights)
    summary = Summary(model=model_name, weights_hash=weights_hash(settings.weights))
    say = progress or (lambda message: log.info("%s", message))
    pending = _pending_photos(root, settings.limit, model_name, summary, say)
    if pending:
        workers = max(1, min(8, len(os.sched_getaffinity(0))))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="decode") as pool:
            headers = _read_headers(pool, pending, root, summary)
            if headers:
                _detect(pool, headers, settings, root, summary, say)
    summary.seconds = time.monotonic() - began
    return summary


def _pending_photos(root: Path, limit: int | None, model_name: str, summary: Summary,
                    say: Callable[[str], None]) -> list[ph.Photo]:
    """The lake's photos without detections of this model; misnamed files are quarantined."""
    photos, misnamed = ph.find_photos(root)
    for path, reason in misnamed:
        if not state.was_quarantined(root, path):
            _quarantine(root, path, reason)
            summary.quarantined += 1
    done = state.done_keys(root, model_name)
    pending = [p for p in photos if p.key not in done and not state.was_quarantined(root, p.path)]
    if limit is not None:
        summary.remaining = max(0, len(pending) - limit)
        pending = pending[:limit]
    say(f"detect: {len(photos)} photos in the lake, {len(photos) - len(pending) - summary.remaining}"
        f" done or quarantined before, {len(pending)} to do with {model_name} ({summary.weights_hash})")
    return pending


def _read_headers(pool: ThreadPoolExecutor, pending: list[ph.Photo], root: Path,
                  summary: Summary) -> list[ph.Header]:
    """Each photo's size, read in parallel; a photo that does not decode is quarantined. Sorted by aspect, so
    a batch's photos share one canvas with little padding."""
    headers = []
    for photo, result in zip(pending, pool.map(_header_or_error, pending), strict=True):
        if isinstance(result, ph.BadImage):
            _quarantine(root, photo.path, str(result))
            summary.quarantined += 1
        else:
            headers.append(result)
    headers.sort(key=ph.aspect_key)
    return headers


def _detect(pool: ThreadPoolExecutor, headers: list[ph.Header], settings: Settings, root: Path,
            summary: Summary, say: Callable[[str], None]) -> None:
    """The model over the photos in batches, the next batch decoded while the model works on this one."""
    model = Model(settings)
    summary.device = model.device
    writer = DetectionsWriter(root, summary.model, settings.flush_every)
    batches = list(ph.chunks(headers, settings.batch_size))
    started = time.monotonic()
    shared = not model.per_photo  # one canvas per batch, or one per photo
    upcoming = _submit(pool, batches[0], settings.imgsz, model.stride, shared)
    for number, batch in enumerate(batches):
        current = upcoming
        if number + 1 < len(batches):
            upcoming = _submit(pool, batches[number + 1], settings.imgsz, model.stride, shared)
        boxes = []
        for header, future in zip(batch, current, strict=True):
            try:
                boxes.append(future.result())
            except ph.BadImage as exc:
                _quarantine(root, header.photo.path, str(exc))
                summary.quarantined += 1
        if boxes:
            detected_at = lake.utc_now()
            for box, items in zip(boxes, model.detect(boxes), strict=True):
                writer.add(records_for(box.header, items, model_name=summary.model, whash=summary.weights_hash,
                                       roles=settings.roles, names=model.names, detected_at=detected_at))
                summary.images += 1
                summary.detections += len(items)
                summary.images_without_detections += not items
        done_count = sum(len(b) for b in batches[: number + 1])
        rate = summary.images / max(time.monotonic() - started, 1e-9)
        say(f"detect: {done_count}/{len(headers)} photos, {rate:.1f} images/s, {summary.detections} detections,"
            f" {summary.quarantined} quarantined")
    writer.flush()
    summary.loop_seconds = time.monotonic() - started
    summary.files = writer.files


def _header_or_error(photo: ph.Photo) -> ph.Header | ph.BadImage:
    try:
        return ph.read_header(photo)
    except ph.BadImage as exc:
        return exc


def _submit(pool: ThreadPoolExecutor, batch: list[ph.Header], imgsz: int, stride: int,
            shared: bool) -> list[Future]:
    if shared:
        canvas = ph.canvas_shape(batch, imgsz, stride)
        return [pool.submit(ph.letterbox, header, imgsz, canvas) for header in batch]
    return [pool.submit(ph.letterbox, h, imgsz, ph.canvas_shape([h], imgsz, stride)) for h in batch]
