"""Endpoint checks of the analytical API: status and latency per endpoint, kept in monitoring.api_metrics.

Each endpoint is requested a few times; the median latency is recorded, so one slow request (a cold pool)
does not raise an alarm by itself.
"""

from __future__ import annotations

import dataclasses
import json
import statistics
import time
import urllib.error
import urllib.request

import psycopg

# (name, path, what a good answer contains at the top level)
ENDPOINTS: tuple[tuple[str, str, str], ...] = (
    ("health", "/api/health", "status"),
    ("channels", "/api/channels", "items"),
    ("top_products", "/api/reports/top-products?limit=5", "items"),
    ("visual_content", "/api/reports/visual-content", ""),
    ("search_messages", "/api/search/messages?query=cream&limit=5", "items"),
)


@dataclasses.dataclass
class EndpointResult:
    endpoint: str
    status_code: int | None
    latency_ms: float | None
    ok: bool
    detail: str = ""

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _get(url: str, timeout: float) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (configured URL)
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def check_endpoint(base_url: str, name: str, path: str, expect_key: str, *, repeat: int = 3,
                   timeout: float = 10.0) -> EndpointResult:
    latencies, code, body = [], None, b""
    try:
        for _ in range(repeat):
            began = time.perf_counter()
            code, body = _get(base_url + path, timeout)
            latencies.append((time.perf_counter() - began) * 1000)
    except (urllib.error.URLError, OSError) as exc:
        return EndpointResult(name, None, None, False, f"{path}: {getattr(exc, 'reason', exc)}")
    latency = round(statistics.median(latencies), 2)
    if code != 200:
        return EndpointResult(name, code, latency, False, f"{path}: HTTP {code}: {body[:200]!r}")
    try:
        payload = json.loads(body)
    except ValueError:
        return EndpointResult(name, code, latency, False, f"{path}: not JSON")
    if expect_key and (not isinstance(payload, dict) or expect_key not in payload):
        return EndpointResult(name, code, latency, False, f"{path}: no {expect_key!r} in the answer")
    return EndpointResult(name, code, latency, True, f"{path}: median of {repeat} in {latency:.1f} ms")


def check_all(base_url: str, **kwargs) -> list[EndpointResult]:
    return [check_endpoint(base_url, name, path, key, **kwargs) for name, path, key in ENDPOINTS]


def record(conn: psycopg.Connection, results: list[EndpointResult], run_id: str | None = None) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            "insert into monitoring.api_metrics (endpoint, status_code, latency_ms, ok, detail, dag_run_id)"
            " values (%s, %s, %s, %s, %s, %s)",
            [(r.endpoint, r.status_code, r.latency_ms, r.ok, r.detail, run_id) for r in results],
        )
    conn.commit()
