"""The detect run: photos with no detections of this model yet -> model -> detections files in the lake.

Each run writes enriched/detections/<model_name>/<YYYY-MM-DD>/<run_id>-<part>.json, a JSON array with one
record per detection and one (detected_class null) per photo in which the model found nothing. Files are
written atomically, every `flush_every` photos and at the end, so a run that dies keeps what it finished.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import os
import re
import secrets
import sys
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import orjson

from medical_telegram import lake
from yolo_detector import photos as ph
from yolo_detector import state
from yolo_detector.roles import ClassRoles, load_roles

log = logging.getLogger(__name__)

DEFAULT_WEIGHTS = "yolov8n.pt"


class DetectError(RuntimeError):
    """A run that cannot start (bad weights, no CUDA when asked for it); the message says why."""


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


class Model:
    """The ultralytics model on its device. torch is imported here only, so runs with nothing to do
    (and the categories command) start in a fraction of a second."""

    def __init__(self, settings: Settings):
        import numpy as np
        import torch

        # ultralytics logs to stdout (its handler takes sys.stdout when imported), and on a machine where it
        # never ran it first prints a note on its settings file: keep stdout for our summary line alone.
        with contextlib.redirect_stdout(sys.stderr):
            from ultralytics import YOLO

        self.device = _resolve_device(settings.device, torch)
        # FP16 on a GPU (about twice the speed, same boxes to a pixel); a CPU computes in FP32 anyway.
        self.precision = {"quantize": 16} if self.device.startswith("cuda") else {}
        self.imgsz = settings.imgsz
        self.conf = settings.conf
        try:
            self.yolo = YOLO(str(settings.weights), task="detect")
            names = self.yolo.names
        except Exception as exc:  # noqa: BLE001 - any loader failure is a bad weights file
            raise DetectError(f"cannot load weights {settings.weights}: {exc}") from None
        if self.yolo.task != "detect":
            raise DetectError(f"{settings.weights} is a {self.yolo.task} model, not a detection model")
        self.names = {int(k): str(v) for k, v in names.items()}
        self.stride = int(max(getattr(self.yolo.model, "stride", [32])))
        # ultralytics sets its predictor up (device, FP16, fused layers, warm-up) on the first predict call:
        # make that call once, on a 32x32 input that costs next to nothing. The batches then go straight to
        # the predictor's model and NMS: `predict` would rebuild its data source and settings on every call
        # (about 25 ms of CPU each) and letterbox photos that are letterboxed already. On a CPU ultralytics
        # gives torch all cores but one (at most 8), leaving one to decode photos; --threads overrides that.
        self.yolo.predict([np.full((32, 32, 3), ph.PAD_VALUE, dtype=np.uint8)], imgsz=32, conf=self.conf,
                          device=self.device, verbose=False, save=False, **self.precision)
        self.predictor = self.yolo.predictor
        # On a CPU a batch buys nothing (torch already spreads one photo's convolutions over the cores) and
        # costs: a batch's activations (~200 MB at 16 photos) outgrow what malloc keeps for reuse, so each call
        # maps and faults in fresh memory (about 15% more CPU time, measured). There each photo goes alone, on
        # a canvas of its own; --batch-size still sets how many are decoded ahead.
        # YOLO_CPU_BATCHES=1 keeps batches on a CPU too: the GPU's code path, for tests on machines without one.
        self.per_photo = self.device == "cpu" and os.environ.get("YOLO_CPU_BATCHES") != "1"
        if self.device == "cpu" and settings.threads:
            torch.set_num_threads(settings.threads)
        self._torch = torch
        self._np = np

    def detect(self, boxes: list[ph.Letterboxed]) -> list[list[tuple[int, float, tuple[float, ...]]]]:
        """Per photo: (class_id, confidence, (x_min, y_min, x_max, y_max) in original pixels)."""
        if self.per_photo and len(boxes) > 1:
            return [found for box in boxes for found in self.detect([box])]
        from ultralytics.utils import nms

        torch, predictor, args = self._torch, self.predictor, self.predictor.args
        batch = self._np.stack([b.array for b in boxes]) if len(boxes) > 1 else boxes[0].array[None]
        with torch.inference_mode():
            # What BasePredictor.preprocess does to arrays, minus the letterbox (done) and the BGR flip (RGB).
            im = torch.from_numpy(batch).to(predictor.device).permute(0, 3, 1, 2).contiguous()
            im = (im.half() if predictor.model.fp16 else im.float()).div_(255)
            preds = predictor.inference(im)
            # DetectionPredictor.postprocess's NMS, with the predictor's own settings.
            found_per_image = nms.non_max_suppression(
                preds, args.conf, args.iou, args.classes, args.agnostic_nms, max_det=args.max_det, nc=0,
                end2end=getattr(predictor.model, "end2end", False), rotated=False,
            )
        found = []
        for box, detections in zip(boxes, found_per_image, strict=True):
            rows = detections[:, :6].float().cpu().numpy()
            width, height = box.header.width, box.header.height
            items = []
            for x1, y1, x2, y2, conf, cls in rows:
                # Undo the letterbox: canvas pixels -> pixels of the photo as displayed.
                coords = (
                    min(max((x1 - box.left) / box.scale_x, 0.0), width),
                    min(max((y1 - box.top) / box.scale_y, 0.0), height),
                    min(max((x2 - box.left) / box.scale_x, 0.0), width),
                    min(max((y2 - box.top) / box.scale_y, 0.0), height),
                )
                items.append((int(cls), float(conf), tuple(round(float(c), 1) for c in coords)))
            items.sort(key=lambda item: -item[1])
            found.append(items)
        return found


def check_device(wanted: str | None) -> str:
    wanted = (wanted or "auto").lower()
    if not re.fullmatch(r"auto|cpu|cuda(:\d+)?", wanted):
        raise DetectError(f"unknown device {wanted!r}: use auto, cpu, cuda or cuda:N")
    return wanted


def _resolve_device(wanted: str, torch) -> str:
    wanted = check_device(wanted)
    if wanted == "auto":
        return "cuda:0" if torch.cuda.is_available() else "cpu"
    if wanted.startswith("cuda"):
        if not torch.cuda.is_available():
            raise DetectError("--device cuda was asked for, but torch sees no CUDA device")
        return "cuda:0" if wanted == "cuda" else wanted
    return "cpu"


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
    roles = settings.roles or load_roles()
    model_name = settings.model_name or model_name_of(settings.weights)
    summary = Summary(model=model_name, weights_hash=weights_hash(settings.weights))
    say = progress or (lambda message: log.info("%s", message))

    photos, misnamed = ph.find_photos(root)
    for path, reason in misnamed:
        if not state.was_quarantined(root, path):
            _quarantine(root, path, reason)
            summary.quarantined += 1
    done = state.done_keys(root, model_name)
    pending = [p for p in photos if p.key not in done and not state.was_quarantined(root, p.path)]
    if settings.limit is not None:
        summary.remaining = max(0, len(pending) - settings.limit)
        pending = pending[: settings.limit]
    say(f"detect: {len(photos)} photos in the lake, {len(photos) - len(pending) - summary.remaining}"
        f" done or quarantined before, {len(pending)} to do with {model_name} ({summary.weights_hash})")
    if not pending:
        summary.seconds = time.monotonic() - began
        return summary

    workers = max(1, min(8, len(os.sched_getaffinity(0))))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="decode") as pool:
        headers = []
        for photo, result in zip(pending, pool.map(_header_or_error, pending), strict=True):
            if isinstance(result, ph.BadImage):
                _quarantine(root, photo.path, str(result))
                summary.quarantined += 1
            else:
                headers.append(result)
        headers.sort(key=ph.aspect_key)
        if not headers:
            summary.seconds = time.monotonic() - began
            return summary

        model = Model(settings)
        summary.device = model.device
        writer = DetectionsWriter(root, model_name, settings.flush_every)
        batches = list(ph.chunks(headers, settings.batch_size))
        total = len(headers)
        started = time.monotonic()
        shared = not model.per_photo  # one canvas per batch, or one per photo
        upcoming = _submit(pool, batches[0], settings.imgsz, model.stride, shared) if batches else []
        for number, batch in enumerate(batches):
            current = upcoming
            # Decode the next batch while the model works on this one.
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
                    records = records_for(box.header, items, model_name=model_name, whash=summary.weights_hash,
                                          roles=roles, names=model.names, detected_at=detected_at)
                    writer.add(records)
                    summary.images += 1
                    summary.detections += len(items)
                    summary.images_without_detections += not items
            done_count = sum(len(b) for b in batches[: number + 1])
            rate = summary.images / max(time.monotonic() - started, 1e-9)
            say(f"detect: {done_count}/{total} photos, {rate:.1f} images/s, {summary.detections} detections,"
                f" {summary.quarantined} quarantined")
        writer.flush()
        summary.loop_seconds = time.monotonic() - started
        summary.files = writer.files
    summary.seconds = time.monotonic() - began
    return summary


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
