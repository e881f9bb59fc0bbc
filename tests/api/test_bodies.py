"""Every body the API writes: compact JSON in one style, numbers rounded; and the filtered top-products report,
summed from dbt's daily rollups, equal to the same question aggregated from every mention."""

from __future__ import annotations

import json

import psycopg
import pytest

from api.queries import reports
from api.responses import items_json

CHANNEL = "lobelia4cosmetics"
BODIES = [
    "/api/channels",
    f"/api/channels/{CHANNEL}/activity?granularity=day",
    f"/api/channels/{CHANNEL}/activity?granularity=week",
    "/api/reports/top-products?limit=100",
    f"/api/reports/top-products?limit=100&channel={CHANNEL}&since=2026-01-15",
    "/api/reports/product-mentions?product=Enfamil%20NeuroPro",
    "/api/reports/visual-content",
    "/api/search/messages?query=price",
    f"/api/search/messages?query=ensure&channel={CHANNEL}",
]


def decimals(value) -> list[int]:
    """The number of decimals of every float in a JSON document."""
    if isinstance(value, float):
        return [len(repr(value).split(".")[1]) if "." in repr(value) and "e" not in repr(value) else 0]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [n for item in value for n in decimals(item)]
    return []


@pytest.mark.parametrize("path", BODIES)
def test_bodies_are_compact_json_with_rounded_numbers(api, path):
    response = api.get(path)
    assert response.status_code == 200, response.text
    body = response.json()
    assert response.text == json.dumps(body, ensure_ascii=False, separators=(",", ":")), "one spacing style"
    assert max(decimals(body), default=0) <= 4, "averages, shares and ranks are rounded"


def test_visual_content_averages_have_two_decimals(api):
    (channel,) = api.get("/api/reports/visual-content").json()["items"]
    numbers = [channel["avg_views_with_image"]] + [c["avg_views"] for c in channel["categories"]]
    assert channel["categories"], "the sample warehouse holds detections"
    assert all(round(n, 2) == n for n in numbers if n is not None), numbers


# The same question as GET /api/reports/top-products with filters, aggregated from every mention: the answer the
# rollups must reproduce exactly (counts of distinct posts, exact medians, the newest price).
FROM_MENTIONS = """
with mentions as (
    select * from api.api_product_mentions where {where}
),
per_variant as (
    select product_key, pack_size, strength, pack_count, count(distinct message_key) as mention_count,
           percentile_cont(0.5) within group (order by price_birr) as median_price_birr
    from mentions
    group by product_key, pack_size, strength, pack_count
),
variants as (
    select product_key, array_to_json(array_agg(v order by v.mention_count desc, v.pack_size, v.strength,
                                                     v.pack_count)) as variants
    from per_variant
    cross join lateral (select per_variant.pack_size, per_variant.strength, per_variant.pack_count,
                               per_variant.mention_count, per_variant.median_price_birr) as v
    group by product_key
)
select product_name, min(product_category) as product_category, min(brand) as brand,
       min(product_type) as product_type, bool_and(is_brand_only) as is_brand_only,
       count(distinct message_key) as mention_count, count(distinct channel_name) as channel_count,
       array_agg(distinct channel_name order by channel_name) as channels,
       percentile_cont(0.5) within group (order by price_birr)::float8 as median_price_birr,
       ((array_agg(price_birr order by posted_at desc, message_id desc, item_index)
           filter (where price_birr is not null))[1])::float8 as latest_price_birr,
       max(posted_at) as last_mentioned_at,
       min(variants.variants::text)::json as variants
from mentions
left join variants using (product_key)
group by product_key, product_name
order by mention_count desc, product_name
limit %(limit)s
"""


def _day(day: str) -> int:
    return int(day.replace("-", ""))


# Cases cut inside the sample's five days (2026-01-14 to 2026-01-18), and one after them.
@pytest.mark.parametrize(("channel", "since", "until"), [
    (CHANNEL, None, None),
    (None, "2026-01-15", None),
    (None, None, "2026-01-16"),
    (CHANNEL, "2026-01-16", "2026-01-17"),
    (None, "2026-01-17", "2026-01-17"),
    (CHANNEL, "2027-01-01", None),
])
def test_filtered_top_products_from_the_rollups_equal_the_mentions(api_warehouse_dsn, channel, since, until):
    params = {"limit": 100, "channel": channel, "since": since and _day(since), "until": until and _day(until)}
    where = " and ".join(fragment for name, fragment in reports.FILTERS.items() if params[name] is not None)
    queries = (reports.top_products_filtered(where, by_channel=channel is not None), FROM_MENTIONS.format(where=where))
    with psycopg.connect(api_warehouse_dsn) as conn:
        served, exact = (json.loads(conn.execute(items_json(query, reports.TOP_PRODUCTS_ORDER), params).fetchone()[0])
                         for query in queries)
    assert served == exact
    if since != "2027-01-01":
        assert served and any(item["variants"] for item in served), "the case holds products and variants"


def test_top_products_over_all_days_equal_the_unfiltered_report(api):
    """Two owners of one answer, kept equal: the unfiltered report (dbt's api_top_products) and the filtered one
    (the API summing the daily rollups) over a range that holds every day."""
    unfiltered = api.get("/api/reports/top-products", params={"limit": 100}).json()["items"]
    every_day = api.get("/api/reports/top-products", params={"limit": 100, "since": "2000-01-01"}).json()["items"]
    assert len(unfiltered) > 10
    assert every_day == unfiltered


def test_unfiltered_report_equals_the_mentions(api, api_warehouse_dsn):
    """dbt's api_top_products is summed from the daily rollups too: over all time it is the answer aggregated
    from every mention."""
    unfiltered = api.get("/api/reports/top-products", params={"limit": 100}).json()["items"]
    with psycopg.connect(api_warehouse_dsn) as conn:
        exact = json.loads(conn.execute(items_json(FROM_MENTIONS.format(where="true"), reports.TOP_PRODUCTS_ORDER),
                                        {"limit": 100}).fetchone()[0])
    assert len(unfiltered) > 10
    assert unfiltered == exact
