"""How failures look to a client: 422 for bad input, 503 when the warehouse is away, never internals."""

from __future__ import annotations

import logging

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg_pool import PoolTimeout, TooManyRequests

from api.settings import get_settings

log = logging.getLogger(__name__)

UNAVAILABLE = "the warehouse is unavailable; try again later"
BUSY = "the API is busy; try again in a moment"


def _field(loc: tuple) -> str:
    # ("query", "limit") -> "limit"; ("path", "channel_name") -> "channel_name"
    parts = [str(p) for p in loc if p not in ("query", "path", "body")]
    return ".".join(parts) or ".".join(str(p) for p in loc)


async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [
        # The input is not echoed back: it may be long, and it is the client's own anyway.
        {"loc": list(err.get("loc", ())), "msg": err.get("msg", "invalid"), "type": err.get("type", "invalid")}
        for err in exc.errors()
    ]
    message = "; ".join(f"{_field(tuple(e['loc']))}: {e['msg']}" for e in errors) or "invalid request"
    return JSONResponse(status_code=422, content={"detail": errors, "message": message})


def _unavailable(detail: str) -> JSONResponse:
    """A 503 that says when to come back: clients (and proxies) back off instead of retrying at once."""
    return JSONResponse(status_code=503, content={"detail": detail},
                        headers={"Retry-After": str(get_settings().retry_after_s)})


async def warehouse_unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning("warehouse unavailable during %s %s: %s", request.method, request.url.path, type(exc).__name__)
    return _unavailable(UNAVAILABLE)


async def too_busy(request: Request, exc: Exception) -> JSONResponse:
    log.warning("shed %s %s: every connection busy and %d requests already waiting", request.method,
                request.url.path, get_settings().pool_max_waiting)
    return _unavailable(BUSY)


async def database_error(request: Request, exc: psycopg.Error) -> JSONResponse:
    # A query that fails for another reason (e.g. the marts are not built yet) is still not the client's fault,
    # and its text may name tables or roles: log it here, answer without it.
    log.error("query failed during %s %s: %s", request.method, request.url.path, exc)
    if isinstance(exc, psycopg.errors.UndefinedTable | psycopg.errors.InvalidSchemaName):
        return _unavailable("the warehouse is not built yet; try again later")
    return JSONResponse(status_code=500, content={"detail": "internal error"})


async def query_canceled(request: Request, exc: Exception) -> JSONResponse:
    log.warning("statement timeout during %s %s", request.method, request.url.path)
    return _unavailable("the query took too long; narrow it and retry")


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(PoolTimeout, warehouse_unavailable)
    app.add_exception_handler(TooManyRequests, too_busy)
    app.add_exception_handler(psycopg.OperationalError, warehouse_unavailable)
    app.add_exception_handler(psycopg.errors.QueryCanceled, query_canceled)
    app.add_exception_handler(psycopg.Error, database_error)
