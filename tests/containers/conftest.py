"""Fixtures for the container tests: a Docker engine and the project's locally built images.

These tests run the real images (built by `make images`, i.e. scripts/images.sh) on the real engine. Without
an engine or an image they are skipped with the reason printed (-ra), never failed: a machine without Docker
still runs the rest of the suite.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from .support import API_IMAGE, DETECTOR_IMAGE, SCRAPER_IMAGE, docker


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
