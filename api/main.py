"""The FastAPI app: routers under /api, the pool opened for the app's lifetime, docs at /docs.

Run: `uvicorn api.main:app` (or `python -m api`), with API_DATABASE_URL pointing at the warehouse through a
read-only role.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import errors
from api.db import Warehouse, make_pool
from api.routes import api_router
from api.settings import get_settings

log = logging.getLogger(__name__)

DESCRIPTION = """
Analytical API over the medical Telegram warehouse: which products are mentioned most and at what prices,
how each channel's activity changes over time, full-text search over posts (English and Amharic), and
which channels post the most visual content.
"""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    pool = make_pool(get_settings())
    health_pool = make_pool(get_settings(), name="health", size=1)
    # wait=False: the API starts (and answers 503) even while the warehouse is down.
    await pool.open(wait=False)
    await health_pool.open(wait=False)
    app.state.warehouse = Warehouse(pool)
    app.state.health = Warehouse(health_pool)
    try:
        yield
    finally:
        await pool.close()
        await health_pool.close()


def create_app() -> FastAPI:
    app = FastAPI(
        title="Medical Telegram Warehouse API",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    errors.install(app)
    app.include_router(api_router)
    return app


app = create_app()
