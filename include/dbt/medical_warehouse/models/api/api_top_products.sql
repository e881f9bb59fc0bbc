-- Most mentioned products over all time, pre-aggregated for GET /api/reports/top-products without filters.
{{ config(indexes=[{'columns': ['mention_count', 'product_name']}]) }}

with

product_mentions as (

    select * from {{ ref('fct_product_mentions') }}

),

products as (

    select * from {{ ref('dim_products') }}

),

-- Prices compare like with like: the median per size, strength and pack count.
variants as (

    select
        per_variant.product_key,
        -- Compact JSON, as the API writes its other fields (jsonb adds spaces, json_agg line breaks).
        array_to_json(array_agg(
            variant order by variant.mention_count desc, variant.pack_size, variant.strength, variant.pack_count
        )) as variants
    from (
        select
            product_key,
            pack_size,
            strength,
            pack_count,
            count(distinct message_key) as mention_count,
            percentile_cont(0.5) within group (order by price_birr) as median_price_birr
        from product_mentions
        group by product_key, pack_size, strength, pack_count
    ) as per_variant
    cross join lateral (
        select
            per_variant.pack_size,
            per_variant.strength,
            per_variant.pack_count,
            per_variant.mention_count,
            per_variant.median_price_birr
    ) as variant
    group by per_variant.product_key

),

latest_prices as (

    select distinct on (product_key)
        product_key,
        price_birr as latest_price_birr
    from product_mentions
    where price_birr is not null
    order by product_key, posted_at desc, message_id desc

),

totals as (

    select
        product_key,
        min(product_name) as product_name,
        min(product_category) as product_category,
        count(distinct message_key) as mention_count,
        count(distinct channel_name) as channel_count,
        array_agg(distinct channel_name order by channel_name) as channels,
        percentile_cont(0.5) within group (order by price_birr) as median_price_birr,
        max(posted_at) as last_mentioned_at
    from product_mentions
    group by product_key

)

select
    totals.product_key,
    totals.product_name,
    totals.product_category,
    products.brand,
    products.product_type,
    products.product_source = 'brand only' as is_brand_only,
    totals.mention_count,
    totals.channel_count,
    totals.channels,
    totals.median_price_birr,
    latest_prices.latest_price_birr,
    totals.last_mentioned_at,
    variants.variants
from totals
left join latest_prices on totals.product_key = latest_prices.product_key
left join products on totals.product_key = products.product_key
left join variants on totals.product_key = variants.product_key
