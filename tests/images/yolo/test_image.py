"""The detector image on the CPU with the offline model: no network, the lake and models/ bind-mounted.

A few real sample photos go into an empty lake; the container must write one detections record per
detection (or one with detected_class null per photo with none) for every photo, and a second run must
find nothing left to do (it skips photos already detected by this model).
"""

from __future__ import annotations

import json
import shutil

import pytest

from tests.support.docker_support import MODELS, SAMPLE, docker_run, last_json_line, make_world_writable

pytestmark = pytest.mark.docker

WEIGHTS = MODELS / "fall_detection_best.pt"
CHANNEL = "lobelia4cosmetics"
PHOTO_IDS = (22870, 22900, 22926, 22945)


@pytest.fixture
def photo_lake(shared_lake):
    source = SAMPLE / "lake" / "raw" / "images" / CHANNEL
    target = shared_lake / "raw" / "images" / CHANNEL
    target.mkdir(parents=True)
    available = sorted(int(p.stem) for p in source.glob("*.jpg"))
    ids = [i for i in PHOTO_IDS if i in available] or available[:4]
    for message_id in ids:
        shutil.copyfile(source / f"{message_id}.jpg", target / f"{message_id}.jpg")
    make_world_writable(shared_lake)
    return shared_lake, ids


def detect(image, lake):
    return docker_run(image, ["detect", "--lake", "/data", "--weights", f"/models/{WEIGHTS.name}",
                              "--device", "cpu", "--threads", "2"],
                      mounts={lake: "/data", MODELS: "/models"}, read_only=(MODELS,),
                      env={"YOLO_OFFLINE": "1"}, entrypoint="yolo-detect")


def test_detector_container_writes_detections_for_every_photo(detector_image, photo_lake):
    if not WEIGHTS.is_file():
        pytest.skip(f"{WEIGHTS} is missing (scripts/fetch_offline_model.sh)")
    lake, ids = photo_lake
    result = detect(detector_image, lake)
    assert result.returncode == 0, result.stderr[-2000:]
    summary = last_json_line(result.stdout)
    assert summary["images"] == len(ids)
    assert summary["device"] == "cpu"

    files = sorted((lake / "enriched" / "detections").rglob("*.json"))
    assert files, "no detections file written"
    records = [r for f in files for r in json.loads(f.read_text(encoding="utf-8"))]
    assert {(r["channel_name"], r["message_id"]) for r in records} == {(CHANNEL, i) for i in ids}
    for record in records:
        assert record["image_path"] == f"raw/images/{CHANNEL}/{record['message_id']}.jpg"
        assert record["model_name"] == "fall_detection_best"
        assert record["image_width"] > 0 and record["image_height"] > 0
        if record["detected_class"] is None:
            assert record["detection_index"] == 0 and record["confidence"] is None
        else:
            assert 0 < record["confidence"] <= 1
            assert 0 <= record["x_min"] < record["x_max"] <= record["image_width"]
    assert sum(r["detected_class"] is not None for r in records) == summary["detections"]

    again = detect(detector_image, lake)
    assert again.returncode == 0, again.stderr[-2000:]
    assert last_json_line(again.stdout)["images"] == 0
