"""What the tests know of the bundled sample (importable from any test folder: `from tests.support.sample_data import ...`)."""

from pathlib import Path

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "sample"

# Detections for a few of the sample's photos, as yolov8n (COCO classes) reports such product shots: bottles and
# jars, and nothing on a tin and a gift box. (channel, message_id, model, index, class, class_id, confidence, box)
SAMPLE_DETECTIONS = [
    ("lobelia4cosmetics", 22946, "yolov8n", 0, "bottle", 39, 0.81, (70, 40, 420, 610), (480, 640)),
    ("lobelia4cosmetics", 22934, "yolov8n", 0, "bottle", 39, 0.90, (200, 30, 460, 610), (640, 640)),
    ("lobelia4cosmetics", 22926, "yolov8n", 0, "bottle", 39, 0.46, (20, 25, 305, 300), (320, 320)),
    ("lobelia4cosmetics", 22872, "yolov8n", 0, "bottle", 39, 0.88, (40, 20, 235, 610), (480, 640)),
    ("lobelia4cosmetics", 22872, "yolov8n", 1, "bottle", 39, 0.86, (245, 25, 450, 615), (480, 640)),
    ("lobelia4cosmetics", 22855, "yolov8n", 0, "bottle", 39, 0.84, (110, 60, 400, 600), (480, 640)),
    ("lobelia4cosmetics", 22866, "yolov8n", 0, "book", 73, 0.38, (30, 40, 610, 500), (640, 521)),
    ("lobelia4cosmetics", 22919, "yolov8n", 0, None, None, None, None, (640, 483)),
    ("lobelia4cosmetics", 22899, "yolov8n", 0, None, None, None, None, (320, 244)),
]
