"""The ultralytics model on its device, and the device check. torch is imported on use only."""

from __future__ import annotations

import contextlib
import os
import re
import sys
from typing import TYPE_CHECKING

from yolo_detector import photos as ph

if TYPE_CHECKING:
    from yolo_detector.detect import Settings


class DetectError(RuntimeError):
    """A run that cannot start (bad weights, no CUDA when asked for it); the message says why."""


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
