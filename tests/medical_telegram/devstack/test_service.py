"""End to end through the local service: Airflow's scheduler, LocalExecutor, api-server, dag-processor and
triggerer, started the way `make run` starts them (`python -m medical_telegram.devstack.service up`),
on free ports, with a private state folder and databases of this test run; every DAG run is triggered through
the REST API and runs in the scheduler, with the real parts (scraper and detector CLIs in their venvs, dbt
through Cosmos, GX, the API).

The tests share one stack and run in order (each builds on what the previous left): the sample's Desktop
export is split into three exports, so three ingestions each bring new posts.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import psutil
import psycopg
import pytest

from medical_telegram.devstack.client import AirflowClient, ServiceError
from tests.support.alert_sinks import MailSink, WebhookSink, free_port
from tests.support.gx_context import gx_context_copy
from tests.support.scheduler_wait import wait_for_heartbeats

REPO = Path(__file__).resolve().parents[3]
CHANNEL = "lobelia4cosmetics"
FINAL = ("success", "failed")

pytestmark = pytest.mark.slow

NEEDS = {
    ".venvs/scraper/bin/telegram-scraper": "the scraper venv (make setup)",
    ".venvs/yolo/bin/yolo-detect": "the detector venv (make setup)",
    ".venvs/dbt/bin/dbt": "the dbt venv (make setup)",
    "models/fall_detection_best.pt": "the offline model (scripts/fetch_offline_model.sh)",
    "include/dbt/medical_warehouse/target/manifest.json": "the dbt manifest (python -m medical_telegram.transform.dbt_runner)",
}
ALL_DAGS = ("data_ingestion", "data_transformation", "ml_enrichment", "api_service", "full_pipeline",
            "quality_checks", "health_check", "cleanup", "engagement_refresh")


def split_export(source: Path, target: Path) -> dict[str, Path]:
    """The sample export as three exports: `new` (the newest half of the posts, with the photos), `older` and
    `oldest` (a quarter each, no photos)."""
    data = json.loads((source / "result.json").read_text())
    messages = sorted(data["messages"], key=lambda m: m["id"])
    quarter = len(messages) // 4
    parts = {"oldest": messages[:quarter], "older": messages[quarter:2 * quarter], "new": messages[2 * quarter:]}
    paths = {}
    for name, part in parts.items():
        folder = target / name
        shutil.copytree(source, folder, ignore=shutil.ignore_patterns("result.json"))
        (folder / "result.json").write_text(json.dumps({**data, "messages": part}))
        paths[name] = folder
    return paths


class Stack:
    def __init__(self, env: dict[str, str], state: Path, dsn: str, lake: Path, exports: dict[str, Path],
                 alerts: WebhookSink, mail: MailSink):
        self.env, self.state, self.dsn, self.lake, self.exports, self.alerts = env, state, dsn, lake, exports, alerts
        self.mail = mail
        self.api_url = f"http://127.0.0.1:{env['MEDTEL_API_PORT']}"
        self.airflow_url = f"http://127.0.0.1:{env['MEDTEL_AIRFLOW_PORT']}"
        self._client: AirflowClient | None = None
        self._switched_on: set[str] = set()

    def service(self, command: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "medical_telegram.devstack.service", command],
                              capture_output=True, text=True, env=self.env, cwd=REPO, timeout=600)

    @property
    def client(self) -> AirflowClient:
        if self._client is None:
            password = json.loads((self.state / "airflow" / "passwords.json").read_text())["admin"]
            self._client = AirflowClient(self.airflow_url, "admin", password)
        return self._client

    def set_variable(self, key: str, value: str) -> None:
        try:
            self.client.request("POST", "/api/v2/variables", {"key": key, "value": value})
        except ServiceError:
            self.client.request("PATCH", f"/api/v2/variables/{key}", {"key": key, "value": value})

    def unpause(self, *dag_ids: str, paused: bool = False) -> None:
        for dag_id in dag_ids:
            self.client.dag(dag_id)
            self.client.set_paused(dag_id, paused)
            self._switched_on.discard(dag_id)  # the test's own choice now

    def trigger(self, dag_id: str) -> str:
        """A manual run (a paused DAG's runs wait, so the DAG is switched on; `wait` switches it off again, so
        its own schedule does not start runs between the tests when the clock crosses its cron time)."""
        if self.client.dag(dag_id)["is_paused"]:
            self._switched_on.add(dag_id)
            self.client.set_paused(dag_id, False)
        return self.client.trigger(dag_id)

    def wait(self, dag_id: str, run_id: str) -> dict:
        run = self.client.wait(dag_id, run_id, timeout=1500)
        run["tasks"] = self.client.task_states(dag_id, run_id)
        if dag_id in self._switched_on:
            self._switched_on.discard(dag_id)
            self.client.set_paused(dag_id, True)
        return run

    def run(self, dag_id: str) -> dict:
        return self.wait(dag_id, self.trigger(dag_id))

    def runs(self, dag_id: str, run_type: str | None = None) -> list[dict]:
        return [r for r in self.client.runs(dag_id) if run_type is None or r["run_type"] == run_type]

    def wait_for_runs(self, dag_id: str, run_type: str, count: int, timeout: float = 1500) -> list[dict]:
        """Wait until `count` runs of that type exist and have all ended."""
        deadline = time.monotonic() + timeout
        while True:
            runs = self.runs(dag_id, run_type)
            if len(runs) >= count and all(r["state"] in FINAL for r in runs):
                return runs
            assert time.monotonic() < deadline, f"{dag_id}: {runs}"
            time.sleep(3)

    def wait_scheduler_loops(self, loops: int = 3, timeout: float = 120) -> None:
        """Until the scheduler has heartbeated `loops` times more: each loop turns queued Asset events into runs,
        so what was to be created by now has been (a condition, where a fixed sleep only hopes)."""
        wait_for_heartbeats(lambda: self.client.get("/api/v2/monitor/health"), loops, timeout)

    def events(self, **query: str) -> list[dict]:
        params = "&".join(f"{k}={urllib.request.quote(v)}" for k, v in query.items())
        return self.client.get(f"/api/v2/assets/events?limit=100&{params}")["asset_events"]

    def run_events(self, dag_id: str, run_id: str) -> dict[str, dict]:
        return {e["name"] or e["uri"]: e["extra"] for e in self.events(source_dag_id=dag_id, source_run_id=run_id)}


def _live_members(session: int) -> list[int]:
    """The pids of the processes of that session but its zombies."""
    found = []
    for process in psutil.process_iter():
        try:
            if os.getsid(process.pid) == session and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process.pid)
        except (OSError, psutil.Error):
            continue
    return found


def _failed(run: dict) -> dict:
    return {task: state for task, state in run["tasks"].items() if state not in ("success", "skipped")}


@pytest.fixture(scope="module")
def stack(make_database, tmp_path_factory):
    missing = [f"{path}: {why}" for path, why in NEEDS.items() if not (REPO / path).exists()]
    if missing:
        print("skipping the service tests:", "; ".join(missing))
        pytest.skip("missing: " + "; ".join(missing))
    tmp = tmp_path_factory.mktemp("service")
    dsn = make_database("mtw_service")
    metadata = psycopg.conninfo.conninfo_to_dict(make_database("mtw_airflow"))
    params = psycopg.conninfo.conninfo_to_dict(dsn)
    server = f"{params.get('user', 'postgres')}@{params.get('host', '127.0.0.1')}:{params.get('port', 5432)}"
    gx_context_copy(tmp / "gx_root")
    exports = split_export(REPO / "sample" / "desktop_export", tmp / "exports")
    alerts = WebhookSink()
    mail = MailSink()
    secrets = ("TELEGRAM_API_ID", "TELEGRAM_API_HASH", "TELEGRAM_SESSION", "WAREHOUSE_DSN", "API_DATABASE_URL")
    env = {k: v for k, v in os.environ.items()
           if k not in secrets and not k.startswith(("AIRFLOW", "TELEGRAM", "MEDTEL", "API_"))}
    env.update({
        "AIRFLOW_CONN_WAREHOUSE_DB": f"postgresql://{server}/{params['dbname']}",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://{server}/{metadata['dbname']}",
        "MEDTEL_STATE_DIR": str(tmp / "state"),
        "MEDTEL_AIRFLOW_PORT": str(free_port()),
        "MEDTEL_API_PORT": str(free_port()),
        "DATA_LAKE_DIR": str(tmp / "lake"),
        "GX_PROJECT_DIR": str(tmp / "gx_root"),
        "CONTAINER_RUNTIME": "local",
        "TELEGRAM_SOURCE": "export",
        "TELEGRAM_EXPORT_PATH": str(exports["new"]),
        "TELEGRAM_EXPORT_CHANNEL": CHANNEL,
        "ALERT_WEBHOOK_URL": alerts.url,
        "AIRFLOW_CONN_ALERT_SMTP": mail.connection,
        "ALERT_EMAIL_TO": "oncall@example.org",
        "MEDTEL_RETRY_DELAY_S": "1",
        "YOLO_DEVICE": "cpu",
        # After the scheduler is killed (test_every_dag_runs_...), what its executor had queued but not started
        # is found and queued again within seconds, not Airflow's default five minutes.
        "AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL": "15",
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "120",
    })
    (tmp / "lake").mkdir()
    began = time.monotonic()
    stack = Stack(env, tmp / "state", dsn, tmp / "lake", exports, alerts, mail)
    started = stack.service("up")
    try:
        assert started.returncode == 0, (started.stdout[-2000:], started.stderr[-3000:])
        print(f"the service came up in {time.monotonic() - began:.0f} s")
        yield stack
    finally:
        stopped = stack.service("stop")
        print("stopped:", stopped.stdout.strip())
        alerts.shutdown()
        mail.stop()
        for log in sorted((tmp / "state" / "logs").glob("*.log")):
            print(f"--- {log.name} (tail)\n" + "\n".join(log.read_text(errors="replace").splitlines()[-15:]))


def test_dags_are_paused_at_creation(stack):
    for dag_id in ALL_DAGS:
        dag = stack.client.dag(dag_id)
        assert dag["is_paused"] is True, dag_id
        assert not stack.runs(dag_id), f"{dag_id} ran before anyone switched it on"


def test_new_posts_run_transformation_and_enrichment_once(stack):
    switched_on = dt.datetime.now(dt.UTC)
    stack.unpause("data_transformation", "ml_enrichment")
    ingestion = stack.run("data_ingestion")
    assert ingestion["state"] == "success", _failed(ingestion)
    events = stack.run_events("data_ingestion", ingestion["dag_run_id"])
    assert {"raw_telegram_messages", "lake_telegram_images"} <= set(events), events
    assert events["raw_telegram_messages"]["inserted"] == 51
    assert events["raw_telegram_messages"]["quarantined"] == 0
    assert events["lake_telegram_images"]["new_photos"] > 0
    for dag_id in ("data_transformation", "ml_enrichment"):
        runs = stack.wait_for_runs(dag_id, "asset_triggered", 1)
        assert len(runs) == 1, runs
        run = runs[0]
        run["tasks"] = stack.client.task_states(dag_id, run["dag_run_id"])
        assert run["state"] == "success", _failed(run)
        # (a run of the DAG's own cron time, when the test crosses one, is no run "when switched on")
        early = [r for r in stack.runs(dag_id, "scheduled") if dt.datetime.fromisoformat(r["run_after"]) <= switched_on]
        assert not early, f"{dag_id} started a scheduled run when switched on: {early}"
    with psycopg.connect(stack.dsn) as conn:
        assert conn.execute("select count(*) from marts.fct_messages").fetchone()[0] == 51
        assert conn.execute("select count(distinct message_id) from marts.fct_image_detections").fetchone()[0] > 0


def listening_sockets(state: Path) -> list[tuple[str, int, str, str, int]]:
    """(service, pid, command, address, port) of every listening TCP socket of the processes the stack started:
    each service is the leader of its own session, so its children, and theirs, share its session id."""
    leaders = {int(path.read_text()): path.stem for path in (state / "pids").glob("*.pid")}
    found = []
    for process in psutil.process_iter(["pid", "cmdline"]):
        try:
            service = leaders.get(os.getsid(process.pid))
            if service is None:
                continue
            sockets = process.net_connections(kind="inet")
        except (ProcessLookupError, psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        command = " ".join(process.info["cmdline"] or []).strip()[:100]
        found += [(service, process.pid, command, s.laddr.ip, s.laddr.port)
                  for s in sockets if s.status == psutil.CONN_LISTEN]
    return sorted(found)


def test_every_listening_socket_is_on_loopback(stack):
    sockets = listening_sockets(stack.state)
    ports = {port for *_, port in sockets}
    # not vacuous: the two services a user opens are among the sockets found
    assert {int(stack.env["MEDTEL_AIRFLOW_PORT"]), int(stack.env["MEDTEL_API_PORT"])} <= ports, sockets
    exposed = [f"{service} (pid {pid}: {command}) listens on {address}:{port}"
               for service, pid, command, address, port in sockets if address not in ("127.0.0.1", "::1")]
    assert not exposed, "services beyond loopback:\n" + "\n".join(exposed)


def test_task_logs_open_without_a_log_server(stack):
    """With no log server, the api-server reads a task's log from the log folder all processes share."""
    run_id = stack.runs("data_ingestion")[0]["dag_run_id"]
    path = f"/api/v2/dags/data_ingestion/dagRuns/{urllib.parse.quote(run_id)}/taskInstances/ingest.load_raw/logs/1"
    events = [str(line.get("event", "")) for line in stack.client.get(path)["content"]]
    sources = events[events.index("::group::Log message source details") + 1:events.index("::endgroup::")]
    assert sources and all(s.startswith(str(stack.state / "airflow" / "logs")) for s in sources), sources
    assert any("inserted" in event for event in events), events[-20:]


