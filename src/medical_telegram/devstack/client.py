"""The few calls of Airflow's REST API (v2) the local service, the demo and the end-to-end tests make, as the
admin user, with the standard library: a token from /auth/token, then JSON over HTTP on loopback."""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.error
import urllib.request


class ServiceError(RuntimeError):
    pass


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
                unfinished = {task: state for task, state in self.task_states(dag_id, run_id).items()
                              if state not in ("success", "skipped", "failed", "upstream_failed")}
                raise ServiceError(f"{dag_id} {run_id} still {run['state']} after {timeout:.0f} s;"
                                   f" unfinished tasks: {unfinished}")
            if report and time.monotonic() - last >= every:
                last = time.monotonic()
                report(time.monotonic() - began, self.task_states(dag_id, run_id))
            time.sleep(2)


def progress_line(dag_id: str, elapsed: float, states: dict[str, str]) -> str:
    counts: dict[str, int] = {}
    for state in states.values():
        counts[state] = counts.get(state, 0) + 1
    running = sorted(task for task, state in states.items() if state == "running")
    shown = ", ".join(running[:3]) + (f" +{len(running) - 3}" if len(running) > 3 else "")
    summary = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
    return f"  {dag_id} {elapsed:4.0f} s: {summary}{f' (running: {shown})' if shown else ''}"
