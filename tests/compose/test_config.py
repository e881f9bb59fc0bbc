"""docker-compose.yaml and its overrides, as `docker compose config` renders them: the services of docs/architecture.md,
secrets with no working default, loopback ports, the Docker socket only where tasks start, no secret on a
command line. (tests/compose/test_stack.py starts the stack for real.)

Skipped, with the reason printed, where `docker compose` (v2) is not installed (make images installs it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SECRETS = {
    "AIRFLOW_ADMIN_PASSWORD": "admin-pw-x1", "AIRFLOW_JWT_SECRET": "jwt-secret-x2",
    "AIRFLOW_FERNET_KEY": "fernet-key-x3", "POSTGRES_PASSWORD": "pg-pw-x4", "WAREHOUSE_PASSWORD": "wh-pw-x5",
    "AIRFLOW_DB_PASSWORD": "af-pw-x8",
    "API_DB_PASSWORD": "api-pw-x6", "REDIS_PASSWORD": "redis-pw-x7",
}
SETTINGS = {**SECRETS, "AIRFLOW_UID": "1000", "DOCKER_GID": "999"}
CELERY = ("docker-compose.yaml", "docker-compose.celery.yaml")
SOCKET = "/var/run/docker.sock"


@pytest.fixture(scope="module")
def compose():
    if shutil.which("docker") is None or subprocess.run(["docker", "compose", "version"],
                                                        capture_output=True).returncode != 0:
        reason = "`docker compose` (v2) is not installed (make images installs it)"
        print(f"skipping: {reason}")
        pytest.skip(reason)
    return ["docker", "compose"]


def config(compose, files=("docker-compose.yaml",), env=SETTINGS) -> subprocess.CompletedProcess:
    argv = [*compose, "--project-directory", str(REPO), "--env-file", os.devnull]
    for name in files:
        argv += ["-f", str(REPO / name)]
    # Only what is passed here: neither the caller's environment nor a .env of the checkout leaks in.
    return subprocess.run([*argv, "config"], capture_output=True, text=True, timeout=60,
                          env={"PATH": os.environ["PATH"], "PWD": str(REPO), **env})


def services(compose, files=("docker-compose.yaml",)) -> dict:
    result = config(compose, files)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)["services"]


def mounts_socket(service: dict) -> bool:
    return any(volume.get("source") == SOCKET for volume in service.get("volumes", []))


def test_no_secret_has_a_working_default(compose):
    for name in SECRETS:
        if name == "REDIS_PASSWORD":
            files = CELERY
        else:
            files = ("docker-compose.yaml",)
        missing = config(compose, files, {k: v for k, v in SETTINGS.items() if k != name})
        assert missing.returncode != 0, f"{name} unset, yet compose renders"
        assert name in missing.stderr and "make env" in missing.stderr


def test_services_local_executor_by_default_celery_by_its_file(compose):
    local = services(compose)
    assert set(local) == {"postgres", "airflow-init", "airflow-apiserver", "airflow-scheduler",
                          "airflow-dag-processor", "airflow-triggerer", "api"}
    assert {s["environment"]["AIRFLOW__CORE__EXECUTOR"] for n, s in local.items() if n.startswith("airflow")} \
        == {"LocalExecutor"}
    celery = services(compose, CELERY)
    assert set(celery) - set(local) == {"redis", "airflow-worker", "airflow-worker-gpu"}
    assert {s["environment"]["AIRFLOW__CORE__EXECUTOR"] for n, s in celery.items() if n.startswith("airflow")} \
        == {"CeleryExecutor"}
    assert "--queues default,gpu" in " ".join(celery["airflow-worker-gpu"]["command"])
    assert "gpu" not in " ".join(celery["airflow-worker"]["command"])


def test_docker_socket_only_where_tasks_start(compose):
    local = services(compose)
    assert {name for name, s in local.items() if mounts_socket(s)} == {"airflow-scheduler"}
    celery = services(compose, CELERY)
    assert {name for name, s in celery.items() if mounts_socket(s)} == {"airflow-worker", "airflow-worker-gpu"}


def test_ports_bind_loopback_unless_opted_in(compose):
    published = [port for s in services(compose).values() for port in s.get("ports", [])]
    assert published and all(port["host_ip"] == "127.0.0.1" for port in published)
    opted = config(compose, env={**SETTINGS, "BIND_ADDRESS": "0.0.0.0"})
    assert opted.returncode == 0 and "host_ip: 0.0.0.0" in opted.stdout


def test_no_secret_on_a_command_line(compose):
    for files in (("docker-compose.yaml",), CELERY):
        for name, service in services(compose, files).items():
            argv = service.get("command") or []
            text = " ".join(argv if isinstance(argv, list) else [argv]) + " ".join(
                map(str, (service.get("healthcheck") or {}).get("test") or []))
            leaked = [key for key, value in SECRETS.items() if value in text]
            assert not leaked, f"{name}'s command line holds {leaked}"
