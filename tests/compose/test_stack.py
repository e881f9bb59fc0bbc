"""docker-compose.yaml started for real, from a copy of the checkout after `make images`, for both executors.

LocalExecutor: init makes the metadata and warehouse databases, the roles (the API's read-only one included),
the pools; every service turns healthy; the UI, the API and the Data Docs plugin answer (the plugin only to a
logged-in user); full_pipeline, triggered through the REST API, runs the scraper (export import) and the
detector as DockerOperator containers and succeeds, and queues no Asset-triggered run (it did their work).
CeleryExecutor: Redis and two workers; the detector runs on the GPU worker's queue; one worker is killed in the
middle of a task, which is retried on the other, and the run still succeeds. After each, `docker compose down
-v` leaves nothing of the project on the engine.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.parse

import psycopg
import pytest

from medical_telegram.orchestration import pools as pools_module

from tests.compose.compose_stack import API_URL, CELERY_FILES, LOCAL_FILES, Stack, checkout_copy, describe, leftovers, read_env

pytestmark = [pytest.mark.docker, pytest.mark.slow]

CONTAINER_TASKS = ("ingest.scrape", "enrich.detect")
IMAGES = ("medical-telegram/airflow:latest", "medical-telegram/postgres:latest", "medical-telegram/api:latest",
          "medical-telegram/scraper:latest", "medical-telegram/yolo:latest")


def start(tmp_path_factory, name: str, files: tuple[str, ...], **extra_env: str) -> Stack:
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode != 0:
        pytest.skip("`docker compose` (v2) is not installed (make images installs it)")
    for image in IMAGES + (("medical-telegram/redis:latest",) if "celery" in name else ()):
        if subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode != 0:
            pytest.skip(f"image {image} is not built (run `make images`)")
    root = checkout_copy(tmp_path_factory.mktemp(name))
    stack = Stack(root=root, project=f"medtel-e2e-{name}", files=files,
                  extra_env={"CONTAINER_GPU": "false", "MEDTEL_RETRY_DELAY_S": "30", **extra_env})
    stack.compose("down", "-v", "--remove-orphans", check=False)  # a previous run that died
    started = time.monotonic()
    try:
        stack.compose("up", "-d")
        health = stack.wait_healthy()
        print(f"{name}: all services healthy after {time.monotonic() - started:.0f}s: {health}")
        stack.login()
    except BaseException:
        print(stack.logs())
        stack.compose("down", "-v", "--remove-orphans", check=False, timeout=300)
        raise
    return stack


def stop(stack: Stack) -> None:
    stack.compose("down", "-v", "--remove-orphans", timeout=300)
    left = leftovers(stack.project)
    assert left == {"containers": [], "volumes": [], "networks": []}, f"left behind by down -v: {left}"


# What listens inside a container: every process's listening TCP sockets, read with psutil (Airflow's image has
# it; it has no ss).
LISTENING = """
import json, psutil
found = set()
for process in psutil.process_iter():
    try:
        found |= {(c.laddr.ip, c.laddr.port) for c in process.net_connections("inet") if c.status == "LISTEN"}
    except psutil.Error:
        pass
