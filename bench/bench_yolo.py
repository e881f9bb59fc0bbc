"""Benchmark: the detector (`yolo-detect detect`) against ultralytics' own `yolo predict`, on the CPU.

Not a test: it prints figures. Both commands run end to end as a user runs them (process start, model load,
decoding, inference), from the detector's environment .venvs/yolo, on the same real photos (the first
--photos of the bundled sample, @lobelia4cosmetics, <= 640 px), with the same model (the offline
models/fall_detection_best.pt, a YOLOv8s detector), the same input size (640) and confidence (0.25):

  ours bB        yolo-detect detect --device cpu --batch-size B    (fresh lake each run; writes its files)
  yolo bB        yolo predict model=... source=DIR device=cpu batch=B save=False verbose=False
  ours bN, all   the detector with torch on every core (--threads), where ultralytics leaves one core to
                 decoding: whether the extra core pays on this machine

Runs alternate between the commands (to spread the machine's noise evenly) and each figure is the median
of --runs runs. The ratio is ours / yolo in images per second: >= 1.0 means our wrapper costs nothing.

    .venv/bin/python bench/bench_yolo.py [--photos 100] [--batch 16] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
YOLO_BIN = PROJECT / ".venvs" / "yolo" / "bin"
MODEL = PROJECT / "models" / "fall_detection_best.pt"
PHOTOS = PROJECT / "sample" / "lake" / "raw" / "images" / "lobelia4cosmetics"
RESULTS = PROJECT / "bench" / "results"


def ultralytics_threads() -> int:
    # ultralytics.utils.NUM_THREADS: the torch thread count both commands use on a CPU by default
    return min(8, max(1, (os.cpu_count() or 1) - 1))


def run_ours(photos: list[Path], work: Path, batch: int, threads: int | None = None) -> float:
    lake = Path(tempfile.mkdtemp(dir=work, prefix="lake-"))
    folder = lake / "raw" / "images" / "lobelia4cosmetics"
    folder.mkdir(parents=True)
    for photo in photos:
        shutil.copyfile(photo, folder / photo.name)
    command = [str(YOLO_BIN / "python"), "-m", "yolo_detector", "detect", "--lake", str(lake), "--weights",
               str(MODEL), "--device", "cpu", "--batch-size", str(batch)]
    if threads:
        command += ["--threads", str(threads)]
    began = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=_env(work))
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        sys.exit(f"bench_yolo: detector failed: {done.stderr.strip().splitlines()[-1:]}")
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["images"] == len(photos), summary
    shutil.rmtree(lake)
    return len(photos) / seconds


def run_yolo(source: Path, count: int, work: Path, batch: int) -> float:
    command = [str(YOLO_BIN / "yolo"), "predict", f"model={MODEL}", f"source={source}", "device=cpu",
               f"batch={batch}", "imgsz=640", "conf=0.25", "save=False", "verbose=False"]
    began = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=_env(work), cwd=work)
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        sys.exit(f"bench_yolo: yolo predict failed: {done.stderr.strip()[-500:]}")
    return count / seconds


def _env(work: Path) -> dict:
    return {**os.environ, "YOLO_OFFLINE": "1", "YOLO_CONFIG_DIR": str(work / "ultralytics")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=100)
    parser.add_argument("--batch", type=int, default=16, help="the batch size N compared with batch 1")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not (YOLO_BIN / "python").exists():
        sys.exit("bench_yolo: .venvs/yolo is missing: run `make setup` first")
    if not MODEL.exists():
        subprocess.run(["bash", str(PROJECT / "scripts" / "fetch_offline_model.sh"), str(MODEL)], check=True)
    photos = sorted(PHOTOS.glob("*.jpg"))[: args.photos]
    if len(photos) < args.photos:
        sys.exit(f"bench_yolo: only {len(photos)} photos in {PHOTOS}")

    eq = ultralytics_threads()
    cases = {
        "ours b1": lambda w: run_ours(photos, w, 1),
        "yolo b1": lambda w: run_yolo(source, len(photos), w, 1),
        f"ours b{args.batch}": lambda w: run_ours(photos, w, args.batch),
        f"yolo b{args.batch}": lambda w: run_yolo(source, len(photos), w, args.batch),
    }
    cores = os.cpu_count() or 1
    if eq != cores:
        cases[f"ours b{args.batch}, {cores} thr"] = lambda w: run_ours(photos, w, args.batch, threads=cores)
    rates: dict[str, list[float]] = {name: [] for name in cases}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-yolo-") as tmp:
        work = Path(tmp)
        source = work / "photos"
        source.mkdir()
        for photo in photos:
            shutil.copyfile(photo, source / photo.name)
        for run in range(args.runs):
            for name, case in cases.items():
                rates[name].append(case(work))
                print(f"  run {run + 1}/{args.runs} {name:<18} {rates[name][-1]:6.2f} images/s", file=sys.stderr)
    load_after = os.getloadavg()

    median = {name: statistics.median(values) for name, values in rates.items()}
    print(f"\nbench_yolo: {len(photos)} real photos (<= 640 px), model {MODEL.name}, CPU, {os.cpu_count()} cores,"
          f" median of {args.runs} runs; load average {load_before[0]:.1f} before, {load_after[0]:.1f} after")
    print(f"{'command':<22}{'images/s':>10}{'runs':>30}")
    for name, values in rates.items():
        print(f"{name:<22}{median[name]:>10.2f}    {', '.join(f'{v:.2f}' for v in values)}")
    ratios = {
        "batch 1": median["ours b1"] / median["yolo b1"],
        f"batch {args.batch}": median[f"ours b{args.batch}"] / median[f"yolo b{args.batch}"],
        f"ours batch {args.batch} / yolo batch 1": median[f"ours b{args.batch}"] / median["yolo b1"],
    }
    if f"ours b{args.batch}, {cores} thr" in median:
        ratios[f"batch {args.batch}, ours on {cores} threads"] = (
            median[f"ours b{args.batch}, {cores} thr"] / median[f"yolo b{args.batch}"])
    for name, ratio in ratios.items():
        print(f"ratio ours/yolo, {name:<34} {ratio:5.2f}  (target >= 1.0)")
    result = {"photos": len(photos), "runs": args.runs, "batch": args.batch, "cores": os.cpu_count(),
              "images_per_second": median, "all_runs": rates, "ratios": ratios,
              "load_average": [load_before[0], load_after[0]]}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "bench_yolo.json").write_text(json.dumps(result, indent=2))
    print(json.dumps({"bench": "yolo", **{k: round(v, 3) for k, v in ratios.items()},
                      **{k: round(v, 2) for k, v in median.items()}}))


if __name__ == "__main__":
    main()