def test_same_data_again_queues_nothing(stack):
    # Asset-triggered runs only: the test may cross the DAGs' own cron times (ml_enrichment's 18:00, say).
    before = {dag_id: len(stack.runs(dag_id, "asset_triggered")) for dag_id in ("data_transformation", "ml_enrichment")}
    ingestion = stack.run("data_ingestion")
    assert ingestion["state"] == "success", _failed(ingestion)
    assert ingestion["tasks"]["ingest.publish_raw_messages"] == "skipped"
    assert ingestion["tasks"]["ingest.publish_lake_images"] == "skipped"
    assert stack.run_events("data_ingestion", ingestion["dag_run_id"]) == {}
    stack.wait_scheduler_loops()  # a queued Asset-triggered run would have been created by now
    after = {dag_id: len(stack.runs(dag_id, "asset_triggered")) for dag_id in before}
    assert after == before
    for dag_id in before:
        try:
            queued = stack.client.get(f"/api/v2/dags/{dag_id}/assets/queuedEvents")["queued_events"]
        except ServiceError as exc:  # 404: nothing queued
            assert "HTTP 404" in str(exc)
            queued = []
        assert queued == [], queued


def test_health_check_and_api_service_green_while_the_stack_is_up(stack):
    runs = {dag_id: stack.trigger(dag_id) for dag_id in ("health_check", "api_service")}
    for dag_id, run_id in runs.items():
        run = stack.wait(dag_id, run_id)
        assert run["state"] == "success", (dag_id, _failed(run))
    with psycopg.connect(stack.dsn) as conn:
        statuses = dict(conn.execute("select check_name, status from monitoring.health_checks").fetchall())
    assert statuses["api"] == "ok" and statuses["warehouse"] == "ok", statuses


