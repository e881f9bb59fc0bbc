"""The local service: the warehouse, Airflow as services and the analytical API, in the background.

    medtel up        start what is not running yet (reuses what is), print where everything is
    medtel demo      `make run`: up, then full_pipeline through the scheduler, progress, a summary
    medtel stop      `make stop`: stop every process started here, and the embedded warehouse
    medtel service-env   the shell lines scripts/airflow_env.sh evaluates (the same Airflow as the services)

What runs (one process each, its pid in `.state/pids/`, its log in `.state/logs/`):
- `airflow api-server` (UI and REST API, 127.0.0.1:8080), `airflow scheduler` with the LocalExecutor (tasks
  run in parallel, each in its own process), `airflow dag-processor`, `airflow triggerer`; the scheduler and the
  triggerer without their log servers, so nothing listens beyond loopback;
- the analytical API (`python -m api`, 127.0.0.1:8000) as the read-only role `medtel_api`.

Airflow's metadata database is a database `airflow_metadata` on the warehouse's own PostgreSQL server (the
embedded one, or the configured one), unless AIRFLOW__DATABASE__SQL_ALCHEMY_CONN names another: the
LocalExecutor needs a database that takes writes from many processes at once, which SQLite does not, and the
warehouse's server is already there, so a new user installs nothing more.

Secrets (Airflow's JWT and API keys, the Fernet key) are generated once into `.state/secrets.json` (mode 0600)
and reach the processes through their environment, never a command line. The UI's login is `admin` with the
password Airflow's simple auth manager generates into `.state/airflow/passwords.json`.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg

from medical_telegram import warehouse
from medical_telegram.orchestration.settings import POOLS, project_dir

log = logging.getLogger(__name__)

METADATA_DATABASE = "airflow_metadata"
ADMIN_USER = "admin"
# Sized for a 2-core machine: four task processes at once (dbt, the detector and GX are CPU-bound).
PARALLELISM = 4
AIRFLOW_SERVICES = ("api-server", "scheduler", "dag-processor", "triggerer")
# Airflow's log servers (`serve-logs`, started beside the scheduler and the triggerer) bind every interface and
# have no setting to bind one. Here every process shares one AIRFLOW_HOME, so the API server reads task and
# trigger logs from the log folder itself and the log servers are not started.
SERVICE_ARGS = {"scheduler": ["--skip-serve-logs"], "triggerer": ["--skip-serve-logs"]}


class ServiceError(RuntimeError):
    pass


@dataclasses.dataclass
class Stack:
    """Where the local service keeps its state, and the ports it serves on."""

    state_dir: Path
    airflow_port: int = 8080
    api_port: int = 8000
    host: str = "127.0.0.1"

    @classmethod
    def from_env(cls) -> Stack:
        return cls(
            state_dir=Path(os.environ.get("MEDTEL_STATE_DIR") or project_dir() / ".state").resolve(),
            airflow_port=int(os.environ.get("MEDTEL_AIRFLOW_PORT") or 8080),
            api_port=int(os.environ.get("MEDTEL_API_PORT") or 8000),
        )

    @property
    def airflow_home(self) -> Path:
        return self.state_dir / "airflow"

    @property
    def logs(self) -> Path:
        return self.state_dir / "logs"

    @property
    def pids(self) -> Path:
        return self.state_dir / "pids"

    @property
    def airflow_url(self) -> str:
        return f"http://{self.host}:{self.airflow_port}"

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.api_port}"

    @property
    def passwords_file(self) -> Path:
        return self.airflow_home / "passwords.json"


# --- configuration -------------------------------------------------------------------------------------------


def _secrets(stack: Stack) -> dict[str, str]:
    """The stack's own keys, generated on first use and kept (0600) so every process and restart agrees."""
    path = stack.state_dir / "secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    values = {
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
        "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
        "AIRFLOW__CORE__FERNET_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(values, handle)
    return values


