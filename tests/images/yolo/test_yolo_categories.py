"""Image categories (promotional / product_display / lifestyle / other) from the class-role configuration:
on real detections of the sample photos, and on detections files written as a COCO model would."""

from __future__ import annotations

import json

import pytest

from tests.images.yolo.yolo_helpers import SAMPLE_IDS, detection_records


def _write_detections(root, model, images: dict[int, list[str | None]]) -> None:
    records = []
    for message_id, classes in images.items():
        for index, name in enumerate(classes):
            box = {"x_min": 1.0, "y_min": 1.0, "x_max": 9.0, "y_max": 9.0} if name else \
                {"x_min": None, "y_min": None, "x_max": None, "y_max": None}
            records.append({"channel_name": "shop", "message_id": message_id, "model_name": model,
                            "image_path": f"raw/images/shop/{message_id}.jpg", "weights_hash": "0123456789ab",
                            "detection_index": index, "detected_class": name, "class_id": None if name is None else 0,
                            "confidence": 0.9 if name else None, **box, "image_width": 10, "image_height": 10,
                            "detected_at": "2026-11-27T10:00:00+00:00"})
    path = root / "enriched/detections" / model / "2026-11-27" / "run-001.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(records))


def _per_image(run) -> dict[int, str]:
    lines = [json.loads(line) for line in run.stdout.strip().splitlines()]
    return {item["message_id"]: item["image_category"] for item in lines[:-1]}


def test_categories_of_coco_detections(yolo_cli, tmp_path):
    _write_detections(tmp_path, "yolov8n", {
        1: ["person", "bottle"],      # a person holding a product
        2: ["bottle", "cup", "vase"],  # products on a shelf
        3: ["person", "chair"],       # a person, no product
        4: [None],                    # nothing found
        5: ["dining table"],          # scenery only
    })
    run = yolo_cli("categories", "--lake", str(tmp_path), "--per-image")
    assert run.returncode == 0, run.stderr
    assert _per_image(run) == {1: "promotional", 2: "product_display", 3: "lifestyle", 4: "other", 5: "other"}
    assert run.summary == {"images": 5, "models": ["yolov8n"],
                           "categories": {"promotional": 1, "product_display": 1, "lifestyle": 1, "other": 2}}


def test_categories_of_real_sample_photos(detected_lake, yolo_cli):
    """The offline model knows only persons: a sample photo is lifestyle when it found one, else other."""
    root, _ = detected_lake
    run = yolo_cli("categories", "--lake", str(root), "--model-name", "fall_detection_best", "--per-image")
    assert run.returncode == 0, run.stderr
    items = [json.loads(line) for line in run.stdout.strip().splitlines()[:-1]]
    sample = {i["message_id"]: i for i in items if i["channel_name"] == "lobelia4cosmetics"}
    assert set(sample) == set(SAMPLE_IDS)
    persons = {r["message_id"] for r in detection_records(root)
               if r["channel_name"] == "lobelia4cosmetics" and r["detected_class"] == "person"}
    for message_id, item in sample.items():
        assert item["image_category"] == ("lifestyle" if message_id in persons else "other")
    assert {i["image_category"] for i in sample.values()} == {"lifestyle", "other"}
    bus = next(i for i in items if (i["channel_name"], i["message_id"]) == ("assets", 1))
    assert bus["detected_classes"] == ["person"] and bus["image_category"] == "lifestyle"
    assert run.summary["images"] == len(items)


def test_class_roles_are_configuration(detected_lake, yolo_cli, tmp_path):
    """Another role file, named by YOLO_CLASS_ROLES, changes the categories without a code change."""
    root, _ = detected_lake
    roles = tmp_path / "roles.yaml"
    roles.write_text("aliases: {}\nroles:\n  person: []\n  product: [person]\n")
    run = yolo_cli("categories", "--lake", str(root), "--per-image", env={"YOLO_CLASS_ROLES": str(roles)})
    assert run.returncode == 0, run.stderr
    items = [json.loads(line) for line in run.stdout.strip().splitlines()[:-1]]
    bus = next(i for i in items if (i["channel_name"], i["message_id"]) == ("assets", 1))
    assert bus["image_category"] == "product_display"
    assert run.summary["categories"]["lifestyle"] == 0

    bad = tmp_path / "bad.yaml"
    bad.write_text("roles:\n  person: [person]\n  product: [person]\n")
    failed = yolo_cli("categories", "--lake", str(root), "--class-roles", str(bad))
    assert failed.returncode == 1
    assert failed.stderr.strip().splitlines() == [
        f"yolo-detect: class roles {bad}: person cannot be both person and product"]


def test_roles_prints_the_map_as_csv(yolo_cli):
    run = yolo_cli("roles")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    assert lines[0] == "detected_class,role"
    assert {"person,person", "bottle,product", "toothbrush,product"} <= set(lines)


def test_roles_agree_with_the_warehouse_seed(yolo_cli):
    """dbt categorises photos with its seed detection_class_roles: it must say what this package says."""
    import csv

    from tests.images.yolo.yolo_helpers import PROJECT_DIR

    seed = PROJECT_DIR / "include/dbt/medical_warehouse/seeds/detection_class_roles.csv"
    if not seed.exists():
        pytest.skip(f"{seed} is missing")
    with seed.open(newline="") as handle:
        seeded = {(row["detected_class"].lower(), row["role"]) for row in csv.DictReader(handle)}
    run = yolo_cli("roles")
    ours = {tuple(line.split(",")) for line in run.stdout.strip().splitlines()[1:]}
    aliases = {("normal", "person"), ("fall", "person")}  # the offline model's classes: mapped before the lake
    assert seeded - aliases == ours


def test_the_category_rule_agrees_with_dbt(yolo_cli, tmp_path):
    """The rule is written twice, in SQL (fct_image_detections, the warehouse's) and here (the detector's own
    summary): dbt's unit test image_category_from_class_roles is the specification both must meet."""
    from collections import defaultdict

    import yaml

    from tests.images.yolo.yolo_helpers import PROJECT_DIR

    marts = PROJECT_DIR / "include/dbt/medical_warehouse/models/marts/_marts.yml"
    spec = next(t for t in yaml.safe_load(marts.read_text())["unit_tests"]
                if t["name"] == "image_category_from_class_roles")
    given = next(g for g in spec["given"] if g["input"] == "ref('stg_image_detections')")["rows"]
    # The lake holds detected classes after the aliases (the detector maps Fall to person before writing).
    aliases = yaml.safe_load((PROJECT_DIR / "images/yolo/yolo_detector/class_roles.yaml").read_text())["aliases"]
    per_model: dict[str, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    for row in given:
        name = row["detected_class"]
        per_model[row["model_name"]][row["message_id"]].append(aliases.get(name, name))
    for model, images in per_model.items():
        _write_detections(tmp_path, model, images)
    run = yolo_cli("categories", "--lake", str(tmp_path), "--per-image")
    assert run.returncode == 0, run.stderr
    expected = {row["message_id"]: row["image_category"] for row in spec["expect"]["rows"]}
    assert _per_image(run) == expected and len(set(expected.values())) == 4
