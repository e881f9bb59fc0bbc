"""Reports: the most mentioned products, and visual content per channel."""

# Without filters the answer is pre-aggregated by dbt (api.api_top_products): one index scan.
TOP_PRODUCTS_ALL = """
select product_name, product_category, brand, product_type, is_brand_only, mention_count, channel_count, channels,
       median_price_birr::float8 as median_price_birr, latest_price_birr::float8 as latest_price_birr,
       last_mentioned_at, variants
from api.api_top_products
order by mention_count desc, product_name
limit %(limit)s
"""

# With filters it is summed from dbt's daily rollups, never from the mentions themselves: per product, channel
# and day with a channel filter (api_product_days, api_product_variant_days), per product and day over every
# channel without one (api_product_all_days, api_product_variant_all_days: 50 times fewer rows at 50 channels).
# Counts add up exactly (a post has one channel and one day), and each day keeps its prices whole, so the
# medians are exact. Ranked first with plain aggregates (PostgreSQL hashes them), then the channels, prices and
# variants of the ranked products only. The WHERE clause is built only from the fixed fragments below; values
# go in as parameters.
_TOP_PRODUCTS_FILTERED = """
with days as (
    select * from api.{days} where {where}
),
ranked as (
    select product_key,
           min(product_name) as product_name,
           min(product_category) as product_category,
           min(brand) as brand,
           min(product_type) as product_type,
           bool_and(is_brand_only) as is_brand_only,
           sum(mention_count)::bigint as mention_count,
           max(last_mentioned_at) as last_mentioned_at
    from days
    group by product_key
    order by mention_count desc, product_name
    limit %(limit)s
),
ranked_days as (
    select * from days where product_key in (select product_key from ranked)
),
latest_prices as (
    select product_key,
           (array_agg(latest_price_birr order by latest_price_posted_at desc, latest_price_message_id desc)
               filter (where latest_price_birr is not null))[1]::float8 as latest_price_birr
    from ranked_days
    group by product_key
),
channels as (
    -- distinct pairs first (hashed), then a few channels per product to sort
    select product_key, count(*) as channel_count, array_agg(channel_name order by channel_name) as channels
    from (select distinct product_key, channel_name from {channel_days}) as present
    group by product_key
),
prices as (
    select product_key, percentile_cont(0.5) within group (order by price)::float8 as median_price_birr
    from ranked_days cross join unnest(prices_birr) as price
    group by product_key
),
per_variant as (
    -- A day without prices still counts its mentions: it unnests to one null price, which the median skips.
    select product_key, pack_size, strength, pack_count,
           (sum(mention_count) filter (where price_number = 1))::bigint as mention_count,
           percentile_cont(0.5) within group (order by price) as median_price_birr
    from api.{variant_days}
    cross join lateral unnest(coalesce(prices_birr, array[null::numeric])) with ordinality as p (price, price_number)
    where product_key in (select product_key from ranked) and {where}
    group by product_key, pack_size, strength, pack_count
),
variants as (
    select per_variant.product_key,
           array_to_json(array_agg(v order by v.mention_count desc, v.pack_size, v.strength, v.pack_count))
               as variants
    from per_variant
    cross join lateral (select per_variant.pack_size, per_variant.strength, per_variant.pack_count,
                               per_variant.mention_count, per_variant.median_price_birr) as v
    group by per_variant.product_key
)
select ranked.product_name, ranked.product_category, ranked.brand, ranked.product_type, ranked.is_brand_only,
       ranked.mention_count, channels.channel_count, channels.channels, prices.median_price_birr,
       latest_prices.latest_price_birr, ranked.last_mentioned_at, variants.variants
from ranked
join channels using (product_key)
join latest_prices using (product_key)
left join prices using (product_key)
left join variants using (product_key)
"""


def top_products_filtered(where: str, *, by_channel: bool) -> str:
    """The filtered top-products query over `where` (fragments of FILTERS joined with "and")."""
    if by_channel:
        return _TOP_PRODUCTS_FILTERED.format(where=where, days="api_product_days", channel_days="ranked_days",
                                             variant_days="api_product_variant_days")
    # The channels of the ranked products: from the per-channel rollup's (product, day, channel) index alone.
    channel_days = ("(select product_key, channel_name from api.api_product_days"
                    f" where product_key in (select product_key from ranked) and {where}) as channel_days")
    return _TOP_PRODUCTS_FILTERED.format(where=where, days="api_product_all_days", channel_days=channel_days,
                                         variant_days="api_product_variant_all_days")


# The order of both queries above, for api.responses.items_json.
TOP_PRODUCTS_ORDER = "r.mention_count desc, r.product_name"

FILTERS = {
    "channel": "channel_name = %(channel)s",
    "since": "date_key >= %(since)s",
    "until": "date_key <= %(until)s",
}

VISUAL_CONTENT = """
select channel_name, total_posts, image_posts, image_share::float8 as image_share,
       avg_views_with_image::float8 as avg_views_with_image,
       avg_views_without_image::float8 as avg_views_without_image,
       categories
from api.api_visual_content
order by channel_name
"""

# The mentions of one product, newest first, each with the text it was read from: why a product or a price was
# counted. Served by the (product_name, posted_at) index of api.api_product_mentions.
PRODUCT_MENTIONS = """
select channel_name, message_id, posted_at, product_name, price_birr::float8 as price_birr, is_price_on_request,
       pack_size, strength, pack_count, dosage_form, matched_text, evidence
from api.api_product_mentions
where product_name = %(product)s {channel_filter}
order by posted_at desc, message_id desc, item_index
limit %(limit)s
"""
PRODUCT_MENTIONS_ORDER = "r.posted_at desc, r.message_id desc"
