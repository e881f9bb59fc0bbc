"""A docker-compose.yaml stack started for real, in a copy of the checkout, driven over Airflow's REST API.

The copy holds the repository's files as a fresh clone would (tracked and new files, nothing git ignores) plus
the offline model, and gets its own .env from `scripts/env.sh` (make env). On this engine (no bridge
network) the host-network overrides are layered on, which move every port off the machine's own services.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from tests.support.scheduler_wait import wait_for_heartbeats

REPO = Path(__file__).resolve().parents[2]
AIRFLOW_URL = "http://127.0.0.1:28080"
API_URL = "http://127.0.0.1:28000"
LOCAL_FILES = ("docker-compose.yaml", "docker-compose.host-network.yaml")
CELERY_FILES = ("docker-compose.yaml", "docker-compose.celery.yaml", "docker-compose.host-network.yaml",
                "docker-compose.celery.host-network.yaml")
LONG_RUNNING = {"postgres", "redis", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
                "airflow-triggerer", "airflow-worker", "airflow-worker-gpu", "api"}


def checkout_copy(target: Path) -> Path:
    """The working tree as a clone would have it: git's tracked and untracked-but-not-ignored files."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, text=True, check=True).stdout.split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    # The model `make images` fetches (git-ignored): the DAG mounts models/ into the detector.
    shutil.copytree(REPO / "models", target / "models")
    subprocess.run(["bash", "scripts/env.sh"], cwd=target, check=True, capture_output=True, timeout=60)
    return target


def read_env(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line and not line.startswith("#"))
    return {key: value for key, value in pairs}


