"""Health checks of what the pipeline depends on, and where their results are kept.

Each check returns a `Check` (ok | warning | failed, a number and a one-line detail) and never raises:
health_check records every outcome in monitoring.health_checks and fails only when a check failed.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg

from medical_telegram import lake
from medical_telegram.warehouse import redact

OK, WARNING, FAILED = "ok", "warning", "failed"


@dataclasses.dataclass
class Check:
    name: str
    status: str
    detail: str = ""
    value: float | None = None

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def check_warehouse(dsn: str) -> Check:
    began = time.perf_counter()
    try:
        with psycopg.connect(dsn, connect_timeout=5) as conn:
            conn.execute("select 1").fetchone()
    except psycopg.Error as exc:
        return Check("warehouse", FAILED, f"{redact(dsn)}: {str(exc).strip()[:200]}")
    ms = (time.perf_counter() - began) * 1000
    return Check("warehouse", OK, f"{redact(dsn)} answered in {ms:.0f} ms", round(ms, 1))


def check_docker(required: bool) -> Check:
    """Ping the Docker engine. Without one it is a failure only where tasks run in containers."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    status = FAILED if required else WARNING
    if host.startswith("unix://"):
        path = host.removeprefix("unix://")
        try:
            with socket.socket(socket.AF_UNIX) as sock:
                sock.settimeout(3)
                sock.connect(path)
                sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
                reply = sock.recv(256).decode(errors="replace")
        except OSError as exc:
            why = "not running" if required else "not running (tasks run in local venvs)"
            return Check("docker", status, f"Docker engine at {path} {why}: {exc}")
        if " 200 " in reply.split("\r\n", 1)[0]:
            return Check("docker", OK, f"Docker engine at {path} answered")
        return Check("docker", status, f"Docker engine at {path}: {reply.splitlines()[0] if reply else 'no reply'}")
    return Check("docker", OK, f"remote Docker engine configured ({host.split('://')[0]})")


def check_disk(path: Path, min_free_fraction: float = 0.10) -> Check:
    usage = shutil.disk_usage(path if path.exists() else path.parent)
    free = usage.free / usage.total
    detail = f"{usage.free / 2**30:.1f} GiB free of {usage.total / 2**30:.1f} GiB ({free:.0%}) at {path}"
    status = OK if free >= min_free_fraction else (WARNING if free >= min_free_fraction / 2 else FAILED)
    return Check("disk", status, detail, round(free * 100, 2))


def check_lake(root: Path) -> Check:
    if not root.is_dir():
        return Check("lake", FAILED, f"{root} does not exist")
    if not os.access(root, os.W_OK):
        return Check("lake", FAILED, f"{root} is not writable")
    files = list((root / lake.MESSAGES_DIR).glob("*/*.json"))
    if not files:
        return Check("lake", WARNING, f"{root} holds no message files yet", 0)
    newest = max(f.stat().st_mtime for f in files)
    hours = (time.time() - newest) / 3600
    return Check("lake", OK, f"{len(files)} message files, newest written {hours:.1f} h ago", len(files))


def check_api(base_url: str, timeout: float = 5.0) -> Check:
    url = f"{base_url}/api/health"
    began = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (configured URL)
            code = response.status
    except urllib.error.HTTPError as exc:
        code = exc.code
    except (urllib.error.URLError, OSError) as exc:
        return Check("api", FAILED, f"{url}: {getattr(exc, 'reason', exc)}")
    ms = (time.perf_counter() - began) * 1000
    status = OK if code == 200 else FAILED
    return Check("api", status, f"{url} answered {code} in {ms:.0f} ms", round(ms, 1))


def check_telegram_credentials(present: bool, source: str) -> Check:
    """Only that they are present (never their values); without them the export importer is used."""
    if present:
        return Check("telegram_credentials", OK, "the telegram_api credentials are configured")
    status = WARNING if source == "export" else FAILED
    return Check("telegram_credentials", status,
                 f"no telegram_api credentials (source: {source}; live scraping is impossible)")


def record(conn: psycopg.Connection, checks: list[Check], run_id: str | None = None) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            "insert into monitoring.health_checks (check_name, status, value, detail, dag_run_id)"
            " values (%s, %s, %s, %s, %s)",
            [(c.name, c.status, c.value, c.detail, run_id) for c in checks],
        )
    conn.commit()
