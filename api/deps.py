"""Dependency aliases for the route handlers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.db import Warehouse
from api.settings import Settings, get_settings


def get_warehouse(request: Request) -> Warehouse:
    return request.app.state.warehouse


def get_health_warehouse(request: Request) -> Warehouse:
    return request.app.state.health


# PoolTimeout / OperationalError raised while querying become a 503 (api/errors.py).
WarehouseDep = Annotated[Warehouse, Depends(get_warehouse)]
# The health check's own connection: it answers while slow queries hold every connection of the pool.
HealthWarehouseDep = Annotated[Warehouse, Depends(get_health_warehouse)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
