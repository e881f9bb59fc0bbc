"""docker-compose.yaml is a valid Compose file with the services of DESIGN.md.

Uses `docker compose` (the v2 plugin) or `docker-compose` (v1, Debian's package); skipped, with the reason
printed, where neither is installed.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def compose_command() -> list[str] | None:
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


@pytest.fixture(scope="module")
def compose():
    command = compose_command()
    if command is None:
        reason = "neither `docker compose` nor `docker-compose` is installed (apt-get install docker-compose)"
        print(f"skipping: {reason}")
        pytest.skip(reason)
    return command


def run(compose, *args, **env) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([*compose, *args], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, "PWD": str(REPO), **env}, timeout=60)


def test_compose_config_is_valid(compose):
    result = run(compose, "config", "-q")
    assert result.returncode == 0, result.stderr


def test_services_local_executor_by_default_celery_as_a_profile(compose):
    import yaml

    result = run(compose, "--profile", "celery", "config")
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    always = {name for name, service in services.items() if not service.get("profiles")}
    assert always == {"postgres", "airflow-init", "airflow-apiserver", "airflow-scheduler",
                      "airflow-dag-processor", "airflow-triggerer", "api"}
    assert {name for name in services if services[name].get("profiles") == ["celery"]} == {"redis", "airflow-worker"}


def test_docker_socket_and_lake_reach_airflow(compose):
    result = run(compose, "config", LAKE_HOST_DIR="/srv/lake")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "/var/run/docker.sock:/var/run/docker.sock" in text.replace(" ", "").replace("source:", "") or \
        "/var/run/docker.sock" in text
    assert "LAKE_HOST_DIR: /srv/lake" in text
    assert "AIRFLOW__CORE__EXECUTOR: LocalExecutor" in text
