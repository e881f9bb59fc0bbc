"""The detect command end to end: a real model (the offline YOLOv8 person detector) on real photos,
in the detector's own environment, against temporary lakes."""

from __future__ import annotations

import json
import re

from tests.images.yolo.yolo_helpers import BIG_SIZE, SAMPLE_IDS, detection_records, put_photo

SUMMARY_KEYS = {"images", "detections", "images_without_detections", "quarantined", "seconds", "device", "model"}


def test_detect_finds_persons_on_bus(detected_lake):
    root, _ = detected_lake
    bus = [r for r in detection_records(root) if (r["channel_name"], r["message_id"]) == ("assets", 1)]
    persons = [r for r in bus if r["detected_class"] == "person"]
    assert len(persons) >= 3
    for r in bus:
        assert (r["image_width"], r["image_height"]) == (810, 1080)
        assert 0 <= r["x_min"] < r["x_max"] <= 810 and 0 <= r["y_min"] < r["y_max"] <= 1080
        assert 0.25 <= r["confidence"] <= 1
        assert r["class_id"] in (0, 1)  # Normal, Fall: both mapped to person
        assert r["image_path"] == "raw/images/assets/1.jpg"
        assert r["model_name"] == "fall_detection_best" and re.fullmatch(r"[0-9a-f]{12}", r["weights_hash"])
    assert [r["detection_index"] for r in bus] == list(range(len(bus)))
    assert [r["confidence"] for r in bus] == sorted((r["confidence"] for r in bus), reverse=True)


def test_detect_writes_one_record_set_per_photo(detected_lake):
    root, run = detected_lake
    records = detection_records(root)
    photos = {(r["channel_name"], r["message_id"]) for r in records}
    expected = {("assets", 1), ("assets", 2), ("big", 1)} | {("lobelia4cosmetics", i) for i in SAMPLE_IDS}
    assert photos == expected
    empty = [r for r in records if r["detected_class"] is None]
    for r in empty:
        assert r["detection_index"] == 0 and r["confidence"] is None and r["x_min"] is None
        assert sum((x["channel_name"], x["message_id"]) == (r["channel_name"], r["message_id"])
                   for x in records) == 1
    big = [r for r in records if r["channel_name"] == "big"]
    assert (big[0]["image_width"], big[0]["image_height"]) == BIG_SIZE
    summary = run.summary
    assert SUMMARY_KEYS <= set(summary)
    assert summary["images"] == len(expected)
    assert summary["detections"] == len(records) - len(empty)
    assert summary["images_without_detections"] == len(empty)
    assert summary["device"] == "cpu" and summary["model"] == "fall_detection_best"
    # --flush-every 6: the run's records are spread over several files, each complete JSON
    files = sorted((root / "enriched/detections/fall_detection_best").glob("*/*.json"))
    assert len(files) == len(summary["files"]) >= 2
    for path in files:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", path.parent.name)
        json.loads(path.read_text())
    assert not list(root.rglob("*.tmp"))


def test_detect_reports_progress_on_stderr_and_summary_last(detected_lake):
    _, run = detected_lake
    assert re.search(r"\d+/\d+ photos, [\d.]+ images/s", run.stderr)
    assert "Traceback" not in run.stderr
    assert len(run.stdout.strip().splitlines()) == 1  # stdout holds the summary line only


def test_detect_quarantines_bad_files_and_goes_on(detected_lake):
    root, run = detected_lake
    assert run.summary["quarantined"] == 5
    notes = {p.name: p.read_text() for p in (root / "quarantine/raw/images/broken").glob("*.reason.txt")}
    assert set(notes) == {f"{n}.jpg.reason.txt" for n in ("1", "2", "3", "4", "cover")}
    assert "corrupt image" in notes["1.jpg.reason.txt"]
    assert "not an image" in notes["2.jpg.reason.txt"]
    assert "not <message_id>.jpg" in notes["cover.jpg.reason.txt"]
    # the bad bytes are kept beside their notes; the inputs stay where they were
    assert (root / "quarantine/raw/images/broken/2.jpg").read_bytes() == b"<html>rate limited</html>\n"
    assert (root / "raw/images/broken/2.jpg").exists()
    assert all(r["channel_name"] != "broken" for r in detection_records(root))


def test_rerun_finds_nothing_new(detected_lake, yolo_cli, offline_model, tmp_path):
    root, _ = detected_lake
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    run = yolo_cli("detect", "--lake", str(root), "--weights", str(offline_model), "--device", "cpu")
    assert run.returncode == 0, run.stderr
    summary = run.summary
    assert (summary["images"], summary["detections"], summary["quarantined"], summary["files"]) == (0, 0, 0, [])
    assert summary["device"] is None  # nothing to do: the model was not even loaded
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before


def test_detect_on_empty_lake_reports_zeros(yolo_cli, offline_model, tmp_path):
    for lake in (tmp_path / "none", tmp_path / "empty"):
        if lake.name == "empty":
            (lake / "raw/images/somechannel").mkdir(parents=True)
        run = yolo_cli("detect", "--lake", str(lake), "--weights", str(offline_model))
        assert run.returncode == 0, run.stderr
        summary = run.summary
        assert (summary["images"], summary["detections"], summary["images_without_detections"],
                summary["quarantined"]) == (0, 0, 0, 0)
        assert not (lake / "enriched").exists()


