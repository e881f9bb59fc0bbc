"""GET /api/channels and GET /api/channels/{channel_name}/activity."""

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Response

from api.deps import WarehouseDep
from api.queries import channels as sql
from api.routes.params import ChannelName, Since, Until, channel_key, check_range
from api.responses import items_json, json_items
from api.schemas import UNAVAILABLE, ChannelActivity, ChannelList, Problem

router = APIRouter(prefix="/channels", tags=["channels"], responses=UNAVAILABLE)


@router.get("", response_model=ChannelList)
async def read_channels(db: WarehouseDep) -> Response:
    return json_items(await db.fetch_text(items_json(sql.LIST, "r.channel_name")))


@router.get(
    "/{channel_name}/activity",
    response_model=ChannelActivity,
    responses={404: {"model": Problem, "description": "no such channel"}},
)
async def read_channel_activity(
    db: WarehouseDep,
    channel_name: ChannelName,
    granularity: Annotated[Literal["day", "week"], Query(description="one row per day or per ISO week")] = "day",
    since: Since = None,
    until: Until = None,
) -> Response:
    check_range(since, until)
    name = channel_key(channel_name)
    params = {"channel": name, "unit": granularity, "since": since, "until": until}
    found = await db.fetch_one(sql.ACTIVITY, params)
    if not found["known"]:
        raise HTTPException(status_code=404, detail=f"unknown channel: {name!r}; GET /api/channels lists them")
    return json_items(found["periods"], key="periods", channel_name=name, granularity=granularity,
                      since=since, until=until)