def test_api_answers_from_the_marts(stack):
    with urllib.request.urlopen(f"{stack.api_url}/api/channels", timeout=10) as response:
        channels = json.loads(response.read())
    assert [c["channel_name"] for c in channels["items"]] == [CHANNEL]
    assert channels["items"][0]["total_posts"] == 51
    with urllib.request.urlopen(f"{stack.api_url}/api/reports/top-products?limit=3", timeout=10) as response:
        assert json.loads(response.read())["items"]


def test_health_fails_and_alerts_when_the_api_is_down(stack):
    pid = int((stack.state / "pids" / "api.pid").read_text())
    os.killpg(pid, signal.SIGTERM)
    for _ in range(100):
        try:
            os.killpg(pid, 0)
            time.sleep(0.1)
        except ProcessLookupError:
            break
    alerts_before = len(stack.alerts.received)
    try:
        runs = {dag_id: stack.trigger(dag_id) for dag_id in ("health_check", "api_service")}
        for dag_id, run_id in runs.items():
            run = stack.wait(dag_id, run_id)
            assert run["state"] == "failed", (dag_id, run["tasks"])
        alerted = {a.get("dag_id") for a in stack.alerts.received[alerts_before:]}
        assert {"health_check", "api_service"} <= alerted, stack.alerts.received
        mailed = " ".join(stack.mail.subjects)
        assert "health_check.run_health_checks failed" in mailed and "api_service." in mailed, stack.mail.subjects
        with psycopg.connect(stack.dsn) as conn:
            recorded = conn.execute("select subject, delivered from monitoring.alerts where kind = 'task_failed'"
                                    " and subject like %s", ("%health_check%",)).fetchall()
        assert recorded and all(set(d) == {"log", "webhook", "email"} for _, d in recorded), recorded
    finally:
        again = stack.service("up")  # reuses the running services, starts the API again
        assert again.returncode == 0, again.stderr[-2000:]
    assert "api: started" in again.stderr and "scheduler: already running" in again.stderr, again.stderr[-2000:]


