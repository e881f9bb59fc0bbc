"""The lake's photos: which ones exist, and decoding one into a letterboxed array for the model.

Decoding never holds a huge image in memory: a JPEG is decoded at a reduced scale (PIL's draft mode, down
to 1/8 of each side) close to the size the model needs, and any other format larger than MAX_DECODE_PIXELS
is refused rather than decoded whole.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from medical_telegram import lake

# We check sizes ourselves (below) instead of PIL's decompression-bomb guard, which would refuse a
# 20000x20000 JPEG that draft mode decodes at 2500x2500 without trouble.
Image.MAX_IMAGE_PIXELS = None
MAX_DECODE_PIXELS = 64_000_000  # what we agree to decode at once: 64 Mpx is about 192 MB of RGB
_ID_RE = re.compile(r"[1-9][0-9]{0,18}")
_ROTATED = {5, 6, 7, 8}  # EXIF orientations that swap width and height
PAD_VALUE = 114  # ultralytics' letterbox grey


class BadImage(Exception):
    """A photo that cannot be used; the message is the reason kept beside its quarantined copy."""


@dataclasses.dataclass(frozen=True, slots=True)
class Photo:
    channel_name: str
    message_id: int
    path: Path
    relpath: str

    @property
    def key(self) -> tuple[str, int]:
        return (self.channel_name, self.message_id)


@dataclasses.dataclass(slots=True)
class Header:
    """What the file's header says, read without decoding the pixels."""

    photo: Photo
    width: int  # as displayed, after the EXIF orientation
    height: int


@dataclasses.dataclass(slots=True)
class Letterboxed:
    """A decoded photo resized to fit the model's input and centred on a canvas of the batch's shape."""

    header: Header
    array: np.ndarray  # H x W x 3, RGB
    scale_x: float  # canvas pixels per original pixel
    scale_y: float
    left: int
    top: int


def find_photos(root: Path) -> tuple[list[Photo], list[tuple[Path, str]]]:
    """The lake's photos raw/images/<channel>/<message_id>.jpg, and the files there that break that shape."""
    photos: list[Photo] = []
    misnamed: list[tuple[Path, str]] = []
    base = root / lake.IMAGES_DIR
    if not base.is_dir():
        return photos, misnamed
    for channel_dir in sorted(p for p in base.iterdir() if p.is_dir()):
        for path in sorted(channel_dir.glob("*.jpg")):
            if not lake.CHANNEL_NAME_RE.fullmatch(channel_dir.name):
                misnamed.append((path, f"folder {channel_dir.name!r} is not a channel name ([a-z0-9_])"))
            elif not _ID_RE.fullmatch(path.stem):
                misnamed.append((path, f"file name {path.name!r} is not <message_id>.jpg"))
            else:
                relpath = path.relative_to(root).as_posix()
                photos.append(Photo(channel_dir.name, int(path.stem), path, relpath))
    return photos, misnamed


def read_header(photo: Photo) -> Header:
    try:
        with Image.open(photo.path) as im:
            width, height = im.size
            if _orientation(im) in _ROTATED:
                width, height = height, width
    except PermissionError as exc:
        raise BadImage(f"unreadable: {exc.strerror}") from None
    except (OSError, ValueError, SyntaxError) as exc:  # PIL's UnidentifiedImageError is an OSError
        raise BadImage(f"not an image PIL can read: {exc}") from None
    if width < 1 or height < 1:
        raise BadImage(f"empty image ({width}x{height})")
    return Header(photo, width, height)


def fitted_size(width: int, height: int, imgsz: int) -> tuple[int, int]:
    """The size an image takes inside the model's imgsz square (as ultralytics' letterbox computes it)."""
    ratio = min(imgsz / height, imgsz / width)
    return max(1, round(width * ratio)), max(1, round(height * ratio))


def canvas_shape(headers: list[Header], imgsz: int, stride: int = 32) -> tuple[int, int]:
    """(height, width) of the smallest stride-aligned canvas that holds every image of a batch."""
    sizes = [fitted_size(h.width, h.height, imgsz) for h in headers]
    width = max(w for w, _ in sizes)
    height = max(h for _, h in sizes)
    return math.ceil(height / stride) * stride, math.ceil(width / stride) * stride


def aspect_key(header: Header) -> float:
    """Sorting by this puts images with the same canvas next to each other, so batches waste no padding."""
    return header.width / header.height


def letterbox(header: Header, imgsz: int, canvas: tuple[int, int]) -> Letterboxed:
    """Decode one photo (at a reduced scale when it is large) and centre it on a canvas of the given shape."""
    width, height = fitted_size(header.width, header.height, imgsz)
    try:
        with Image.open(header.photo.path) as im:
            if _orientation(im) in _ROTATED:
                wanted = (height, width)
            else:
                wanted = (width, height)
            if im.format == "JPEG":
                # draft picks the smallest DCT scale (1/1 .. 1/8) that still gives at least `wanted`.
                im.draft("RGB", wanted)
            if im.size[0] * im.size[1] > MAX_DECODE_PIXELS:
                raise BadImage(
                    f"too large to decode safely ({header.width}x{header.height}, {im.format});"
                    f" only JPEG can be reduced while decoding"
                )
            im.load()
            im = ImageOps.exif_transpose(im)
            if im.mode != "RGB":
                im = im.convert("RGB")
            if im.size != (width, height):
                im = im.resize((width, height), Image.Resampling.BILINEAR)
            pixels = np.asarray(im)
    except BadImage:
        raise
    except PermissionError as exc:
        raise BadImage(f"unreadable: {exc.strerror}") from None
    except Exception as exc:  # noqa: BLE001 - any decoder failure means a corrupt file, never a crash
        raise BadImage(f"corrupt image ({type(exc).__name__}: {exc})") from None
    canvas_h, canvas_w = canvas
    top = round((canvas_h - height) / 2 - 0.1)
    left = round((canvas_w - width) / 2 - 0.1)
    array = np.full((canvas_h, canvas_w, 3), PAD_VALUE, dtype=np.uint8)
    array[top:top + height, left:left + width] = pixels
    return Letterboxed(header, array, width / header.width, height / header.height, left, top)


def _orientation(im: Image.Image) -> int:
    try:
        return int(im.getexif().get(0x0112, 1))
    except Exception:  # noqa: BLE001 - a broken EXIF block must not make a good photo unusable
        return 1


def chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
