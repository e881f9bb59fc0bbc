"""api/db.py: the shared health ping (a stand-in for the query, to hold it in flight while probes arrive; the
real path is GET /api/health in test_health.py and under a burst in test_load_shedding.py)."""

from __future__ import annotations

import asyncio

from psycopg import OperationalError

from api.db import Warehouse


class SlowWarehouse(Warehouse):
    def __init__(self):
        super().__init__(pool=None)
        self.queries = 0
        self.down = False

    async def fetch_one(self, query, params=None):
        self.queries += 1
        await asyncio.sleep(0.05)
        if self.down:
            raise OperationalError("the warehouse is down")
        return {"ok": 1}


def test_concurrent_pings_share_one_query_and_later_ones_ask_again():
    async def probes() -> SlowWarehouse:
        warehouse = SlowWarehouse()
        await asyncio.gather(*(warehouse.ping("select 1") for _ in range(16)))
        assert warehouse.queries == 1
        await warehouse.ping("select 1")
        assert warehouse.queries == 2, "a probe after the answer asks again: never a stale answer"
        return warehouse

    asyncio.run(probes())


def test_a_failed_ping_reaches_every_waiting_probe():
    async def probes() -> list:
        warehouse = SlowWarehouse()
        warehouse.down = True
        return await asyncio.gather(*(warehouse.ping("select 1") for _ in range(4)), return_exceptions=True)

    results = asyncio.run(probes())
    assert len(results) == 4 and all(isinstance(r, OperationalError) for r in results), results


def test_a_probe_that_goes_away_does_not_cancel_the_others():
    async def probes() -> int:
        warehouse = SlowWarehouse()
        leaving = asyncio.ensure_future(warehouse.ping("select 1"))
        staying = asyncio.ensure_future(warehouse.ping("select 1"))
        await asyncio.sleep(0.01)
        leaving.cancel()
        await staying  # answered, not cancelled
        assert leaving.cancelled()
        return warehouse.queries

    assert asyncio.run(probes()) == 1
