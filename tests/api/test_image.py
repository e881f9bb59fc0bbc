"""The API image: uvicorn in the container (host network, as there is no bridge here) against the test
warehouse; its HEALTHCHECK command passes while the warehouse answers and fails when it does not."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request

import psycopg
import pytest

from tests.support.docker_support import docker

pytestmark = pytest.mark.docker


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_api(image: str, database_url: str) -> tuple[str, int]:
    port = free_port()
    started = docker("run", "-d", "--rm", "--network", "host", "-e", f"API_DATABASE_URL={database_url}",
                     "-e", f"API_PORT={port}", "-e", "API_HOST=127.0.0.1", "-e", "API_WORKERS=1", image)
    assert started.returncode == 0, started.stderr
    return started.stdout.strip(), port


def health(port: int, deadline_s: float = 60) -> int:
    """The status of GET /api/health once the server listens."""
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=5) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def run_healthcheck(image: str, container: str) -> int:
    """Run the image's own HEALTHCHECK command inside the container, as the engine does."""
    test = json.loads(docker("image", "inspect", "--format", "{{json .Config.Healthcheck.Test}}", image).stdout)
    assert test and test[0] in ("CMD", "CMD-SHELL"), test
    command = test[1:] if test[0] == "CMD" else ["sh", "-c", test[1]]
    return docker("exec", container, *command, timeout=30).returncode


@pytest.fixture
def api_database(make_database) -> str:
    dsn = make_database("mtw_api_image")
    parts = psycopg.conninfo.conninfo_to_dict(dsn)
    return f"postgresql://{parts.get('user', 'postgres')}@{parts['host']}:{parts.get('port', 5432)}/{parts['dbname']}"


def test_api_container_is_healthy_while_the_warehouse_answers(api_image, api_database):
    container, port = start_api(api_image, api_database)
    try:
        assert health(port) == 200
        assert run_healthcheck(api_image, container) == 0
        assert docker("exec", container, "id", "-u").stdout.strip() != "0"
    finally:
        docker("stop", "-t", "2", container)


def test_api_container_answers_503_and_fails_its_healthcheck_without_a_warehouse(api_image):
    nowhere = f"postgresql://postgres@127.0.0.1:{free_port()}/postgres"
    container, port = start_api(api_image, nowhere)
    try:
        assert health(port) == 503
        assert run_healthcheck(api_image, container) != 0
    finally:
        docker("stop", "-t", "2", container)
