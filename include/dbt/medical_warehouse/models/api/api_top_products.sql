-- Most mentioned products over all time, pre-aggregated for GET /api/reports/top-products without filters.
-- Summed from the daily rollups over every day, as the filtered reports sum them over a window
-- (api/queries/reports.py): counts add up exactly (a post has one channel and one day) and the days' prices
-- merge whole, so the medians are exact, and it reads a rollup row per product and day instead of every
-- mention (a few seconds instead of a dozen at a million posts, on every incremental run).
-- tests/api/test_bodies.py keeps the filtered answer over every day equal to this one.
{{ config(indexes=[{'columns': ['mention_count', 'product_name']}]) }}

with

days as (

    select * from {{ ref('api_product_all_days') }}

),

channel_days as (

    select * from {{ ref('api_product_days') }}

),

variant_days as (

    select * from {{ ref('api_product_variant_all_days') }}

),

totals as (

    select
        product_key,
        min(product_name) as product_name,
        min(product_category) as product_category,
        min(brand) as brand,
        min(product_type) as product_type,
        bool_and(is_brand_only) as is_brand_only,
        sum(mention_count)::bigint as mention_count,
        max(last_mentioned_at) as last_mentioned_at
    from days
    group by product_key

),

prices as (

    select product_key, percentile_cont(0.5) within group (order by price) as median_price_birr
    from days
    cross join unnest(prices_birr) as price
    group by product_key

),

latest_prices as (

    select distinct on (product_key)
        product_key,
        latest_price_birr
    from days
    where latest_price_birr is not null
    order by product_key, latest_price_posted_at desc, latest_price_message_id desc

),

channels as (

    -- distinct pairs first (hashed), then a few channels per product to sort
    select product_key, count(*) as channel_count, array_agg(channel_name order by channel_name) as channels
    from (select distinct product_key, channel_name from channel_days) as present
    group by product_key

),

-- Prices compare like with like: the median per size, strength and pack count. A day without prices still
-- counts its mentions: it unnests to one null price, which the median skips.
per_variant as (

    select
        product_key,
        pack_size,
        strength,
        pack_count,
        (sum(mention_count) filter (where price_number = 1))::bigint as mention_count,
        percentile_cont(0.5) within group (order by price) as median_price_birr
    from variant_days
    {{ unnest_rollup_prices() }}
    group by product_key, pack_size, strength, pack_count

),

variants as (

    select
        per_variant.product_key,
        -- Compact JSON, as the API writes its other fields (jsonb adds spaces, json_agg line breaks).
        array_to_json(array_agg(
            variant order by variant.mention_count desc, variant.pack_size, variant.strength, variant.pack_count
        )) as variants
    from per_variant
    cross join lateral (
        select
            per_variant.pack_size,
            per_variant.strength,
            per_variant.pack_count,
            per_variant.mention_count,
            per_variant.median_price_birr
    ) as variant
    group by per_variant.product_key

)

select
    totals.product_key,
    totals.product_name,
    totals.product_category,
    totals.brand,
    totals.product_type,
    totals.is_brand_only,
    totals.mention_count,
    channels.channel_count,
    channels.channels,
    prices.median_price_birr,
    latest_prices.latest_price_birr,
    totals.last_mentioned_at,
    variants.variants
from totals
left join channels on totals.product_key = channels.product_key
left join prices on totals.product_key = prices.product_key
left join latest_prices on totals.product_key = latest_prices.product_key
left join variants on totals.product_key = variants.product_key