def metadata_dsn(warehouse_dsn: str) -> str:
    """Airflow's metadata database: AIRFLOW__DATABASE__SQL_ALCHEMY_CONN, else `airflow_metadata` on the
    warehouse's server (created here when missing)."""
    if configured := os.environ.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"):
        return configured
    params = psycopg.conninfo.conninfo_to_dict(warehouse_dsn)
    with warehouse.connect(warehouse_dsn, autocommit=True) as conn:
        if not conn.execute("select 1 from pg_database where datname = %s", (METADATA_DATABASE,)).fetchone():
            try:
                conn.execute(f'create database "{METADATA_DATABASE}"')
            except psycopg.Error as exc:
                raise ServiceError(
                    f"cannot create Airflow's metadata database on the warehouse's server ({exc}); set "
                    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN to a PostgreSQL database Airflow may use") from None
    params["dbname"] = METADATA_DATABASE
    user = params.get("user") or "postgres"
    password = f":{params['password']}" if params.get("password") else ""
    return (f"postgresql+psycopg2://{user}{password}@{params.get('host') or '127.0.0.1'}:"
            f"{params.get('port') or 5432}/{METADATA_DATABASE}")


def environment(stack: Stack, warehouse_dsn: str, metadata: str) -> dict[str, str]:
    """The variables every Airflow process of the stack (and a shell's `airflow` CLI) runs with."""
    from medical_telegram.orchestration.run_dag import airflow_environment, with_password

    project = project_dir()
    env = airflow_environment(stack.airflow_home)
    env.update({
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",  # schedules are switched on by a person
        # One `dbt build` with threads, watched per model (dbt_tasks): the scheduler runs tasks side by side.
        "DBT_EXECUTION_MODE": os.environ.get("DBT_EXECUTION_MODE") or "watcher",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": str(PARALLELISM),
        "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": str(PARALLELISM),
        "AIRFLOW__CORE__MAX_ACTIVE_RUNS_PER_DAG": "1",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{stack.airflow_url}/execution/",
        "AIRFLOW__API__HOST": stack.host,
        "AIRFLOW__API__PORT": str(stack.airflow_port),
        "AIRFLOW__API__BASE_URL": stack.airflow_url,
        "AIRFLOW__API__WORKERS": "1",
        # no log server runs (SERVICE_ARGS): logs are read from the folder all processes share
        "AIRFLOW__LOGGING__LOGGING_CONFIG_CLASS": "medical_telegram.orchestration.log_config.LOGGING_CONFIG",
        "AIRFLOW__CORE__AUTH_MANAGER":
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(stack.passwords_file),
        # Each of the nine DAG files is parsed once a minute, not every 30 s: parsing costs CPU on 2 cores.
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "60",
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        "AIRFLOW_CONN_WAREHOUSE_DB": with_password(warehouse_dsn),
        "DATA_LAKE_DIR": os.environ.get("DATA_LAKE_DIR") or str(project / "data"),
        "API_BASE_URL": stack.api_url,
        # The images' virtual environments unless containers are asked for (CONTAINER_RUNTIME=docker).
        "CONTAINER_RUNTIME": os.environ.get("CONTAINER_RUNTIME") or "local",
        "TELEGRAM_EXPORT_PATH": os.environ.get("TELEGRAM_EXPORT_PATH") or str(project / "sample" / "desktop_export"),
        "TELEGRAM_EXPORT_CHANNEL": os.environ.get("TELEGRAM_EXPORT_CHANNEL") or "lobelia4cosmetics",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    })
    env.update(_secrets(stack))
    return env


def api_database_url(warehouse_dsn: str) -> str:
    """The analytical API's connection: the warehouse as the read-only role medtel_api."""
    if configured := os.environ.get("API_DATABASE_URL"):
        return configured
    parts = psycopg.conninfo.conninfo_to_dict(warehouse_dsn)
    parts.update(user="medtel_api", password=None)
    return psycopg.conninfo.make_conninfo(**{k: v for k, v in parts.items() if v is not None})


# --- processes -----------------------------------------------------------------------------------------------


def _pid(stack: Stack, name: str) -> int | None:
    path = stack.pids / f"{name}.pid"
    try:
        pid = int(path.read_text())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _start(stack: Stack, name: str, argv: list[str], env: dict[str, str]) -> int:
    """Start one process in its own session (so stop() can end it with its children), log to .state/logs."""
    if pid := _pid(stack, name):
        log.info("%s: already running (pid %d)", name, pid)
        return pid
    stack.logs.mkdir(parents=True, exist_ok=True)
    stack.pids.mkdir(parents=True, exist_ok=True)
    with (stack.logs / f"{name}.log").open("ab") as out:
        process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   cwd=project_dir(), start_new_session=True)
    (stack.pids / f"{name}.pid").write_text(str(process.pid))
    log.info("%s: started (pid %d, log %s)", name, process.pid, stack.logs / f"{name}.log")
    return process.pid