@dataclass
class Stack:
    root: Path
    project: str
    files: tuple[str, ...]
    extra_env: dict[str, str] = field(default_factory=dict)
    token: str | None = None

    # ------------------------------------------------------------------------------------------ compose
    def compose(self, *args: str, timeout: float = 900, check: bool = True) -> subprocess.CompletedProcess:
        argv = ["docker", "compose", "-p", self.project]
        for name in self.files:
            argv += ["-f", name]
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "PWD": str(self.root), "HOME": str(self.root),
               **self.extra_env}
        result = subprocess.run([*argv, *args], cwd=self.root, env=env, capture_output=True, text=True,
                                timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"docker compose {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result

    def states(self) -> dict[str, dict]:
        out = self.compose("ps", "--all", "--format", "json").stdout
        rows = [json.loads(line) for line in out.splitlines() if line.strip()]
        return {row["Service"]: row for row in rows}

    def wait_healthy(self, timeout: float = 1200) -> dict[str, str]:
        """Every long-running service healthy (init exited 0); their final states."""
        deadline = time.monotonic() + timeout
        while True:
            states = self.states()
            init = states.get("airflow-init", {})
            if init.get("State") == "exited" and init.get("ExitCode") != 0:
                raise AssertionError(f"airflow-init failed:\n{self.logs('airflow-init')}")
            running = {name: row for name, row in states.items() if name in LONG_RUNNING}
            health = {name: row.get("Health") or row.get("State") for name, row in running.items()}
            if running and all(value == "healthy" for value in health.values()) \
                    and init.get("State") == "exited":
                return health
            if time.monotonic() > deadline:
                raise AssertionError(f"not healthy after {timeout:.0f}s: {health}\n{self.logs()}")
            time.sleep(10)

    def logs(self, *services: str, tail: int = 60) -> str:
        return self.compose("logs", "--no-color", "--tail", str(tail), *services, check=False).stdout[-20000:]

    def container(self, service: str) -> str:
        return self.compose("ps", "-q", service).stdout.strip()

    # ------------------------------------------------------------------------------------------ REST API
    def login(self) -> str:
        password = read_env(self.root / ".env")["AIRFLOW_ADMIN_PASSWORD"]
        status, body = self.request("POST", "/auth/token", {"username": "admin", "password": password},
                                    auth=False)
        assert status in (200, 201), body
        self.token = body["access_token"]
        return self.token

    def request(self, method: str, path: str, payload: dict | None = None, *, auth: bool = True,
                base: str = AIRFLOW_URL, cookie: str | None = None) -> tuple[int, dict | str]:
        headers = {"Content-Type": "application/json"}
        if auth and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if cookie:
            headers["Cookie"] = cookie
        data = json.dumps(payload).encode() if payload is not None else None
        req = urllib.request.Request(base + path, data=data, method=method, headers=headers)
        for attempt in range(4):
            try:
                with urllib.request.urlopen(req, timeout=60) as response:
                    status, raw = response.status, response.read()
                break
            except urllib.error.HTTPError as error:
                status, raw = error.code, error.read()
                break
            except (TimeoutError, ConnectionError, urllib.error.URLError):
                # The single api-server worker may answer late while tasks load the CPU: GETs are retried.
                if method != "GET" or attempt == 3:
                    raise
                time.sleep(10)
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode(errors="replace")

    def wait_for_dags(self, dag_ids: list[str], timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while True:
            missing = [d for d in dag_ids if self.request("GET", f"/api/v2/dags/{d}")[0] != 200]
            if not missing:
                return
            if time.monotonic() > deadline:
                errors = self.request("GET", "/api/v2/importErrors")[1]
                raise AssertionError(f"DAGs not parsed after {timeout:.0f}s: {missing}; import errors: {errors}")
            time.sleep(5)

    def unpause(self, dag_id: str) -> None:
        status, body = self.request("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
        assert status == 200 and body["is_paused"] is False, body

    def trigger(self, dag_id: str, logical_date: str | None = None) -> str:
        status, body = self.request("POST", f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": logical_date})
        assert status == 200, body
        return body["dag_run_id"]

    def run(self, dag_id: str, run_id: str) -> dict:
        status, body = self.request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")
        assert status == 200, body
        return body

    def runs(self, dag_id: str) -> list[dict]:
        status, body = self.request("GET", f"/api/v2/dags/{dag_id}/dagRuns?limit=50")
        assert status == 200, body
        return body["dag_runs"]

    def wait_scheduler_loops(self, loops: int = 3, timeout: float = 120) -> None:
        """Until the scheduler has heartbeated `loops` times more (tests/support/scheduler_wait.py)."""
        def health() -> dict:
            status, body = self.request("GET", "/api/v2/monitor/health", auth=False)
            assert status == 200, body
            return body
        wait_for_heartbeats(health, loops, timeout)

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        status, body = self.request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances?limit=500")
        assert status == 200, body
        return body["task_instances"]

    def wait_run(self, dag_id: str, run_id: str, timeout: float = 2400, on_poll=None) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            run = self.run(dag_id, run_id)
            if run["state"] in ("success", "failed"):
                return run
            if on_poll:
                on_poll()
            if time.monotonic() > deadline:
                states = {ti["task_id"]: ti["state"] for ti in self.task_instances(dag_id, run_id)}
                raise AssertionError(f"{dag_id} {run_id} still {run['state']} after {timeout:.0f}s: {states}")
            time.sleep(5)


def describe(task_instances: list[dict]) -> str:
    return "\n".join(f"  {ti['task_id']}[{ti.get('map_index', -1)}] {ti['state']} try {ti.get('try_number')} "
                     f"on {ti.get('hostname')} ({ti.get('operator')})" for ti in task_instances)


def leftovers(project: str) -> dict[str, list[str]]:
    """What of a compose project is still on the engine, and any task container of the project's images."""
    label = f"label=com.docker.compose.project={project}"

    def listed(*args: str) -> list[str]:
        out = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=60).stdout
        return [line for line in out.splitlines() if line.strip()]

    found = {
        "containers": listed("ps", "-a", "--filter", label, "--format", "{{.Names}}"),
        "volumes": listed("volume", "ls", "--filter", label, "--format", "{{.Name}}"),
        "networks": listed("network", "ls", "--filter", label, "--format", "{{.Name}}"),
    }
    for image in ("medical-telegram/scraper:latest", "medical-telegram/yolo:latest"):
        found["containers"] += listed("ps", "-a", "--filter", f"ancestor={image}", "--format", "{{.Names}}")
    return found
