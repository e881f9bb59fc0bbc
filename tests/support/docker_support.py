"""Helpers and fixtures of the container tests: a Docker engine and the project's locally built images, an image
run as DockerOperator runs it, and what it left in the lake.

These tests run the real images (built by `make images`, i.e. scripts/images.sh) on the real engine. Without
an engine or an image they are skipped with the reason printed (-ra), never failed: a machine without Docker
still runs the rest of the suite. A pytest plugin (tests/conftest.py loads it), so the fixtures serve the image
tests (tests/images, tests/api), the compose stack (tests/compose) and the DAGs in Docker
(tests/medical_telegram/orchestration).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

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



@pytest.fixture(scope="session")
def docker_engine() -> None:
    """Skip unless a Docker engine answers."""
    if shutil.which("docker") is None:
        pytest.skip("no docker client on PATH (make images installs and starts an engine)")
    try:
        info = docker("info", "--format", "{{.ServerVersion}}")
    except subprocess.TimeoutExpired:
        pytest.skip("the Docker engine did not answer within 30 s")
    if info.returncode != 0 or not info.stdout.strip():
        pytest.skip(f"no Docker engine answers (run `make images`): {info.stderr.strip()[-200:]}")


def _require_image(image: str) -> str:
    if docker("image", "inspect", image).returncode != 0:
        pytest.skip(f"image {image} is not built (run `make images`)")
    return image


@pytest.fixture(scope="session")
def scraper_image(docker_engine) -> str:
    return _require_image(SCRAPER_IMAGE)


@pytest.fixture(scope="session")
def detector_image(docker_engine) -> str:
    return _require_image(DETECTOR_IMAGE)


@pytest.fixture(scope="session")
def api_image(docker_engine) -> str:
    return _require_image(API_IMAGE)


@pytest.fixture
def shared_lake(tmp_path) -> Path:
    """An empty lake a container may write into: the images run as a non-root user, so the bind-mounted
    folder must be writable by any uid (as a real deployment would chown it to the image's user)."""
    lake = tmp_path / "lake"
    lake.mkdir()
    lake.chmod(0o777)
    return lake