def test_failing_validation_stops_dependents_and_emits_nothing(stack):
    stack.unpause("ml_enrichment", paused=True)
    transformations = len(stack.runs("data_transformation", "asset_triggered"))
    bad_channel = "Not A Channel!"  # a row no load brought: raw no longer matches the load log (critical in GX)
    with psycopg.connect(stack.dsn) as conn:
        conn.execute("insert into raw.telegram_messages (channel_name, message_id, message_date, source,"
                     " scraped_at, raw, lake_file) values (%s, 1, now(), 'telethon', now(), '{}', 'test')",
                     (bad_channel,))
    stack.set_variable("telegram_export_path", str(stack.exports["older"]))
    try:
        run = stack.run("data_ingestion")
    finally:
        with psycopg.connect(stack.dsn) as conn:
            conn.execute("delete from raw.telegram_messages where channel_name = %s", (bad_channel,))
    assert run["state"] == "failed"
    assert run["tasks"]["ingest.load_raw"] == "success"
    assert run["tasks"]["ingest.validate_raw"] == "failed"
    assert run["tasks"]["ingest.publish_raw_messages"] == "upstream_failed"
    assert stack.run_events("data_ingestion", run["dag_run_id"]) == {}
    stack.wait_scheduler_loops()
    assert len(stack.runs("data_transformation", "asset_triggered")) == transformations


