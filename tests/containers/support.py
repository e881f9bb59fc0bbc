"""Helpers of the container tests: run an image as DockerOperator does, read what it left in the lake."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "sample"
MODELS = REPO / "models"
IMAGE_PREFIX = os.environ.get("IMAGE_PREFIX", "medical-telegram")
SCRAPER_IMAGE = os.environ.get("SCRAPER_IMAGE", f"{IMAGE_PREFIX}/scraper:latest")
DETECTOR_IMAGE = os.environ.get("DETECTOR_IMAGE", f"{IMAGE_PREFIX}/yolo:latest")
API_IMAGE = os.environ.get("API_IMAGE", f"{IMAGE_PREFIX}/api:latest")


def docker(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)


def docker_run(image: str, args: list[str], *, mounts: dict[Path, str] | None = None,
               read_only: tuple[Path, ...] = (), env: dict[str, str] | None = None,
               entrypoint: str | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """`docker run --rm --network none` with bind mounts, as DockerOperator runs the tasks."""
    argv = ["run", "--rm", "--network", "none"]
    for host, target in (mounts or {}).items():
        argv += ["-v", f"{host}:{target}{':ro' if host in read_only else ''}"]
    for name, value in (env or {}).items():
        argv += ["-e", f"{name}={value}"]
    if entrypoint:
        argv += ["--entrypoint", entrypoint]
    return docker(*argv, image, *args, timeout=timeout)


def last_json_line(stdout: str) -> dict:
    """The CLIs print a JSON summary as their last stdout line (DockerOperator's XCom)."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    assert lines, "the container printed nothing on stdout"
    return json.loads(lines[-1])


def make_world_writable(root: Path) -> None:
    """Let a container's non-root user write into a copied lake."""
    for path in [root, *root.rglob("*")]:
        path.chmod(0o777 if path.is_dir() else 0o666)


def readable_copy(source: Path, target: Path) -> Path:
    """Copy a folder so that any uid can read it: the images run as a non-root user, and files in a
    checkout (or a user's export) may be readable by their owner only."""
    shutil.copytree(source, target)
    for path in [target, *target.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return target


def read_lake_messages(root: Path) -> dict[tuple[str, int], dict]:
    """Every message record of a lake, keyed by (channel_name, message_id)."""
    records = {}
    for day_file in sorted((root / "raw" / "telegram_messages").glob("*/*.json")):
        for record in json.loads(day_file.read_text(encoding="utf-8")):
            records[(record["channel_name"], record["message_id"])] = record
    return records
