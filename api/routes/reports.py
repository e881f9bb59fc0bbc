"""GET /api/reports/top-products, GET /api/reports/product-mentions and GET /api/reports/visual-content."""

from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.deps import WarehouseDep
from api.queries import reports as sql
from api.routes.params import ChannelFilter, Since, Until, channel_key, check_range, date_key
from api.responses import items_json, json_items
from api.schemas import UNAVAILABLE, ProductMentions, TopProducts, VisualContent

router = APIRouter(prefix="/reports", tags=["reports"], responses=UNAVAILABLE)


@router.get("/top-products", response_model=TopProducts)
async def read_top_products(
    db: WarehouseDep,
    limit: Annotated[int, Query(ge=1, le=100, description="how many products (1..100)")] = 10,
    channel: ChannelFilter = None,
    since: Since = None,
    until: Until = None,
) -> Response:
    check_range(since, until)
    channel = channel_key(channel) if channel else None
    params = {
        "limit": limit,
        "channel": channel,
        "since": date_key(since) if since else None,
        "until": date_key(until) if until else None,
    }
    used = [fragment for name, fragment in sql.FILTERS.items() if params[name] is not None]
    query = sql.top_products_filtered(" and ".join(used), by_channel=channel is not None) if used \
        else sql.TOP_PRODUCTS_ALL
    items = await db.fetch_text(items_json(query, sql.TOP_PRODUCTS_ORDER), params)
    return json_items(items, limit=limit, channel=channel, since=since, until=until)


@router.get("/product-mentions", response_model=ProductMentions)
async def read_product_mentions(
    db: WarehouseDep,
    product: Annotated[str, Query(min_length=1, max_length=200,
                                  description='a product as top-products names it, e.g. "Paracetamol"')],
    limit: Annotated[int, Query(ge=1, le=100, description="how many mentions (1..100)")] = 20,
    channel: ChannelFilter = None,
) -> Response:
    """Why a product or a price was counted: the product's mentions, newest first, each with the line or block
    of the post it was read from (evidence) and the words recognised as the product (matched_text)."""
    channel = channel_key(channel) if channel else None
    query = sql.PRODUCT_MENTIONS.format(channel_filter="and channel_name = %(channel)s" if channel else "")
    items = await db.fetch_text(items_json(query, sql.PRODUCT_MENTIONS_ORDER),
                                {"product": product, "channel": channel, "limit": limit})
    return json_items(items, product_name=product, limit=limit, channel=channel)


@router.get("/visual-content", response_model=VisualContent)
async def read_visual_content(db: WarehouseDep) -> Response:
    return json_items(await db.fetch_text(items_json(sql.VISUAL_CONTENT, "r.channel_name")))