def test_maintenance_gate_holds_scheduler_runs_and_lets_manual_ones_through(stack):
    stack.unpause("data_transformation")
    before = len(stack.runs("data_transformation", "asset_triggered"))
    stack.set_variable("maintenance_mode", "true")
    try:
        # name_pattern is a LIKE pattern ('_' matches '/'): the postgres:// table Asset matches too.
        asset = next(a for a in stack.client.get("/api/v2/assets?name_pattern=raw_telegram_messages")["assets"]
                     if a["name"] == "raw_telegram_messages")
        stack.client.request("POST", "/api/v2/assets/events", {"asset_id": asset["id"], "extra": {"test": True}})
        held = stack.wait_for_runs("data_transformation", "asset_triggered", before + 1)[-1]
        tasks = stack.client.task_states("data_transformation", held["dag_run_id"])
        assert tasks["maintenance_gate"] == "skipped"
        # Everything skipped, but Cosmos's bookkeeping task after the dbt build (trigger rule all_done).
        ran = {task: state for task, state in tasks.items() if state != "skipped"}
        assert set(ran) <= {"transform.dbt.dbt_producer_watcher_done"}, ran
        manual = stack.run("health_check")
        assert manual["tasks"]["maintenance_gate"] == "success" and manual["state"] == "success"
    finally:
        stack.set_variable("maintenance_mode", "false")