print(json.dumps(sorted(found)))
"""


def listening(stack: Stack, service: str) -> list[list]:
    return json.loads(stack.compose("exec", "-T", service, "python", "-c", LISTENING).stdout)


def run_full_pipeline(stack: Stack, on_poll=None) -> tuple[str, list[dict]]:
    stack.wait_for_dags(["full_pipeline", "ml_enrichment", "data_transformation"])
    # DAGs start paused, and switching one on starts no run for a past schedule: only the REST run runs.
    # ml_enrichment is switched on too, so that an Asset event would queue it (none may: see the tests).
    stack.unpause("ml_enrichment")
    stack.unpause("full_pipeline")
    started = time.monotonic()
    run_id = stack.trigger("full_pipeline")
    run = stack.wait_run("full_pipeline", run_id, on_poll=on_poll)
    tis = stack.task_instances("full_pipeline", run_id)
    print(f"full_pipeline {run_id}: {run['state']} in {time.monotonic() - started:.0f}s\n{describe(tis)}")
    assert run["state"] == "success", stack.logs("airflow-scheduler", "airflow-worker", "airflow-worker-gpu")
    containers = [ti for ti in tis if ti["task_id"] in CONTAINER_TASKS]
    assert {ti["task_id"] for ti in containers} == set(CONTAINER_TASKS)
    assert all(ti["operator"] == "ContainerTaskOperator" and ti["state"] == "success" for ti in containers)
    return run_id, tis


# Function scope: the two stacks use the same host ports, so one must be down before the other starts.
@pytest.fixture
def local_stack(docker_engine, tmp_path_factory):
    stack = start(tmp_path_factory, "local", LOCAL_FILES)
    try:
        yield stack
    finally:
        stop(stack)


def test_local_executor_stack_runs_the_pipeline_in_containers(local_stack):
    stack = local_stack
    env = read_env(stack.root / ".env")
    # The UI, the analytical API and the Data Docs plugin answer; the plugin only to a logged-in user.
    assert stack.request("GET", "/", auth=False)[0] == 200
    assert stack.request("GET", "/api/v2/dags?limit=1", auth=False)[0] == 401
    assert stack.request("GET", "/data-docs/", auth=False)[0] == 401
    assert stack.request("GET", "/data-docs/", auth=False, cookie=f"_token={stack.token}")[0] in (404, 307)
    # The pools of init; the API's read-only role logs in with its generated password and cannot write.
    pools = {pool["name"] for pool in stack.request("GET", "/api/v2/pools")[1]["pools"]}
    assert set(pools_module.POOLS) <= pools  # every pool a task names (a task in a missing pool never runs)
    with psycopg.connect(host="127.0.0.1", port=25432, dbname="warehouse", user="medtel_api",
                         password=env["API_DB_PASSWORD"]) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("create table public.nope (x int)")
        conn.rollback()
        # Least privilege: no role a service logs in with is a superuser or may create roles or databases.
        roles = conn.execute("select rolname, rolsuper or rolcreaterole or rolcreatedb from pg_roles"
                             " where rolname in ('airflow', 'warehouse', 'medtel_api') order by 1").fetchall()
        assert roles == [("airflow", False), ("medtel_api", False), ("warehouse", False)], roles

    # Under the LocalExecutor the scheduler and the triggerer start no log server (it binds every interface),
    # the dag-processor serves nothing; the api-server listens on its port only (127.0.0.1 here: host network).
    for service in ("airflow-scheduler", "airflow-triggerer", "airflow-dag-processor"):
        assert listening(stack, service) == [], (service, listening(stack, service))
    assert listening(stack, "airflow-apiserver") == [["127.0.0.1", 28080]], listening(stack, "airflow-apiserver")

    run_id, tis = run_full_pipeline(stack)
    assert {ti["hostname"] for ti in tis if ti["state"] == "success"}, "task instances record their host"
    # ... and the api-server reads the task logs from the volume every Airflow container mounts
    status, log = stack.request("GET", f"/api/v2/dags/full_pipeline/dagRuns/{urllib.parse.quote(run_id)}"
                                       "/taskInstances/ingest.load_raw/logs/1")
    events = [str(line.get("event", "")) for line in log["content"]] if status == 200 else [log]
    sources = events[events.index("::group::Log message source details") + 1:events.index("::endgroup::")]
    assert sources and all(s.startswith("/opt/airflow/logs/") for s in sources), sources
    assert any("inserted" in event for event in events), events[-20:]
    status, body = stack.request("GET", "/api/channels", auth=False, base=API_URL)
    assert status == 200 and body["items"], body
    assert stack.request("GET", "/data-docs/", cookie=f"_token={stack.token}", auth=False)[0] in (200, 307)

    # full_pipeline does the work of data_transformation and ml_enrichment in its own run, so it emits no event
    # either is scheduled on: ml_enrichment, unpaused before the run, is not queued to do the work again.
    stack.wait_scheduler_loops()  # each scheduler loop turns Asset events into queued runs
    assert not [r for r in stack.runs("ml_enrichment") if r["run_type"] == "asset_triggered"]


@pytest.fixture
def celery_stack(docker_engine, tmp_path_factory):
    # A killed worker's task is failed (and retried) once it misses heartbeats for this long.
    stack = start(tmp_path_factory, "celery", CELERY_FILES, TASK_HEARTBEAT_TIMEOUT="60")
    try:
        yield stack
    finally:
        stop(stack)


def test_celery_stack_spreads_tasks_and_survives_a_killed_worker(celery_stack):
    stack = celery_stack
    assert set(stack.states()) >= {"redis", "airflow-worker", "airflow-worker-gpu"}
    killed: dict[str, str] = {}

    def kill_worker_mid_task():
        """Once airflow-worker has finished a task, kill it while it runs a task that starts no container
        (so no orphaned task container is left running)."""
        if killed or not stack.token:
            return
        run_id = stack.runs("full_pipeline")[0]["dag_run_id"]
        tis = stack.task_instances("full_pipeline", run_id)
        on_worker = [ti for ti in tis if ti.get("hostname") == "airflow-worker"]
        victims = [ti for ti in on_worker if ti["state"] == "running" and ti["task_id"] not in CONTAINER_TASKS]
        if not (victims and any(ti["state"] == "success" for ti in on_worker)):
            return
        # A short task can end between this poll and the kill. Frozen first, the worker cannot end it: if it is
        # still running once frozen, the kill interrupts it; if it already ended, thaw and wait for another.
        worker = stack.container("airflow-worker")
        subprocess.run(["docker", "pause", worker], check=True, capture_output=True, timeout=60)
        time.sleep(2)  # a report of the end already on its way to the API server lands
        victim = victims[0]
        frozen = next(ti for ti in stack.task_instances("full_pipeline", run_id)
                      if (ti["task_id"], ti.get("map_index", -1)) == (victim["task_id"], victim.get("map_index", -1)))
        if frozen["state"] != "running":
            subprocess.run(["docker", "unpause", worker], check=True, capture_output=True, timeout=60)
            print(f"{victim['task_id']} ended before airflow-worker was frozen; waiting for another task")
            return
        subprocess.run(["docker", "kill", worker], check=True, capture_output=True, timeout=60)
        killed.update(task_id=victim["task_id"], map_index=str(victim.get("map_index", -1)))
        print(f"killed airflow-worker while it ran {killed['task_id']}")

    run_id, tis = run_full_pipeline(stack, on_poll=kill_worker_mid_task)
    assert killed, "airflow-worker never ran a task that could be interrupted"
    by_worker: dict[str, list[str]] = {}
    for ti in tis:
        by_worker.setdefault(ti.get("hostname") or "-", []).append(ti["task_id"])
    print("tasks by worker:", {host: sorted(tasks) for host, tasks in by_worker.items()})
    assert {"airflow-worker", "airflow-worker-gpu"} <= set(by_worker)
    detect = next(ti for ti in tis if ti["task_id"] == "enrich.detect")
    assert detect["hostname"] == "airflow-worker-gpu" and detect["queue"] == "gpu"
    retried = next(ti for ti in tis if ti["task_id"] == killed["task_id"]
                   and str(ti.get("map_index", -1)) == killed["map_index"])
    # Cosmos's dbt producer (WATCHER mode) is not run twice: retried, it ends as skipped and each model's task
    # runs its own dbt command instead; the run's success above shows the models were built.
    producer = killed["task_id"].endswith("dbt_producer_watcher")
    assert retried["state"] == ("skipped" if producer else "success") and retried["try_number"] >= 2
    assert retried["hostname"] == "airflow-worker-gpu", "the retry ran on the worker still alive"
