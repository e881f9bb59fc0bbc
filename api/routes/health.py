"""GET /api/health: 200 when the warehouse answers, 503 (without internals) when it does not."""

from fastapi import APIRouter

from api.deps import HealthWarehouseDep
from api.queries import health as sql
from api.schemas import UNAVAILABLE, Health

router = APIRouter(prefix="/health", tags=["health"], responses=UNAVAILABLE)


@router.get("", response_model=Health)
async def read_health(db: HealthWarehouseDep) -> Health:
    await db.fetch_one(sql.PING)
    return Health(status="ok", warehouse="reachable")