def test_overlapping_ingestions_lose_nothing(stack):
    """data_ingestion and engagement_refresh at once, both importing the same new posts into the same
    channel's lake files and loading them: every post ends in the lake and in raw exactly once."""
    stack.unpause("data_transformation", paused=True)
    stack.set_variable("telegram_export_path", str(stack.exports["oldest"]))
    runs = {dag_id: stack.trigger(dag_id) for dag_id in ("data_ingestion", "engagement_refresh")}
    for dag_id, run_id in runs.items():
        run = stack.wait(dag_id, run_id)
        assert run["state"] == "success", (dag_id, _failed(run))
    ids = []
    for path in (stack.lake / "raw" / "telegram_messages").glob("*/*.json"):
        ids += [record["message_id"] for record in json.loads(path.read_text())]
    assert len(ids) == len(set(ids)) == 100
    with psycopg.connect(stack.dsn) as conn:
        assert conn.execute("select count(*), count(distinct message_id) from raw.telegram_messages"
                            " where channel_name = %s", (CHANNEL,)).fetchone() == (100, 100)
        loads = conn.execute("select file_path, count(*) from raw.load_log where target = 'telegram_messages'"
                             " group by file_path, checksum having count(*) > 1").fetchall()
    assert loads == [], "a lake file was loaded twice"


def test_every_dag_runs_through_the_scheduler_even_one_killed_mid_run(stack):
    """full_pipeline's scheduler is killed (SIGKILL) while a task of the run is at work, then started again: the
    run ends in success with nothing lost or doubled (the monitor's reconciliation), nobody's hand needed."""
    from medical_telegram.monitoring.monitor import reconciliation

    pending = {dag_id: stack.trigger(dag_id) for dag_id in ("full_pipeline", "quality_checks", "cleanup")}
    deadline = time.monotonic() + 600
    while "running" not in stack.client.task_states("full_pipeline", pending["full_pipeline"]).values():
        assert time.monotonic() < deadline, "no task of full_pipeline ever ran"
        time.sleep(0.5)
    scheduler = int((stack.state / "pids" / "scheduler.pid").read_text())
    os.kill(scheduler, signal.SIGKILL)  # the scheduler alone: the task it started keeps running, as after a crash
    deadline = time.monotonic() + 60
    while psutil.pid_exists(scheduler) and psutil.Process(scheduler).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "the scheduler did not die"
        time.sleep(0.1)
    again = stack.service("up")
    assert again.returncode == 0 and "scheduler: started" in again.stderr, again.stderr[-2000:]
    # The dead scheduler's executor workers held its database session, and with it the dag_run rows locked by
    # the transaction it died in: left alive, the new scheduler would never look at those runs again.
    assert "scheduler: its previous process is gone" in again.stderr, again.stderr[-2000:]
    left = _live_members(scheduler)
    assert left == [], f"processes of the killed scheduler still running: {left}"
    for dag_id, run_id in pending.items():
        run = stack.wait(dag_id, run_id)
        assert run["state"] == "success", (dag_id, _failed(run))
    full = stack.runs("full_pipeline")[-1]
    emitted = stack.run_events("full_pipeline", full["dag_run_id"])
    assert not {"raw_telegram_messages", "lake_telegram_images"} & set(emitted), emitted
    for dag_id in ALL_DAGS:
        assert any(r["state"] == "success" for r in stack.runs(dag_id)), f"{dag_id} never succeeded"
    with psycopg.connect(stack.dsn) as conn:
        counts = reconciliation(conn)
    assert counts["reconciled"] and counts["raw"] == counts["marts"], counts