def test_detect_new_photo_after_a_run_is_the_only_one_done(yolo_cli, offline_model, ultralytics_assets, tmp_path):
    lake = tmp_path / "lake"
    put_photo(lake, "assets", 2, ultralytics_assets / "zidane.jpg")
    first = yolo_cli("detect", "--lake", str(lake), "--weights", str(offline_model), "--model-name", "people")
    assert first.returncode == 0 and first.summary["images"] == 1
    put_photo(lake, "assets", 1, ultralytics_assets / "bus.jpg")
    second = yolo_cli("detect", "--lake", str(lake), "--weights", str(offline_model), "--model-name", "people")
    assert second.returncode == 0 and second.summary["images"] == 1
    records = detection_records(lake)
    assert {r["model_name"] for r in records} == {"people"}
    assert sorted({r["message_id"] for r in records}) == [1, 2]
    assert len(list((lake / "enriched/detections/people").glob("*/*.json"))) == 2


def test_letterbox_decodes_a_huge_jpeg_at_reduced_scale(yolo_python, big_jpeg):
    """A 12000x9000 JPEG is decoded at 1/8 scale: the process stays far below the 324 MB a full decode takes."""
    import subprocess

    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from yolo_detector import photos as ph\n"
        "photo = ph.Photo('big', 1, Path(sys.argv[1]), 'raw/images/big/1.jpg')\n"
        "header = ph.read_header(photo)\n"
        "boxed = ph.letterbox(header, 640, ph.canvas_shape([header], 640))\n"
        # VmHWM, not ru_maxrss: ru_maxrss survives exec, so it would report the (large) pytest parent's peak.
        "peak = next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:'))\n"
        "print(header.width, header.height, boxed.array.shape, peak)\n"
    )
    out = subprocess.run([str(yolo_python), "-c", code, str(big_jpeg)], capture_output=True, text=True, check=True)
    fields = out.stdout.split()
    width, height, max_rss_kb = int(fields[0]), int(fields[1]), int(fields[-1])
    assert (width, height) == BIG_SIZE
    assert "(480, 640, 3)" in out.stdout
    assert max_rss_kb < 200_000, f"peak memory {max_rss_kb} kB: the image was decoded at full size"


def test_detect_errors_are_one_line(yolo_cli, tmp_path, offline_model, ultralytics_assets):
    missing = yolo_cli("detect", "--lake", str(tmp_path), "--weights", str(tmp_path / "nope.pt"))
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines() == [f"yolo-detect: weights file not found: {tmp_path / 'nope.pt'}"
                                                   " (set --weights or YOLO_WEIGHTS)"]
    put_photo(tmp_path, "c", 1, ultralytics_assets / "bus.jpg")
    bad_device = yolo_cli("detect", "--lake", str(tmp_path), "--weights", str(offline_model), "--device", "tpu")
    assert bad_device.returncode == 1 and "unknown device 'tpu'" in bad_device.stderr
    assert "Traceback" not in bad_device.stderr
    not_weights = tmp_path / "notes.pt"
    not_weights.write_text("not a model")
    broken = yolo_cli("detect", "--lake", str(tmp_path), "--weights", str(not_weights), "--device", "cpu")
    assert broken.returncode == 1 and broken.stderr.strip().splitlines()[-1].startswith("yolo-detect: cannot load")


def test_help_of_every_command(yolo_cli):
    for command in ([], ["detect"], ["categories"], ["roles"]):
        run = yolo_cli(*command, "--help")
        assert run.returncode == 0 and "usage: yolo-detect" in run.stdout


def _iou(a: dict, b: dict) -> float:
    width = min(a["x_max"], b["x_max"]) - max(a["x_min"], b["x_min"])
    height = min(a["y_max"], b["y_max"]) - max(a["y_min"], b["y_min"])
    inter = max(width, 0) * max(height, 0)

    def area(r):
        return (r["x_max"] - r["x_min"]) * (r["y_max"] - r["y_min"])

    return inter / (area(a) + area(b) - inter)


def test_batched_path_finds_the_same_persons(yolo_cli, offline_model, ultralytics_assets, tmp_path):
    """The GPU's code path (photos of a batch on one shared canvas), run on the CPU: the persons found with
    confidence photo by photo are found batched too, in about the same boxes (the padding differs)."""
    runs = {}
    for mode, env in (("alone", {}), ("batched", {"YOLO_CPU_BATCHES": "1"})):
        lake = tmp_path / mode
        put_photo(lake, "assets", 1, ultralytics_assets / "bus.jpg")  # portrait
        put_photo(lake, "assets", 2, ultralytics_assets / "zidane.jpg")  # landscape: a 640x640 shared canvas
        run = yolo_cli("detect", "--lake", str(lake), "--weights", str(offline_model), "--device", "cpu",
                       "--batch-size", "2", env=env)
        assert run.returncode == 0, run.stderr
        runs[mode] = detection_records(lake)
    strong = [r for r in runs["alone"] if r["confidence"] > 0.6]
    assert len(strong) >= 3
    for r in strong:
        twins = [b for b in runs["batched"] if b["message_id"] == r["message_id"]]
        assert max(_iou(r, b) for b in twins) > 0.5, (r, twins)
    assert {r["message_id"] for r in runs["batched"] if r["detected_class"] == "person"} == {1, 2}
