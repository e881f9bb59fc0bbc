"""The connection pool: opened with the app, never blocking its start when the warehouse is down."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from api.settings import Settings

log = logging.getLogger(__name__)


async def _configure(conn: AsyncConnection) -> None:
    # Belt and braces beside the read-only role: this session cannot write even with a wider role.
    await conn.set_autocommit(True)
    await conn.execute("set default_transaction_read_only = on")


def make_pool(settings: Settings, *, name: str = "warehouse", size: int | None = None) -> AsyncConnectionPool:
    """The queries' pool; `size` makes a fixed one (the health check's own connection, so a burst of slow
    queries never makes the service look down)."""
    return AsyncConnectionPool(
        settings.dsn(),
        min_size=settings.pool_min_size if size is None else size,
        max_size=settings.pool_max_size if size is None else size,
        timeout=settings.pool_timeout_s,
        max_waiting=settings.pool_max_waiting,
        # A failed connection attempt is given up at once (the request gets its 503 quickly); the next request
        # makes a new attempt, so the API comes back by itself when the warehouse does.
        reconnect_timeout=0,
        kwargs={
            "row_factory": dict_row,
            "connect_timeout": settings.connect_timeout_s,
            # The serving tables are small enough to stay cached: random reads cost little more than sequential.
            # Timestamps in the JSON PostgreSQL builds are in UTC.
            "options": f"-c statement_timeout={settings.statement_timeout_ms} -c TimeZone=UTC"
                       " -c random_page_cost=1.1",
            "application_name": "medical-telegram-api",
        },
        configure=_configure,
        open=False,
        name=name,
    )


class Warehouse:
    """Runs one query on a pooled connection. A connection is taken only when a handler queries, so input
    is validated (422) before the warehouse is needed (503)."""

    def __init__(self, pool: AsyncConnectionPool):
        self.pool = pool
        self._ping: asyncio.Future | None = None

    async def ping(self, query: str) -> None:
        """One round trip to the warehouse, shared by every caller while it is in flight: a burst of health
        probes costs the warehouse one query, and no probe queues behind the others on the health check's one
        connection. Its error (warehouse down: a 503) reaches every caller."""
        if self._ping is None:
            self._ping = asyncio.ensure_future(self.fetch_one(query))
            self._ping.add_done_callback(self._ping_done)
        # shield: a caller that goes away does not cancel the others' answer
        await asyncio.shield(self._ping)

    def _ping_done(self, future: asyncio.Future) -> None:
        self._ping = None
        if not future.cancelled():
            future.exception()  # retrieved here too, so an error nobody awaited any more is not logged as lost

    async def fetch_all(self, query: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(query, params)
            return await cur.fetchall()

    async def fetch_text(self, query: str, params: Mapping[str, Any] | None = None) -> str:
        """The first column of the first row as text: for queries that build their JSON in PostgreSQL."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(query, params)
            row = await cur.fetchone()
            return next(iter(row.values()))

    async def fetch_one(self, query: str, params: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        rows = await self.fetch_all(query, params)
        return rows[0] if rows else None