def test_monitor_and_data_docs_in_a_browser(stack, tmp_path):
    """After the runs above: a logged-in Chromium opens the Pipeline monitor and the Data Docs with every
    request off this machine refused, and sees the sample's numbers drawn and GX's styling in place."""
    from tests.browser import STYLED, assert_styled_and_offline, probe, require_browser

    require_browser()
    for path in ("/pipeline-monitor/", "/pipeline-monitor/data.json", "/data-docs/site/index.html"):
        try:
            urllib.request.urlopen(f"{stack.airflow_url}{path}", timeout=10)
            raise AssertionError(f"{path} answered a logged-out request")
        except urllib.error.HTTPError as refused:
            assert refused.code == 401, (path, refused.code)
    stack.client.get("/api/v2/version")  # logs in: the client now holds a token, as the UI's cookie would
    cookie = [{"name": "_token", "value": stack.client._token, "url": stack.airflow_url}]

    charts = ("(() => Object.fromEntries([...document.querySelectorAll('svg.chart')]"
              ".map(s => [s.dataset.chart, Number(s.dataset.points)])))()")
    page = probe(f"{stack.airflow_url}/pipeline-monitor/", cookies=cookie, wait_for="svg.chart", evaluate=charts,
                 screenshot=str(tmp_path / "monitor.png"), viewport={"width": 1280, "height": 2400})
    assert page["status"] == 200 and page["offsite_requests"] == [] and page["failed_requests"] == [], page
    drawn = page["result"]
    assert drawn[f"posts_per_day:{CHANNEL}"] == 30, drawn
    assert drawn["quality_score"] >= 4, drawn  # every checkpoint ran at least once
    assert drawn["api_p50"] >= 1 and drawn["api_p95"] >= 1, drawn  # api_service's measurements
    assert drawn["health:api"] >= 2 and drawn["image_categories"] >= 1, drawn
    numbers = probe(f"{stack.airflow_url}/pipeline-monitor/data.json", cookies=cookie,
                    evaluate="JSON.parse(document.body.innerText)")["result"]
    assert numbers["channels"][0]["posts"] == 100 and numbers["reconciliation"]["marts"] == 100
    assert numbers["reconciliation"]["reconciled"] is True, numbers["reconciliation"]
    assert {"raw_messages", "staging", "marts", "detections"} <= set(numbers["quality"]["latest"])

    # The Data Docs under Browse, as GX designed them, with nothing loaded from off this machine.
    assert_styled_and_offline(probe(f"{stack.airflow_url}/data-docs/site/index.html", cookies=cookie,
                                    evaluate=STYLED))
    # The monitor inside the Airflow UI (its navigation entry shows the page in a frame).
    ui = probe(f"{stack.airflow_url}/plugin/pipeline-monitor", cookies=cookie, wait_for="iframe",
               evaluate="document.querySelector('iframe').getAttribute('src')",
               screenshot=str(tmp_path / "ui.png"), viewport={"width": 1280, "height": 900})
    assert ui["offsite_requests"] == [] and ui["result"].endswith("/pipeline-monitor/"), ui
