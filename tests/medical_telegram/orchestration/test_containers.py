"""Containerized tasks: one declaration, rendered as a DockerOperator, runnable in the image's venv."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from airflow.providers.docker.operators.docker import DockerOperator

from medical_telegram.orchestration.containers import ContainerTaskOperator, run_local, summary

REPO = Path(__file__).resolve().parents[3]
SCRAPER = REPO / ".venvs" / "scraper" / "bin" / "telegram-scraper"


def test_scraper_task_is_a_docker_operator_with_the_lake_mounted(monkeypatch, tmp_path):
    monkeypatch.setenv("DATA_LAKE_DIR", str(tmp_path / "lake"))
    monkeypatch.delenv("LAKE_HOST_DIR", raising=False)
    op = ContainerTaskOperator(task_id="scrape", spec_name="scraper", command=["scrape", "--channels", "x"])
    assert isinstance(op, DockerOperator)
    assert op.entrypoint == ["telegram-scraper"] and op.command == ["scrape", "--channels", "x"]
    mounts = {m["Target"]: m for m in op.mounts}
    assert mounts["/data"]["Source"] == str(tmp_path / "lake") and mounts["/data"]["Type"] == "bind"
    assert mounts["/data"]["ReadOnly"] is False and mounts["/export"]["ReadOnly"] is True
    assert op.environment == {"DATA_LAKE_DIR": "/data"}
    assert op.auto_remove == "success" and op.mount_tmp_dir is False and op.network_mode == "none"
    assert op.device_requests is None
    assert op._private_environment == {}, "secrets are resolved at run time, never at parse time"


def test_detector_task_requests_the_gpu_unless_told_not_to(monkeypatch):
    op = ContainerTaskOperator(task_id="detect", spec_name="yolo", command=["detect"])
    assert op.device_requests and op.device_requests[0]["Capabilities"] == [["gpu"]]
    assert op.environment["YOLO_WEIGHTS"] == "/models/fall_detection_best.pt"
    monkeypatch.setenv("CONTAINER_GPU", "false")
    assert ContainerTaskOperator(task_id="detect", spec_name="yolo", command=["detect"]).device_requests is None


def test_gpu_tasks_go_to_the_gpu_queue_when_one_is_set(monkeypatch):
    monkeypatch.delenv("GPU_QUEUE", raising=False)
    assert ContainerTaskOperator(task_id="detect", spec_name="yolo", command=["detect"]).queue == "default"
    monkeypatch.setenv("GPU_QUEUE", "gpu")
    assert ContainerTaskOperator(task_id="detect", spec_name="yolo", command=["detect"]).queue == "gpu"
    scrape = ContainerTaskOperator(task_id="scrape", spec_name="scraper", command=["scrape"])
    assert scrape.queue == "default", "only GPU tasks leave the default queue"


def test_run_local_returns_the_last_stdout_line_and_passes_the_environment():
    script = "import os, sys; print('working', file=sys.stderr); print('a'); print(os.environ['SECRET_X']); print()"
    assert run_local([sys.executable, "-c", script], {"SECRET_X": "s3cr3t-value"}) == "s3cr3t-value"


def test_run_local_fails_like_a_container_with_the_exit_code_and_stderr():
    script = "import sys; print('boom happened', file=sys.stderr); sys.exit(3)"
    with pytest.raises(RuntimeError, match=r"exited with code 3: boom happened"):
        run_local([sys.executable, "-c", script], {})


def test_summary_reads_the_json_line():
    assert summary('{"totals": {"messages": 3}}') == {"totals": {"messages": 3}}
    assert summary("not json") == {} and summary(None) == {}


@pytest.mark.skipif(not SCRAPER.exists(), reason=f"{SCRAPER} missing: run make setup")
def test_local_runtime_imports_the_export_into_the_lake(monkeypatch, tmp_path):
    monkeypatch.setenv("CONTAINER_RUNTIME", "local")
    monkeypatch.setenv("DATA_LAKE_DIR", str(tmp_path / "lake"))
    monkeypatch.setenv("TELEGRAM_EXPORT_PATH", str(REPO / "sample" / "desktop_export"))
    op = ContainerTaskOperator(task_id="scrape", spec_name="scraper",
                               command=["import-export", "{export}", "--channel", "lobelia4cosmetics"])
    line = op.execute({"outlet_events": {}})
    result = json.loads(line)
    assert result, line
    files = sorted((tmp_path / "lake" / "raw" / "telegram_messages").glob("*/lobelia4cosmetics.json"))
    assert files, "the export was not written into the lake"
    assert sum(len(json.loads(f.read_text())) for f in files) == 100


def test_without_configuration_a_machine_without_docker_runs_locally(monkeypatch):
    monkeypatch.delenv("CONTAINER_RUNTIME", raising=False)
    monkeypatch.delenv("AIRFLOW_VAR_CONTAINER_RUNTIME", raising=False)
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    op = ContainerTaskOperator(task_id="scrape", spec_name="scraper", command=["scrape"])
    assert op._runtime() == "local"
    monkeypatch.setenv("CONTAINER_RUNTIME", "docker")
    assert op._runtime() == "docker"


def test_a_killed_local_task_takes_its_whole_process_group_down(tmp_path):
    """A task killed on a timeout must not leave its scraper (and what the scraper started) running beside
    the retry."""
    import os
    import threading
    import time

    from medical_telegram.orchestration.containers import stop_process_group

    child_pid = tmp_path / "child.pid"
    script = ("import subprocess, sys, time\n"
              "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
              f"open({str(child_pid)!r}, 'w').write(str(child.pid))\n"
              "time.sleep(120)\n")
    started, outcome = [], []

    def run():
        try:
            run_local([sys.executable, "-c", script], {}, started=started.append)
        except RuntimeError as exc:
            outcome.append(str(exc))

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 30
    while not (started and child_pid.exists() and child_pid.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    child = int(child_pid.read_text())
    stop_process_group(started[0], grace_s=2)
    thread.join(timeout=30)

    def alive(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return not open(f"/proc/{pid}/stat").read().split(") ")[1].startswith("Z")  # a zombie is gone

    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(started[0].pid) and not alive(child), "the script and the process it started are gone"
    assert outcome and "exited with code -15" in outcome[0]