def _run(argv: list[str], env: dict[str, str], what: str) -> str:
    result = subprocess.run(argv, env=env, capture_output=True, text=True, cwd=project_dir())
    if result.returncode:
        raise ServiceError(f"{what} failed: {(result.stderr or result.stdout).strip()[-1500:]}")
    return result.stdout


def _prepare_metadata(stack: Stack, env: dict[str, str]) -> None:
    """`airflow db migrate` and the pools, once per metadata database (a stamp remembers which)."""
    stamp = stack.state_dir / "metadata.stamp"
    key = json.dumps([env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"], POOLS])
    if stamp.exists() and stamp.read_text() == key:
        return
    airflow = str(Path(sys.executable).parent / "airflow")
    log.info("preparing Airflow's metadata database (first start only, about a minute)")
    _run([airflow, "db", "migrate"], env, "airflow db migrate")
    pools = "; ".join(f"Pool.create_or_update_pool({name!r}, slots={slots}, description={desc!r},"
                      " include_deferred=False)" for name, (slots, desc) in POOLS.items())
    _run([sys.executable, "-c", f"from airflow.models.pool import Pool; {pools}"], env, "creating the pools")
    stamp.write_text(key)


def up(stack: Stack | None = None, *, quiet: bool = False) -> dict:
    """Start (or reuse) the warehouse, Airflow's four services and the analytical API; wait until they answer."""
    from medical_telegram.migrate import migrate

    stack = stack or Stack.from_env()
    stack.airflow_home.mkdir(parents=True, exist_ok=True)
    dsn = warehouse.warehouse_dsn()
    with warehouse.connect(dsn) as conn:
        migrate(conn)  # the raw schema and the API's read-only role exist before anything uses them
    env = {**os.environ, **environment(stack, dsn, metadata_dsn(dsn))}
    _prepare_metadata(stack, env)
    airflow = str(Path(sys.executable).parent / "airflow")
    for name in AIRFLOW_SERVICES:
        if name == "api-server" and not _pid(stack, name) and _port_open(stack.host, stack.airflow_port):
            raise ServiceError(f"port {stack.airflow_port} is taken by another program: set MEDTEL_AIRFLOW_PORT")
        _start(stack, name, [airflow, name, *SERVICE_ARGS.get(name, [])], env)
    if not _pid(stack, "api") and _port_open(stack.host, stack.api_port):
        raise ServiceError(f"port {stack.api_port} is taken by another program: set MEDTEL_API_PORT")
    _start(stack, "api", [sys.executable, "-m", "api", "--host", stack.host, "--port", str(stack.api_port)],
           {**env, "API_DATABASE_URL": api_database_url(dsn)})
    wait_until_up(stack)
    return {"airflow": stack.airflow_url, "api": stack.api_url, "login": login(stack),
            "warehouse": warehouse.redact(dsn), "logs": str(stack.logs)}


def wait_until_up(stack: Stack, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    checks = {"Airflow api-server": f"{stack.airflow_url}/api/v2/monitor/health",
              "analytical API": f"{stack.api_url}/api/health"}
    for what, url in checks.items():
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback)
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            dead = [name for name in (*AIRFLOW_SERVICES, "api") if not _pid(stack, name)]
            if dead or time.monotonic() > deadline:
                why = f"{', '.join(dead)} exited" if dead else f"{what} does not answer at {url}"
                raise ServiceError(f"the local service did not come up: {why}; logs in {stack.logs}")
            time.sleep(1)


def stop(stack: Stack | None = None, *, warehouse_too: bool = True) -> list[str]:
    """Stop every process the stack started (TERM to its session, KILL after 30 s) and the embedded warehouse."""
    stack = stack or Stack.from_env()
    stopped = []
    for name in ("api", *AIRFLOW_SERVICES):
        pid = _pid(stack, name)
        if pid:
            try:
                os.killpg(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            deadline = time.monotonic() + 30
            while _alive_group(pid) and time.monotonic() < deadline:
                time.sleep(0.3)
            if _alive_group(pid):
                os.killpg(pid, signal.SIGKILL)
            stopped.append(name)
        (stack.pids / f"{name}.pid").unlink(missing_ok=True)
    if warehouse_too and warehouse.configured_dsn() is None:
        embedded = warehouse.EmbeddedPostgres()
        if embedded.is_running():
            embedded.stop()
            stopped.append("embedded warehouse")
    return stopped


def _alive_group(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def login(stack: Stack) -> dict:
    try:
        passwords = json.loads(stack.passwords_file.read_text())
    except (OSError, ValueError):
        return {"user": ADMIN_USER, "password": None, "file": str(stack.passwords_file)}
    return {"user": ADMIN_USER, "password": passwords.get(ADMIN_USER), "file": str(stack.passwords_file)}


def shell_lines(stack: Stack | None = None) -> str:
    """`export NAME=value` lines that make a shell's `airflow` talk to this stack (secrets included, so the
    output goes to `eval`, never to a terminal or a log)."""
    import shlex

    stack = stack or Stack.from_env()
    stack.airflow_home.mkdir(parents=True, exist_ok=True)
    dsn = warehouse.warehouse_dsn()
    env = environment(stack, dsn, metadata_dsn(dsn))
    env.pop("PATH")
    return "\n".join(f"export {name}={shlex.quote(value)}" for name, value in sorted(env.items()))


# --- the REST API --------------------------------------------------------------------------------------------


class AirflowClient:
    """The few calls of Airflow's REST API (v2) the stack needs, as the admin user."""

    def __init__(self, base_url: str, user: str, password: str):
        self.base_url = base_url.rstrip("/")
        self._credentials = {"username": user, "password": password}
        self._token: str | None = None

    def request(self, method: str, path: str, body: dict | None = None) -> dict:
        if self._token is None and not path.startswith("/auth"):
            self._token = self.request("POST", "/auth/token", self._credentials)["access_token"]
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.base_url}{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        if self._token and not path.startswith("/auth"):
            request.add_header("Authorization", f"Bearer {self._token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (loopback)
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise ServiceError(f"{method} {path}: HTTP {exc.code} {exc.read()[:500]!r}") from None

    def get(self, path: str) -> dict:
        return self.request("GET", path)

    def dag(self, dag_id: str, timeout: float = 180) -> dict:
        """The DAG once the dag-processor has parsed it."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.get(f"/api/v2/dags/{dag_id}")
            except ServiceError as exc:
                if "HTTP 404" not in str(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(2)

    def set_paused(self, dag_id: str, paused: bool) -> None:
        self.request("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": paused})

    def trigger(self, dag_id: str, conf: dict | None = None) -> str:
        """A manual run. When the DAG's schedule is due (its next logical date has passed) the run takes that
        date, so unpausing it afterwards does not start a second, scheduled run of the same interval."""
        dag = self.dag(dag_id)
        logical_date = dag.get("next_dagrun_logical_date")
        if not logical_date or dt.datetime.fromisoformat(logical_date) > dt.datetime.now(dt.UTC):
            logical_date = dt.datetime.now(dt.UTC).isoformat()
        run = self.request("POST", f"/api/v2/dags/{dag_id}/dagRuns",
                            {"logical_date": logical_date, "conf": conf or {}})
        return run["dag_run_id"]

    def run(self, dag_id: str, run_id: str) -> dict:
        return self.get(f"/api/v2/dags/{dag_id}/dagRuns/{urllib.request.quote(run_id)}")

    def runs(self, dag_id: str) -> list[dict]:
        return self.get(f"/api/v2/dags/{dag_id}/dagRuns?limit=100&order_by=id")["dag_runs"]

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str]:
        items = self.get(f"/api/v2/dags/{dag_id}/dagRuns/{urllib.request.quote(run_id)}"
                         "/taskInstances?limit=1000")["task_instances"]
        return {(t["task_id"] if t["map_index"] < 0 else f"{t['task_id']}[{t['map_index']}]"): t["state"] or "none"
                for t in items}

    def wait(self, dag_id: str, run_id: str, timeout: float = 1800, report=None, every: float = 15) -> dict:
        """Poll until the run ends; `report(elapsed_s, task_states)` is called every `every` seconds."""
        began = last = time.monotonic()
        while True:
            run = self.run(dag_id, run_id)
            if run["state"] in ("success", "failed"):
                return run
            if time.monotonic() - began > timeout:
                raise ServiceError(f"{dag_id} {run_id} still {run['state']} after {timeout:.0f} s")
            if report and time.monotonic() - last >= every:
                last = time.monotonic()
                report(time.monotonic() - began, self.task_states(dag_id, run_id))
            time.sleep(2)


def client(stack: Stack) -> AirflowClient:
    credentials = login(stack)
    if not credentials["password"]:
        raise ServiceError(f"no admin password in {stack.passwords_file}: is the api-server up?")
    return AirflowClient(stack.airflow_url, ADMIN_USER, credentials["password"])


def progress_line(dag_id: str, elapsed: float, states: dict[str, str]) -> str:
    counts: dict[str, int] = {}
    for state in states.values():
        counts[state] = counts.get(state, 0) + 1
    running = sorted(task for task, state in states.items() if state == "running")
    shown = ", ".join(running[:3]) + (f" +{len(running) - 3}" if len(running) > 3 else "")
    summary = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
    return f"  {dag_id} {elapsed:4.0f} s: {summary}{f' (running: {shown})' if shown else ''}"


def run_dag(stack: Stack, dag_id: str, conf: dict | None = None, *, keep_unpaused: bool = False) -> dict:
    """Trigger one DAG through the scheduler, print progress, wait for the end; the DAG's pause state is put
    back afterwards unless keep_unpaused."""
    return run_dags(stack, [dag_id], conf, keep_unpaused=keep_unpaused)[0]


def run_dags(stack: Stack, dag_ids: list[str], conf: dict | None = None, *, keep_unpaused: bool = False
             ) -> list[dict]:
    """run_dag for several DAGs at once: all triggered, then each waited for (they run side by side)."""
    api = client(stack)
    started = []
    try:
        for dag_id in dag_ids:
            was_paused = api.dag(dag_id)["is_paused"]
            run_id = api.trigger(dag_id, conf)
            if was_paused:
                api.set_paused(dag_id, False)
            started.append((dag_id, run_id, was_paused))
            print(f"  {dag_id}: triggered {run_id} through the scheduler; the UI shows it at "
                  f"{stack.airflow_url}/dags/{dag_id}", file=sys.stderr)
        outcomes = []
        for dag_id, run_id, _ in started:
            run = api.wait(dag_id, run_id, report=lambda s, states, d=dag_id: print(
                progress_line(d, s, states), file=sys.stderr, flush=True))
            outcomes.append({"dag_id": dag_id, "run_id": run_id, "state": run["state"],
                             "tasks": api.task_states(dag_id, run_id)})
        return outcomes
    finally:
        for dag_id, _, was_paused in started:
            if was_paused and not keep_unpaused:
                api.set_paused(dag_id, True)


def main(argv: list[str] | None = None) -> int:
    """`python -m medical_telegram.orchestration.service up|stop|env`."""
    command = (argv if argv is not None else sys.argv[1:] or ["up"])[0]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        if command == "up":
            print(json.dumps(up()))
        elif command == "stop":
            print(json.dumps({"stopped": stop()}))
        elif command == "env":
            print(shell_lines())
        else:
            print(f"unknown command {command!r}: up, stop or env", file=sys.stderr)
            return 2
    except (ServiceError, warehouse.WarehouseError) as exc:
        print(f"service {command}: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
