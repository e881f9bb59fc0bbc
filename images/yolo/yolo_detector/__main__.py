"""yolo-detect: run a YOLO model on the lake's new photos, and read the results back as image categories.

    yolo-detect detect [--lake DIR] [--weights FILE] [--batch-size N] [--device auto|cpu|cuda] ...
    yolo-detect categories [--lake DIR] [--model-name NAME] [--per-image]
    yolo-detect roles

Progress goes to stderr; the last line on stdout is a one-line JSON summary (Airflow's XCom reads it).
Errors end with a one-line message and exit code 1 (2 for bad arguments).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

import orjson

# Before ultralytics is imported anywhere: never reach for the network (no hub, no update checks).
os.environ.setdefault("YOLO_OFFLINE", "1")

from yolo_detector.roles import ConfigError, load_roles  # noqa: E402

log = logging.getLogger("yolo_detector")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="yolo-detect", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--lake", type=Path, help="the data lake (default: $DATA_LAKE_DIR, else ./data)")
        sub.add_argument("--class-roles", type=Path,
                         help="class-role YAML (default: $YOLO_CLASS_ROLES, else the built-in class_roles.yaml)")
        sub.add_argument("--model-name", help="name of the model in the lake and warehouse"
                         " (default: $YOLO_MODEL_NAME, else the weights file name without .pt)")

    detect = commands.add_parser("detect", help="detect objects in the photos that have no detections yet",
                                 description="Detect objects in every photo raw/images/<channel>/<id>.jpg that"
                                 " has no detections of this model yet, and write them under"
                                 " enriched/detections/<model>/.")
    common(detect)
    detect.add_argument("--weights", type=Path,
                        help="model weights (default: $YOLO_WEIGHTS, else yolov8n.pt in the working directory)")
    detect.add_argument("--batch-size", type=int, help="photos per model call (default: $YOLO_BATCH_SIZE or 16)")
    detect.add_argument("--device", help="auto (CUDA when present, else CPU), cpu, cuda or cuda:N"
                        " (default: $YOLO_DEVICE or auto)")
    detect.add_argument("--imgsz", type=int, help="model input size in pixels (default 640)")
    detect.add_argument("--conf", type=float, help="minimum confidence of a detection (default 0.25)")
    detect.add_argument("--threads", type=int, help="CPU threads for torch (default: ultralytics' choice, all cores but one, at most 8)")
    detect.add_argument("--limit", type=int, help="at most this many photos in this run")
    detect.add_argument("--flush-every", type=int,
                        help="photos per detections file; each is written as soon as it is full (default 512)")

    cats = commands.add_parser("categories", help="image categories from the detections in the lake",
                               description="Print the image category of every detected photo"
                               " (promotional, product_display, lifestyle, other) as the class roles define it.")
    common(cats)
    cats.add_argument("--per-image", action="store_true", help="also print one JSON line per photo")

    roles = commands.add_parser("roles", help="print the class-role map as CSV (detected_class,role)",
                                description="Print the class-role map as CSV, e.g. for a dbt seed.")
    roles.add_argument("--class-roles", type=Path, help="class-role YAML (default: built-in)")
    return parser


def _emit(data: dict) -> None:
    sys.stdout.write(orjson.dumps(data).decode() + "\n")
    sys.stdout.flush()


def _detect(args: argparse.Namespace) -> None:
    from yolo_detector.detect import Settings, run

    settings = Settings.from_env(
        root=args.lake.resolve() if args.lake else None,
        weights=args.weights, model_name=args.model_name, batch_size=args.batch_size, device=args.device,
        imgsz=args.imgsz, conf=args.conf, threads=args.threads, limit=args.limit, flush_every=args.flush_every,
    )
    settings.roles = load_roles(args.class_roles)
    summary = run(settings, progress=lambda line: print(line, file=sys.stderr, flush=True))
    _emit(summary.as_dict())


def _categories(args: argparse.Namespace) -> None:
    from medical_telegram import lake
    from yolo_detector.categories import image_categories, summarize

    root = args.lake.resolve() if args.lake else lake.lake_dir()
    items = list(image_categories(root, load_roles(args.class_roles), args.model_name))
    if args.per_image:
        for item in items:
            _emit(item)
    _emit(summarize(items))


def _roles(args: argparse.Namespace) -> None:
    roles = load_roles(args.class_roles)
    sys.stdout.write("detected_class,role\n")
    for name, role in roles.rows():
        sys.stdout.write(f"{name},{role}\n")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    from yolo_detector.detect import DetectError

    try:
        {"detect": _detect, "categories": _categories, "roles": _roles}[args.command](args)
    except (DetectError, ConfigError) as exc:
        # The first line says what went wrong; libraries append advice on further lines.
        print(f"yolo-detect: {str(exc).strip().splitlines()[0]}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("yolo-detect: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the one-line promise holds for the unexpected too
        log.debug("unexpected failure", exc_info=True)
        print(f"yolo-detect: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
