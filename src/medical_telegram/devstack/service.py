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

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


from medical_telegram import warehouse
from medical_telegram.devstack.client import AirflowClient, ServiceError, progress_line
from medical_telegram.devstack.environment import (ADMIN_USER, AIRFLOW_SERVICES, SERVICE_ARGS, Stack, api_database_url, environment, metadata_dsn)
from medical_telegram.orchestration.pools import POOLS
from medical_telegram.paths import PROJECT_DIR

log = logging.getLogger(__name__)

def _pid(stack: Stack, name: str) -> int | None:
    path = stack.pids / f"{name}.pid"
    try:
        pid = int(path.read_text())
        os.kill(pid, 0)
        # A process killed but not yet reaped (its parent gone, an init that does not reap) is not running.
        stat = Path(f"/proc/{pid}/stat")
        if stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return None
    except (OSError, ValueError, IndexError):
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
    if leftovers := _leftovers(stack, name):
        # A scheduler that died (killed, out of memory) leaves its LocalExecutor's workers behind. Forked from
        # it, they hold its metadata-database connection, so PostgreSQL keeps the transaction it died in open,
        # with the dag_run rows it had locked: the new scheduler skips locked runs, and they would stall until
        # those workers die. The tasks they still run are reset and run again anyway (LocalExecutor adopts
        # nothing from a dead scheduler), so they end now.
        log.warning("%s: its previous process is gone but %d of its processes are left: ending them",
                    name, len(leftovers))
        _end(leftovers)
    stack.logs.mkdir(parents=True, exist_ok=True)
    stack.pids.mkdir(parents=True, exist_ok=True)
    with (stack.logs / f"{name}.log").open("ab") as out:
        process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   cwd=PROJECT_DIR, start_new_session=True)
    (stack.pids / f"{name}.pid").write_text(str(process.pid))
    log.info("%s: started (pid %d, log %s)", name, process.pid, stack.logs / f"{name}.log")
    return process.pid


def _run(argv: list[str], env: dict[str, str], what: str) -> str:
    result = subprocess.run(argv, env=env, capture_output=True, text=True, cwd=PROJECT_DIR)
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
    from medical_telegram.warehouse.migrate import migrate

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
           {**env, "API_DATABASE_URL": api_database_url(stack, dsn)})
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
        elif leftovers := _leftovers(stack, name):  # the process died; what it started is still there
            _end(leftovers)
            stopped.append(f"{name} (what was left of it)")
        (stack.pids / f"{name}.pid").unlink(missing_ok=True)
    if warehouse_too and warehouse.configured_dsn() is None:
        embedded = warehouse.EmbeddedPostgres()
        if embedded.is_running():
            embedded.stop()
            stopped.append("embedded warehouse")
    return stopped


def _leftovers(stack: Stack, name: str) -> list:
    """The live processes of a service's session whose leader (the pid in its pid file) has died."""
    import psutil

    try:
        leader = int((stack.pids / f"{name}.pid").read_text())
    except (OSError, ValueError):
        return []
    found = []
    for process in psutil.process_iter():
        try:
            if os.getsid(process.pid) == leader and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process)
        except (OSError, psutil.Error):
            continue
    return found


def _end(processes: list, grace: float = 10) -> None:
    """TERM, then KILL what is still there after `grace` seconds (a zombie counts as ended: this machine's
    init may never reap it)."""
    import psutil

    def running(process) -> bool:
        try:
            return process.status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False

    for sig in (signal.SIGTERM, signal.SIGKILL):
        for process in processes:
            try:
                process.send_signal(sig)
            except psutil.Error:
                pass
        deadline = time.monotonic() + grace
        while (processes := [p for p in processes if running(p)]) and time.monotonic() < deadline:
            time.sleep(0.2)
        if not processes:
            return


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


def client(stack: Stack) -> AirflowClient:
    credentials = login(stack)
    if not credentials["password"]:
        raise ServiceError(f"no admin password in {stack.passwords_file}: is the api-server up?")
    return AirflowClient(stack.airflow_url, ADMIN_USER, credentials["password"])


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
    """`python -m medical_telegram.devstack.service up|stop|env`."""
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
