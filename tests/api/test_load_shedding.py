"""A burst of slow requests: the API sheds what it cannot serve (503 with Retry-After), never piles requests up
and never fails otherwise, and /api/health answers within a second throughout."""

from __future__ import annotations

import asyncio
import time

import httpx
import psycopg

from tests.api.api_harness import serve_api


async def _burst(base_url: str, requests: int, hold_s: float) -> tuple[list[httpx.Response], list[float]]:
    health_latencies: list[float] = []
    async with httpx.AsyncClient(base_url=base_url, timeout=30,
                                 limits=httpx.Limits(max_connections=requests + 4)) as client:
        async def watch_health(until: float) -> None:
            while time.monotonic() < until:
                began = time.monotonic()
                response = await client.get("/api/health")
                health_latencies.append(time.monotonic() - began if response.status_code == 200 else 99.0)
                await asyncio.sleep(0.1)

        watcher = asyncio.create_task(watch_health(time.monotonic() + hold_s + 2))
        responses = await asyncio.gather(*(client.get("/api/reports/top-products", params={"limit": 5})
                                           for _ in range(requests)))
        await watcher
    return responses, health_latencies


def test_a_burst_of_64_slow_requests_is_shed_cleanly_and_health_answers_throughout(api_warehouse_dsn, reader_dsn,
                                                                                  tmp_path):
    settings = {"API_POOL_MAX_SIZE": "4", "API_POOL_MAX_WAITING": "8", "API_POOL_TIMEOUT_S": "1.5",
                "API_STATEMENT_TIMEOUT_MS": "4000"}
    with serve_api(reader_dsn, tmp_path / "uvicorn.log", **settings) as client:
        assert client.get("/api/reports/top-products", params={"limit": 5}).status_code == 200
        with psycopg.connect(api_warehouse_dsn) as owner:
            # Every query on the table waits for this lock: the requests are slow, as under a heavy query.
            owner.execute("lock table api.api_top_products in access exclusive mode")
            loop = asyncio.new_event_loop()
            release = loop.call_later(3.0, owner.rollback)
            try:
                responses, health = loop.run_until_complete(_burst(str(client.base_url), 64, hold_s=3.0))
            finally:
                release.cancel()
                owner.rollback()
                loop.close()
        statuses = [r.status_code for r in responses]
        print(f"burst of {len(responses)}: {statuses.count(200)} served, {statuses.count(503)} shed with 503;"
              f" /api/health {len(health)} probes, slowest {max(health or [0]) * 1000:.0f} ms")
        assert set(statuses) <= {200, 503}, statuses
        shed = [r for r in responses if r.status_code == 503]
        assert shed and all(r.headers.get("retry-after") == "2" for r in shed), "every 503 says when to retry"
        assert statuses.count(200) >= 4, "the requests that held a connection were served once the lock went"
        assert health and max(health) < 1.0, f"/api/health answered in at most 1 s: {sorted(health)[-5:]}"
        assert client.get("/api/reports/top-products", params={"limit": 5}).status_code == 200, "and it recovers"
