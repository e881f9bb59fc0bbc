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
Beside it, images per CPU second (user + system time of the command): on a machine shared with other work
the wall clock swings with its load, the CPU time a command needs much less.

    .venv/bin/python bench/bench_yolo.py [--photos 100] [--batch 16] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import figures  # bench/figures.py: run as a script, this folder is on sys.path

PROJECT = Path(__file__).resolve().parents[1]
YOLO_BIN = PROJECT / ".venvs" / "yolo" / "bin"
MODEL = PROJECT / "models" / "fall_detection_best.pt"
PHOTOS = PROJECT / "sample" / "lake" / "raw" / "images" / "lobelia4cosmetics"


def ultralytics_threads() -> int:
    # ultralytics.utils.NUM_THREADS: the torch thread count both commands use on a CPU by default
    return min(8, max(1, (os.cpu_count() or 1) - 1))


def _timed(command: list[str], **kwargs) -> tuple[subprocess.CompletedProcess, float, float]:
    """Run a command; return it with its wall seconds and the CPU seconds (user + system) it used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return done, wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def run_ours(photos: list[Path], work: Path, batch: int, threads: int | None = None) -> tuple[float, float]:
    lake = Path(tempfile.mkdtemp(dir=work, prefix="lake-"))
    folder = lake / "raw" / "images" / "lobelia4cosmetics"
    folder.mkdir(parents=True)
    for photo in photos:
        shutil.copyfile(photo, folder / photo.name)
    command = [str(YOLO_BIN / "python"), "-m", "yolo_detector", "detect", "--lake", str(lake), "--weights",
               str(MODEL), "--device", "cpu", "--batch-size", str(batch)]
    if threads:
        command += ["--threads", str(threads)]
    done, seconds, cpu = _timed(command, env=_env(work))
    if done.returncode != 0:
        sys.exit(f"bench_yolo: detector failed: {done.stderr.strip().splitlines()[-1:]}")
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["images"] == len(photos), summary
    shutil.rmtree(lake)
    return len(photos) / seconds, len(photos) / cpu


def run_yolo(source: Path, count: int, work: Path, batch: int) -> tuple[float, float]:
    command = [str(YOLO_BIN / "yolo"), "predict", f"model={MODEL}", f"source={source}", "device=cpu",
               f"batch={batch}", "imgsz=640", "conf=0.25", "save=False", "verbose=False"]
    done, seconds, cpu = _timed(command, env=_env(work), cwd=work)
    if done.returncode != 0:
        sys.exit(f"bench_yolo: yolo predict failed: {done.stderr.strip()[-500:]}")
    return count / seconds, count / cpu


def _env(work: Path) -> dict:
    return {**os.environ, "YOLO_OFFLINE": "1", "YOLO_CONFIG_DIR": str(work / "ultralytics")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=100)
    parser.add_argument("--batch", type=int, default=16, help="the batch size N compared with batch 1")
    parser.add_argument("--runs", type=int, default=3)
    figures.add_arguments(parser, "bench_yolo")
    args = parser.parse_args()
    if args.small:
        args.photos, args.batch, args.runs = 4, 2, 1
    if not (YOLO_BIN / "python").exists():
        sys.exit("bench_yolo: .venvs/yolo is missing: run `make setup` first")
    if not MODEL.exists():
        subprocess.run(["bash", str(PROJECT / "scripts" / "fetch_offline_model.sh"), str(MODEL)], check=True)
    photos = sorted(PHOTOS.glob("*.jpg"))[: args.photos]
    if len(photos) < args.photos:
        sys.exit(f"bench_yolo: only {len(photos)} photos in {PHOTOS}")

    eq = ultralytics_threads()
    cores = os.cpu_count() or 1
    cases = {
        "ours b1": lambda w: run_ours(photos, w, 1),
        "yolo b1": lambda w: run_yolo(source, len(photos), w, 1),
        f"ours b{args.batch}": lambda w: run_ours(photos, w, args.batch),
        f"yolo b{args.batch}": lambda w: run_yolo(source, len(photos), w, args.batch),
    }
    if eq != cores:
        cases[f"ours b{args.batch}, {cores} thr"] = lambda w: run_ours(photos, w, args.batch, threads=cores)
    wall: dict[str, list[float]] = {name: [] for name in cases}  # images per wall-clock second
    cpu: dict[str, list[float]] = {name: [] for name in cases}  # images per CPU second (user + system)
    load_before = figures.load_average()
    with tempfile.TemporaryDirectory(prefix="bench-yolo-") as tmp:
        work = Path(tmp)
        source = work / "photos"
        source.mkdir()
        for photo in photos:
            shutil.copyfile(photo, source / photo.name)
        for run in range(args.runs):
            for name, case in cases.items():
                per_wall, per_cpu = case(work)
                wall[name].append(per_wall)
                cpu[name].append(per_cpu)
                print(f"  run {run + 1}/{args.runs} {name:<18} {per_wall:6.2f} images/s,"
                      f" {per_cpu:6.2f} images/CPU-s, load {os.getloadavg()[0]:.1f}", file=sys.stderr)
    load_after = figures.load_average()

    median = {name: statistics.median(values) for name, values in wall.items()}
    median_cpu = {name: statistics.median(values) for name, values in cpu.items()}
    print(f"\nbench_yolo: {len(photos)} real photos (<= 640 px), model {MODEL.name}, CPU, {cores} cores,"
          f" median of {args.runs} runs; load average {load_before[0]:.1f} before, {load_after[0]:.1f} after")
    print(f"{'command':<22}{'images/s':>10}{'images/CPU-s':>14}   images/s of each run")
    for name in cases:
        print(f"{name:<22}{median[name]:>10.2f}{median_cpu[name]:>14.2f}   "
              f"{', '.join(f'{v:.2f}' for v in wall[name])}")
    pairs = {
        "batch 1": ("ours b1", "yolo b1"),
        f"batch {args.batch}": (f"ours b{args.batch}", f"yolo b{args.batch}"),
        f"ours batch {args.batch} / yolo batch 1": (f"ours b{args.batch}", "yolo b1"),
    }
    if f"ours b{args.batch}, {cores} thr" in cases:
        pairs[f"batch {args.batch}, ours on {cores} threads"] = (f"ours b{args.batch}, {cores} thr",
                                                                 f"yolo b{args.batch}")
    ratios = {name: median[a] / median[b] for name, (a, b) in pairs.items()}
    ratios_cpu = {name: median_cpu[a] / median_cpu[b] for name, (a, b) in pairs.items()}
    print("ratio ours/yolo (target >= 1.0)            images/s   images/CPU-s")
    for name in pairs:
        print(f"  {name:<40} {ratios[name]:8.2f} {ratios_cpu[name]:12.2f}")
    result = {"photos": len(photos), "runs": args.runs, "batch": args.batch, "cores": cores,
              "images_per_second": median, "images_per_cpu_second": median_cpu, "all_runs": wall,
              "all_runs_cpu": cpu, "ratios": ratios, "ratios_cpu": ratios_cpu}
    figures.write(args.results, result, load_before=load_before)
    print(json.dumps({"bench": "yolo", "ratios": {k: round(v, 3) for k, v in ratios.items()},
                      "ratios_cpu": {k: round(v, 3) for k, v in ratios_cpu.items()},
                      "images_per_second": {k: round(v, 2) for k, v in median.items()}}))


if __name__ == "__main__":
    main()
