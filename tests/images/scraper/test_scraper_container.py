"""The scraper image run as DockerOperator runs it (no network, the lake bind-mounted at /data).

Needs a Docker engine and the image built by `make images` (scripts/images.sh); skipped with the reason
otherwise. Telegram cannot be reached from a container without network, so the scrape runs the real Telethon
client against an unreachable data centre and must fail cleanly: exit 1, the JSON summary last on stdout,
no secret anywhere in the output.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import orjson
import pytest

pytestmark = pytest.mark.docker

IMAGE = os.environ.get("SCRAPER_IMAGE", "medical-telegram/scraper:latest")


def docker(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def image() -> str:
    if shutil.which("docker") is None:
        pytest.skip("no docker client on PATH (make images installs and starts an engine)")
    if docker("info", "--format", "{{.ServerVersion}}", timeout=30).returncode != 0:
        pytest.skip("no Docker engine answers (make images starts one)")
    if docker("image", "inspect", IMAGE).returncode != 0:
        pytest.skip(f"image {IMAGE} is not built (make images)")
    return IMAGE


def test_the_image_help_and_version(image):
    help_text = docker("run", "--rm", "--network", "none", image, "scrape", "--help")
    assert help_text.returncode == 0 and "--refresh-days" in help_text.stdout
    config = orjson.loads(docker("image", "inspect", image).stdout)[0]["Config"]
    assert config["Entrypoint"] == ["telegram-scraper"]
    assert "DATA_LAKE_DIR=/data" in config["Env"] and config["User"] not in ("", "0", "root")
    assert not [e for e in config["Env"] if e.startswith("TELEGRAM_")], "no credential baked in"


def test_a_scrape_without_network_fails_cleanly_and_never_prints_a_secret(image, tmp_path):
    from telethon.crypto import AuthKey
    from telethon.sessions import StringSession

    session = StringSession()
    session.set_dc(4, "149.154.167.91", 443)  # a real data centre; the container has no network
    session.auth_key = AuthKey(os.urandom(256))
    secrets = {"TELEGRAM_API_ID": "918273645", "TELEGRAM_API_HASH": "5e3c1f0a9b8d7c6e5f4a3b2c1d0e9f8a",
               "TELEGRAM_SESSION": session.save()}
    lake = tmp_path / "lake"
    lake.mkdir()
    lake.chmod(0o777)
    env_args = [arg for name in secrets for arg in ("-e", name)]

    result = subprocess.run(
        ["docker", "run", "--rm", "--network", "none", "-v", f"{lake}:/data", *env_args, image,
         "--verbose", "--log-file", "/data/logs/scrape.log", "scrape", "--channels", "lobelia4cosmetics",
         "--retries", "1", "--backoff", "0"],
        env={**os.environ, **secrets}, capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)

    assert result.returncode == 1, result.stderr[-2000:]
    summary = orjson.loads(result.stdout.strip().splitlines()[-1])
    assert summary["ok"] is False and summary["failed"] == ["lobelia4cosmetics"]
    assert "could not connect" in summary["channels"]["lobelia4cosmetics"]["error_messages"][0]
    logged = (lake / "logs" / "scrape.log").read_text()
    for name, value in secrets.items():
        for where, text in (("stdout", result.stdout), ("stderr", result.stderr), ("log file", logged)):
            assert value not in text, f"{name} leaked into {where}"
