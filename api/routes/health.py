"""GET /api/health: 200 when the warehouse answers, 503 (without internals) when it does not."""

from fastapi import APIRouter, Response

from api.deps import HealthWarehouseDep
from api.queries import health as sql
from api.schemas import UNAVAILABLE, Health

router = APIRouter(prefix="/health", tags=["health"], responses=UNAVAILABLE)

# The one answer there is, serialised once (the floor of every request: nothing to build per probe).
_OK = Health(status="ok", warehouse="reachable").model_dump_json().encode()


@router.get("", response_model=Health)
async def read_health(db: HealthWarehouseDep) -> Response:
    await db.ping(sql.PING)
    return Response(content=_OK, media_type="application/json")
